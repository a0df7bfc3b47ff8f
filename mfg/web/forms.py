"""Reading what people type into forms."""

from datetime import datetime
from typing import Any

from fastapi import Request

from mfg.errors import InvalidInput
from mfg.models import utcnow
from mfg.quantities import Unreadable, read_number, read_whole_number


def local_datetime(request: Request, value: str, field: str) -> datetime:
    """A ``datetime-local`` form value, read in the facility's time zone (never the browser's)."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            "%(field)s: not a date and time",
            params={"field": field.replace("_", " ")},
            details={"field": field},
        ) from exc
    return naive.replace(tzinfo=request.app.state.settings.tz)


def local_now_input(request: Request) -> str:
    """Now on the facility's clock, as a ``datetime-local`` default (never the browser's clock)."""
    return utcnow().astimezone(request.app.state.settings.tz).strftime("%Y-%m-%dT%H:%M")


def refused(field: str, error: Unreadable) -> InvalidInput:
    """The refusal of a number typed into ``field``, naming it."""
    params = {"field": field.replace("_", " "), **error.params}
    return InvalidInput(error.template, params=params, details={"field": field})


def form_number(form: Any, field: str) -> float | None:
    """A number typed into a form field (``12,5`` or ``12.5``), None when left empty; a value
    that is not a number is refused naming the field, never guessed at."""
    text = str(form.get(field) or "").strip()
    if not text:
        return None
    try:
        return read_number(text)
    except Unreadable as error:
        raise refused(field, error) from error


def form_whole_number(form: Any, field: str) -> int | None:
    """A count typed into a form field (``250 000``), None when left empty; a fraction or text
    is refused naming the field."""
    text = str(form.get(field) or "").strip()
    if not text:
        return None
    try:
        return int(read_whole_number(text))
    except Unreadable as error:
        raise refused(field, error) from error
