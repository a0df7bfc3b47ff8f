"""JSON API of a patient's adverse events and day-21 outcome, and of the trial report."""

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from mfg.auth.permissions import Action
from mfg.clinical import outcomes
from mfg.clinical.patients import get_patient, get_trial
from mfg.clinical.report import ArmCounts, export_report, trial_report
from mfg.clinical.schemas import AdverseEventAmendIn, AdverseEventIn, OutcomeIn
from mfg.models import AdverseEvent, Outcome, Patient, User
from mfg.signatures.service import ShownSignature
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.openapi import CSV, PDF, binary
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["clinical"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_CLINICAL))]
Recorder = Annotated[User, Depends(Allow(Action.RECORD_CLINICAL))]


class SignaturePublic(BaseModel):
    printed_name: str
    username: str
    meaning: str
    signed_at: datetime
    valid: bool


class AdverseEventPublic(BaseModel):
    id: int
    patient: str
    term: str
    onset: date
    resolution: date | None
    grade: int
    serious: bool
    relation: str
    treatment_related: bool
    action: str
    outcome: str
    recorded_at: datetime
    version: int
    signatures: list[SignaturePublic]


class AdverseEventList(BaseModel):
    items: list[AdverseEventPublic]
    total: int


class OutcomePublic(BaseModel):
    patient: str
    assessed_on: date
    pcr: str
    ct: str
    cured: bool
    recorded_at: datetime
    signatures: list[SignaturePublic]


class ArmPublic(BaseModel):
    code: str
    name: str
    receives_product: bool
    enrolled: int
    withdrawn: int
    infused: int
    cured: int
    cured_pct: float | None
    treatment_related_ae: int
    treatment_related_ae_pct: float | None
    lacking_outcome: list[str]


class ReportPublic(BaseModel):
    trial: str
    title: str
    generated_at: datetime
    arms: list[ArmPublic]


def _signatures(shown: list[ShownSignature]) -> list[SignaturePublic]:
    return [
        SignaturePublic(
            printed_name=s.signature.printed_name,
            username=s.signature.username,
            meaning=s.signature.meaning,
            signed_at=s.signature.signed_at,
            valid=s.valid,
        )
        for s in shown
    ]


def event_public(session: Session, event: AdverseEvent, patient: Patient) -> AdverseEventPublic:
    return AdverseEventPublic(
        id=event.id,
        patient=patient.code,
        term=event.term,
        onset=event.onset,
        resolution=event.resolution,
        grade=event.grade,
        serious=event.serious,
        relation=event.relation,
        treatment_related=outcomes.is_treatment_related(event.relation),
        action=event.action,
        outcome=event.outcome,
        recorded_at=event.recorded_at,
        version=event.version,
        signatures=_signatures(outcomes.shown_adverse_event_signatures(session, event, patient)),
    )


def outcome_public(session: Session, outcome: Outcome, patient: Patient) -> OutcomePublic:
    return OutcomePublic(
        patient=patient.code,
        assessed_on=outcome.assessed_on,
        pcr=outcome.pcr,
        ct=outcome.ct,
        cured=outcome.cured,
        recorded_at=outcome.recorded_at,
        signatures=_signatures(outcomes.shown_outcome_signatures(session, outcome, patient)),
    )


@router.get(
    "/patients/{code}/adverse-events",
    response_model=AdverseEventList,
    name="api_patient_adverse_events",
)
def adverse_event_list(code: str, actor: Viewer, session: SessionDep) -> AdverseEventList:
    patient = get_patient(session, code)
    items = [
        event_public(session, e, patient) for e in outcomes.adverse_events_of(session, patient)
    ]
    return AdverseEventList(items=items, total=len(items))


