"""The second-person rule, once for every entry a second person verifies (donor marker results, QC
results, a patient's weight); the refusal through each service is in tests/test_refusal_codes.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mfg.signatures.rules import second_person_verifies

PACKAGE = Path(__file__).resolve().parents[2] / "mfg"


@pytest.mark.parametrize(
    ("entered_by", "verifier", "refused"),
    [(1, 2, None), (2, 1, None), (1, 1, "second_person_required"), (None, 1, None)],
)
def test_second_person_verifies_refuses_the_same_person_only(entered_by, verifier, refused) -> None:
    reason = second_person_verifies(entered_by, verifier)
    assert (reason.code if reason else None) == refused


def test_second_person_verifies_refuses_on_the_request_not_the_record() -> None:
    """Another person's request succeeds: 422, nothing to reload."""
    assert second_person_verifies(1, 1).conflict is False


@pytest.mark.parametrize(
    ("wording", "message"),
    [
        ({}, "You entered this result: a second person must verify it."),
        (
            {"asks": "a second analyst must verify it"},
            "You entered this result: a second analyst must verify it.",
        ),
        (
            {"entry": "this weight", "asks": "a second person verifies it"},
            "You entered this weight: a second person verifies it.",
        ),
    ],
)
def test_second_person_verifies_says_what_was_entered(wording, message) -> None:
    assert second_person_verifies(5, 5, **wording).message == message


def test_second_person_verifies_is_the_only_place_that_codes_the_rule() -> None:
    """Every verification by a second person asks the guard: no service compares who entered an
    entry with who verifies it itself (the pages ask the same guard, through
    mfg/signatures/offers.py or their view builders)."""
    callers, inline = set(), []
    for file in sorted(PACKAGE.rglob("*.py")):
        where = file.relative_to(PACKAGE).as_posix()
        if where == "signatures/rules.py" or file.stem in ("pages", "api"):
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == (
                "second_person_verifies"
            ):
                callers.add(where)
            if isinstance(node, ast.Compare) and "entered_by_id" in ast.unparse(node):
                inline.append(f"{where}:{node.lineno}")
    assert callers == {
        "qc/results.py",
        "donors/service.py",
        "clinical/patients.py",
        "signatures/offers.py",
        "clinical/views.py",
    }
    assert inline == []
