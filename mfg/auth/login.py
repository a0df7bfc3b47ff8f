"""Authentication: login, failed attempts and lockout, password change (21 CFR 11.300)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth import sessions
from mfg.auth.passwords import password_matches, policy_problems, policy_refusal
from mfg.auth.service import get_user, hash_for, normalise_username
from mfg.db import keep_on_failure, settings_of
from mfg.errors import (
    AccountInactive,
    AccountLocked,
    InvalidCredentials,
    Reason,
    SignatureRefused,
    TooManyAttempts,
)
from mfg.i18n import N_
from mfg.models import LoginThrottle, User, as_utc, utcnow
from mfg.quantities import counted

ACCOUNT, ADDRESS = "account:", "address:"


def _throttle_keys(username: str, address: str) -> list[str]:
    keys = [ACCOUNT + (username[:150] or "(blank)")]
    if address:
        keys.append(ADDRESS + address[:150])
    return keys


def _limit(session: Session, key: str) -> int:
    settings = settings_of(session)
    if key.startswith(ADDRESS):
        return settings.login_failures_per_address
    return settings.login_failures_per_account


def _window(session: Session) -> timedelta:
    return timedelta(minutes=settings_of(session).login_throttle_window_minutes)


def refuse_when_throttled(session: Session, keys: list[str]) -> None:
    """Too many failed logins lately for this account name or from this address: refused before
    any password is checked (no hash computed, nothing recorded), until the window ends."""
    now, window = utcnow(), _window(session)
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))).all()
    waits = [
        as_utc(row.window_started_at) + window - now
        for row in rows
        if row.failures >= _limit(session, row.key) and as_utc(row.window_started_at) + window > now
    ]
    if waits:
        raise TooManyAttempts(int(max(waits).total_seconds()) + 1)


def _count_failure(session: Session, key: str, now: datetime) -> int:
    """One more failure of ``key`` in its window (a new window when the last one ended), counted
    in one statement so that racing attempts each count; the failures of the window now."""
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    ended = table.c.window_started_at < now - _window(session)
    started = literal(now, type_=table.c.window_started_at.type)
    statement = (
        insert(table)
        .values(key=key, window_started_at=now, failures=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((ended, 1), else_=table.c.failures + 1),
                "window_started_at": case((ended, started), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.failures)
    )
    return int(session.execute(statement).scalar_one())


def _count_failures(session: Session, keys: list[str], *, username: str, purpose: str) -> bool:
    """Count a failed attempt against each key; audit when a key reaches its limit. True when
    the attempt opened a window of the account name (its first failure lately)."""
    now, first = utcnow(), False
    for key in keys:
        failures = _count_failure(session, key, now)
        first = first or (key.startswith(ACCOUNT) and failures == 1)
        if failures == _limit(session, key):
            audit.record(
                session,
                actor=None,
                username=username[:64] or "(blank)",
                action=f"{purpose}.throttled",
                entity_type="client_address" if key.startswith(ADDRESS) else "user",
                entity_id=key.partition(":")[2][:128],
                changes={"failures": [None, failures]},
                reason=f"{counted(failures, 'failed attempt')} within "
                f"{counted(settings_of(session).login_throttle_window_minutes, 'minute')}",
            )
    return first


def _record_failed_attempt(
    session: Session, *, username: str, purpose: str, keys: list[str] | None = None
) -> None:
    """Count a failed attempt and lock at the limit; kept even if the work rolls back. A failure
    for an unknown name is audited once per window (the first), not once per attempt."""
    max_failures = settings_of(session).max_failed_logins

    def write(s: Session) -> None:
        first = _count_failures(s, keys or [], username=username, purpose=purpose)
        user = get_user(s, username)
        if user is None:
            if keys and not first:
                return
            audit.record(
                s,
                actor=None,
                username=username[:64] or "(blank)",
                action=f"{purpose}.failed",
                entity_type="user",
                entity_id=username[:128] or "(blank)",
                reason="unknown username",
            )
            return
        s.execute(
            update(User).where(col(User.id) == user.id).values(failed_logins=User.failed_logins + 1)
        )
        s.refresh(user)
        audit.record(
            s,
            actor=None,
            username=user.username,
            action=f"{purpose}.failed",
            entity_type="user",
            entity_id=user.username,
            changes={"failed_logins": [user.failed_logins - 1, user.failed_logins]},
            reason="wrong password",
        )
        if user.failed_logins >= max_failures and user.locked_at is None:
            _lock(s, user, max_failures)

    keep_on_failure(session, write)


def _lock(session: Session, user: User, max_failures: int) -> None:
    locked_at = utcnow()
    result = session.execute(
        update(User)
        .where(col(User.id) == user.id, col(User.locked_at).is_(None))
        .values(locked_at=locked_at, credential_version=User.credential_version + 1)
    )
    if result.rowcount == 1:
        audit.record(
            session,
            actor=None,
            username=user.username,
            action="user.locked",
            entity_type="user",
            entity_id=user.username,
            changes={"locked_at": [None, locked_at]},
            reason=counted(max_failures, "failed attempt"),
        )
        sessions.end_all(session, user=user, reason="locked")


def login(session: Session, *, username: str, password: str, address: str = "") -> User:
    """The user whose password this is, or an error. Failures are counted per account name and
    per client ``address`` and refused for a while past their limit (429); a known user's are
    audited and lock the account at its limit."""
    username = normalise_username(username)
    keys = _throttle_keys(username, address)
    refuse_when_throttled(session, keys)
    user = get_user(session, username)
    # The same hash work whether or not the name exists: timing does not tell (dummy hash).
    matched = password_matches(user.password_hash if user else None, password)
    if user is None or not matched:
        _record_failed_attempt(session, username=username, purpose="login", keys=keys)
        raise InvalidCredentials()
    if not user.active:
        raise AccountInactive()
    if user.locked_at is not None:
        raise AccountLocked()
    previous_failures = user.failed_logins
    user.failed_logins = 0
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(
        session,
        actor=user,
        action="login.succeeded",
        entity_type="user",
        entity_id=user.username,
        changes={"failed_logins": [previous_failures, 0]} if previous_failures else {},
    )
    return user


def reauthenticate(session: Session, *, user: User, password: str) -> None:
    """Check a signer's password again (21 CFR 11.200); a wrong one counts towards the lockout."""
    if not user.active:
        raise AccountInactive()
    if user.locked_at is not None:
        raise AccountLocked()
    if not password_matches(user.password_hash, password):
        _record_failed_attempt(session, username=user.username, purpose="signature")
        raise SignatureRefused()
    if user.must_change_password:  # the password an administrator issued: they know it too
        raise SignatureRefused(
            "Signature refused: %(name)s has not yet chosen their own password. A password "
            "issued by an administrator signs nothing (21 CFR 11.300); log in once and change "
            "it first.",
            params={"name": user.full_name},
        )


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: str | None = None,
) -> User:
    """The user chooses their own working password; other sessions and tokens stop working
    (all but ``keep_session``, the browser session the change was made in)."""
    if not password_matches(user.password_hash, current_password):
        _record_failed_attempt(session, username=user.username, purpose="password_change")
        raise InvalidCredentials("The current password is wrong.")
    settings = settings_of(session)
    problems = policy_problems(
        new_password, min_length=settings.password_min_length, username=user.username
    )
    if password_matches(user.password_hash, new_password):
        problems.append(
            Reason("password_unchanged", "the new password must differ from the current one")
        )
    if problems:
        raise policy_refusal(problems, lead=N_("The new password does not meet the policy"))
    was_forced = user.must_change_password
    user.password_hash = hash_for(session, new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.credential_version += 1
    session.add(user)
    session.flush()
    ended = sessions.end_all(session, user=user, reason="password_changed", keep=keep_session)
    audit.record(
        session,
        actor=user,
        action="user.password_changed",
        entity_type="user",
        entity_id=user.username,
        changes={
            **({"must_change_password": [was_forced, False]} if was_forced else {}),
            **({"sessions_ended": ended} if ended else {}),
        },
    )
    return user
