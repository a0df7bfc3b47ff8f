"""Electronic signatures (21 CFR 11.50, 11.70): who, when, what it means, and what was signed."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Field, SQLModel

from mfg.i18n import N_
from mfg.models.base import utcnow


class Meaning(StrEnum):
    """The controlled list of signature meanings; each use case signs with one of these."""

    PERFORMED = N_("Performed")
    VERIFIED = N_("Verified")
    REVIEWED = N_("Reviewed")
    APPROVED = N_("Approved")
    RELEASED = N_("Released")
    REJECTED = N_("Rejected")
    ADMINISTERED = N_("Administered")
    DONOR_ELIGIBLE = N_("Approved — donor eligible")
    DONOR_INELIGIBLE = N_("Donor ineligible")
    RELEASED_FOR_CLINICAL_USE = N_("Released for clinical use")
    CONDITIONALLY_RELEASED = N_("Conditionally released — sterility pending")
    ON_HOLD = N_("Placed on hold")
    RECALLED = N_("Recalled")
    CLOSED = N_("Closed")
    IDENTITY_VERIFIED = N_("Verified patient and product identity")
    AMENDED = N_("Amended — correction of a signed record")
    CANCELLED = N_("Cancelled")
    ROLES_GRANTED = N_("Granted quality-assurance or administrator rights")


class Signature(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=64, index=True)
    entity_id: str = Field(max_length=128, index=True)
    meaning: str = Field(max_length=100)  # the stable code: a value of Meaning, in English
    # The meaning exactly as the signer was shown it, in the language they signed in
    # (docs/glossary.md): what the signature's manifestation shows.
    meaning_shown: str = Field(
        default="", max_length=200, sa_column_kwargs={"server_default": text("''")}
    )
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    user_id: int = Field(foreign_key="app_user.id", index=True)
    username: str = Field(max_length=64)
    printed_name: str = Field(max_length=200)
    signed_at: datetime = Field(default_factory=utcnow)
    content_hash: str = Field(max_length=64)
    comment: str = Field(default="", max_length=1000)
