"""Trial patients: enrolment against the trial's criteria, arm assignment, verified weight,
and the wristband label."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg import i18n
from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.clinical.rules import (
    allocation_list_has_entry,
    arm_left_to_the_list,
    enrolment_criteria_met,
)
from mfg.clinical.schemas import EnrolmentIn
from mfg.db import newest_page, settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mfg.i18n import N_
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.local import LocalId
from mfg.identifiers.local_lookup import by_local_code
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan
from mfg.labeling.fields import LabelData, common_fields, local_fields, sex_age
from mfg.models import AllocationSlot, Patient, Trial, TrialArm, User, utcnow
from mfg.quantities import WEIGHT_KG, check
from mfg.signatures.rules import second_person_verifies


def get_trial(session: Session, code: str = "NCT04382547") -> Trial:
    trial = session.exec(select(Trial).where(Trial.code == code.strip().upper())).first()
    if trial is None:
        raise NotFound("No trial %(trial)s.", params={"trial": code})
    return trial


def arms_of(session: Session, trial: Trial) -> list[TrialArm]:
    return list(session.exec(select(TrialArm).where(TrialArm.trial_id == trial.id)).all())


def criteria_of(trial: Trial) -> list[tuple[str, str]]:
    """(kind, text) of each criterion: kind "I" (inclusion) or "E" (exclusion)."""
    found = []
    for line in trial.criteria.splitlines():
        kind, _, text = line.partition(":")
        if kind.strip() in ("I", "E") and text.strip():
            found.append((kind.strip(), text.strip()))
    return found


def get_patient(session: Session, code: str) -> Patient:
    return by_local_code(session, Patient, code, noun="patient")


def list_patients(
    session: Session, *, actor: User, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Patient], int]:
    authorize(actor, Action.VIEW_CLINICAL)
    conditions = [Patient.status == status] if status else []
    return newest_page(session, Patient, *conditions, limit=limit, offset=offset)


def arm_of(session: Session, patient: Patient) -> TrialArm:
    return session.get(TrialArm, patient.arm_id)


def enrol_patient(session: Session, *, actor: User, trial: Trial, command: EnrolmentIn) -> Patient:
    """Enrol a subject: refused if any criterion fails. The arm is assigned by the enrolling
    clinician (the trial is not randomised) or taken from the trial's concealed allocation list,
    and recorded with them."""
    authorize(actor, Action.ENROL_PATIENTS)
    randomised = has_allocation_list(session, trial)
    arm = _arm_chosen(session, trial, command.arm, randomised=randomised)
    _check_enrolment(session, trial, command)
    slot = None
    if randomised:
        slot = next_slot(session, trial)
        arm = next(a for a in arms_of(session, trial) if a.code == slot.arm_code)
    patient = _patient_row(trial, arm, command, code=str(allocate_local(session, "PT")))
    patient.weight_entered_by_id = patient.arm_assigned_by_id = actor.id
    session.add(patient)
    session.flush()
    if slot is not None:
        take_slot(session, slot, patient)
    _enrolled(session, actor, trial, arm, patient, slot)
    return patient


def _arm_chosen(
    session: Session, trial: Trial, arm_code: str, *, randomised: bool
) -> TrialArm | None:
    """The arm the clinician chose, one of the trial's; none when the trial has a list."""
    if refused := arm_left_to_the_list(
        randomised=randomised, arm_code=arm_code, trial_code=trial.code
    ):
        raise RuleViolation.of([refused], several=refused.code)
    if randomised:
        return None
    arm = next((a for a in arms_of(session, trial) if a.code == arm_code.strip().upper()), None)
    if arm is None:
        raise InvalidInput(
            "Trial %(trial)s has no arm %(arm)s.",
            params={"trial": trial.code, "arm": arm_code},
            details={"field": "arm"},
        )
    return arm


def _check_enrolment(session: Session, trial: Trial, command: EnrolmentIn) -> None:
    """A plausible sex, weight and enrolment date; every criterion met."""
    if command.sex not in ("F", "M"):
        raise InvalidInput("Sex is F or M.", details={"field": "sex"})
    check({"weight_kg": (command.weight_kg, WEIGHT_KG)})
    if command.enrolled_on > utcnow().astimezone(settings_of(session).tz).date():
        raise InvalidInput("The enrolment date is in the future.", details={"field": "enrolled_on"})
    problems = enrolment_criteria_met(
        criteria_of(trial),
        command.eligibility,
        age=command.age,
        min_age=trial.min_age,
        max_age=trial.max_age,
    )
    if problems:
        ages = [p for p in problems if p.code == "age_out_of_range"]
        raise RuleViolation.of(
            problems, several="patient_not_eligible", **({"field": "age"} if ages else {})
        )


def _patient_row(trial: Trial, arm: TrialArm, command: EnrolmentIn, *, code: str) -> Patient:
    answers = command.eligibility
    return Patient(
        code=code,
        trial_id=trial.id,
        arm_id=arm.id,
        sex=command.sex,
        age=command.age,
        weight_kg=command.weight_kg,
        eligibility=json.dumps(
            [[kind, text, bool(answers[text])] for kind, text in criteria_of(trial)],
            ensure_ascii=False,
        ),
        enrolled_on=command.enrolled_on,
    )


def _enrolled(
    session: Session,
    actor: User,
    trial: Trial,
    arm: TrialArm,
    patient: Patient,
    slot: AllocationSlot | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action="patient.enrolled",
        entity_type="patient",
        entity_id=patient.code,
        changes={
            "trial": [None, trial.code],
            "arm": [None, arm.name],
            "allocation_list_entry": [None, slot.sequence if slot else None],
            "weight_kg": [None, patient.weight_kg],
            "eligibility": [None, "all criteria met"],
        },
    )


