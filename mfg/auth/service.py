"""Administering accounts: create, change roles, deactivate, unlock, one-time password resets.

Administrators never learn or set a working password: new accounts and resets get a one-time
password that must be changed at the first login (21 CFR 11.100, 11.300).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth import sessions
from mfg.auth.passwords import hash_password, one_time_password, policy_problems, policy_refusal
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, Reason, RuleViolation, conflict
from mfg.i18n import LANGUAGES, N_
from mfg.models import Role, User, utcnow
from mfg.models.auth import roles_to_text

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class IssuedPassword:
    """A one-time password, shown once to the administrator to hand over; never stored."""

    user: User
    one_time_password: str


def hash_for(session: Session, password: str) -> str:
    """Hash a password with the installation's argon2 profile."""
    return hash_password(password, profile=settings_of(session).password_hashing)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == normalise_username(username))).first()


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound("No user named %(username)s.", params={"username": repr(username)})
    return user


def list_users(session: Session, *, actor: User) -> list[User]:
    authorize(actor, Action.MANAGE_USERS)
    return list(session.exec(select(User).order_by(col(User.username))).all())


def parse_roles(roles: Iterable[str]) -> frozenset[Role]:
    parsed, unknown = set(), []
    for name in roles:
        try:
            parsed.add(Role(name.strip().lower()))
        except ValueError:
            unknown.append(name)
    if unknown:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(
            "Unknown role(s): %(unknown)s (known: %(known)s).",
            params={"unknown": ", ".join(unknown), "known": known},
            details={"field": "roles"},
        )
    if not parsed:
        raise InvalidInput("A user needs at least one role.", details={"field": "roles"})
    return frozenset(parsed)


def create_user(
    session: Session,
    *,
    actor: User | None,
    username: str,
    full_name: str,
    roles: Iterable[str],
    password: str | None = None,
) -> IssuedPassword:
    """Create an account. Without ``password`` (the usual case) a one-time password is issued.

    ``actor=None`` is the command line bootstrapping an installation, where the person at the
    terminal types their own password.
    """
    if actor is not None:
        authorize(actor, Action.MANAGE_USERS)
    username = normalise_username(username)
    full_name = " ".join(full_name.split())
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "A username is 2–64 characters: a letter, then letters, digits, '.', '_' or '-'.",
            details={"field": "username"},
        )
    if not full_name:
        raise InvalidInput(
            "The full (printed) name is required: it appears on every signature.",
            details={"field": "full_name"},
        )
    role_set = parse_roles(roles)
    if get_user(session, username) is not None:
        raise Conflict(
            "The username %(username)s is taken; usernames are never reused.",
            params={"username": repr(username)},
            code="username_taken",
            details={"field": "username"},
        )
    settings = settings_of(session)
    issued = password is None
    if password is None:
        password = one_time_password()
    else:
        problems = policy_problems(
            password, min_length=settings.password_min_length, username=username
        )
        if problems:
            raise policy_refusal(problems, lead=N_("The password does not meet the policy"))
    user = User(
        username=username,
        full_name=full_name,
        roles=roles_to_text(role_set),
        password_hash=hash_for(session, password),
        must_change_password=issued,
        password_changed_at=None if issued else utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=username,
        changes={
            "username": [None, username],
            "full_name": [None, full_name],
            "roles": [None, user.roles],
            "active": [None, True],
            "must_change_password": [None, issued],
        },
    )
    return IssuedPassword(user, password if issued else "")


def change_account(
    session: Session,
    *,
    actor: User,
    user: User,
    action: str,
    expected: dict[str, Any],
    new: dict[str, Any],
    changes: dict[str, list[Any]],
    reason: str,
    conflict: Reason,
) -> User:
    """An administrator's change of an account: permission, reason, compare-and-set, audit.

    ``UPDATE … WHERE id = ? AND <expected>`` makes exactly one of two racing changes succeed;
    the loser gets ``conflict`` (its code and sentence).
    """
    authorize(actor, Action.MANAGE_USERS)
    if not (reason or "").strip():
        raise InvalidInput("A reason is required for this change.", details={"field": "reason"})
    conditions = [getattr(User, field) == value for field, value in expected.items()]
    result = session.execute(
        update(User)
        .where(col(User.id) == user.id, *conditions)
        .values(version=User.version + 1, **new)
    )
    if result.rowcount != 1:
        session.expire(user)
        raise Conflict(conflict.template, params=dict(conflict.params), code=conflict.code)
    session.refresh(user)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user.username,
        changes=changes,
        reason=reason,
        require_reason=True,
    )
    return user


