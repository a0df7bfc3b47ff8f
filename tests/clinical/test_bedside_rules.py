"""The bedside guards one by one, on both sides of each bound: each check alone with facts that
pass and facts that stop. The guards are pure (no database); the bedside through the service is
in test_bedside.py."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mfg.clinical.bedside_rules import (
    GUARDS,
    BedsideFacts,
    Check,
    allocation_guard,
    arm_guard,
    bedside_checks,
    donor_guard,
    expiry_guard,
    identified_guard,
    infused_guard,
    infusion_count_guard,
    issue_guard,
    matches_prescription,
    prescription_guard,
    release_guard,
    stop_guard,
    thaw_guard,
)
from mfg.errors import InvalidInput, NotFound
from mfg.models import (
    DoseStatus,
    LotStatus,
)
from tests.clinical.guard_facts import NOW, PRESCRIBED, THAW_LIMIT, dose, patient


def facts(**changes) -> BedsideFacts:
    """A bedside every check lets through, with ``changes``."""
    passing = BedsideFacts(
        patient=patient(),
        patient_error=None,
        dose=dose(),
        dose_error=None,
        receives_product=True,
        allocated_to=7,
        lot_status=LotStatus.RELEASED,
        prescribed_cells=PRESCRIBED,
        infusions_done=0,
        infusions_allowed=2,
        now=NOW,
        thaw_limit_minutes=THAW_LIMIT,
    )
    return dataclasses.replace(passing, **changes)


def outcome(check: Check) -> tuple[bool, str]:
    return check.ok, check.code


PASSES = (True, "ok")


def test_every_bedside_guard_passes_the_passing_facts() -> None:
    assert [outcome(c) for c in bedside_checks(facts())] == [PASSES] * len(GUARDS)


# --- identified_guard: the two scans ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "expected"),
    [
        ("wristband", None, PASSES),
        ("dose label", None, PASSES),
        ("wristband", NotFound("No patient."), (False, "wristband_not_recognised")),
        ("dose label", NotFound("No dose."), (False, "dose_not_recognised")),
        ("dose label", InvalidInput("Bad K.", code="check_character"), (False, "check_character")),
    ],
)
def test_identified_guard_stops_a_scan_that_names_no_one(name, error, expected) -> None:
    assert outcome(identified_guard(name, error)) == expected


def test_bedside_checks_with_an_unrecognised_scan_are_the_two_identified_guards_only() -> None:
    checks = bedside_checks(facts(patient=None, patient_error=NotFound("No patient.")))
    assert [(c.name, *outcome(c)) for c in checks] == [
        ("wristband", False, "wristband_not_recognised"),
        ("dose label", True, "ok"),
    ]


# --- one guard, one check ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("receives", "expected"), [(True, PASSES), (False, (False, "control_arm"))]
)
def test_arm_guard_infuses_only_an_arm_receiving_the_product(receives, expected) -> None:
    assert outcome(arm_guard(facts(receives_product=receives))) == expected


@pytest.mark.parametrize(
    ("allocated_to", "expected"),
    [
        (7, PASSES),
        (8, (False, "not_allocated_to_patient")),
        (None, (False, "not_allocated_to_patient")),
    ],
)
def test_allocation_guard_needs_the_dose_allocated_to_this_patient(allocated_to, expected) -> None:
    assert outcome(allocation_guard(facts(allocated_to=allocated_to))) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (LotStatus.RELEASED, PASSES),
        (LotStatus.CONDITIONALLY_RELEASED, PASSES),
        (LotStatus.QUARANTINE, (False, "lot_not_released")),
        (LotStatus.ON_HOLD, (False, "lot_not_released")),
        (LotStatus.RECALLED, (False, "lot_not_released")),
        (LotStatus.REJECTED, (False, "lot_not_released")),
    ],
)
def test_release_guard_needs_a_released_lot(status, expected) -> None:
    assert outcome(release_guard(facts(lot_status=status))) == expected


def test_release_guard_asks_to_acknowledge_a_conditional_release() -> None:
    check = release_guard(facts(lot_status=LotStatus.CONDITIONALLY_RELEASED))
    assert "CONDITIONALLY" in check.reason and "acknowledge" in check.reason


@pytest.mark.parametrize(
    ("expires", "expected"),
    [
        (timedelta(days=1), PASSES),
        (timedelta(seconds=1), PASSES),
        (timedelta(0), (False, "dose_expired")),  # expiring now: expired
        (-timedelta(seconds=1), (False, "dose_expired")),
    ],
)
def test_expiry_guard_on_both_sides_of_the_expiry(expires, expected) -> None:
    assert outcome(expiry_guard(facts(dose=dose(expires_at=NOW + expires)))) == expected


@pytest.mark.parametrize(
    ("dose_status", "lot_status", "expected", "reason"),
    [
        (DoseStatus.ISSUED, LotStatus.RELEASED, PASSES, "usable"),
        (DoseStatus.ON_HOLD, LotStatus.RELEASED, (False, "dose_on_hold"), "DOSE ON HOLD"),
        (DoseStatus.RECALLED, LotStatus.RELEASED, (False, "dose_recalled"), "DOSE RECALLED"),
        (DoseStatus.DISCARDED, LotStatus.RELEASED, (False, "dose_recalled"), "DOSE DISCARDED"),
        (DoseStatus.ISSUED, LotStatus.ON_HOLD, (False, "dose_on_hold"), "LOT ON HOLD"),
        (DoseStatus.ISSUED, LotStatus.RECALLED, (False, "dose_recalled"), "LOT RECALLED"),
        (
            DoseStatus.RECALLED,
            LotStatus.ON_HOLD,
            (False, "dose_on_hold"),
            "DOSE RECALLED / LOT ON HOLD",
        ),
    ],
)
def test_stop_guard_names_what_is_held_or_recalled(
    dose_status, lot_status, expected, reason
) -> None:
    check = stop_guard(facts(dose=dose(status=dose_status), lot_status=lot_status))
    assert (outcome(check), check.reason) == (expected, reason)


@pytest.mark.parametrize(
    ("ineligible", "expected"),
    [((), PASSES), (("DN0000001",), (False, "donor_not_eligible"))],
)
def test_donor_guard_stops_a_dose_of_a_donor_found_ineligible(ineligible, expected) -> None:
    assert outcome(donor_guard(facts(ineligible_donors=ineligible))) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(DoseStatus.ISSUED, PASSES), (DoseStatus.INFUSED, (False, "already_infused"))],
)
def test_infused_guard_infuses_a_dose_once(status, expected) -> None:
    assert outcome(infused_guard(facts(dose=dose(status=status)))) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (DoseStatus.ISSUED, PASSES),
        (DoseStatus.INFUSED, PASSES),  # the infused guard says why
        (DoseStatus.ALLOCATED, (False, "not_issued")),
        (DoseStatus.AVAILABLE, (False, "not_issued")),
        (DoseStatus.RETURNED, (False, "not_issued")),
    ],
)
def test_issue_guard_needs_the_dose_handed_over(status, expected) -> None:
    assert outcome(issue_guard(facts(dose=dose(status=status)))) == expected


@pytest.mark.parametrize(
    ("thawed_ago", "expected"),
    [
        (timedelta(minutes=0), PASSES),
        (timedelta(minutes=THAW_LIMIT - 1), PASSES),
        (timedelta(minutes=THAW_LIMIT), PASSES),  # the limit itself: within
        (timedelta(minutes=THAW_LIMIT, seconds=1), (False, "thaw_window_exceeded")),
        (timedelta(minutes=THAW_LIMIT + 1), (False, "thaw_window_exceeded")),
        (None, (False, "not_thawed")),
    ],
)
def test_thaw_guard_at_below_and_above_the_thaw_limit(thawed_ago, expected) -> None:
    thawed_at = None if thawed_ago is None else NOW - thawed_ago
    assert outcome(thaw_guard(facts(dose=dose(thawed_at=thawed_at)))) == expected


# --- prescription_guard: the ±10 % bound, both bounds included --------------------------------


def _cells(percent: float) -> int:
    return round(PRESCRIBED * (1 + percent / 100))


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0, PASSES),
        (9.9, PASSES),
        (-9.9, PASSES),
        (10, PASSES),
        (-10, PASSES),
        (10.1, (False, "cells_outside_prescription")),
        (-10.1, (False, "cells_outside_prescription")),
        (50, (False, "cells_outside_prescription")),
    ],
)
def test_prescription_guard_at_each_side_of_the_ten_percent_bound(percent, expected) -> None:
    check = prescription_guard(facts(dose=dose(cells=_cells(percent))))
    assert outcome(check) == expected


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (PRESCRIBED + PRESCRIBED // 10, True),
        (PRESCRIBED + PRESCRIBED // 10 + 1, False),
        (PRESCRIBED - PRESCRIBED // 10, True),
        (PRESCRIBED - PRESCRIBED // 10 - 1, False),
    ],
)
def test_prescription_guard_bound_is_exact_to_the_cell(cells, expected) -> None:
    assert matches_prescription(cells, PRESCRIBED) is expected
    assert prescription_guard(facts(dose=dose(cells=cells))).ok is expected


def test_prescription_guard_stops_without_an_active_order() -> None:
    assert outcome(prescription_guard(facts(prescribed_cells=None))) == (False, "no_active_order")


@pytest.mark.parametrize(
    ("done", "allowed", "expected"),
    [
        (0, 2, PASSES),
        (1, 2, PASSES),
        (2, 2, (False, "infusion_limit_reached")),
        (3, 2, (False, "infusion_limit_reached")),
        (0, 1, PASSES),
        (1, 1, (False, "infusion_limit_reached")),
    ],
)
def test_infusion_count_guard_at_and_below_the_trials_maximum(done, allowed, expected) -> None:
    check = infusion_count_guard(facts(infusions_done=done, infusions_allowed=allowed))
    assert outcome(check) == expected


# --- the table of guards ----------------------------------------------------------------------


def test_bedside_checks_are_the_guards_of_the_table_in_order() -> None:
    checks = bedside_checks(facts(dose=dose(status=DoseStatus.INFUSED), lot_status="quarantine"))
    assert [c.name for c in checks] == [guard(facts()).name for guard in GUARDS]
    assert [c.code for c in checks if not c.ok] == ["lot_not_released", "already_infused"]
