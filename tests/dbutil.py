"""Throwaway databases for tests: a migrated template, cloned for each test.

SQLite: the template is a migrated file, copied per test. PostgreSQL (MFG_TEST_DATABASE_URL): the
template is a migrated database, cloned per test with CREATE DATABASE … TEMPLATE. Either way every
test gets a real, committed, isolated database, so tests can use threads and real transactions.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from mfg.config import normalise_database_url
from mfg.db import make_engine, upgrade_database

PG_URL_ENV = "MFG_TEST_DATABASE_URL"


def pg_base_url() -> str | None:
    url = os.environ.get(PG_URL_ENV, "").strip()
    return normalise_database_url(url) if url else None


def _pg_admin_engine(base_url: str) -> Engine:
    admin_url = make_url(base_url).set(database="postgres")
    return make_engine(admin_url.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT"
    )


class DatabaseFactory:
    """Makes empty or migrated databases on the backend chosen by the environment."""

    def __init__(self, workdir: Path, tag: str):
        self.workdir = workdir
        self.tag = tag.replace("-", "_")
        self.pg = pg_base_url()
        self._template: str | None = None
        self._admin = _pg_admin_engine(self.pg) if self.pg else None

    @property
    def backend(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    def _new_name(self) -> str:
        return f"mfg_t_{self.tag}_{uuid.uuid4().hex[:10]}"

    def empty(self) -> str:
        """The URL of a new database with no schema at all."""
        name = self._new_name()
        if self.pg:
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return make_url(self.pg).set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.workdir / (name + '.db')}"

    def migrated(self) -> str:
        """The URL of a new database at the head revision (a clone of one migrated template)."""
        if self._template is None:
            url = self.empty()
            engine = make_engine(url)
            upgrade_database(engine)
            engine.dispose()
            self._template = url
        name = self._new_name()
        if self.pg:
            template = make_url(self._template).database
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            return make_url(self.pg).set(database=name).render_as_string(hide_password=False)
        target = self.workdir / (name + ".db")
        shutil.copyfile(make_url(self._template).database, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        parsed = make_url(url)
        if self.pg:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            return
        for suffix in ("", "-wal", "-shm"):
            Path(str(parsed.database) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self._template:
            self.drop(self._template)
        if self._admin is not None:
            self._admin.dispose()
