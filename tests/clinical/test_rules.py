"""The clinical guards one by one, on both sides of each bound: each bedside check alone with facts
that pass and facts that stop, the order rules, the hand-over and the identity verification. The
guards are pure (no database); the bedside through the service is in test_bedside.py."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime, timedelta

import pytest

from mfg.clinical import rules
from mfg.clinical.rules import (
    GUARDS,
    BedsideFacts,
    Check,
    allocation_guard,
    allocation_is_active,
    allocation_list_has_entry,
    arm_guard,
    arm_left_to_the_list,
    bag_inspected,
    bedside_checks,
    conditional_release_acknowledged,
    donor_guard,
    dose_available,
    expiry_guard,
    handover_by_two_people,
    identified_guard,
    identity_verification_refused,
    identity_verified_by_two,
    infused_guard,
    infusion_count_guard,
    issue_guard,
    matches_prescription,
    order_is_active,
    order_problems,
    order_wants_a_dose,
    prescription_guard,
    receiver_is_clinician,
    receiver_known,
    release_guard,
    signer_is_clinician,
    stop_guard,
    thaw_guard,
)
from mfg.errors import InvalidInput, NotFound
from mfg.models import (
    Allocation,
    AllocationSlot,
    DoseOrder,
    DoseStatus,
    LotStatus,
    OrderStatus,
    Patient,
    User,
)
from mfg.models import Dose as DoseRow

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PRESCRIBED = 70_000_000  # 1 × 10⁶ cells per kg for 70 kg
THAW_LIMIT = 60


def patient(**changes) -> Patient:
    return Patient(id=7, code="PT0000007", weight_verified_at=NOW, **changes)


def dose(**changes) -> DoseRow:
    values = {
        "cells": PRESCRIBED,
        "status": DoseStatus.ISSUED,
        "expires_at": NOW + timedelta(days=30),
        "thawed_at": NOW - timedelta(minutes=10),
    } | changes
    return DoseRow(division="A0", **values)


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


# --- order_problems ---------------------------------------------------------------------------


def ordered(**changes) -> list[str]:
    values = {
        "patient": patient(),
        "receives_product": True,
        "infusions": 1,
        "active_order": None,
        "given": 0,
        "max_infusions": 2,
    } | changes
    return [reason.code for reason in order_problems(**values)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"receives_product": False}, ["control_arm"]),
        ({"patient": Patient(id=7, code="PT0000007")}, ["weight_not_verified"]),
        ({"active_order": DoseOrder(id=3)}, ["order_active"]),
        ({"infusions": 0}, ["infusions_out_of_range"]),
        ({"infusions": 2, "given": 0}, []),  # at the limit
        ({"infusions": 1, "given": 1}, []),
        ({"infusions": 2, "given": 1}, ["order_limit_reached"]),
        ({"infusions": 3, "given": 0}, ["order_limit_reached"]),
        ({"infusions": 1, "given": 2}, ["order_limit_reached"]),
    ],
)
def test_order_problems_on_each_side_of_the_infusion_limit(changes, expected) -> None:
    assert ordered(**changes) == expected


# --- the persons: hand-over and identity verification -----------------------------------------


@pytest.mark.parametrize(
    ("issuer", "receiver", "refused"), [(1, 2, None), (1, 1, "second_person_required")]
)
def test_handover_by_two_people_refuses_one_person_on_both_sides(issuer, receiver, refused) -> None:
    reason = handover_by_two_people(issuer, receiver)
    assert (reason.code if reason else None) == refused


def verification(**changes) -> str | None:
    values = {
        "checks_passed": True,
        "checked_at": NOW - timedelta(minutes=5),
        "now": NOW,
        "valid_minutes": 30,
        "earlier_signer_ids": [],
        "signer_id": 1,
    } | changes
    reason = identity_verification_refused(**values)
    return reason.code if reason else None


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({}, None),
        ({"earlier_signer_ids": [2]}, None),  # the second clinician
        ({"checks_passed": False}, "checks_failed"),
        ({"checked_at": NOW - timedelta(minutes=30)}, None),  # the limit itself: valid
        ({"checked_at": NOW - timedelta(minutes=30, seconds=1)}, "check_too_old"),
        ({"earlier_signer_ids": [1]}, "second_person_required"),
        ({"earlier_signer_ids": [2, 3]}, "already_verified"),
    ],
)
def test_identity_verification_refused_by_the_same_clinician_or_an_old_check(
    changes, refused
) -> None:
    assert verification(**changes) == refused


# --- orders, allocation and hand-over ---------------------------------------------------------


def code_of(reason) -> str | None:
    return reason.code if reason else None


@pytest.mark.parametrize(
    ("status", "refused"),
    [
        (OrderStatus.ACTIVE, None),
        (OrderStatus.COMPLETED, "order_not_active"),
        (OrderStatus.CANCELLED, "order_not_active"),
    ],
)
def test_order_is_active_refuses_an_order_that_is_over(status, refused) -> None:
    reason = order_is_active(DoseOrder(id=3, status=status), otherwise="nothing more.")
    assert code_of(reason) == refused
    assert reason is None or (reason.conflict and "nothing more." in reason.message)


@pytest.mark.parametrize(
    ("to_allocate", "refused"), [(1, None), (2, None), (0, "order_fully_allocated")]
)
def test_order_wants_a_dose_on_both_sides_of_its_last_dose(to_allocate, refused) -> None:
    assert (
        code_of(order_wants_a_dose(DoseOrder(id=3, infusions=2), to_allocate=to_allocate))
        == refused
    )


@pytest.mark.parametrize(("found", "refused"), [(dose(), None), (None, "no_dose_available")])
def test_dose_available_refuses_when_no_matching_dose_is_free(found, refused) -> None:
    assert code_of(dose_available(found, cells_per_infusion=PRESCRIBED)) == refused


@pytest.mark.parametrize(("active", "refused"), [(True, None), (False, "allocation_not_active")])
def test_allocation_is_active_refuses_an_ended_allocation(active, refused) -> None:
    reason = allocation_is_active(Allocation(id=5, active=active))
    assert code_of(reason) == refused and (reason is None or reason.conflict)


PERSON = User(id=4, username="ward", full_name="Ward Person")


@pytest.mark.parametrize(("receiver", "refused"), [(PERSON, None), (None, "receiver_unknown")])
def test_receiver_known_refuses_a_name_without_an_account(receiver, refused) -> None:
    assert code_of(receiver_known(receiver, username="ward")) == refused


@pytest.mark.parametrize(
    ("clinician", "refused"), [(True, None), (False, "receiver_not_clinician")]
)
def test_receiver_is_clinician_refuses_anyone_else(clinician, refused) -> None:
    assert code_of(receiver_is_clinician(PERSON, is_clinician=clinician)) == refused


@pytest.mark.parametrize(("clinician", "refused"), [(True, None), (False, "signer_not_clinician")])
def test_signer_is_clinician_refuses_anyone_else(clinician, refused) -> None:
    assert code_of(signer_is_clinician(PERSON, is_clinician=clinician)) == refused


# --- the infusion -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signers", "refused"),
    [
        ([1, 2], None),
        ([1, 2, 3], None),
        ([], "identity_not_verified"),
        ([1], "identity_not_verified"),
        ([1, 1], "identity_not_verified"),  # one clinician twice is one
    ],
)
def test_identity_verified_by_two_counts_different_clinicians(signers, refused) -> None:
    reason = identity_verified_by_two(signers)
    assert code_of(reason) == refused and (reason is None or reason.conflict)


@pytest.mark.parametrize(("inspected", "refused"), [(True, None), (False, "bag_not_inspected")])
def test_bag_inspected_before_infusing(inspected, refused) -> None:
    assert code_of(bag_inspected(inspected)) == refused


@pytest.mark.parametrize(
    ("status", "acknowledged", "refused"),
    [
        (LotStatus.RELEASED, False, None),
        (LotStatus.RELEASED, True, None),
        (LotStatus.CONDITIONALLY_RELEASED, True, None),
        (LotStatus.CONDITIONALLY_RELEASED, False, "conditional_release_not_acknowledged"),
    ],
)
def test_conditional_release_acknowledged_only_when_the_lot_is_conditional(
    status, acknowledged, refused
) -> None:
    reason = conditional_release_acknowledged(
        status, din="W0000 26 000001", acknowledged=acknowledged
    )
    assert code_of(reason) == refused


# --- enrolment --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("randomised", "arm", "refused"),
    [
        (False, "MSC", None),
        (True, "", None),
        (True, "  ", None),
        (True, "MSC", "arm_from_allocation_list"),
    ],
)
def test_arm_left_to_the_list_in_a_randomised_trial(randomised, arm, refused) -> None:
    reason = arm_left_to_the_list(randomised=randomised, arm_code=arm, trial_code="NCT04382547")
    assert code_of(reason) == refused


@pytest.mark.parametrize(
    ("slot", "refused"),
    [(AllocationSlot(id=1, sequence=1, arm_code="MSC"), None), (None, "allocation_list_used_up")],
)
def test_allocation_list_has_entry_refuses_a_used_up_list(slot, refused) -> None:
    reason = allocation_list_has_entry(slot, trial_code="NCT04382547")
    assert code_of(reason) == refused and (reason is None or reason.conflict)


# --- the table of guards ----------------------------------------------------------------------


def test_bedside_checks_are_the_guards_of_the_table_in_order() -> None:
    checks = bedside_checks(facts(dose=dose(status=DoseStatus.INFUSED), lot_status="quarantine"))
    assert [c.name for c in checks] == [guard(facts()).name for guard in GUARDS]
    assert [c.code for c in checks if not c.ok] == ["lot_not_released", "already_infused"]


def test_every_clinical_guard_has_a_test_named_after_it() -> None:
    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    guards = [
        *GUARDS,
        identified_guard,
        rules.order_problems,
        rules.handover_by_two_people,
        rules.identity_verification_refused,
        rules.order_is_active,
        rules.order_wants_a_dose,
        rules.dose_available,
        rules.allocation_is_active,
        rules.receiver_known,
        rules.receiver_is_clinician,
        rules.signer_is_clinician,
        rules.identity_verified_by_two,
        rules.bag_inspected,
        rules.conditional_release_acknowledged,
        rules.arm_left_to_the_list,
        rules.allocation_list_has_entry,
    ]
    for guard in guards:
        assert any(guard.__name__ in name for name in tests), guard.__name__
