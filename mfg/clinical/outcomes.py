"""Adverse events and the day-21 outcome of a trial patient (docs/process.md#adverse-events):
validated, audited and signed by the clinician who records them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, exists, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.clinical.schemas import AdverseEventAmendIn, AdverseEventIn, OutcomeIn
from mfg.db import count_where, lock_row
from mfg.donors.service import local_today
from mfg.errors import Conflict, InvalidInput, NotFound, Reason, RuleViolation, conflict
from mfg.i18n import N_
from mfg.models import (
    TREATMENT_RELATED,
    AdverseEvent,
    Meaning,
    Outcome,
    Patient,
    PatientStatus,
    Relation,
    User,
)
from mfg.signatures import service as signatures

CTCAE_GRADES = range(1, 6)
PCR_RESULTS = ("negative", "positive")
CT_FINDINGS = ("improved", "unchanged", "worsened")
# Neither list has a better-fitting meaning: the clinician signs that they made the assessment.
SIGNATURE_MEANING = Meaning.PERFORMED


OUTCOME_DAY = 21  # the trial's primary outcome is assessed 21 days after enrolment


def outcomes_due(session: Session, actor: User) -> int:
    """Enrolled patients past day 21 with no outcome recorded yet: the ward's worklist."""
    due = local_today(session) - timedelta(days=OUTCOME_DAY)
    recorded = exists().where(col(Outcome.patient_id) == Patient.id)
    return count_where(
        session,
        Patient,
        Patient.status == PatientStatus.ENROLLED,
        col(Patient.enrolled_on) <= due,
        ~recorded,
    )


def outcome_not_due(patient: Patient, assessed_on: date) -> Reason | None:
    """The process's own clock: the day-21 outcome is assessed on day 21 after enrolment or
    later, never on day 1 (a cure cannot be judged before the course is run)."""
    due = patient.enrolled_on + timedelta(days=OUTCOME_DAY)
    if assessed_on >= due:
        return None
    return conflict(
        "outcome_not_due",
        "The day-%(day)s outcome of %(patient)s is due from %(due)s (%(day)s days after "
        "enrolment on %(enrolled)s); %(assessed)s is day %(assessed_day)s.",
        day=OUTCOME_DAY,
        patient=patient.code,
        due=due.isoformat(),
        enrolled=patient.enrolled_on.isoformat(),
        assessed=assessed_on.isoformat(),
        assessed_day=(assessed_on - patient.enrolled_on).days,
    )


def is_cured(pcr: str, ct: str) -> bool:
    """Cured at day 21 = PCR negative and chest CT improved (the trial's primary outcome)."""
    return pcr == "negative" and ct == "improved"


def is_treatment_related(relation: str) -> bool:
    """Of the graded relations, possible, probable and definite count as treatment-related."""
    return relation in TREATMENT_RELATED


# The refusals of the helpers below, one sentence for each thing they check, to translate whole.
_NOT_ONE_OF = {
    "relation to the product": N_(
        "%(value)s is not a relation to the product: one of %(allowed)s."
    ),
    "PCR result": N_("%(value)s is not a PCR result: one of %(allowed)s."),
    "chest-CT assessment": N_("%(value)s is not a chest-CT assessment: one of %(allowed)s."),
}
_IN_FUTURE = {
    "onset": N_("The onset %(value)s is in the future (today is %(today)s)."),
    "resolution": N_("The resolution %(value)s is in the future (today is %(today)s)."),
    "assessment date": N_("The assessment date %(value)s is in the future (today is %(today)s)."),
}
_BEFORE_ENROLMENT = {
    "onset": N_("The onset %(value)s is before %(patient)s was enrolled (%(enrolled)s)."),
    "assessment date": N_(
        "The assessment date %(value)s is before %(patient)s was enrolled (%(enrolled)s)."
    ),
}
_REQUIRED = {
    "term": N_("The term is required."),
    "action": N_("The action is required."),
    "outcome": N_("The outcome is required."),
}
_TOO_LONG = {
    "term": N_("The term is longer than %(limit)s characters."),
    "action": N_("The action is longer than %(limit)s characters."),
    "outcome": N_("The outcome is longer than %(limit)s characters."),
}


