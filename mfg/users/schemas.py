"""Input and output models of the accounts API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mfg.models import User


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)


class RolesChange(BaseModel):
    roles: list[str] = Field(min_length=1)
    expected_version: int
    reason: str = Field(min_length=1, max_length=1000)
    password: str = Field(
        default="",
        max_length=1000,
        description="the administrator's password, signing a grant of qa or admin rights",
    )


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class UserPublic(BaseModel):
    identifier: str
    username: str
    full_name: str
    roles: list[str]
    status: str
    active: bool
    locked: bool
    must_change_password: bool
    failed_logins: int
    version: int
    created_at: datetime
    last_login_at: datetime | None
    language: str | None  # None: the facility's (MFG_LANGUAGE)

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        status = "inactive" if not user.active else "locked" if user.locked else "active"
        return cls(
            identifier=user.username,
            username=user.username,
            full_name=user.full_name,
            roles=sorted(r.value for r in user.role_set),
            status=status,
            active=user.active,
            locked=user.locked,
            must_change_password=user.must_change_password,
            failed_logins=user.failed_logins,
            version=user.version,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            language=user.language,
        )


class IssuedPasswordPublic(BaseModel):
    user: UserPublic
    one_time_password: str = Field(
        description="Shown once; hand it to the user, who must change it at the first login."
    )


class UserList(BaseModel):
    items: list[UserPublic]
    total: int


class MeChange(BaseModel):
    """``PATCH /api/me``: what a user may change of their own account."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["en", "ru", "be"] | None = Field(
        description="the language the application speaks to you; null: the facility's"
    )
