"""The clinical guards one by one, on both sides of each bound: the order rules, the hand-over,
the identity verification, the infusion and the enrolment. The guards are pure (no database);
the bedside guards are in test_bedside_rules.py."""

from __future__ import annotations

import inspect
import sys
from datetime import UTC, timedelta

import pytest

from mfg.clinical import rules
from mfg.clinical.rules import (
    allocation_is_active,
    allocation_list_has_entry,
    arm_left_to_the_list,
    bag_inspected,
    conditional_release_acknowledged,
    dose_available,
    enrolment_criteria_met,
    handover_by_two_people,
    identity_verification_refused,
    identity_verified_by_two,
    infusion_record_plausible,
    order_is_active,
    order_problems,
    order_wants_a_dose,
    receiver_is_clinician,
    receiver_known,
    signer_is_clinician,
    vital_signs_plausible,
)
from mfg.models import (
    Allocation,
    AllocationSlot,
    BedsideCheck,
    DoseOrder,
    LotStatus,
    OrderStatus,
    Patient,
    User,
)
from tests.clinical.guard_facts import NOW, PRESCRIBED, dose, patient

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


# --- enrolment criteria, vital signs and the infusion record ------------------------------------

INCLUSION, EXCLUSION = "Pneumonia confirmed by CT", "Pregnancy"
CRITERIA = (("I", INCLUSION), ("E", EXCLUSION))
MET = {INCLUSION: True, EXCLUSION: False}


@pytest.mark.parametrize(
    ("answers", "age", "codes"),
    [
        (MET, 18, []),
        (MET, 75, []),
        (MET, 17, ["age_out_of_range"]),
        (MET, 76, ["age_out_of_range"]),
        ({EXCLUSION: False}, 40, ["criterion_not_answered"]),
        ({INCLUSION: False, EXCLUSION: False}, 40, ["inclusion_not_met"]),
        ({INCLUSION: True, EXCLUSION: True}, 40, ["exclusion_present"]),
        (
            {INCLUSION: False, EXCLUSION: True},
            90,
            ["inclusion_not_met", "exclusion_present", "age_out_of_range"],
        ),
    ],
)
def test_enrolment_criteria_met_on_both_sides_of_each_criterion_and_the_ages(
    answers, age, codes
) -> None:
    found = enrolment_criteria_met(CRITERIA, answers, age=age, min_age=18, max_age=75)
    assert [p.code for p in found] == codes


# Within bounds, with room between the pressures for each to reach its own bound.
SIGNS = {
    "temperature_c": 36.6,
    "heart_rate": 72,
    "systolic_mmhg": 200,
    "diastolic_mmhg": 40,
    "respiratory_rate": 16,
    "spo2": 97,
}


def vitals(**during) -> dict:
    return {"before": dict(SIGNS), "during": {**SIGNS, **during}, "after": dict(SIGNS)}


@pytest.mark.parametrize(
    ("vital", "low", "high"),
    [(vital, bounds.low, bounds.high) for vital, bounds in rules.VITAL_BOUNDS.items()],
)
def test_vital_signs_plausible_on_both_sides_of_each_bound(vital, low, high) -> None:
    assert vital_signs_plausible(vitals(**{vital: low})) == []
    assert vital_signs_plausible(vitals(**{vital: high})) == []
    for outside in (low - 0.1, high + 0.1):
        assert [p.code for p in vital_signs_plausible(vitals(**{vital: outside}))] == [
            "out_of_range"
        ]


@pytest.mark.parametrize(("diastolic", "codes"), [(119, []), (120, ["blood_pressure_implausible"])])
def test_vital_signs_plausible_needs_the_diastolic_below_the_systolic(diastolic, codes) -> None:
    found = vital_signs_plausible(vitals(systolic_mmhg=120, diastolic_mmhg=diastolic))
    assert [p.code for p in found] == codes


def test_vital_signs_plausible_names_every_missing_sign() -> None:
    found = vital_signs_plausible(vitals(spo2=None, heart_rate=None))
    assert [p.code for p in found] == ["vital_signs_missing"]
    assert "during heart_rate" in found[0].message and "during spo2" in found[0].message


CHECKED, THAWED = NOW - timedelta(minutes=60), NOW - timedelta(minutes=30)


def infusion(**changes) -> list[str]:
    """The codes refusing an infusion of a 10 mL bag thawed at THAWED, with ``changes``."""
    values = {
        "started_at": THAWED,
        "stopped_at": NOW,
        "volume_ml": 10.0,
        "now": NOW,
        "tz": UTC,
    } | changes
    record = BedsideCheck(checked_at=CHECKED)
    found = infusion_record_plausible(record, dose(thawed_at=THAWED, volume_ml=10.0), **values)
    return [p.code for p in found]


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({}, []),
        ({"started_at": THAWED - timedelta(minutes=1)}, []),  # a minute's grace
        ({"started_at": THAWED - timedelta(minutes=2)}, ["time_before_previous_step"]),
        ({"stopped_at": NOW + timedelta(minutes=5)}, []),  # the clocks' skew
        ({"stopped_at": NOW + timedelta(minutes=6)}, ["time_in_future"]),
        ({"stopped_at": THAWED}, ["duration_not_positive"]),
        ({"volume_ml": 0.1}, []),
        ({"volume_ml": 0.09}, ["out_of_range"]),
        ({"volume_ml": 10.1}, ["volume_exceeds_bag"]),
    ],
)
def test_infusion_record_plausible_on_both_sides_of_each_bound(changes, codes) -> None:
    assert infusion(**changes) == codes


def test_every_clinical_guard_has_a_test_named_after_it() -> None:
    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    guards = [
        value
        for name, value in vars(rules).items()
        if inspect.isfunction(value)
        and value.__module__ == rules.__name__
        and not name.startswith("_")
        and value.__doc__
        and "Code:" in value.__doc__
    ]
    assert len(guards) >= 15
    for guard in guards:
        assert any(guard.__name__ in name for name in tests), guard.__name__
