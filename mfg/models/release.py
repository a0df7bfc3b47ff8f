"""Lot release decisions: each one signed by QA, kept forever with the content it certified."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class Decision(StrEnum):
    RELEASED = "released"
    CONDITIONALLY_RELEASED = "conditionally_released"
    RELEASE_COMPLETED = "release_completed"  # the final sterility result of a conditional release
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    HOLD_LIFTED = "hold_lifted"
    RECALLED = "recalled"


class ReleaseDecision(SQLModel, table=True):
    """One QA decision on a lot. Append-only: a later decision adds a row."""

    __tablename__ = "release_decision"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    decision: str = Field(max_length=24)
    reason: str = Field(default="", max_length=2000)
    content_hash: str = Field(max_length=64)  # SHA-256 of the certified content
    signature_id: int | None = Field(default=None, foreign_key="signature.id")
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # None: automatic
    decided_at: datetime = Field(default_factory=utcnow)


class LookbackHold(SQLModel, table=True):
    """QA's one signed look-back action: every unused dose reached from a donor or a material
    lot put on hold, with the reason and the patients to notify, as they were at that moment."""

    __tablename__ = "lookback_hold"

    id: int | None = Field(default=None, primary_key=True)
    source_kind: str = Field(max_length=16)  # donor | material
    source_identifier: str = Field(max_length=32, index=True)
    reason: str = Field(max_length=2000)
    doses: str = Field(sa_column=Column(Text, nullable=False))  # JSON: dose identifiers held
    patients: str = Field(sa_column=Column(Text, nullable=False))  # JSON: patient codes to notify
    held_by_id: int = Field(foreign_key="app_user.id")
    held_at: datetime = Field(default_factory=utcnow)
