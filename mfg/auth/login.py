"""Authentication: login, failed attempts and lockout, password change (21 CFR 11.300)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from mfg.audit import service as audit
from mfg.auth.passwords import password_matches, policy_problems, policy_refusal
from mfg.auth.service import get_user, hash_for, normalise_username
from mfg.db import keep_on_failure, settings_of
from mfg.errors import (
    AccountInactive,
    AccountLocked,
    InvalidCredentials,
    Reason,
    SignatureRefused,
)
from mfg.models import User, utcnow
from mfg.quantities import counted


def _record_failed_attempt(session: Session, *, username: str, purpose: str) -> None:
    """Count a failed attempt and lock at the limit; kept even if the work rolls back."""
    max_failures = settings_of(session).max_failed_logins

    def write(s: Session) -> None:
        user = get_user(s, username)
        if user is None:
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


def login(session: Session, *, username: str, password: str) -> User:
    """The user whose password this is, or an error; every failure is audited and counted."""
    username = normalise_username(username)
    user = get_user(session, username)
    if user is None or not password_matches(user.password_hash, password):
        _record_failed_attempt(session, username=username, purpose="login")
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
            f"Signature refused: {user.full_name} has not yet chosen their own password. A "
            "password issued by an administrator signs nothing (21 CFR 11.300); log in once "
            "and change it first."
        )


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> User:
    """The user chooses their own working password; other sessions and tokens stop working."""
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
        raise policy_refusal(problems, lead="The new password does not meet the policy")
    was_forced = user.must_change_password
    user.password_hash = hash_for(session, new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.credential_version += 1
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="user.password_changed",
        entity_type="user",
        entity_id=user.username,
        changes={"must_change_password": [was_forced, False]} if was_forced else {},
    )
    return user
