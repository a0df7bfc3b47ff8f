"""What a page offers on a verified entry (a marker result, a QC result): the state machine, the
permission table and the second-person guard decide; no template decides it again."""

import re
from pathlib import Path

import pytest

from mfg.audit.machines import MARKER_RESULT, QC_RESULT
from mfg.auth.permissions import Action
from mfg.models import MarkerResult, QcResult, User
from mfg.signatures.offers import entry_offers

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _user(user_id: int, role: str) -> User:
    return User(id=user_id, username=f"u{user_id}", full_name="x", roles=role, password_hash="")


def _qc(status: str, entered_by: int = 1) -> QcResult:
    return QcResult(status=status, entered_by_id=entered_by)


def _offers(row, actor: User) -> frozenset[str]:
    return entry_offers(
        QC_RESULT,
        row,
        actor,
        verify=Action.VERIFY_QC_RESULTS,
        invalidate=Action.INVALIDATE_QC_RESULTS,
    )


@pytest.mark.parametrize(
    ("status", "actor", "offered"),
    [
        ("entered", _user(2, "qc"), {"verify", "invalidate"}),
        ("entered", _user(1, "qc"), {"awaiting_second_person", "invalidate"}),
        ("entered", _user(3, "technician"), set()),
        ("verified", _user(2, "qc"), {"invalidate"}),
        ("invalidated", _user(2, "qc"), set()),
    ],
)
def test_entry_offers_a_qc_result_to_a_second_person_only(status, actor, offered) -> None:
    assert _offers(_qc(status), actor) == offered


def test_entry_offers_a_marker_result_to_a_second_person_only() -> None:
    row = MarkerResult(status="entered", entered_by_id=1)
    offers = {
        who.id: entry_offers(
            MARKER_RESULT,
            row,
            who,
            verify=Action.VERIFY_MARKER_RESULTS,
            invalidate=Action.ENTER_MARKER_RESULTS,
        )
        for who in (_user(1, "technician"), _user(2, "technician"))
    }
    assert "verify" not in offers[1] and "awaiting_second_person" in offers[1]
    assert "verify" in offers[2] and "awaiting_second_person" not in offers[2]


def test_no_template_decides_the_second_person_rule_again() -> None:
    pattern = re.compile(r"entered_by_id\s*[!=]=|\bmay_(verify|invalidate)\b")
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not found, found
