"""Reading what people type into forms."""

from datetime import datetime

from fastapi import Request

from mfg.errors import InvalidInput


def local_datetime(request: Request, value: str, field: str) -> datetime:
    """A ``datetime-local`` form value, read in the facility's time zone (never the browser's)."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{field.replace('_', ' ')}: not a date and time", details={"field": field}
        ) from exc
    return naive.replace(tzinfo=request.app.state.settings.tz)
