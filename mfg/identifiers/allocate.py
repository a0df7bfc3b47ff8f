"""Allocate identifiers inside the creating transaction: never two records with one code.

The sequence row is incremented with ``UPDATE … RETURNING``: PostgreSQL's row lock and SQLite's
write lock (``BEGIN IMMEDIATE``) make concurrent allocations queue; the ``allocated_din`` table's
primary key refuses a duplicate DIN whatever happens.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from mfg.db import settings_of
from mfg.identifiers.isbt128 import Din
from mfg.identifiers.local import PREFIXES, LocalId
from mfg.models import AllocatedDin, DinSequence, LocalSequence, utcnow


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def allocate_din(session: Session, *, kind: str, fin: str | None = None) -> Din:
    """The next DIN of the facility for the current year (facility time zone)."""
    settings = settings_of(session)
    fin = fin or settings.facility_fin
    year = utcnow().astimezone(settings.tz).year % 100
    session.execute(
        _insert(session)(DinSequence)
        .values(fin=fin, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["fin", "year"])
    )
    number = session.execute(
        update(DinSequence)
        .where(col(DinSequence.fin) == fin, col(DinSequence.year) == year)
        .values(last=DinSequence.last + 1)
        .returning(DinSequence.last)
    ).scalar_one()
    din = Din(fin, year, number)
    session.add(AllocatedDin(din=str(din), kind=kind))
    session.flush()
    return din


def allocate_local(session: Session, prefix: str) -> LocalId:
    """The next local identifier with ``prefix`` (e.g. ``CV`` for culture vessels)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown identifier prefix {prefix!r}")
    session.execute(
        _insert(session)(LocalSequence)
        .values(prefix=prefix, last=0)
        .on_conflict_do_nothing(index_elements=["prefix"])
    )
    number = session.execute(
        update(LocalSequence)
        .where(col(LocalSequence.prefix) == prefix)
        .values(last=LocalSequence.last + 1)
        .returning(LocalSequence.last)
    ).scalar_one()
    return LocalId(prefix, number)
