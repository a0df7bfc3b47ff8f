"""Clinical rules as pure functions over loaded facts: what stops an enrolment, a dose order, its
allocation, hand-over and infusion, each a small guard with its rule's code (the bedside checks
are in ``bedside_rules``). The services load the facts (``patients``, ``orders``,
``bedside``, ``infusions``), call the guards and raise or record what they answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from mfg import quantities
from mfg.errors import Reason, conflict, reason
from mfg.i18n import N_
from mfg.models import (
    Allocation,
    AllocationSlot,
    BedsideCheck,
    Dose,
    DoseOrder,
    LotStatus,
    OrderStatus,
    Patient,
    User,
)

# a dose matches a prescription within ±10 % of the cells (docs/process.md#dose-and-allocation)
TOLERANCE = 0.10


def matches_prescription(cells: int, prescribed: int) -> bool:
    """The cells are within ±10 % of those prescribed, both bounds included."""
    return abs(cells - prescribed) <= TOLERANCE * prescribed


def order_problems(
    *,
    patient: Patient,
    receives_product: bool,
    infusions: int,
    active_order: DoseOrder | None,
    given: int,
    max_infusions: int,
) -> list[Reason]:
    """A dose is ordered only for a patient of an arm that receives the product, whose weight a
    second person verified, without another active order, within the trial's limit of infusions
    (those given and those asked for together).

    Code: control_arm, weight_not_verified, order_active, infusions_out_of_range,
    order_limit_reached
    Clause: EU GMP Annex 11 §6
    """
    problems = []
    if not receives_product:
        problems.append(
            conflict(
                "control_arm",
                "Patient %(patient)s is in the control arm: no product is ordered.",
                patient=patient.code,
            )
        )
    if patient.weight_verified_at is None:
        problems.append(
            conflict("weight_not_verified", "The weight is not verified by a second person yet.")
        )
    if active_order is not None:
        problems.append(
            conflict(
                "order_active",
                "Patient %(patient)s has an active order already (order %(order)s): "
                "complete or cancel it first.",
                patient=patient.code,
                order=active_order.id,
            )
        )
    if infusions < 1:
        problems.append(Reason("infusions_out_of_range", "An order asks for 1 infusion or more."))
    elif given + infusions > max_infusions:
        problems.append(
            conflict(
                "order_limit_reached",
                "Infusions the trial allows per patient: %(limit)s; %(patient)s has had "
                "%(given)s, so %(asked)s more cannot be ordered.",
                limit=max_infusions,
                patient=patient.code,
                given=given,
                asked=infusions,
            )
        )
    return problems


def order_is_active(order: DoseOrder, *, otherwise: str) -> Reason | None:
    """Only an active order is allocated doses or cancelled: a completed or cancelled order is
    over.

    Code: order_not_active
    Clause: 21 CFR 11.10(f)
    """
    if order.status != OrderStatus.ACTIVE:
        return conflict(
            "order_not_active",
            "Order %(order)s is %(status)s: %(otherwise)s",
            order=order.id,
            status=str(order.status),
            otherwise=otherwise,
        )
    return None


def order_wants_a_dose(order: DoseOrder, *, to_allocate: int) -> Reason | None:
    """An order is allocated at most one dose per infusion it asks for: none once each of its
    infusions has its dose.

    Code: order_fully_allocated
    Clause: —
    """
    if to_allocate < 1:
        return conflict(
            "order_fully_allocated",
            "The infusions of the order (%(infusions)s) have their doses already.",
            infusions=order.infusions,
        )
    return None


def dose_available(dose: Dose | None, *, cells_per_infusion: int) -> Reason | None:
    """A dose is allocated only when a released dose matching the prescription is free.

    Code: no_dose_available
    Clause: —
    """
    if dose is None:
        return conflict(
            "no_dose_available",
            "No released dose of about %(cells)s cells is available.",
            cells=format(cells_per_infusion, ","),
        )
    return None


def allocation_is_active(allocation: Allocation) -> Reason | None:
    """Only a standing allocation is handed over: one ended by a cancelled order or a stopped
    dose is not.

    Code: allocation_not_active
    Clause: 21 CFR 11.10(f)
    """
    if not allocation.active:
        return conflict(
            "allocation_not_active",
            "Allocation %(allocation)s has ended (its order was cancelled or its dose "
            "stopped): nothing is handed over.",
            allocation=allocation.id,
        )
    return None


def receiver_known(receiver: User | None, *, username: str) -> Reason | None:
    """A dose is handed over to a person who has an account, named by their user name.

    Code: receiver_unknown
    Clause: 21 CFR 11.100
    """
    if receiver is None:
        return reason(
            "receiver_unknown", "No user %(username)s to receive the dose.", username=repr(username)
        )
    return None


def receiver_is_clinician(receiver: User, *, is_clinician: bool) -> Reason | None:
    """A dose is received on the ward by a clinician, never by someone else.

    Code: receiver_not_clinician
    Clause: 21 CFR 11.10(d), 11.10(g)
    """
    if not is_clinician:
        return reason(
            "receiver_not_clinician",
            "%(name)s is not a clinician: a clinician receives.",
            name=receiver.full_name,
        )
    return None


def signer_is_clinician(signer: User, *, is_clinician: bool) -> Reason | None:
    """The identity of patient and dose at the bedside is signed by clinicians only.

    Code: signer_not_clinician
    Clause: 21 CFR 11.10(d), 11.10(g)
    """
    if not is_clinician:
        return reason("signer_not_clinician", "%(name)s is not a clinician.", name=signer.full_name)
    return None


def identity_verified_by_two(signer_ids: Sequence[int]) -> Reason | None:
    """A dose is infused only once two different clinicians have signed the identity
    verification of its bedside check.

    Code: identity_not_verified
    Clause: 21 CFR 11.10(f)
    """
    if len(set(signer_ids)) < 2:
        return conflict(
            "identity_not_verified",
            "Two different clinicians must sign the identity verification before the infusion.",
        )
    return None


def bag_inspected(inspected: bool) -> Reason | None:
    """The bag is inspected (intact, no clumps, label intact) before it is infused.

    Code: bag_not_inspected
    Clause: —
    """
    if not inspected:
        return Reason(
            "bag_not_inspected", "Inspect the bag before infusing (leaks, clumps, label intact)."
        )
    return None


def conditional_release_acknowledged(
    lot_status: str, *, din: str, acknowledged: bool
) -> Reason | None:
    """A dose of a conditionally released lot (final sterility pending) is infused only when the
    clinician acknowledges it.

    Code: conditional_release_not_acknowledged
    Clause: —
    """
    if lot_status == LotStatus.CONDITIONALLY_RELEASED and not acknowledged:
        return reason(
            "conditional_release_not_acknowledged",
            "Lot %(din)s is conditionally released (final sterility pending): acknowledge it "
            "before infusing.",
            din=din,
        )
    return None


def arm_left_to_the_list(*, randomised: bool, arm_code: str, trial_code: str) -> Reason | None:
    """In a trial with a concealed allocation list the arm comes from the list, never from the
    enrolling clinician.

    Code: arm_from_allocation_list
    Clause: —
    """
    if randomised and arm_code.strip():
        return reason(
            "arm_from_allocation_list",
            "Trial %(trial)s assigns arms from its concealed allocation list: choose none.",
            trial=trial_code,
        )
    return None


def allocation_list_has_entry(slot: AllocationSlot | None, *, trial_code: str) -> Reason | None:
    """A patient of a randomised trial is enrolled only while its allocation list has an unused
    entry.

    Code: allocation_list_used_up
    Clause: —
    """
    if slot is None:
        return conflict(
            "allocation_list_used_up",
            "The allocation list of trial %(trial)s is used up: QA loads more.",
            trial=trial_code,
        )
    return None


def handover_by_two_people(issuer_id: int, receiver_id: int) -> Reason | None:
    """A dose is handed over by one person to another: who issues it never receives it.

    Code: second_person_required
    Clause: —
    """
    if issuer_id == receiver_id:
        return Reason("second_person_required", "The hand-over needs two people.")
    return None


def identity_verification_refused(
    *,
    checks_passed: bool,
    checked_at: datetime,
    now: datetime,
    valid_minutes: int,
    earlier_signer_ids: Sequence[int],
    signer_id: int,
) -> Reason | None:
    """Two different clinicians each sign the identity of patient and product once, on a bedside
    check that passed and is at most ``valid_minutes`` old (the limit itself included).

    Code: checks_failed, check_too_old, already_verified, second_person_required
    Clause: —
    """
    if not checks_passed:
        return conflict("checks_failed", "The checks did not pass: there is nothing to verify.")
    if now - checked_at > timedelta(minutes=valid_minutes):
        return conflict(
            "check_too_old",
            "This check is over %(minutes)s minutes old: scan again.",
            minutes=valid_minutes,
        )
    if len(earlier_signer_ids) >= 2:
        return conflict("already_verified", "Two clinicians have verified already.")
    if signer_id in earlier_signer_ids:
        return Reason(
            "second_person_required",
            "You verified already: a second, different clinician signs the identity check.",
        )
    return None


# --- enrolment and the infusion record ----------------------------------------------------------


def enrolment_criteria_met(
    criteria: Sequence[tuple[str, str]],
    answers: Mapping[str, bool],
    *,
    age: int,
    min_age: int,
    max_age: int,
) -> list[Reason]:
    """A subject is enrolled only with every criterion of the trial answered, each inclusion
    criterion met, no exclusion criterion present, and an age within the trial's range (both
    bounds included). ``criteria``: (kind, text), kind "I" (inclusion) or "E" (exclusion).

    Code: criterion_not_answered, inclusion_not_met, exclusion_present, age_out_of_range
    Clause: ICH E6(R2) 4.5.1
    """
    problems = []
    for kind, text in criteria:
        if text not in answers:
            problems.append(
                reason("criterion_not_answered", "Criterion not answered: %(text)s.", text=text)
            )
        elif kind == "I" and not answers[text]:
            problems.append(
                reason("inclusion_not_met", "Inclusion criterion not met: %(text)s.", text=text)
            )
        elif kind == "E" and answers[text]:
            problems.append(
                reason("exclusion_present", "Exclusion criterion present: %(text)s.", text=text)
            )
    if not min_age <= age <= max_age:
        problems.append(
            reason(
                "age_out_of_range",
                "Age %(age)s is outside %(min)s–%(max)s years.",
                age=age,
                min=min_age,
                max=max_age,
            )
        )
    return problems


# Vital signs before, during and after the infusion (docs/process.md#infusion-record), each with
# its bounds.
VITAL_BOUNDS = {
    "temperature_c": quantities.BODY_TEMP_C,
    "heart_rate": quantities.HEART_RATE,
    "systolic_mmhg": quantities.SYSTOLIC_MMHG,
    "diastolic_mmhg": quantities.DIASTOLIC_MMHG,
    "respiratory_rate": quantities.RESPIRATORY_RATE,
    "spo2": quantities.SPO2_PCT,
}
VITALS = tuple(VITAL_BOUNDS)
MOMENTS = (N_("before"), N_("during"), N_("after"))  # also the form fields' prefixes
# a diastolic pressure not below the systolic, by moment: one sentence each, to translate whole
PRESSURE_IMPLAUSIBLE = {
    "before": N_("Before: the diastolic pressure is not below the systolic."),
    "during": N_("During: the diastolic pressure is not below the systolic."),
    "after": N_("After: the diastolic pressure is not below the systolic."),
}


def vital_signs_plausible(vitals: Mapping[str, Mapping[str, float | None]]) -> list[Reason]:
    """Every vital sign at every moment of an infusion is recorded and within its plausible
    bounds (both included), and the diastolic pressure is below the systolic.

    Code: vital_signs_missing, out_of_range, blood_pressure_implausible
    Clause: ICH E6(R2) 4.9.0
    """
    missing = [f"{m} {v}" for m in MOMENTS for v in VITALS if vitals.get(m, {}).get(v) is None]
    if missing:
        return [
            reason(
                "vital_signs_missing",
                "Vital signs missing: %(missing)s.",
                missing=", ".join(missing),
            )
        ]
    problems = []
    for moment in MOMENTS:
        values = vitals[moment]
        for vital, bounds in VITAL_BOUNDS.items():
            found = quantities.out_of_bounds(f"{moment}_{vital}", values[vital], bounds)
            problems += [found] if found else []
        if values["diastolic_mmhg"] >= values["systolic_mmhg"]:
            problems.append(Reason("blood_pressure_implausible", PRESSURE_IMPLAUSIBLE[moment]))
    return problems


def infusion_record_plausible(
    record: BedsideCheck,
    dose: Dose,
    *,
    started_at: datetime,
    stopped_at: datetime,
    volume_ml: float,
    now: datetime,
    tz: tzinfo,
) -> list[Reason]:
    """An infusion starts after its bedside check and the thaw (a minute's grace: times are
    typed to the minute), neither start nor stop is in the future, it lasts, and the volume
    infused is plausible and at most the bag's.

    Code: time_in_future, time_implausible, time_before_previous_step, duration_not_positive,
    out_of_range, volume_exceeds_bag
    Clause: ICH E6(R2) 4.9.0; 21 CFR 11.10(e)
    """
    follows = max(record.checked_at, dose.thawed_at or record.checked_at) - timedelta(minutes=1)
    problems = quantities.event_time_problems(
        "started_at", started_at, now=now, after=follows, what="infusion start", tz=tz
    )
    problems += quantities.event_time_problems(
        "stopped_at", stopped_at, now=now, what="infusion stop", tz=tz
    )
    problems += quantities.duration_problems(started_at, stopped_at, what="infusion")
    found = quantities.out_of_bounds("volume_ml", volume_ml, quantities.INFUSED_VOLUME_ML)
    if found:
        problems.append(found)
    elif volume_ml > dose.volume_ml:
        problems.append(
            reason(
                "volume_exceeds_bag",
                "The volume infused, %(volume)s mL, is more than the bag holds (%(bag)s mL).",
                volume=format(volume_ml, "g"),
                bag=format(dose.volume_ml, "g"),
            )
        )
    return problems
