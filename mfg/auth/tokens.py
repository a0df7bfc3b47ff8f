"""Bearer tokens for the JSON API: signed, expiring, revoked by a credential-version bump."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from mfg.config import Settings
from mfg.errors import AccountInactive, AccountLocked, NotAuthenticated, SessionExpired
from mfg.models import User

_SALT = "mfg-api-token-v1"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret_key(), salt=_SALT)


def issue_token(user: User, *, settings: Settings) -> str:
    return _serializer(settings).dumps({"u": user.id, "v": user.credential_version})


def user_from_token(session: Session, token: str, *, settings: Settings) -> User:
    """The user a token was issued to, if it is intact, unexpired and not revoked."""
    max_age = settings.token_lifetime_minutes * 60
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise SessionExpired("The API token has expired; request a new one.") from exc
    except BadSignature as exc:
        raise NotAuthenticated("The API token is not valid.") from exc
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    return check_credentials_current(user, data.get("v") if isinstance(data, dict) else None)


def check_credentials_current(user: User | None, credential_version: object) -> User:
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
