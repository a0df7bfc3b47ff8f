"""Helpers shared by every table."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Integer

# A cell count: billions of cells need 64 bits; SQLite's INTEGER already has them.
CELL_COUNT = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The server's clock, timezone-aware UTC: the only clock trusted for entry times."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A moment as stored, aware in UTC: SQLite gives it back naive (it is stored in UTC),
    PostgreSQL aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
