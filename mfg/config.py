"""Settings read from the environment (prefix ``MFG_``), with defaults that run out of the box."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# ISBT 128: the first character of a FIN is A–N, P–Z or 1–9 (never O or 0), then four digits.
FIN_PATTERN = re.compile(r"^[A-NP-Z1-9][0-9]{4}$")
# FINs reserved by ICCBBA for testing and demonstration (docs/isbt128.md#test-fins).
TEST_FINS = frozenset(f"A999{d}" for d in range(10))
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class ConfigurationError(RuntimeError):
    """The settings cannot be used as given; the message says which one and why."""


class Settings(BaseSettings):
    """Everything configurable. Process limits are defaults set by SOP, never constants in code."""

    model_config = SettingsConfigDict(env_prefix="MFG_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""

    # The facility's language (docs/architecture.md#languages): pages, refusals and printouts
    # speak it unless a user chose their own; before login a page follows the browser's.
    language: Literal["en", "ru", "be"] = "en"
    # The release certificate prints every text in the facility's language and in English.
    certificate_bilingual: bool = False
    facility_name: str = "Demonstration cell-therapy facility"
    facility_fin: str = "A9999"
    timezone: str = "Europe/Minsk"
    product_code: str = "S1234"
    product_name: str = "Allogeneic pooled olfactory-mucosa MSCs"
    # The facility's namespace for identifier and code systems in FHIR exports: a URI it controls.
    fhir_system_base: str = "https://example.org/mfg"

    # Donors and biopsies (docs/regulation.md#infectious-disease-markers,
    # docs/process.md#biopsy-receipt)
    marker_sample_window_days: int = Field(default=7, ge=0)
    biopsy_transport_limit_hours: float = Field(default=24, gt=0)
    # Manufacturing (docs/process.md#viability): until QC specifications exist, the in-process
    # minimum
    inprocess_viability_min_pct: float = Field(default=70, ge=0, le=100)
    # No clinical harvest beyond this passage, nor beyond this cumulative population doubling.
    max_harvest_passage: int = Field(default=5, ge=0)
    max_cumulative_pd: float = Field(default=30, gt=0)
    dose_shelf_life_days: int = Field(default=180, ge=1)  # cryopreserved, from the fill
    storage_max_temp_c: float = Field(default=-150, le=0)  # liquid-nitrogen vapour phase
    thaw_to_infusion_limit_minutes: int = Field(default=60, ge=1)

    # Trust layer
    password_min_length: int = Field(default=12, ge=8)
    max_failed_logins: int = Field(default=5, ge=1)
    # Failed logins per account name and per client address within the window, after which
    # further attempts are refused (429) until the window ends, before any password is checked.
    login_failures_per_account: int = Field(default=10, ge=1)
    login_failures_per_address: int = Field(default=30, ge=1)
    login_throttle_window_minutes: int = Field(default=15, ge=1)
    idle_timeout_minutes: int = Field(default=15, ge=1)
    token_lifetime_minutes: int = Field(default=60, ge=1)
    # "test" makes argon2 cheap so a test suite can create hundreds of users; refused in production.
    password_hashing: Literal["standard", "test"] = "standard"  # noqa: S105
    # True behind HTTPS, so that the session cookie is never sent in clear.
    cookie_secure: bool = False
    # Concurrency: requests one process works on at once, writers in all turns but one; the
    # others wait their turn in order of arrival (mfg.web.admission). The thread pool runs
    # their database work, each thread with a connection of its own (the pool holds as many);
    # it has room for every admitted request and the error pages. How long a request waits at
    # the door, for a connection, the write lock or another person's row before it is answered
    # 503.
    active_requests: int = Field(default=4, ge=2, le=500)
    threads: int = Field(default=16, ge=2, le=1000)
    busy_timeout_seconds: float = Field(default=10, gt=0, le=120)

    @field_validator("facility_fin")
    @classmethod
    def _fin_is_isbt128(cls, value: str) -> str:
        value = value.strip().upper()
        if not FIN_PATTERN.match(value):
            raise ValueError(
                "a FIN is 5 characters: A–N, P–Z or 1–9, then four digits (e.g. A9999)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _threads_for_every_admitted_request(self) -> Settings:
        if self.threads < self.active_requests + 2:
            raise ValueError(
                f"MFG_THREADS ({self.threads}) must be at least MFG_ACTIVE_REQUESTS + 2 "
                f"({self.active_requests + 2}): a thread for every admitted request, and two "
                "for the error pages"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_explicit_secrets(self) -> Settings:
        if self.environment == "production" and not self.secret_key:
            raise ValueError("MFG_SECRET_KEY must be set when MFG_ENVIRONMENT=production")
        if self.environment == "production" and self.password_hashing != "standard":  # noqa: S105
            raise ValueError("MFG_PASSWORD_HASHING=test is refused when MFG_ENVIRONMENT=production")
        if self.environment == "production" and not self.database_url:
            raise ValueError("MFG_DATABASE_URL must be set when MFG_ENVIRONMENT=production")
        if self.environment == "production" and "example.org" in self.fhir_system_base:
            raise ValueError(
                "MFG_FHIR_SYSTEM_BASE must name a URI the facility controls "
                "when MFG_ENVIRONMENT=production"
            )
        return self

    @property
    def is_test_facility(self) -> bool:
        """A FIN in A9990–A9999 is for testing and demonstration only
        (docs/isbt128.md#test-fins)."""
        return self.facility_fin in TEST_FINS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'mfg.db').resolve()}"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once into the data directory (development)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting at once must not end up with different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
        return key


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs always use the psycopg (v3) driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
