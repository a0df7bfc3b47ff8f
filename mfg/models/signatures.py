"""Electronic signatures (21 CFR 11.50, 11.70): who, when, what it means, and what was signed."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class Meaning(StrEnum):
    """The controlled list of signature meanings; each use case signs with one of these."""

    PERFORMED = "Performed"
    VERIFIED = "Verified"
    REVIEWED = "Reviewed"
    APPROVED = "Approved"
    RELEASED = "Released"
    REJECTED = "Rejected"
    ADMINISTERED = "Administered"
    DONOR_ELIGIBLE = "Approved — donor eligible"
    DONOR_INELIGIBLE = "Donor ineligible"
    RELEASED_FOR_CLINICAL_USE = "Released for clinical use"
    CONDITIONALLY_RELEASED = "Conditionally released — sterility pending"
    ON_HOLD = "Placed on hold"
    RECALLED = "Recalled"
    CLOSED = "Closed"
    IDENTITY_VERIFIED = "Verified patient and product identity"
    AMENDED = "Amended — correction of a signed record"
    CANCELLED = "Cancelled"
    ROLES_GRANTED = "Granted quality-assurance or administrator rights"


class Signature(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=64, index=True)
    entity_id: str = Field(max_length=128, index=True)
    meaning: str = Field(max_length=100)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    username: str = Field(max_length=64)
    printed_name: str = Field(max_length=200)
    signed_at: datetime = Field(default_factory=utcnow)
    content_hash: str = Field(max_length=64)
    comment: str = Field(default="", max_length=1000)
