"""Identifier allocation: DIN sequences per (FIN, year), local sequences per prefix."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class DinSequence(SQLModel, table=True):
    __tablename__ = "din_sequence"

    fin: str = Field(max_length=5, primary_key=True)
    year: int = Field(primary_key=True)
    last: int = Field(default=0)


class AllocatedDin(SQLModel, table=True):
    """Every DIN ever allocated, with the kind of record it names: unique forever."""

    __tablename__ = "allocated_din"

    din: str = Field(max_length=13, primary_key=True)
    kind: str = Field(max_length=32)
    allocated_at: datetime = Field(default_factory=utcnow)


class LocalSequence(SQLModel, table=True):
    __tablename__ = "local_sequence"

    prefix: str = Field(max_length=2, primary_key=True)
    last: int = Field(default=0)
