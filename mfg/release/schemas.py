"""Input and output models of the release API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class BlockingPublic(BaseModel):
    code: str
    message: str


class ReleaseCheckPublic(BaseModel):
    ready: bool
    blocking: list[BlockingPublic]
    conditional_ready: bool
    conditional_blocking: list[BlockingPublic]


class ReleaseIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    conditional: bool = False
    audit_trail_reviewed: bool = Field(
        default=False, description="the lot's audit trail was shown to and reviewed by the signer"
    )


class DecisionIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    reason: str = Field(default="", max_length=2000)


class DecisionPublic(BaseModel):
    lot: str
    lot_status: str
    decision: str
    reason: str
    certified_sha256: str
    signed_by: str
    meaning: str
    decided_at: datetime
