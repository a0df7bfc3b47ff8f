"""Fixtures: real databases built by the migrations, an app, a client, a live server."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from mfg.config import Settings
from mfg.db import bind_settings, make_engine
from mfg.main import create_app
from mfg.models import User
from tests.dbutil import DatabaseFactory
from tests.factories import ROLES, add_user, log_in

TEST_SECRET = "test-secret-key-not-for-production-0123456789"

# Property tests judge results, not time: a loaded CI machine must not fail them on a deadline
# (speed is measured by the benchmarks in tests/benchmarks).
hypothesis.settings.register_profile("mfg", deadline=None)
hypothesis.settings.load_profile("mfg")


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"), worker)
    yield factory
    factory.close()


@pytest.fixture
def database_url(db_factory: DatabaseFactory) -> Iterator[str]:
    """A fresh database at the head revision, dropped after the test."""
    url = db_factory.migrated()
    yield url
    db_factory.drop(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        facility_fin="A9999",
        password_hashing="test",
    )


@pytest.fixture
def session(engine: Engine, settings: Settings) -> Iterator[Session]:
    """A plain session on the test database; the test commits what it wants kept."""
    with Session(engine, expire_on_commit=False) as session:
        yield bind_settings(session, settings)


@pytest.fixture
def users(engine: Engine, settings: Settings) -> dict[str, User]:
    """One user per role, named after it ("admin", "technician", ...), password PASSWORD."""
    return {role: add_user(engine, settings, role, role) for role in ROLES}


@pytest.fixture
def admin_client(client: TestClient, users: dict[str, User]) -> TestClient:
    return log_in(client, "admin")


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the browser tests."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