@router.post(
    "/patients/{code}/adverse-events",
    response_model=AdverseEventPublic,
    status_code=201,
    name="api_record_adverse_event",
)
def adverse_event_record(
    code: str, body: AdverseEventIn, actor: Recorder, session: SessionDep
) -> AdverseEventPublic:
    patient = get_patient(session, code)
    event = outcomes.record_adverse_event(session, actor=actor, patient=patient, command=body)
    return event_public(session, event, patient)


@router.post(
    "/patients/{code}/adverse-events/{event_id}/amendments",
    response_model=AdverseEventPublic,
    name="api_amend_adverse_event",
)
def adverse_event_amend(
    code: str, event_id: int, body: AdverseEventAmendIn, actor: Recorder, session: SessionDep
) -> AdverseEventPublic:
    """Correct a signed adverse event: a reason and a new signature; 409 when it changed since
    ``expected_version``."""
    patient = get_patient(session, code)
    event = outcomes.amend_adverse_event(
        session,
        actor=actor,
        patient=patient,
        event=outcomes.get_adverse_event(session, event_id),
        command=body,
    )
    return event_public(session, event, patient)


@router.get("/patients/{code}/outcome", response_model=OutcomePublic, name="api_patient_outcome")
def outcome_read(code: str, actor: Viewer, session: SessionDep) -> OutcomePublic:
    """The day-21 outcome; 404 while none is recorded."""
    patient = get_patient(session, code)
    return outcome_public(session, outcomes.require_outcome(session, patient), patient)


@router.post(
    "/patients/{code}/outcome",
    response_model=OutcomePublic,
    status_code=201,
    name="api_record_outcome",
)
def outcome_record(
    code: str, body: OutcomeIn, actor: Recorder, session: SessionDep
) -> OutcomePublic:
    patient = get_patient(session, code)
    outcome = outcomes.record_outcome(session, actor=actor, patient=patient, command=body)
    return outcome_public(session, outcome, patient)


def arm_public(arm: ArmCounts) -> ArmPublic:
    return ArmPublic(
        code=arm.code,
        name=arm.name,
        receives_product=arm.receives_product,
        enrolled=arm.enrolled,
        withdrawn=arm.withdrawn,
        infused=arm.infused,
        cured=arm.cured,
        cured_pct=arm.cured_pct,
        treatment_related_ae=arm.treatment_related_ae,
        treatment_related_ae_pct=arm.treatment_related_ae_pct,
        lacking_outcome=list(arm.lacking_outcome),
    )


@router.get("/trials/{code}/report", response_model=ReportPublic, name="api_trial_report")
def report_read(code: str, actor: Viewer, session: SessionDep) -> ReportPublic:
    report = trial_report(session, actor=actor, trial=get_trial(session, code))
    return ReportPublic(
        trial=report.trial_code,
        title=report.trial_title,
        generated_at=report.generated_at,
        arms=[arm_public(a) for a in report.arms],
    )


def _export(session: Session, actor: User, code: str, kind: str, media_type: str) -> Response:
    trial = get_trial(session, code)
    content = export_report(session, actor=actor, trial=trial, kind=kind)
    filename = f"trial-report-{trial.code}.{kind}"
    headers = {"content-disposition": f'inline; filename="{filename}"'}
    return Response(content, media_type=media_type, headers=headers)


@router.get(
    "/trials/{code}/report.csv",
    name="trial_report_csv",
    response_class=Response,
    responses=binary(CSV, "The trial report, one row per arm."),
)
def report_csv(code: str, actor: Viewer, session: WriteSessionDep) -> Response:
    """The report as CSV, one row per arm; each copy issued is audited."""
    return _export(session, actor, code, "csv", "text/csv; charset=utf-8")


@router.get(
    "/trials/{code}/report.pdf",
    name="trial_report_pdf",
    response_class=Response,
    responses=binary(PDF, "The trial report."),
)
def report_pdf(code: str, actor: Viewer, session: WriteSessionDep) -> Response:
    """The report as PDF; each copy issued is audited."""
    return _export(session, actor, code, "pdf", "application/pdf")
