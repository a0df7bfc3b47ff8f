"""What the clinical pages show and which of their actions they offer, built outside the routers:
the patients, a patient, a bedside check, adverse events and the outcome.

A page's ``offers`` is the set of actions it offers the reader: from the row's state machine (an
active order may be cancelled), the permission table and the guards (the weight is verified by
a second person, ``second_person_verifies``). The templates only ask whether an action is offered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from mfg.audit.machines import DOSE_ORDER
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.clinical import bedside, infusions, orders, outcomes, patients, rules
from mfg.models import Dose, DoseOrder, Meaning, OrderStatus, Patient, Relation, TrialArm, User
from mfg.signatures import service as signatures
from mfg.signatures.rules import second_person_verifies


def _allowed(actor: User, *actions: tuple[str, Action]) -> frozenset[str]:
    """The offers whose permission ``actor`` holds, for actions that move no row."""
    return frozenset(offer for offer, action in actions if may(actor, action))


def _names(session: Session) -> Callable[[int | None], str]:
    def name(user_id: int | None) -> str:
        return session.get(User, user_id).full_name if user_id else ""  # type: ignore[union-attr]

    return name


def patients_view(session: Session, *, actor: User) -> dict[str, Any]:
    """The patients of the trial, its arms and criteria, the allocation list's state, and
    whether enrolling and managing the trial are offered."""
    trial = patients.get_trial(session)
    items, total = patients.list_patients(session, actor=actor, limit=500)
    return {
        "patients": items,
        "total": total,
        "trial": trial,
        "arms": {a.id: a for a in patients.arms_of(session, trial)},
        "criteria": patients.criteria_of(trial),
        "offers": _allowed(
            actor, ("enrol", Action.ENROL_PATIENTS), ("manage", Action.MANAGE_TRIALS)
        ),
        "randomised": patients.has_allocation_list(session, trial),
        "remaining": patients.remaining_slots(session, trial),
    }


def patient_offers(
    patient: Patient,
    actor: User,
    *,
    arm: TrialArm,
    order: DoseOrder | None,
    remaining: int,
) -> frozenset[str]:
    """What the patient page offers ``actor``:

    - ``verify_weight`` while the weight awaits verification, to a second person
      (``second_person_verifies``) who may verify weights;
    - ``order`` when the arm receives the product, no order is active and infusions remain;
      ``cancel_order`` while the active order may become cancelled; both to those who order;
    - ``allocate``, ``print_labels`` and ``record`` to those the permission table names.
    """
    offers = set(
        _allowed(
            actor,
            ("allocate", Action.ALLOCATE_DOSES),
            ("print_labels", Action.PRINT_LABELS),
            ("record", Action.RECORD_CLINICAL),
        )
    )
    refused = second_person_verifies(patient.weight_entered_by_id, actor.id)
    if patient.weight_verified_at is None and may(actor, Action.VERIFY_WEIGHT) and not refused:
        offers.add("verify_weight")
    if may(actor, Action.ORDER_DOSES):
        if order is not None:
            if DOSE_ORDER.can_move(order, OrderStatus.CANCELLED):
                offers.add("cancel_order")
        elif arm.receives_product and remaining > 0:
            offers.add("order")
    return frozenset(offers)


def patient_view(session: Session, *, actor: User, patient: Patient) -> dict[str, Any]:
    """A patient: eligibility, orders, allocations, infusions, history, and the actions
    offered."""
    order = orders.order_of(session, patient)
    trial = patients.get_trial_of(session, patient)
    arm = patients.arm_of(session, patient)
    given = orders.infusions_given(session, patient)
    remaining = trial.max_infusions - given
    return {
        "patient": patient,
        "trial": trial,
        "arm": arm,
        "eligibility": json.loads(patient.eligibility),
        "order": order,
        "orders": [
            (o, orders.infusions_of_order(session, o)) for o in orders.orders_of(session, patient)
        ],
        "given": given,
        "remaining": remaining,
        "to_allocate": orders.doses_to_allocate(session, order) if order else 0,
        "allocations": [
            (a, session.get(Dose, a.dose_id)) for a in orders.allocations_of(session, patient)
        ],
        "infusions": infusions.infusions_of(session, patient),
        "names": _names(session),
        "events": history(session, entity_type="patient", entity_id=patient.code),
        "offers": patient_offers(patient, actor, arm=arm, order=order, remaining=remaining),
    }


def bedside_check_view(session: Session, *, check_id: int) -> dict[str, Any]:
    """A bedside check: each check's verdict, the patient and dose, the identity signatures, the
    infusion recorded on it, and every signature of both."""
    record = bedside.get_check(session, check_id)
    infused = infusions.infusion_of_check(session, record)
    shown = signatures.shown(session, entity_type="bedside_check", entity_id=record.id)
    if infused:
        shown += signatures.shown(session, entity_type="infusion", entity_id=infused.id)
    checks = bedside.checks_of(record)
    return {
        "record": record,
        "checks": checks,
        "patient": patients.get_patient_by_id(session, record.patient_id)
        if record.patient_id
        else None,
        "dose": session.get(Dose, record.dose_id) if record.dose_id else None,
        "conditional": any("CONDITIONALLY" in c.reason for c in checks),
        "signed": bedside.identity_signatures(session, record),
        "infused": infused,
        "shown": shown,
        "moments": rules.MOMENTS,
        "vitals": rules.VITAL_BOUNDS,
    }


def adverse_events_view(session: Session, *, actor: User, patient: Patient) -> dict[str, Any]:
    """A patient's adverse events, each with its signatures and (once amended) its history, and
    whether recording and amending are offered."""
    return {
        "patient": patient,
        "arm": patients.arm_of(session, patient),
        "events": [
            (
                e,
                outcomes.shown_adverse_event_signatures(session, e, patient),
                history(session, entity_type="adverse_event", entity_id=e.id)
                if e.version > 1
                else [],
            )
            for e in outcomes.adverse_events_of(session, patient)
        ],
        "is_treatment_related": outcomes.is_treatment_related,
        "relations": [r.value for r in Relation],
        "offers": _allowed(actor, ("record", Action.RECORD_CLINICAL)),
        "meaning": outcomes.SIGNATURE_MEANING.value,
        "amended_meaning": Meaning.AMENDED.value,
    }


def outcome_view(session: Session, *, actor: User, patient: Patient) -> dict[str, Any]:
    """A patient's outcome with its signatures and history, and whether recording it is
    offered."""
    outcome = outcomes.outcome_of(session, patient)
    return {
        "patient": patient,
        "arm": patients.arm_of(session, patient),
        "outcome": outcome,
        "signatures": outcomes.shown_outcome_signatures(session, outcome, patient)
        if outcome
        else [],
        "pcr_results": outcomes.PCR_RESULTS,
        "ct_findings": outcomes.CT_FINDINGS,
        "events": history(session, entity_type="outcome", entity_id=patient.code),
        "offers": _allowed(actor, ("record", Action.RECORD_CLINICAL)),
        "meaning": outcomes.SIGNATURE_MEANING.value,
    }
