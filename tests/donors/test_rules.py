"""The donor guards one by one, on both sides of each bound: the ±7-day marker sample window, the
collection-to-receipt limit, consent and screening, the markers, the start of a culture. Pure
functions: no database (the services' use of them is in test_eligibility.py and
test_results_and_biopsies.py)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mfg.donors.rules import (
    MarkerSpec,
    consent_and_screening_problems,
    culture_start_problems,
    eligibility_problems,
    marker_problems,
    receipt_problems,
    sample_window_problems,
)
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, MarkerResult
from mfg.models import ResultStatus as RS

MINSK = ZoneInfo("Europe/Minsk")
HIV = MarkerSpec("HIV-AB", "anti-HIV-1/2", required=True)
CMV = MarkerSpec("CMV", "CMV", required=False)
COLLECTED = datetime(2026, 11, 10, 21, 30, tzinfo=UTC)  # 11 November in Minsk (00:30)


def codes(found) -> list[str]:
    return [reason.code for reason in found]


def donor(**changes) -> Donor:
    values = {
        "code": "DN0000001",
        "status": DonorStatus.REGISTERED,
        "consent_date": date(2026, 11, 1),
        "screening_outcome": "passed",
    } | changes
    return Donor(**values)


def result(
    marker: str = "HIV-AB",
    outcome: str = "negative",
    status: str = RS.VERIFIED,
    sample: date = date(2026, 11, 11),
) -> MarkerResult:
    return MarkerResult(marker_code=marker, outcome=outcome, status=status, sample_date=sample)


def biopsy(**changes) -> Biopsy:
    values = {"din": "A999926000001", "collected_at": COLLECTED} | changes
    return Biopsy(**values)


# --- the ±7-day window between the marker sample and the collection ---------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, []),
        (6, []),
        (7, []),  # the window's last day: within
        (8, ["sample_outside_window"]),
        (-7, []),
        (-8, ["sample_outside_window"]),
    ],
)
def test_sample_window_problems_at_each_side_of_seven_days(days, expected) -> None:
    """Counted in the facility's days: the collection at 21:30 UTC is the 11th in Minsk."""
    sample = date(2026, 11, 11) + timedelta(days=days)
    found = sample_window_problems(
        [HIV], [result(sample=sample)], [biopsy()], window_days=7, tz=MINSK
    )
    assert codes(found) == expected


def test_sample_window_problems_ignores_an_unverified_or_optional_marker() -> None:
    far = date(2026, 12, 31)
    results = [result(sample=far, status=RS.ENTERED), result("CMV", sample=far)]
    assert sample_window_problems([HIV, CMV], results, [biopsy()], window_days=7, tz=MINSK) == []


def test_sample_window_problems_needs_a_biopsy() -> None:
    found = sample_window_problems([HIV], [result()], [], window_days=7, tz=MINSK)
    assert codes(found) == ["biopsy_missing"]


# --- the collection-to-receipt limit ----------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "intact", "note", "expected"),
    [
        (23.9, True, "", []),
        (24.0, True, "", []),  # the limit itself: in time
        (24.1, True, "", ["deviation_note_required"]),
        (24.1, True, "Courier delayed.", []),
        (2.0, False, "", ["deviation_note_required"]),
        (2.0, False, "Lid cracked, bag intact.", []),
        (30.0, False, "", ["deviation_note_required", "deviation_note_required"]),
    ],
)
def test_receipt_problems_at_each_side_of_the_receipt_limit(hours, intact, note, expected) -> None:
    found = receipt_problems(
        collected_at=COLLECTED,
        received_at=COLLECTED + timedelta(hours=hours),
        limit_hours=24,
        container_intact=intact,
        deviation_note=note,
    )
    assert codes(found) == expected


# --- consent, screening, markers, eligibility -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"consent_date": None}, ["consent_missing"]),
        ({"screening_outcome": None}, ["screening_missing"]),
        ({"screening_outcome": "failed"}, ["screening_failed"]),
    ],
)
def test_consent_and_screening_problems_each_missing_or_failed(changes, expected) -> None:
    assert codes(consent_and_screening_problems(donor(**changes))) == expected


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([result()], []),
        ([], ["marker_result_missing"]),
        ([result(status=RS.INVALIDATED)], ["marker_result_missing"]),
        ([result(status=RS.ENTERED)], ["marker_not_verified"]),
        ([result(outcome="positive")], ["marker_reactive"]),
        ([result(outcome="indeterminate")], ["marker_reactive"]),
        ([result(), result("CMV", outcome="positive")], ["marker_reactive"]),  # optional too
        ([result(), result("CMV", status=RS.ENTERED)], []),
    ],
)
def test_marker_problems_needs_verified_negative_markers(results, expected) -> None:
    assert codes(marker_problems([HIV, CMV], results)) == expected


def test_eligibility_problems_asks_every_donor_rule_once() -> None:
    found = eligibility_problems(
        donor(status=DonorStatus.ELIGIBLE, consent_date=None),
        [HIV],
        [result(status=RS.ENTERED)],
        [],
        window_days=7,
        tz=MINSK,
    )
    assert codes(found) == [
        "eligibility_already_determined",
        "consent_missing",
        "marker_not_verified",
        "biopsy_missing",
    ]
    assert (
        eligibility_problems(donor(), [HIV], [result()], [biopsy()], window_days=7, tz=MINSK) == []
    )


# --- the start of a culture -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("donor_status", "biopsy_changes", "expected"),
    [
        (DonorStatus.ELIGIBLE, {}, []),
        (DonorStatus.REGISTERED, {}, ["donor_not_eligible"]),  # quarantine until determined
        (DonorStatus.INELIGIBLE, {}, ["donor_not_eligible"]),
        (DonorStatus.ELIGIBLE, {"status": BiopsyStatus.COLLECTED}, ["biopsy_not_received"]),
        (DonorStatus.ELIGIBLE, {"status": BiopsyStatus.IN_CULTURE}, ["biopsy_not_received"]),
        (DonorStatus.ELIGIBLE, {"on_hold": True, "hold_reason": "look-back"}, ["biopsy_on_hold"]),
    ],
)
def test_culture_start_problems_only_a_received_biopsy_of_an_eligible_donor(
    donor_status, biopsy_changes, expected
) -> None:
    collected = biopsy(**({"status": BiopsyStatus.RECEIVED} | biopsy_changes))
    found = culture_start_problems(donor(status=donor_status), collected)
    assert codes(found) == expected


def test_every_donor_guard_has_a_test_named_after_it() -> None:
    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    guards = (
        consent_and_screening_problems,
        marker_problems,
        sample_window_problems,
        eligibility_problems,
        receipt_problems,
        culture_start_problems,
    )
    for guard in guards:
        assert any(guard.__name__ in name for name in tests), guard.__name__