def _choice(value: str, allowed: tuple[str, ...], field: str, what: str) -> str:
    cleaned = value.strip().lower()
    if cleaned not in allowed:
        raise InvalidInput(
            _NOT_ONE_OF[what],
            params={"value": repr(value), "allowed": ", ".join(allowed)},
            details={"field": field, "allowed": list(allowed)},
        )
    return cleaned


def _not_future(value: date, today: date, field: str, what: str) -> None:
    if value > today:
        raise InvalidInput(
            _IN_FUTURE[what],
            params={"value": value.isoformat(), "today": today.isoformat()},
            details={"field": field},
        )


def _not_before_enrolment(value: date, patient: Patient, field: str, what: str) -> None:
    if value < patient.enrolled_on:
        raise InvalidInput(
            _BEFORE_ENROLMENT[what],
            params={
                "value": value.isoformat(),
                "patient": patient.code,
                "enrolled": patient.enrolled_on.isoformat(),
            },
            details={"field": field},
        )


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(_REQUIRED[field], details={"field": field})
    if len(cleaned) > limit:
        raise InvalidInput(_TOO_LONG[field], params={"limit": limit}, details={"field": field})
    return cleaned


def _grade(grade: int, serious: bool) -> int:
    """CTCAE grades 1 to 5; grade 5 is death, which is always a serious adverse event."""
    if isinstance(grade, bool) or grade not in CTCAE_GRADES:
        raise InvalidInput(
            "%(grade)s is not a CTCAE grade: 1 to 5.",
            params={"grade": repr(grade)},
            details={"field": "grade"},
        )
    if grade == 5 and not serious:
        raise InvalidInput(
            "Grade 5 (death) is always a serious adverse event: mark it serious.",
            code="grade_5_not_serious",
            details={"field": "serious"},
        )
    return grade


def adverse_event_content(event: AdverseEvent, patient: Patient) -> dict[str, Any]:
    """What the clinician signs for an adverse event."""
    return {
        "patient": patient.code,
        "term": event.term,
        "onset": event.onset.isoformat(),
        "resolution": event.resolution.isoformat() if event.resolution else None,
        "grade": event.grade,
        "serious": event.serious,
        "relation": event.relation,
        "action": event.action,
        "outcome": event.outcome,
    }


@signatures.signs("adverse_event")
def signed_adverse_event(session: Session, signature_id: str) -> dict[str, Any]:
    """What a signature of an adverse event (``12``, or ``12.v2`` for an amendment) binds to:
    the event as it is now; a signature of an earlier version is superseded, not shown."""
    event = get_adverse_event(session, int(signature_id.split(".")[0]))
    return adverse_event_content(event, session.get(Patient, event.patient_id))


def _event_fields(session: Session, patient: Patient, command: AdverseEventIn) -> dict[str, Any]:
    """An adverse event's fields, validated: the same rules for a record and an amendment."""
    onset, resolution = command.onset, command.resolution
    today = local_today(session)
    _not_future(onset, today, "onset", "onset")
    _not_before_enrolment(onset, patient, "onset", "onset")
    if resolution is not None:
        _not_future(resolution, today, "resolution", "resolution")
        if resolution < onset:
            raise InvalidInput(
                "The resolution %(resolution)s is before the onset %(onset)s.",
                params={"resolution": resolution.isoformat(), "onset": onset.isoformat()},
                details={"field": "resolution"},
            )
    return {
        "term": _text(command.term, "term", 200, required=True),
        "onset": onset,
        "resolution": resolution,
        "grade": _grade(command.grade, command.serious),
        "serious": command.serious,
        "relation": _choice(
            command.relation, tuple(Relation), "relation", "relation to the product"
        ),
        "action": _text(command.action, "action", 500),
        "outcome": _text(command.outcome, "outcome", 200),
    }


