"""The demonstration data typed as people type it into the forms: times as a ``datetime-local``
field sends them (the facility's clock, to the minute, no offset), decimals with a comma."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from mfg.db import settings_of


def local_input(session: Session, moment: datetime) -> str:
    """``moment`` as typed into a ``datetime-local`` field on the facility's clock."""
    return moment.astimezone(settings_of(session).tz).strftime("%Y-%m-%dT%H:%M")


def with_comma(value: float) -> str:
    """A decimal as typed on a Russian keyboard: ``4,2``."""
    return f"{value:g}".replace(".", ",")
