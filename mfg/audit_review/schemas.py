"""Input and output models of the audit-trail API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mfg.models import AuditEvent


class MissingCreation(BaseModel):
    table: str
    id: str


class VerifyResult(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    message: str
    # GMP records without the audit event of their creation (first few): table and identifier
    missing_creation: list[MissingCreation] = []


class EventPublic(BaseModel):
    seq: int
    occurred_at: datetime
    username: str
    user_full_name: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    reason: str | None
    hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> "EventPublic":
        import json

        return cls(
            seq=event.seq,
            occurred_at=event.occurred_at,
            username=event.username,
            user_full_name=event.user_full_name,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            changes=json.loads(event.changes or "{}"),
            reason=event.reason,
            hash=event.hash,
        )


class EventList(BaseModel):
    items: list[EventPublic]
    total: int


class ReviewRequest(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    comment: str = Field(default="", max_length=1000)
    entity_type: str | None = None
    entity_id: str | None = None
    username: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class SignaturePublic(BaseModel):
    id: int
    meaning: str
    printed_name: str
    username: str
    signed_at: datetime
    content_hash: str
    valid: bool


class ReviewPublic(BaseModel):
    id: int
    from_seq: int
    to_seq: int
    event_count: int
    filter: str
    comment: str
    signatures: list[SignaturePublic]
