"""Bearer tokens for the JSON API: signed, expiring, each naming its login session (ended at
logout, password change...), revoked also by a credential-version bump."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, select

from mfg.auth.sessions import with_session
from mfg.config import Settings
from mfg.errors import AccountInactive, AccountLocked, NotAuthenticated, SessionExpired
from mfg.models import User

_SALT = "mfg-api-token-v1"
# What a credential check reads of a user (parameter ``user_id``) and of the login session
# (parameter ``session_hash``, outer-joined), and nothing more: the scan's login check reads this
# row instead of loading the user. Built once: running the same statement
# object again skips building it and adapting its result columns, a real share of a scan's cost.
CREDENTIALS = with_session(
    select(User.active, User.locked_at, User.credential_version, User.must_change_password)
).where(User.id == bindparam("user_id"))


class Credentials(Protocol):
    """What ``check_credentials_current`` looks at: a ``User`` or a row of its credentials."""

    @property
    def active(self) -> bool: ...
    @property
    def locked_at(self) -> datetime | None: ...
    @property
    def credential_version(self) -> int: ...
    @property
    def must_change_password(self) -> bool: ...


C = TypeVar("C", bound=Credentials)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret_key(), salt=_SALT)


def issue_token(user: User, session_id: str, *, settings: Settings) -> str:
    """A token for the login session ``session_id`` (``sessions.start``) of ``user``."""
    return _serializer(settings).dumps(
        {"u": user.id, "v": user.credential_version, "s": session_id}
    )


def read_token(token: str, *, settings: Settings) -> tuple[object, object, object]:
    """(user id, credential version, session id) of an intact, unexpired token; whether they
    are still current is for ``check_credentials_current`` and the session record to say."""
    max_age = settings.token_lifetime_minutes * 60
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise SessionExpired("The API token has expired; request a new one.") from exc
    except BadSignature as exc:
        raise NotAuthenticated("The API token is not valid.") from exc
    if not isinstance(data, dict):
        raise NotAuthenticated("The API token is not valid.")
    return data.get("u"), data.get("v"), data.get("s")


def check_credentials_current(user: C | None, credential_version: object) -> C:
    """Refuse a session or token of a user who was deactivated, locked or re-credentialed since."""
    if user is None:
        raise NotAuthenticated()
    if not user.active:
        raise AccountInactive()
    if user.locked_at is not None:
        raise AccountLocked()
    if credential_version != user.credential_version:
        raise SessionExpired("Your credentials changed; please log in again.")
    return user
