"""Demonstration data: a database a new user can click through, made through the real services.

It is only ever written into an empty database, which is then marked as holding demonstration
data; a database holding real records is refused. Demo passwords exist only in such a database.
"""

from dataclasses import dataclass, field

from sqlmodel import Session

from mfg import i18n
from mfg.auth.service import create_user
from mfg.config import Settings
from mfg.demo.clinical import load_demo_clinical
from mfg.demo.donors import load_demo_donors
from mfg.demo.manufacturing import load_demo_cultures, load_demo_materials
from mfg.demo.qc import load_demo_qc
from mfg.demo.release import load_demo_release
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


# One account per role, and a second technician, QC analyst and clinician for the two-person
# rules (verification, bedside identity check). The passwords exist only in a demo database.
DEMO_USERS = (
    ("admin", "Alina Admin", "admin", "demo-birch-2026"),
    ("tech", "Taras Technician", "technician", "demo-linden-2026"),
    ("tech2", "Tatsiana Technician", "technician", "demo-maple-2026"),
    ("qc", "Kiryl QC Analyst", "qc", "demo-aspen-2026"),
    ("qc2", "Katsiaryna QC Analyst", "qc", "demo-alder-2026"),
    ("qa", "Volha QA Manager", "qa", "demo-oak-tree-2026"),
    ("doctor", "Dr. Dzmitry Clinician", "clinician", "demo-willow-2026"),
    ("doctor2", "Dr. Darya Clinician", "clinician", "demo-rowan-2026"),
)


def demo_password(username: str) -> str:
    return next(password for name, _, _, password in DEMO_USERS if name == username)


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(u, role, password) for u, _, role, password in DEMO_USERS]


def _create_users(session: Session) -> None:
    for username, full_name, role, password in DEMO_USERS:
        create_user(
            session,
            actor=None,
            username=username,
            full_name=full_name,
            roles=[role],
            password=password,
        )


def load_demo(session: Session, *, settings: Settings) -> DemoResult:
    """Fill an empty database with demonstration data; leave a demo database as it is. The demo's
    people work in the facility's language: the meanings their signatures show, and the texts
    the application writes into records, are in it."""
    state = database_state(session)
    if state is DatabaseState.REAL:
        raise DemoRefused()
    if state is DatabaseState.DEMO:
        return DemoResult(False, demo_logins(), ["demonstration data was already loaded"])
    with i18n.use_language(settings.language):
        summary = _load(session, settings)
    return DemoResult(True, demo_logins(), summary)


def _load(session: Session, settings: Settings) -> list[str]:
    mark_installation(session, settings=settings, demo=True)
    _create_users(session)
    summary = [f"{len(DEMO_USERS)} demo users, one or two per role"]
    summary += load_demo_donors(session, qa_password=demo_password("qa"))
    summary += load_demo_materials(session, qa_password=demo_password("qa"))
    lots, lines = load_demo_cultures(session, tech_password=demo_password("tech"))
    summary += lines
    summary += load_demo_qc(session, lots=lots)
    summary += load_demo_release(session, lots=lots, qa_password=demo_password("qa"))
    clinicians = {name: demo_password(name) for name in ("doctor", "doctor2")}
    summary += load_demo_clinical(session, passwords=clinicians)
    return summary
