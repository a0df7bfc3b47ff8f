"""Reading what people type into forms."""

from datetime import datetime

from fastapi import Request

from mfg.errors import InvalidInput
from mfg.models import utcnow


def local_datetime(request: Request, value: str, field: str) -> datetime:
    """A ``datetime-local`` form value, read in the facility's time zone (never the browser's)."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{field.replace('_', ' ')}: not a date and time", details={"field": field}
        ) from exc
    return naive.replace(tzinfo=request.app.state.settings.tz)


def local_now_input(request: Request) -> str:
    """Now on the facility's clock, as a ``datetime-local`` default (never the browser's clock)."""
    return utcnow().astimezone(request.app.state.settings.tz).strftime("%Y-%m-%dT%H:%M")
