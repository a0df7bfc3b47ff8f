"""Donors, their infectious-marker results and eligibility, and their biopsies
(docs/regulation.md#donor-eligibility)."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mfg.models.base import Status, status_field, utcnow


class DonorStatus(StrEnum):
    REGISTERED = "registered"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"


DONOR_TRANSITIONS: dict[DonorStatus, frozenset[DonorStatus]] = {
    DonorStatus.REGISTERED: frozenset({DonorStatus.ELIGIBLE, DonorStatus.INELIGIBLE}),
    DonorStatus.ELIGIBLE: frozenset({DonorStatus.INELIGIBLE}),  # look-back
    DonorStatus.INELIGIBLE: frozenset(),
}


class MarkerOutcome(StrEnum):
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INDETERMINATE = "indeterminate"


class ResultStatus(StrEnum):
    ENTERED = "entered"
    VERIFIED = "verified"
    INVALIDATED = "invalidated"


RESULT_TRANSITIONS: dict[ResultStatus, frozenset[ResultStatus]] = {
    ResultStatus.ENTERED: frozenset({ResultStatus.VERIFIED, ResultStatus.INVALIDATED}),
    ResultStatus.VERIFIED: frozenset({ResultStatus.INVALIDATED}),
    ResultStatus.INVALIDATED: frozenset(),
}


class BiopsyStatus(StrEnum):
    COLLECTED = "collected"
    RECEIVED = "received"
    IN_CULTURE = "in_culture"
    POOLED = "pooled"
    DISCARDED = "discarded"


BIOPSY_TRANSITIONS: dict[BiopsyStatus, frozenset[BiopsyStatus]] = {
    BiopsyStatus.COLLECTED: frozenset({BiopsyStatus.RECEIVED, BiopsyStatus.DISCARDED}),
    BiopsyStatus.RECEIVED: frozenset({BiopsyStatus.IN_CULTURE, BiopsyStatus.DISCARDED}),
    BiopsyStatus.IN_CULTURE: frozenset({BiopsyStatus.POOLED, BiopsyStatus.DISCARDED}),
    BiopsyStatus.POOLED: frozenset(),
    BiopsyStatus.DISCARDED: frozenset(),
}


class MarkerSetVersion(SQLModel, table=True):
    """The required (and conditional) markers, versioned; QA edits by making a new version."""

    __tablename__ = "marker_set_version"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    # JSON list of {"code", "name", "required"}
    markers: str = Field(sa_column=Column(Text, nullable=False))
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Donor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)  # DN local identifier
    sex: str = Field(max_length=1)  # F | M
    birth_year: int
    status: Status[DonorStatus] = status_field(DonorStatus.REGISTERED, index=True)
    consent_date: date | None = None
    consent_recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    screening_outcome: str | None = Field(default=None, max_length=16)  # passed | failed
    screening_notes: str = Field(default="", max_length=2000)
    screening_recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")


class MarkerResult(SQLModel, table=True):
    __tablename__ = "marker_result"

    id: int | None = Field(default=None, primary_key=True)
    donor_id: int = Field(foreign_key="donor.id", index=True)
    marker_code: str = Field(max_length=32)
    outcome: str = Field(max_length=16)
    sample_date: date
    test_date: date
    method: str = Field(default="", max_length=200)
    kit_lot: str = Field(default="", max_length=100)
    status: Status[ResultStatus] = status_field(ResultStatus.ENTERED)
    entered_by_id: int = Field(foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)
    verified_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    verified_at: datetime | None = None
    invalidated_reason: str = Field(default="", max_length=1000)


class EligibilityDetermination(SQLModel, table=True):
    __tablename__ = "eligibility_determination"

    id: int | None = Field(default=None, primary_key=True)
    donor_id: int = Field(foreign_key="donor.id", index=True)
    decision: str = Field(max_length=16)  # eligible | ineligible
    marker_set_version: int
    comment: str = Field(default="", max_length=1000)
    determined_at: datetime = Field(default_factory=utcnow)
    determined_by_id: int = Field(foreign_key="app_user.id")


class Biopsy(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("din"),)

    id: int | None = Field(default=None, primary_key=True)
    din: str = Field(max_length=13, index=True)
    donor_id: int = Field(foreign_key="donor.id", index=True)
    status: Status[BiopsyStatus] = status_field(BiopsyStatus.COLLECTED, index=True)
    on_hold: bool = Field(default=False)
    hold_reason: str = Field(default="", max_length=1000)
    collected_at: datetime  # the real-world time, entered by people
    site: str = Field(max_length=200)
    collected_by: str = Field(max_length=200)  # the clinician who took it (may not be a user)
    registered_at: datetime = Field(default_factory=utcnow)  # the server's entry time
    registered_by_id: int = Field(foreign_key="app_user.id")
    received_at: datetime | None = None
    receipt_entered_at: datetime | None = None
    received_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    transport_temperature_c: float | None = None
    container_intact: bool | None = None
    hours_in_transit: float | None = None
    receipt_deviation_note: str = Field(default="", max_length=2000)
