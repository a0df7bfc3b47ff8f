"""Login sessions are records on the server (issue #24).

A browser session or an API token carries an opaque random id; the table ``login_session`` holds
only its SHA-256, the user, when it began and when it ends (fixed at login, never renewed), and,
once ended, when and why. Every authenticated request checks its record in the same statement as
the user's credentials (``CREDENTIALS``); nothing is written per request. Services never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, bindparam, select, update
from sqlmodel import Session

from mfg.audit import service as audit
from mfg.errors import SessionExpired
from mfg.models import LoginSession, User, as_utc, utcnow

BROWSER = "browser"
TOKEN = "token"  # noqa: S105 - a kind of session, not a secret
BROWSER_LIFETIME = timedelta(hours=12)  # absolute, from login; the idle timeout is in the cookie
ID_PREFIX_LENGTH = 8  # how much of the id's hash the audit trail shows

# The session's columns, joined to the user's row: parameter ``session_hash``.
_SESSION_OF_USER = and_(
    LoginSession.user_id == User.id, LoginSession.id_hash == bindparam("session_hash")
)
SESSION_COLUMNS = (
    LoginSession.id.label("session_row"),
    LoginSession.expires_at.label("session_expires_at"),
    LoginSession.ended_at.label("session_ended_at"),
)


class SessionState(Protocol):
    """What ``check_session_live`` looks at: a row with the session's columns (None: no row)."""

    @property
    def session_row(self) -> int | None: ...
    @property
    def session_expires_at(self) -> datetime | None: ...
    @property
    def session_ended_at(self) -> datetime | None: ...


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def with_session(statement):  # type: ignore[no-untyped-def]
    """``statement`` (a select from ``app_user``) with the session's columns, outer-joined:
    one indexed lookup by the id's hash in the same round trip."""
    return statement.add_columns(*SESSION_COLUMNS).outerjoin(LoginSession, _SESSION_OF_USER)


def check_session_live(state: SessionState, now: datetime | None = None) -> None:
    """Refuse a session that does not exist, has ended or is past its absolute lifetime."""
    if state.session_row is None:
        raise SessionExpired("Your session is not known; please log in again.")
    if state.session_ended_at is not None:
        raise SessionExpired("Your session has ended; please log in again.")
    expires = state.session_expires_at
    if expires is None or as_utc(expires) <= (now or utcnow()):
        raise SessionExpired("Your session reached its time limit; please log in again.")


def start(
    session: Session,
    *,
    user: User,
    kind: str,
    lifetime: timedelta,
    address: str = "",
    user_agent: str = "",
) -> str:
    """A new session of ``user``; returns its id (shown once: to the cookie or the token)."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            id_hash=hash_id(session_id),
            user_id=user.id or 0,
            kind=kind,
            created_at=now,
            expires_at=now + lifetime,
            client_address=address[:64],
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    audit.record(
        session,
        actor=user,
        action="session.started",
        entity_type="user",
        entity_id=user.username,
        changes={"session": [None, audit_prefix(session_id)], "kind": [None, kind]},
    )
    return session_id


def audit_prefix(session_id: str) -> str:
    """What the audit trail names a session by: the start of its id's hash (not the id)."""
    return hash_id(session_id)[:ID_PREFIX_LENGTH]


def end(session: Session, *, user: User, session_id: str, reason: str = "logout") -> bool:
    """End one session of ``user`` now (logout); audited. False when it had already ended."""
    ended = session.execute(
        update(LoginSession)
        .where(
            LoginSession.id_hash == hash_id(session_id),
            LoginSession.user_id == user.id,
            LoginSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow(), end_reason=reason)
    ).rowcount
    if ended:
        audit.record(
            session,
            actor=user,
            action=reason,
            entity_type="user",
            entity_id=user.username,
            changes={"session": [audit_prefix(session_id), None]},
        )
    return bool(ended)


def end_all(session: Session, *, user: User, reason: str, keep: str | None = None) -> int:
    """End every open session of ``user`` at once (but ``keep``, the caller's own, if given);
    the number ended. The caller's own audit event says why (deactivation, reset, lock...)."""
    statement = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(LoginSession.id_hash != hash_id(keep))
    return session.execute(statement.values(ended_at=utcnow(), end_reason=reason)).rowcount


def open_sessions(session: Session, user: User) -> list[LoginSession]:
    """The user's sessions that have not ended (some may be past their time), newest first."""
    return list(
        session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
            .order_by(LoginSession.created_at.desc())
        )
    )
