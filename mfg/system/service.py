"""What this database holds: nothing yet, demonstration data, or real (GMP) data."""

from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, select

import mfg.models
from mfg.config import Settings
from mfg.models import Installation


class DatabaseState(StrEnum):
    EMPTY = "empty"
    DEMO = "demo"
    REAL = "real"


# Tables whose rows say nothing about whether real records exist.
# Written by the installation itself: the migrations install specification version 1 and the
# trial.
_BOOKKEEPING_TABLES = frozenset(
    {"installation", "alembic_version", "spec_version", "spec_test", "trial", "trial_arm"}
)


def get_installation(session: Session) -> Installation | None:
    return session.exec(select(Installation).order_by(Installation.id)).first()


def database_state(session: Session) -> DatabaseState:
    """Demo when marked so; real when any record exists without that mark; else empty."""
    installation = get_installation(session)
    if installation is not None and installation.demo:
        return DatabaseState.DEMO
    for table in mfg.models.metadata.sorted_tables:
        if table.name in _BOOKKEEPING_TABLES:
            continue
        if session.execute(select(func.count()).select_from(table)).scalar_one():
            return DatabaseState.REAL
    if installation is not None:
        return DatabaseState.REAL
    return DatabaseState.EMPTY


def mark_installation(session: Session, *, settings: Settings, demo: bool) -> Installation:
    """Record once when and for which facility this database was initialised."""
    installation = get_installation(session)
    if installation is None:
        installation = Installation(demo=demo, facility_fin=settings.facility_fin)
        session.add(installation)
        session.flush()
    return installation