def choose_language(session: Session, *, user: User, language: str | None) -> User:
    """A user's own choice of the language the application speaks to them (None: the
    facility's, MFG_LANGUAGE); audited, as every change of an account is."""
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(
            "Unknown language %(language)s: one of %(languages)s, or none for the facility's.",
            params={"language": repr(language), "languages": ", ".join(LANGUAGES)},
            details={"field": "language"},
            code="unknown_language",
        )
    if user.language == language:
        return user
    old = user.language
    session.execute(
        update(User)
        .where(col(User.id) == user.id)
        .values(version=User.version + 1, language=language)
    )
    session.refresh(user)
    audit.record(
        session,
        actor=user,
        action="user.language_chosen",
        entity_type="user",
        entity_id=user.username,
        changes={"language": [old, language]},
    )
    return user


def deactivate_user(session: Session, *, actor: User, user: User, reason: str) -> User:
    """Deactivate (never delete): ends the user's sessions and revokes their API tokens."""
    if user.id == actor.id:
        raise RuleViolation.one("self_deactivation", "You cannot deactivate your own account.")
    changed = change_account(
        session,
        actor=actor,
        user=user,
        action="user.deactivated",
        expected={"active": True},
        new={"active": False, "credential_version": User.credential_version + 1},
        changes={"active": [True, False]},
        reason=reason,
        conflict=conflict(
            "already_deactivated", "%(user)s is already deactivated.", user=user.username
        ),
    )
    sessions.end_all(session, user=user, reason="deactivated")
    return changed


def reactivate_user(session: Session, *, actor: User, user: User, reason: str) -> IssuedPassword:
    """Reactivate with a fresh one-time password (the old password may be known to others)."""
    password = one_time_password()
    change_account(
        session,
        actor=actor,
        user=user,
        action="user.reactivated",
        expected={"active": False},
        new={
            "active": True,
            "password_hash": hash_for(session, password),
            "must_change_password": True,
            "failed_logins": 0,
            "locked_at": None,
        },
        changes={"active": [False, True], "must_change_password": [None, True]},
        reason=reason,
        conflict=conflict("already_active", "%(user)s is already active.", user=user.username),
    )
    return IssuedPassword(user, password)


def unlock_user(session: Session, *, actor: User, user: User, reason: str) -> User:
    """Only an administrator can unlock an account locked by failed attempts, and never their
    own."""
    if user.id == actor.id:
        raise RuleViolation.one("self_unlock", "You cannot unlock your own account.")
    if user.locked_at is None:
        raise Conflict("%(user)s is not locked.", params={"user": user.username}, code="not_locked")
    return change_account(
        session,
        actor=actor,
        user=user,
        action="user.unlocked",
        expected={"locked_at": user.locked_at},
        new={"locked_at": None, "failed_logins": 0},
        changes={"locked_at": [user.locked_at, None], "failed_logins": [user.failed_logins, 0]},
        reason=reason,
        conflict=conflict(
            "changed_meanwhile",
            "%(user)s was unlocked by someone else meanwhile.",
            user=user.username,
        ),
    )


def reset_password(session: Session, *, actor: User, user: User, reason: str) -> IssuedPassword:
    """Issue a one-time password; the user must choose a new one at the next login."""
    if not user.active:
        raise RuleViolation.state(
            "account_deactivated",
            "%(user)s is deactivated; reactivate the account instead.",
            params={"user": user.username},
        )
    password = one_time_password()
    change_account(
        session,
        actor=actor,
        user=user,
        action="user.password_reset",
        expected={"active": True},
        new={
            "password_hash": hash_for(session, password),
            "must_change_password": True,
            "credential_version": User.credential_version + 1,
        },
        changes={"must_change_password": [user.must_change_password, True]},
        reason=reason,
        conflict=conflict(
            "changed_meanwhile", "%(user)s was deactivated meanwhile.", user=user.username
        ),
    )
    sessions.end_all(session, user=user, reason="password_reset")
    return IssuedPassword(user, password)
