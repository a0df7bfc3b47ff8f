"""Test data made through the real services, so it is audited like real data."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mfg.auth.service import create_user
from mfg.config import Settings
from mfg.db import unit_of_work
from mfg.models import User

PASSWORD = "Correct-Horse-Battery-9"
ROLES = ("admin", "technician", "qc", "qa", "clinician")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(
    engine: Engine,
    settings: Settings,
    username: str,
    *roles: str,
    password: str = PASSWORD,
    full_name: str | None = None,
) -> User:
    with unit_of_work(engine, settings=settings) as session:
        issued = create_user(
            session,
            actor=None,
            username=username,
            full_name=full_name or f"{username.title()} Tester",
            roles=roles or ("technician",),
            password=password,
        )
    return issued.user


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Log a test client in through the login form, as a browser would."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def page_csrf(client: TestClient, path: str = "/") -> str:
    return csrf_from(client.get(path).text)


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
