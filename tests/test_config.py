"""Settings: defaults that run out of the box, refusals that name the problem."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from mfg.config import Settings, normalise_database_url


def test_defaults_run_out_of_the_box_on_a_sqlite_file_under_var(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'var' / 'mfg.db')}"
    assert settings.facility_fin == "A9999"
    assert settings.timezone == "Europe/Minsk"


def test_environment_variables_with_the_mfg_prefix_are_read(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MFG_FACILITY_FIN", "B1234")
    monkeypatch.setenv("MFG_TIMEZONE", "UTC")
    settings = Settings(data_dir=tmp_path)
    assert (settings.facility_fin, settings.timezone) == ("B1234", "UTC")


@pytest.mark.parametrize("fin", ["O1234", "01234", "A123", "A12345", "AB123"])
def test_a_fin_that_is_not_isbt128_is_refused(fin: str) -> None:
    with pytest.raises(ValidationError, match="FIN"):
        Settings(facility_fin=fin)


@pytest.mark.parametrize(("fin", "is_test"), [("A9990", True), ("A9999", True), ("A9989", False)])
def test_fins_a9990_to_a9999_mark_a_test_facility(fin: str, is_test: bool) -> None:
    assert Settings(facility_fin=fin).is_test_facility is is_test


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Settings(timezone="Europe/Atlantis")


def test_production_refuses_to_start_without_an_explicit_secret_key() -> None:
    with pytest.raises(ValidationError, match="MFG_SECRET_KEY"):
        Settings(environment="production", database_url="postgresql://db/mfg")


def test_the_development_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key()
    second = Settings(data_dir=tmp_path).effective_secret_key()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgresql_urls_use_the_psycopg_driver() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_production_refuses_the_cheap_test_password_hashing() -> None:
    with pytest.raises(ValidationError, match="MFG_PASSWORD_HASHING"):
        Settings(
            environment="production",
            database_url="postgresql://db/mfg",
            secret_key="a-real-secret-of-enough-length-0123456789",
            password_hashing="test",
        )


def test_production_refuses_the_example_fhir_namespace() -> None:
    production = {
        "environment": "production",
        "database_url": "postgresql://db/mfg",
        "secret_key": "a-real-secret-of-enough-length-0123456789",
    }
    with pytest.raises(ValidationError, match="MFG_FHIR_SYSTEM_BASE"):
        Settings(**production)
    assert Settings(**production, fhir_system_base="https://cells.example-hospital.by/mfg")


def test_threads_must_cover_every_admitted_request() -> None:
    assert Settings(active_requests=14, threads=16).threads == 16
    with pytest.raises(ValidationError, match="MFG_THREADS"):
        Settings(active_requests=15, threads=16)
