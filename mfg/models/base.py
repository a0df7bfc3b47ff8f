"""Helpers shared by every table."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import PlainSerializer
from sqlalchemy import BigInteger, Integer, String
from sqlmodel import Field

# A cell count: billions of cells need 64 bits; SQLite's INTEGER already has them.
CELL_COUNT = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The server's clock, timezone-aware UTC: the only clock trusted for entry times."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A moment as stored, aware in UTC: SQLite gives it back naive (it is stored in UTC),
    PostgreSQL aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


S = TypeVar("S", bound=StrEnum)

# A status typed by its enum (``status: Status[LotStatus]``). Read back from the database it is
# the plain string (see ``status_field``), set in Python the member: either way it serializes as
# the string, without pydantic's "expected enum" warning.
Status = Annotated[S, PlainSerializer(str, return_type=str)]


def status_field(initial: StrEnum, *, length: int = 16, **kwargs: Any) -> Any:
    """The ``status`` column of a stateful table, annotated with its ``StrEnum`` and starting at
    ``initial``: stored as the status's value in a VARCHAR, as the migrations made it (no
    database enum). Read back as that plain string, equal to its member: the trace reads a
    donor's 100,000 statuses and keeps them as strings the garbage collector never walks."""
    return Field(default=initial, sa_type=String(length), **kwargs)
