"""People and their roles. Users are never deleted and usernames never reused (21 CFR 11.100)."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from mfg.i18n import N_
from mfg.models.base import utcnow


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICIAN = "technician"
    QC = "qc"
    QA = "qa"
    CLINICIAN = "clinician"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.TECHNICIAN: N_("Manufacturing technician"),
    Role.QC: N_("QC analyst"),
    Role.QA: N_("Quality assurance (may release)"),
    Role.CLINICIAN: N_("Clinician"),
}


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=200)
    # Sorted, comma-separated role names: small, readable in the audit trail as old -> new.
    roles: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    active: bool = Field(default=True)
    must_change_password: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_at: datetime | None = Field(default=None)
    # Bumped whenever existing sessions and API tokens must stop working (deactivation, lock,
    # password reset, password change).
    credential_version: int = Field(default=1)
    # Optimistic concurrency for edits made from a form that showed an older state.
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime | None = Field(default=None)
    last_login_at: datetime | None = Field(default=None)
    # The language the application speaks to this user (mfg.i18n.LANGUAGES); None: the
    # facility's default, MFG_LANGUAGE.
    language: str | None = Field(default=None, max_length=8)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split(",") if r)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set.intersection(roles))


def roles_to_text(roles: "set[Role] | frozenset[Role] | list[Role]") -> str:
    return ",".join(sorted(Role(r).value for r in roles))


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one account name or one client address in the current window: enough
    of them and further attempts are refused without checking a password (429)."""

    __tablename__ = "login_throttle"

    # "account:<username>" or "address:<client address>"
    key: str = Field(primary_key=True, max_length=200)
    window_started_at: datetime
    failures: int = Field(default=0)


class LoginSession(SQLModel, table=True):
    """One login: a browser session or an API token. The cookie or token carries an opaque
    random id; only its SHA-256 is stored. Ends at ``expires_at`` (fixed at login, never
    renewed) or earlier when ``ended_at`` is set (logout, password change, deactivation...)."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=16)  # "browser" or "token"
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = Field(default=None)
    end_reason: str | None = Field(default=None, max_length=32)
    client_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)
