"""Login, failed attempts, lockout and unlock (21 CFR 11.300)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mfg.auth import service as accounts
from mfg.auth.login import login
from mfg.db import unit_of_work
from mfg.errors import AccountInactive, AccountLocked, InvalidCredentials
from mfg.models import AuditEvent, User
from tests.factories import PASSWORD, add_user, bearer, csrf_from, log_in


def attempt(engine, settings, username: str, password: str) -> None:
    with unit_of_work(engine, settings=settings) as session:
        login(session, username=username, password=password)


def events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def reload(engine, username: str) -> User:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_a_user_logs_in_with_the_right_password(engine, settings, users) -> None:
    attempt(engine, settings, "qa", PASSWORD)
    assert reload(engine, "qa").last_login_at is not None
    assert events(engine, "login.succeeded")[-1].username == "qa"


def test_usernames_are_not_case_sensitive(engine, settings, users) -> None:
    attempt(engine, settings, "  QA ", PASSWORD)


def test_every_failed_login_is_an_audit_event_even_though_the_login_fails(
    engine, settings, users
) -> None:
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            attempt(engine, settings, "qa", "wrong password")
    failed = events(engine, "login.failed")
    assert [e.entity_id for e in failed] == ["qa", "qa"]
    assert reload(engine, "qa").failed_logins == 2


def test_a_failed_login_for_an_unknown_username_is_audited(engine, settings, users) -> None:
    with pytest.raises(InvalidCredentials):
        attempt(engine, settings, "mallory", "guess")
    assert events(engine, "login.failed")[-1].reason == "unknown username"


def test_the_account_locks_after_the_configured_number_of_failures(engine, settings, users) -> None:
    for _ in range(settings.max_failed_logins):
        with pytest.raises(InvalidCredentials):
            attempt(engine, settings, "technician", "wrong password")
    assert reload(engine, "technician").locked_at is not None
    assert len(events(engine, "user.locked")) == 1
    with pytest.raises(AccountLocked):
        attempt(engine, settings, "technician", PASSWORD)  # the right password no longer helps


def test_only_an_administrator_can_unlock_and_then_login_works(engine, settings, users) -> None:
    for _ in range(settings.max_failed_logins):
        with pytest.raises(InvalidCredentials):
            attempt(engine, settings, "technician", "wrong password")
    with unit_of_work(engine, settings=settings) as session:
        actor = session.get(User, users["qa"].id)
        target = accounts.require_user(session, "technician")
        with pytest.raises(Exception, match="role"):
            accounts.unlock_user(session, actor=actor, user=target, reason="asked nicely")
    with unit_of_work(engine, settings=settings) as session:
        actor = session.get(User, users["admin"].id)
        target = accounts.require_user(session, "technician")
        accounts.unlock_user(
            session, actor=actor, user=target, reason="identity confirmed by phone"
        )
    attempt(engine, settings, "technician", PASSWORD)
    assert reload(engine, "technician").failed_logins == 0


def test_a_successful_login_resets_the_failure_count(engine, settings, users) -> None:
    with pytest.raises(InvalidCredentials):
        attempt(engine, settings, "qc", "wrong password")
    attempt(engine, settings, "qc", PASSWORD)
    assert reload(engine, "qc").failed_logins == 0


def test_an_inactive_user_cannot_log_in(engine, settings, users) -> None:
    with unit_of_work(engine, settings=settings) as session:
        actor = session.get(User, users["admin"].id)
        accounts.deactivate_user(
            session,
            actor=actor,
            user=accounts.require_user(session, "qc"),
            reason="left the company",
        )
    with pytest.raises(AccountInactive):
        attempt(engine, settings, "qc", PASSWORD)


def test_the_login_page_shows_the_failure_and_keeps_the_username(client: TestClient, users) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "qa", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text and 'value="qa"' in response.text


def test_the_api_token_endpoint_refuses_a_wrong_password_with_the_error_shape(
    client, users
) -> None:
    response = client.post("/api/auth/token", json={"username": "qa", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_locked_account_cannot_get_a_token(client, engine, settings, users) -> None:
    for _ in range(settings.max_failed_logins):
        client.post("/api/auth/token", json={"username": "qc", "password": "nope"})
    response = client.post("/api/auth/token", json={"username": "qc", "password": PASSWORD})
    assert response.json()["error"]["code"] == "account_locked"


def test_locking_ends_existing_sessions(client, engine, settings, users) -> None:
    headers = bearer(client, "qc")
    assert client.get("/api/me", headers=headers).status_code == 200
    for _ in range(settings.max_failed_logins):
        with pytest.raises(InvalidCredentials):
            attempt(engine, settings, "qc", "wrong password")
    assert client.get("/api/me", headers=headers).status_code == 401


def test_login_redirects_to_the_page_asked_for_but_never_off_site(
    client: TestClient, users
) -> None:
    assert (
        client.get("/audit", follow_redirects=False).headers["location"].startswith("/login?next=")
    )
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "qa",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(client: TestClient, users) -> None:
    log_in(client, "qa")
    token = csrf_from(client.get("/").text)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_demo_users_exist_only_through_the_demo_loader(engine, settings) -> None:
    add_user(engine, settings, "someone", "qa")
    with unit_of_work(engine, settings=settings) as session:
        assert accounts.get_user(session, "admin") is None


def test_a_login_typed_under_a_russian_layout_is_refused_with_the_layout_named(
    client: TestClient, users
) -> None:
    token = csrf_from(client.get("/login").text)
    # "qa" and its password typed with the ЙЦУКЕН layout active
    response = client.post(
        "/login", data={"username": "йф", "password": "зфыы", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert "The keyboard layout was Cyrillic: “йф” is “qa” on a Latin layout." in response.text
    latin = client.post("/login", data={"username": "qa", "password": "x", "csrf_token": token})
    assert "keyboard layout" not in latin.text
