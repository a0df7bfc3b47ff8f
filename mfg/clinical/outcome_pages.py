"""Pages of a patient's adverse events and day-21 outcome, and of the trial report."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.auth.permissions import Action
from mfg.clinical import outcomes, views
from mfg.clinical.patients import get_patient, get_trial
from mfg.clinical.report import shown_pct, trial_report
from mfg.clinical.schemas import AdverseEventAmendIn, AdverseEventIn, OutcomeIn
from mfg.i18n import N_
from mfg.models import User
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_CLINICAL))]
Recorder = Annotated[User, Depends(Allow(Action.RECORD_CLINICAL))]


@router.get(
    "/patients/{code}/adverse-events", response_class=HTMLResponse, name="patient_adverse_events"
)
def adverse_events_page(
    code: str, request: Request, actor: Viewer, session: SessionDep
) -> Response:
    patient = get_patient(session, code)
    context = views.adverse_events_view(session, actor=actor, patient=patient)
    context["today"] = local_now_input(request)[:10]
    return render(request, "clinical/adverse_events.html", context)


@router.post("/patients/{code}/adverse-events", name="record_adverse_event")
def adverse_event_record(
    code: str,
    request: Request,
    actor: Recorder,
    session: SessionDep,
    command: Annotated[AdverseEventIn, Form()],
) -> Response:
    patient = get_patient(session, code)
    event = outcomes.record_adverse_event(session, actor=actor, patient=patient, command=command)
    flash(
        request,
        "Adverse event “%(term)s” (grade %(grade)s) recorded and signed.",
        "ok",
        term=event.term,
        grade=event.grade,
    )
    return RedirectResponse(f"/patients/{patient.code}/adverse-events", status_code=303)


@router.post("/patients/{code}/adverse-events/{event_id}/amend", name="amend_adverse_event")
def adverse_event_amend(
    code: str,
    event_id: int,
    request: Request,
    actor: Recorder,
    session: SessionDep,
    command: Annotated[AdverseEventAmendIn, Form()],
) -> Response:
    patient = get_patient(session, code)
    event = outcomes.amend_adverse_event(
        session,
        actor=actor,
        patient=patient,
        event=outcomes.get_adverse_event(session, event_id),
        command=command,
    )
    flash(
        request,
        "Adverse event “%(term)s” amended (version %(version)s) and signed.",
        "ok",
        term=event.term,
        version=event.version,
    )
    return RedirectResponse(f"/patients/{patient.code}/adverse-events", status_code=303)


@router.get("/patients/{code}/outcome", response_class=HTMLResponse, name="patient_outcome")
def outcome_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    patient = get_patient(session, code)
    context = views.outcome_view(session, actor=actor, patient=patient)
    context["today"] = local_now_input(request)[:10]
    return render(request, "clinical/outcome.html", context)


@router.post("/patients/{code}/outcome", name="record_outcome")
def outcome_record(
    code: str,
    request: Request,
    actor: Recorder,
    session: SessionDep,
    command: Annotated[OutcomeIn, Form()],
) -> Response:
    patient = get_patient(session, code)
    outcome = outcomes.record_outcome(session, actor=actor, patient=patient, command=command)
    verdict = N_("cured") if outcome.cured else N_("not cured")
    flash(
        request,
        "Day-21 outcome of %(patient)s recorded and signed: %(verdict)s.",
        "ok",
        patient=patient.code,
        verdict=verdict,
    )
    return RedirectResponse(f"/patients/{patient.code}/outcome", status_code=303)


@router.get("/trials/{code}/report", response_class=HTMLResponse, name="trial_report")
def report_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    report = trial_report(session, actor=actor, trial=get_trial(session, code))
    return render(request, "clinical/report.html", {"report": report, "pct": shown_pct})
