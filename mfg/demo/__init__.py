"""Demonstration data: a database a new user can click through, made through the real services.

It is only ever written into an empty database, which is then marked as holding demonstration
data; a database holding real records is refused.
"""

from dataclasses import dataclass, field

from sqlmodel import Session

from mfg.config import Settings
from mfg.errors import DemoRefused
from mfg.system.service import DatabaseState, database_state, mark_installation


@dataclass
class DemoLogin:
    username: str
    role: str
    password: str


@dataclass
class DemoResult:
    created: bool
    logins: list[DemoLogin] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


def load_demo(session: Session, *, settings: Settings) -> DemoResult:
    """Fill an empty database with demonstration data; leave a demo database as it is."""
    state = database_state(session)
    if state is DatabaseState.REAL:
        raise DemoRefused()
    if state is DatabaseState.DEMO:
        return DemoResult(created=False, summary=["demonstration data was already loaded"])
    mark_installation(session, settings=settings, demo=True)
    return DemoResult(created=True, summary=["database marked as demonstration data"])
