"""Helpers shared by every table."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The server's clock, timezone-aware UTC: the only clock trusted for entry times."""
    return datetime.now(UTC)