def signature_id(event: AdverseEvent) -> str:
    """What a signature of this version of the event names: the first version by the event's id,
    each amendment apart, so that an amendment supersedes the earlier signature (kept, with its
    audit trail) instead of making it show as invalid."""
    return str(event.id) if event.version == 1 else f"{event.id}.v{event.version}"


def record_adverse_event(
    session: Session, *, actor: User, patient: Patient, command: AdverseEventIn
) -> AdverseEvent:
    """Record an adverse event with its CTCAE grade and relation to the product, signed."""
    authorize(actor, Action.RECORD_CLINICAL)
    event = AdverseEvent(
        patient_id=patient.id,
        recorded_by_id=actor.id,
        **_event_fields(session, patient, command),
    )
    session.add(event)
    session.flush()
    content = adverse_event_content(event, patient)
    audit.record(
        session,
        actor=actor,
        action="adverse_event.recorded",
        entity_type="adverse_event",
        entity_id=event.id,
        changes={field: [None, value] for field, value in content.items()},
    )
    _sign(session, actor, command.password, "adverse_event", event.id, command.comment)
    return event


def amend_adverse_event(
    session: Session,
    *,
    actor: User,
    patient: Patient,
    event: AdverseEvent,
    command: AdverseEventAmendIn,
) -> AdverseEvent:
    """Correct a signed adverse event (a resolution date, a re-grading, a new assessment of the
    relation): the same rules as a record, a reason, and a new signature of the new version.
    A compare-and-set on the version the clinician saw: of two amending at once, one wins."""
    authorize(actor, Action.RECORD_CLINICAL)
    if event.patient_id != patient.id:
        raise NotFound(
            "Adverse event #%(id)s is not one of %(patient)s's.",
            params={"id": event.id, "patient": patient.code},
        )
    expected_version, reason = command.expected_version, command.reason
    if not reason.strip():
        raise InvalidInput(
            "An amendment of a signed adverse event states its reason.",
            details={"field": "reason"},
        )
    fields = _event_fields(session, patient, command)
    changed = {name: value for name, value in fields.items() if getattr(event, name) != value}
    if not changed:
        raise InvalidInput(
            "Nothing to amend: every field is as already recorded.", code="nothing_to_amend"
        )
    before = adverse_event_content(event, patient)
    result = session.execute(
        update(AdverseEvent)
        .where(col(AdverseEvent.id) == event.id, col(AdverseEvent.version) == expected_version)
        .values(**changed, version=expected_version + 1)
    )
    if result.rowcount != 1:
        raise Conflict(
            "Adverse event #%(id)s changed since you opened it (you saw version "
            "%(version)s): reload it and amend again.",
            params={"id": event.id, "version": expected_version},
            code="changed_meanwhile",
        )
    session.refresh(event)
    after = adverse_event_content(event, patient)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    audit.record(
        session,
        actor=actor,
        action="adverse_event.amended",
        entity_type="adverse_event",
        entity_id=event.id,
        changes={**changes, "version": [expected_version, event.version]},
        reason=reason,
        require_reason=True,
    )
    signatures.sign(
        session,
        signer=actor,
        password=command.password,
        meaning=Meaning.AMENDED,
        entity_type="adverse_event",
        entity_id=signature_id(event),
        comment=command.comment,
    )
    return event


def get_adverse_event(session: Session, event_id: int) -> AdverseEvent:
    event = session.get(AdverseEvent, event_id)
    if event is None:
        raise NotFound("No adverse event #%(id)s.", params={"id": event_id})
    return event


def outcome_content(outcome: Outcome, patient: Patient) -> dict[str, Any]:
    """What the clinician signs for a day-21 outcome."""
    return {
        "patient": patient.code,
        "assessed_on": outcome.assessed_on.isoformat(),
        "pcr": outcome.pcr,
        "ct": outcome.ct,
        "cured": outcome.cured,
    }


