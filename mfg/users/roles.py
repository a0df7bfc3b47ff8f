"""Changing a user's roles: never one's own, and granting QA or administrator rights is signed.

QA releases lots and administrators grant roles: whoever gives either right signs it with their
password (21 CFR 11.10(g), 11.200), so that the audit trail and the signature name both people,
the one who granted and the one who received.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from mfg.auth.permissions import Action, authorize
from mfg.auth.service import change_account, parse_roles, require_user
from mfg.errors import InvalidInput, Reason, RuleViolation
from mfg.models import Meaning, Role, User
from mfg.models.auth import roles_to_text
from mfg.signatures import service as signatures

PRIVILEGED_ROLES = frozenset({Role.QA, Role.ADMIN})


@signatures.signs("user_roles")
def roles_content(session: Session, username: str) -> dict[str, Any]:
    """What a grant of rights signs: the account and the roles it holds."""
    user = require_user(session, username)
    return {"username": user.username, "full_name": user.full_name, "roles": user.roles}


def set_roles(
    session: Session,
    *,
    actor: User,
    user: User,
    roles: Iterable[str],
    expected_version: int,
    reason: str,
    password: str = "",
) -> User:
    """Change another user's roles, refusing when the form showed an older version of the
    account; granting QA or administrator rights needs the granting administrator's password
    (a signature)."""
    authorize(actor, Action.MANAGE_USERS)
    if user.id == actor.id:
        raise RuleViolation.one("self_role_change", "You cannot change your own roles.")
    old_roles, new_set = user.roles, parse_roles(roles)
    new_roles = roles_to_text(new_set)
    if new_roles == old_roles:
        return user
    granted = sorted(new_set & PRIVILEGED_ROLES - user.role_set)
    if not (reason or "").strip():
        raise InvalidInput("A reason is required for this change.", details={"field": "reason"})
    if granted and not password:
        raise RuleViolation.one(
            "signature_required",
            "Granting QA or administrator rights is a signed act: enter your password to sign.",
            field="password",
        )
    change_account(
        session,
        actor=actor,
        user=user,
        action="user.roles_changed",
        expected={"version": expected_version},
        new={"roles": new_roles},
        changes={
            "roles": [old_roles, new_roles],
            "granted_by": [None, actor.full_name],
            "granted_to": [None, user.full_name],
        },
        reason=reason,
        conflict=Reason(
            "changed_meanwhile",
            "%(username)s's account was changed by someone else meanwhile; reload and try again.",
            params={"username": user.username},
        ),
    )
    if granted:
        signatures.sign(
            session,
            signer=actor,
            password=password,
            meaning=Meaning.ROLES_GRANTED,
            entity_type="user_roles",
            entity_id=user.username,
            comment=f"{', '.join(r.label for r in granted)} granted to {user.full_name}",
        )
    return user
