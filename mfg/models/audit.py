"""The audit trail: append-only, hash-chained (docs/architecture.md#audit-chain). Triggers refuse
UPDATE and DELETE."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    username: str = Field(max_length=64)
    user_full_name: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=64)
    entity_id: str = Field(max_length=128)
    changes: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The newest event of the chain, kept apart so that deleting the newest events shows.

    ``mac`` is keyed with the secret, so the head cannot be rewound to an older event without it.
    """

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)
    mac: str = Field(max_length=64)


class AuditReview(SQLModel, table=True):
    """A signed review of a range of the audit trail (EU GMP Annex 11 §9)."""

    __tablename__ = "audit_review"

    id: int | None = Field(default=None, primary_key=True)
    from_seq: int
    to_seq: int
    last_hash: str = Field(max_length=64)
    event_count: int
    filter_description: str = Field(default="", max_length=500)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")
