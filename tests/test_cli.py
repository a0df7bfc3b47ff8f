"""The ``mfg`` command, run as a user runs it: a real process with the environment as config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from mfg.db import make_engine, unit_of_work
from mfg.models import Installation
from tests.conftest import TEST_SECRET


def run_mfg(*args: str, env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFG_")}
    env.update({"MFG_SECRET_KEY": TEST_SECRET, **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "mfg.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def empty_url(db_factory):
    url = db_factory.empty()
    yield url
    db_factory.drop(url)


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["db"], ["db", "upgrade"], ["demo"]], ids=" ".join
)
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = run_mfg(*command, "--help", env_extra={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: mfg" in result.stdout


def test_db_upgrade_migrates_an_empty_database_and_says_where_it_is(
    empty_url: str, tmp_path: Path
) -> None:
    result = run_mfg("db", "upgrade", env_extra={"MFG_DATABASE_URL": empty_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema empty ->" in result.stdout
    again = run_mfg("db", "upgrade", env_extra={"MFG_DATABASE_URL": empty_url}, cwd=tmp_path)
    assert "up to date" in again.stdout


def test_demo_fills_an_empty_database_once(empty_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": empty_url}
    first = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Demonstration data: loaded" in first.stdout
    second = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert second.returncode == 0 and "already present" in second.stdout
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT demo FROM installation")).scalar() in (True, 1)
    engine.dispose()


def test_demo_refuses_a_database_that_holds_real_data(empty_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": empty_url}
    assert run_mfg("db", "upgrade", env_extra=env, cwd=tmp_path).returncode == 0
    engine = make_engine(empty_url)
    with unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999", demo=False))
    engine.dispose()
    result = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "holds real data" in result.stderr


def test_default_database_is_a_sqlite_file_under_var_of_the_working_directory(
    tmp_path: Path,
) -> None:
    result = run_mfg("db", "upgrade", env_extra={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "mfg.db").exists()
    assert str(tmp_path / "var" / "mfg.db") in result.stdout


def test_a_bad_setting_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = run_mfg("db", "upgrade", env_extra={"MFG_FACILITY_FIN": "O0000"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "Traceback" not in result.stderr
