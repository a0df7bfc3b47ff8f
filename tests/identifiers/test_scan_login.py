"""The scan's login check: the rules of every other route, at once, whatever the code.

The scan reads the user's credentials in the lookup's own statement when it can (a dose label)
and alone otherwise (a staff badge); both ways are proven.
"""

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from mfg.auth import service as accounts
from mfg.auth.login import login
from mfg.db import unit_of_work
from mfg.errors import InvalidCredentials
from mfg.models import User
from mfg.users.scan import staff_code
from tests.donors.factories import Lab
from tests.factories import bearer, log_in
from tests.manufacturing.factories import filled_lot


@pytest.fixture
def dose_code(engine, settings, users) -> str:
    lot, doses = filled_lot(Lab(engine, settings, users), count=1)
    return f"={lot.din}00=<{doses[0].product_code}"


@pytest.fixture(params=["dose label", "staff badge"])
def code(request, users) -> str:
    if request.param == "staff badge":
        return str(staff_code(users["qc"]))
    return request.getfixturevalue("dose_code")


def as_admin(engine, settings, users, change):
    with unit_of_work(engine, settings=settings) as session:
        admin = session.get(User, users["admin"].id)
        return change(session, admin, accounts.require_user(session, "technician"))


def deactivate(engine, settings, users) -> None:
    as_admin(
        engine,
        settings,
        users,
        lambda s, admin, user: accounts.deactivate_user(s, actor=admin, user=user, reason="left"),
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_deactivation_stops_scanning_at_once(client: TestClient, engine, settings, users, code):
    headers = bearer(client, "technician")
    assert client.get("/api/scan", params={"code": code}, headers=headers).status_code == 200
    deactivate(engine, settings, users)
    response = client.get("/api/scan", params={"code": code}, headers=headers)
    assert response.status_code == 401 and error_code(response) == "account_inactive"


def test_locking_stops_scanning_at_once(client: TestClient, engine, settings, users, code):
    headers = bearer(client, "technician")
    for _ in range(settings.max_failed_logins):
        with pytest.raises(InvalidCredentials), unit_of_work(engine, settings=settings) as s:
            login(s, username="technician", password="wrong password")
    response = client.get("/api/scan", params={"code": code}, headers=headers)
    assert response.status_code == 401 and error_code(response) == "account_locked"


def test_a_password_reset_ends_scanning_with_the_old_token(
    client: TestClient, engine, settings, users, code
):
    headers = bearer(client, "technician")
    issued = as_admin(
        engine,
        settings,
        users,
        lambda s, admin, user: accounts.reset_password(s, actor=admin, user=user, reason="lost"),
    )
    response = client.get("/api/scan", params={"code": code}, headers=headers)
    assert response.status_code == 401 and error_code(response) == "session_expired"
    # The one-time password logs in, but scans nothing until it is replaced.
    one_time = bearer(client, "technician", issued.one_time_password)
    response = client.get("/api/scan", params={"code": code}, headers=one_time)
    assert response.status_code == 403 and error_code(response) == "password_change_required"


def test_a_revoked_token_learns_nothing_about_any_code(
    client: TestClient, engine, settings, users, dose_code
):
    headers = bearer(client, "technician")
    deactivate(engine, settings, users)
    unknown_dose = dose_code[:-2] + "Z0"  # a division no dose of the lot has
    for code in (dose_code, unknown_dose, "=A9999", "nonsense", str(staff_code(users["qc"]))):
        response = client.get("/api/scan", params={"code": code}, headers=headers)
        assert response.status_code == 401 and error_code(response) == "account_inactive", code


def test_a_browser_session_scans_until_the_user_is_deactivated(
    client: TestClient, engine, settings, users, code
):
    log_in(client, "technician")
    assert client.get("/api/scan", params={"code": code}).status_code == 200
    deactivate(engine, settings, users)
    response = client.get("/api/scan", params={"code": code})
    assert response.status_code == 401 and error_code(response) == "account_inactive"
    assert client.get("/", follow_redirects=False).status_code == 303  # the session ended


def test_an_idle_browser_session_cannot_scan(client: TestClient, users, monkeypatch, dose_code):
    log_in(client, "technician")
    later = time.time() + 16 * 60
    monkeypatch.setattr("mfg.web.security.time.time", lambda: later)
    response = client.get("/api/scan", params={"code": dose_code})
    assert response.status_code == 401 and error_code(response) == "session_expired"


def test_a_dose_scan_reads_the_login_and_the_dose_in_one_statement(
    client: TestClient, engine, users, dose_code
):
    headers = bearer(client, "technician")
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/api/scan", params={"code": dose_code}, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200 and response.json()["kind"] == "dose"
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "app_user" in reads[0] and "dose" in reads[0], statements