@signatures.signs("outcome")
def signed_outcome(session: Session, patient_code: str) -> dict[str, Any]:
    """What the day-21 outcome's signature binds to (named by the patient: one outcome each)."""
    patient = session.exec(select(Patient).where(Patient.code == patient_code)).one()
    return outcome_content(require_outcome(session, patient), patient)


def record_outcome(
    session: Session,
    *,
    actor: User,
    patient: Patient,
    command: OutcomeIn,
) -> Outcome:
    """Record the one day-21 outcome of a patient (PCR and chest CT), signed; cured is derived."""
    assessed_on = command.assessed_on
    authorize(actor, Action.RECORD_CLINICAL)
    patient = lock_row(session, Patient, patient.id)  # one outcome per patient
    existing = outcome_of(session, patient)
    if existing is not None:
        assessed = existing.assessed_on.isoformat()
        raise RuleViolation.state(
            "outcome_already_recorded",
            "%(patient)s already has a day-21 outcome (assessed on %(assessed_on)s); a patient "
            "has one outcome only.",
            params={"patient": patient.code, "assessed_on": assessed},
            patient=patient.code,
            assessed_on=assessed,
        )
    _not_future(assessed_on, local_today(session), "assessed_on", "assessment date")
    _not_before_enrolment(assessed_on, patient, "assessed_on", "assessment date")
    if problem := outcome_not_due(patient, assessed_on):
        raise RuleViolation.of([problem], several=problem.code, field="assessed_on")
    pcr = _choice(command.pcr, PCR_RESULTS, "pcr", "PCR result")
    ct = _choice(command.ct, CT_FINDINGS, "ct", "chest-CT assessment")
    outcome = Outcome(
        patient_id=patient.id,
        assessed_on=assessed_on,
        pcr=pcr,
        ct=ct,
        cured=is_cured(pcr, ct),
        recorded_by_id=actor.id,
    )
    session.add(outcome)
    try:
        session.flush()
    except IntegrityError as error:  # another clinician recorded it meanwhile
        raise Conflict(
            "The day-21 outcome of %(patient)s was recorded meanwhile.",
            params={"patient": patient.code},
            code="outcome_already_recorded",
        ) from error
    content = outcome_content(outcome, patient)
    audit.record(
        session,
        actor=actor,
        action="outcome.recorded",
        entity_type="outcome",
        entity_id=patient.code,
        changes={field: [None, value] for field, value in content.items()},
    )
    _sign(session, actor, command.password, "outcome", patient.code, command.comment)
    return outcome


def _sign(
    session: Session,
    actor: User,
    password: str,
    entity_type: str,
    entity_id: str | int,
    comment: str,
) -> None:
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=SIGNATURE_MEANING,
        entity_type=entity_type,
        entity_id=entity_id,
        comment=comment,
    )


def adverse_events_of(session: Session, patient: Patient) -> list[AdverseEvent]:
    query = (
        select(AdverseEvent)
        .where(AdverseEvent.patient_id == patient.id)
        .order_by(col(AdverseEvent.onset), col(AdverseEvent.id))
    )
    return list(session.exec(query).all())


def outcome_of(session: Session, patient: Patient) -> Outcome | None:
    return session.exec(select(Outcome).where(Outcome.patient_id == patient.id)).first()


def require_outcome(session: Session, patient: Patient) -> Outcome:
    outcome = outcome_of(session, patient)
    if outcome is None:
        raise NotFound(
            "No day-21 outcome is recorded for %(patient)s yet.", params={"patient": patient.code}
        )
    return outcome


def shown_adverse_event_signatures(
    session: Session, event: AdverseEvent, patient: Patient
) -> list[signatures.ShownSignature]:
    return signatures.shown(
        session,
        entity_type="adverse_event",
        entity_id=signature_id(event),
    )


def shown_outcome_signatures(
    session: Session, outcome: Outcome, patient: Patient
) -> list[signatures.ShownSignature]:
    return signatures.shown(
        session,
        entity_type="outcome",
        entity_id=patient.code,
    )
