"""Failed logins are throttled per account name and per client address, audited once per
burst for an unknown name, and cost the same hash work whether or not the name exists."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from mfg.auth import passwords
from mfg.auth.login import login
from mfg.db import unit_of_work
from mfg.errors import InvalidCredentials, TooManyAttempts
from mfg.models import AuditEvent, LoginThrottle, utcnow
from tests.factories import PASSWORD, csrf_from


def attempt(engine, settings, username: str, password: str, address: str = "10.0.0.7") -> None:
    with unit_of_work(engine, settings=settings) as session:
        login(session, username=username, password=password, address=address)


def events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def fail(engine, settings, username: str, times: int, address: str = "10.0.0.7") -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            attempt(engine, settings, username, "wrong password", address)


def test_failed_logins_for_an_account_name_are_throttled_past_their_limit(
    engine, settings, users
) -> None:
    settings = settings.model_copy(update={"login_failures_per_account": 3})
    fail(engine, settings, "nobody", 3)
    with pytest.raises(TooManyAttempts) as refused:
        attempt(engine, settings, "nobody", "wrong password", "10.0.0.8")  # any address
    assert refused.value.status_code == 429
    assert 0 < refused.value.retry_after_seconds <= settings.login_throttle_window_minutes * 60
    attempt(engine, settings, "qa", PASSWORD)  # other accounts are not concerned


def test_failed_logins_from_an_address_are_throttled_past_their_limit(
    engine, settings, users
) -> None:
    settings = settings.model_copy(update={"login_failures_per_address": 4})
    for name in ("a1", "a2", "a3", "a4"):
        fail(engine, settings, name, 1, address="192.0.2.9")
    with pytest.raises(TooManyAttempts):
        attempt(engine, settings, "qa", PASSWORD, address="192.0.2.9")  # even the right one
    attempt(engine, settings, "qa", PASSWORD, address="192.0.2.10")


def test_a_throttle_ends_with_its_window(engine, settings, users) -> None:
    settings = settings.model_copy(update={"login_failures_per_account": 2})
    fail(engine, settings, "nobody", 2)
    with pytest.raises(TooManyAttempts):
        attempt(engine, settings, "nobody", "wrong password")
    with unit_of_work(engine, settings=settings) as session:
        window = timedelta(minutes=settings.login_throttle_window_minutes)
        session.execute(update(LoginThrottle).values(window_started_at=utcnow() - window * 2))
    fail(engine, settings, "nobody", 1)  # a new window: counted from one again
    with Session(engine) as session:
        assert session.get(LoginThrottle, "account:nobody").failures == 1


def test_failures_of_an_unknown_name_are_audited_once_per_burst(engine, settings, users) -> None:
    settings = settings.model_copy(update={"login_failures_per_account": 4})
    fail(engine, settings, "ghost", 4)
    with pytest.raises(TooManyAttempts):
        attempt(engine, settings, "ghost", "wrong password")
    failed = [e for e in events(engine, "login.failed") if e.entity_id == "ghost"]
    throttled = [e for e in events(engine, "login.throttled") if e.entity_id == "ghost"]
    assert len(failed) == 1 and len(throttled) == 1  # the burst's first failure, its throttle


def test_a_known_users_failures_still_lock_the_account(engine, settings, users) -> None:
    fail(engine, settings, "technician", settings.max_failed_logins)
    assert len([e for e in events(engine, "user.locked") if e.entity_id == "technician"]) == 1
    assert len(events(engine, "login.failed")) >= settings.max_failed_logins


def test_an_unknown_name_costs_the_same_hash_work_as_a_wrong_password(
    engine, settings, users, monkeypatch
) -> None:
    verified: list[str | None] = []
    real = passwords.password_matches

    def counting(password_hash, password):  # type: ignore[no-untyped-def]
        verified.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr("mfg.auth.login.password_matches", counting)
    fail(engine, settings, "nobody-at-all", 1)
    fail(engine, settings, "qa", 1)
    assert len(verified) == 2 and verified[0] is None  # the dummy hash was computed


def test_an_unknown_name_takes_as_long_as_a_wrong_password_with_the_standard_hash(
    engine, settings, users
) -> None:
    # The installation's real argon2 profile for the known user, as in production.
    from mfg.auth.passwords import hash_password
    from mfg.models import User

    with unit_of_work(engine, settings=settings) as session:
        user = session.exec(select(User).where(User.username == "qc")).one()
        user.password_hash = hash_password(PASSWORD, profile="standard")
        session.add(user)

    def timed(name: str) -> float:
        started = time.perf_counter()
        fail(engine, settings, name, 1, address="")
        return time.perf_counter() - started

    known = min(timed("qc") for _ in range(3))
    unknown = min(timed(f"nobody{i}") for i in range(3))
    assert unknown > known * 0.5, (known, unknown)  # within a factor, not 143 ms against 29


def test_a_throttled_login_is_answered_429_with_retry_after_over_the_api_and_the_page(
    client, settings, users
) -> None:
    limit = client.app.state.settings.login_failures_per_account
    for _ in range(limit):
        answer = client.post("/api/auth/token", json={"username": "ghost", "password": "x" * 12})
        assert answer.status_code == 401
    answer = client.post("/api/auth/token", json={"username": "ghost", "password": "x" * 12})
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "too_many_attempts"
    assert int(answer.headers["Retry-After"]) > 0
    page = client.post(
        "/login",
        data={
            "username": "ghost",
            "password": "x",
            "csrf_token": csrf_from(client.get("/login").text),
        },
    )
    assert page.status_code == 429 and "Too many failed login attempts" in page.text
    assert int(page.headers["Retry-After"]) > 0
