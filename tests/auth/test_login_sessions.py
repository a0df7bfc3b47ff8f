"""Login sessions are records on the server: logout, a password change, deactivation, a password
reset and a lockout end them at once, and their absolute end is fixed at login (issue #24)."""

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select

from mfg.db import unit_of_work
from mfg.models import AuditEvent, LoginSession, User, utcnow
from mfg.users.scan import staff_code
from tests.factories import PASSWORD, bearer, csrf_from, log_in


def _browser(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _sessions_of(engine, settings, username: str) -> list[LoginSession]:
    with unit_of_work(engine, settings=settings, write=False) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        rows = session.exec(select(LoginSession).where(LoginSession.user_id == user.id)).all()
        session.expunge_all()
        return list(rows)


def _logged_out(response) -> bool:
    return response.status_code in (303, 401) or "/login" in str(response.url)


def test_only_the_hash_of_the_session_id_is_stored(client: TestClient, engine, settings, users):
    log_in(client, "qa")
    (row,) = _sessions_of(engine, settings, "qa")
    assert row.kind == "browser" and row.ended_at is None
    assert len(row.id_hash) == 64
    assert row.user_agent.startswith("testclient")
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_a_cookie_replayed_after_logout_is_refused(
    client: TestClient, app, engine, settings, users
):
    log_in(client, "qa")
    cookie = dict(client.cookies)
    assert client.get("/api/me").status_code == 200
    token = csrf_from(client.get("/account/password").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    with _browser(app) as thief:
        thief.cookies.update(cookie)
        assert thief.get("/api/me").status_code == 401
        assert thief.get("/", follow_redirects=False).status_code in (303, 401)
    (row,) = _sessions_of(engine, settings, "qa")
    assert row.ended_at is not None and row.end_reason == "logout"
    with unit_of_work(engine, settings=settings, write=False) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == "qa")).all()
    assert "logout" in actions and "session.started" in actions


def test_a_token_used_after_api_logout_is_refused(client: TestClient, engine, settings, users):
    headers = bearer(client, "qc")
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"
    (row,) = _sessions_of(engine, settings, "qc")
    assert row.kind == "token" and row.end_reason == "logout"


def test_after_a_password_change_another_browsers_session_is_refused(
    client: TestClient, app, engine, settings, users
):
    log_in(client, "technician")
    with _browser(app) as other:
        log_in(other, "technician")
        headers = bearer(client, "technician")
        assert other.get("/api/me").status_code == 200
        token = csrf_from(client.get("/account/password").text)
        new = "Another-Good-Passphrase-42"
        response = client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": new,
                "repeat_password": new,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert other.get("/api/me").status_code == 401
    assert client.get("/api/me", headers=headers).status_code == 401
    # the browser the change was made in goes on, in the same session record
    assert client.get("/api/me").status_code == 200
    rows = _sessions_of(engine, settings, "technician")
    assert sorted(str(r.end_reason) for r in rows) == [
        "None",
        "password_changed",
        "password_changed",
    ]


def test_deactivation_ends_an_active_session_at_once(
    client: TestClient, app, engine, settings, users
):
    log_in(client, "clinician")
    headers = bearer(client, "clinician")
    assert client.get("/api/me").status_code == 200
    with _browser(app) as admin:
        admin_headers = bearer(admin, "admin")
        response = admin.post(
            "/api/users/clinician/deactivate", json={"reason": "left"}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers=headers).status_code == 401
    rows = _sessions_of(engine, settings, "clinician")
    assert {r.end_reason for r in rows} == {"deactivated"}


def test_a_password_reset_by_an_admin_ends_all_sessions(
    client: TestClient, app, engine, settings, users
):
    headers = bearer(client, "qc")
    with _browser(app) as admin:
        admin_headers = bearer(admin, "admin")
        response = admin.post(
            "/api/users/qc/reset-password", json={"reason": "forgotten"}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
    assert client.get("/api/me", headers=headers).status_code == 401
    assert {r.end_reason for r in _sessions_of(engine, settings, "qc")} == {"password_reset"}


def test_a_lockout_ends_all_sessions(client: TestClient, app, engine, settings, users):
    headers = bearer(client, "qa")
    with _browser(app) as attacker:
        for _ in range(settings.max_failed_logins):
            attacker.post("/api/auth/token", json={"username": "qa", "password": "wrong-1"})
    assert client.get("/api/me", headers=headers).status_code == 401
    assert {r.end_reason for r in _sessions_of(engine, settings, "qa")} == {"locked"}


def test_a_session_past_its_absolute_lifetime_is_refused_even_if_active_all_along(
    client: TestClient, engine, settings, users
):
    log_in(client, "qa")
    assert client.get("/api/me").status_code == 200  # active: the idle timeout is renewed
    with unit_of_work(engine, settings=settings) as session:
        session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


def test_the_scan_path_refuses_an_ended_session(client: TestClient, users):
    headers = bearer(client, "technician")
    code = str(staff_code(users["qa"]))
    assert client.get("/api/scan", params={"code": code}, headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/scan", params={"code": code}, headers=headers)
    assert response.status_code == 401


def test_the_scan_path_refuses_an_ended_browser_session(client: TestClient, app, users):
    log_in(client, "technician")
    cookie = dict(client.cookies)
    code = str(staff_code(users["qa"]))
    assert client.get("/api/scan", params={"code": code}).status_code == 200
    token = csrf_from(client.get("/account/password").text)
    client.post("/logout", data={"csrf_token": token})
    with _browser(app) as thief:
        thief.cookies.update(cookie)
        assert thief.get("/api/scan", params={"code": code}).status_code == 401