def verify_weight(session: Session, *, actor: User, patient: Patient) -> Patient:
    """A second person confirms the weight the dose is computed from."""
    authorize(actor, Action.VERIFY_WEIGHT)
    if refused := second_person_verifies(
        patient.weight_entered_by_id,
        actor.id,
        entry=N_("this weight"),
        asks=N_("a second person verifies it"),
    ):
        raise RuleViolation.of([refused], several=refused.code)
    verified = session.execute(
        update(Patient)
        .where(col(Patient.id) == patient.id, col(Patient.weight_verified_at).is_(None))
        .values(weight_verified_by_id=actor.id, weight_verified_at=utcnow())
    )
    if verified.rowcount != 1:
        raise Conflict(
            "The weight of %(patient)s is verified already.",
            params={"patient": patient.code},
            code="already_verified",
        )
    session.refresh(patient)
    audit.record(
        session,
        actor=actor,
        action="patient.weight_verified",
        entity_type="patient",
        entity_id=patient.code,
        changes={"weight_verified": [None, patient.weight_kg]},
    )
    return patient


def lookup_patient(session: Session, scan: ParsedScan) -> list[Resolution]:
    patient = session.exec(select(Patient).where(Patient.code == scan.tokens[0].value)).first()
    if patient is None:
        return []
    arm = arm_of(session, patient)
    return [
        Resolution(
            "patient",
            patient.code,
            f"/patients/{patient.code}",
            f"Patient {patient.code}, arm {arm.name}, {patient.sex} {patient.age} y: "
            f"{patient.status}",
            patient.status,
        )
    ]


def wristband_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    try:
        patient = get_patient(session, identifier)
    except NotFound:
        return None
    settings = settings_of(session)
    trial = session.get(Trial, patient.trial_id)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("subject", LocalId("PT", int(patient.code[2:8]))),
        "trial": trial.code,
        "arm": i18n.raw_gettext(arm_of(session, patient).name),  # the label's language
        "sex_age": sex_age(patient.sex, patient.age),
    }


def get_trial_of(session: Session, patient: Patient) -> Trial:
    return session.get(Trial, patient.trial_id)


def get_patient_by_id(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No patient #%(id)s.", params={"id": patient_id})
    return patient


def has_allocation_list(session: Session, trial: Trial) -> bool:
    return (
        session.exec(select(AllocationSlot.id).where(AllocationSlot.trial_id == trial.id)).first()
        is not None
    )


def remaining_slots(session: Session, trial: Trial) -> int:
    query = select(AllocationSlot.id).where(
        AllocationSlot.trial_id == trial.id, col(AllocationSlot.patient_id).is_(None)
    )
    return len(session.exec(query).all())


def next_slot(session: Session, trial: Trial) -> AllocationSlot:
    slot = session.exec(
        select(AllocationSlot)
        .where(AllocationSlot.trial_id == trial.id, col(AllocationSlot.patient_id).is_(None))
        .order_by(col(AllocationSlot.sequence))
    ).first()
    if refused := allocation_list_has_entry(slot, trial_code=trial.code):
        raise RuleViolation.of([refused], several=refused.code)
    return slot


def take_slot(session: Session, slot: AllocationSlot, patient: Patient) -> None:
    """Compare-and-set: of two enrolments racing for one entry, one gets it."""
    taken = session.execute(
        update(AllocationSlot)
        .where(col(AllocationSlot.id) == slot.id, col(AllocationSlot.patient_id).is_(None))
        .values(patient_id=patient.id, used_at=utcnow())
    )
    if taken.rowcount != 1:
        raise Conflict(
            "Another patient took this allocation-list entry meanwhile: enrol again.",
            code="changed_meanwhile",
        )


def load_allocation_list(
    session: Session, *, actor: User, trial: Trial, arm_codes: list[str]
) -> int:
    """QA loads a pre-generated list (for a randomised trial); entries follow any loaded before.
    The arms stay concealed: nobody sees an entry before a patient takes it."""
    authorize(actor, Action.MANAGE_TRIALS)
    known = {a.code for a in arms_of(session, trial)}
    codes = [c.strip().upper() for c in arm_codes if c.strip()]
    unknown = sorted(set(codes) - known)
    arms = ", ".join(sorted(known))
    if unknown:
        raise InvalidInput(
            "An allocation list names arms of the trial (%(arms)s); unknown: %(unknown)s.",
            params={"arms": arms, "unknown": ", ".join(unknown)},
            details={"field": "arm_codes"},
        )
    if not codes:
        raise InvalidInput(
            "An allocation list names arms of the trial (%(arms)s); it is empty.",
            params={"arms": arms},
            details={"field": "arm_codes"},
        )
    last = (
        session.exec(
            select(AllocationSlot.sequence)
            .where(AllocationSlot.trial_id == trial.id)
            .order_by(col(AllocationSlot.sequence).desc())
        ).first()
        or 0
    )
    session.add_all(
        AllocationSlot(trial_id=trial.id, sequence=last + i, arm_code=code, loaded_by_id=actor.id)
        for i, code in enumerate(codes, start=1)
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="trial.allocation_list_loaded",
        entity_type="trial",
        entity_id=trial.code,
        changes={"entries": [None, len(codes)], "from_sequence": [None, last + 1]},
    )
    return len(codes)
