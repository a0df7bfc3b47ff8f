"""Clinical pages: patients (enrolment, weight, order, allocation and issue) and the bedside,
built for a tablet: large type, two scans, a hard stop on any failed check."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from mfg.auth.permissions import Action
from mfg.clinical import bedside, infusions, orders, patients, views
from mfg.clinical.schemas import EnrolmentForm, InfusionForm, IssueIn
from mfg.errors import NotFound
from mfg.models import Allocation, Dose, User
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_CLINICAL))]
Clinician = Annotated[User, Depends(Allow(Action.BEDSIDE))]
Password = Annotated[str, Form(max_length=1024)]


@router.get("/patients", response_class=HTMLResponse, name="patients")
def patients_page(request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = views.patients_view(session, actor=actor)
    context["today"] = local_now_input(request)[:10]
    return render(request, "clinical/patients.html", context)


@router.post("/patients")
def patients_enrol(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ENROL_PATIENTS))],
    session: SessionDep,
    command: Annotated[EnrolmentForm, Form()],
) -> Response:
    """The enrolment form: each criterion answered yes or no."""
    trial = patients.get_trial(session)
    criteria = [text for _, text in patients.criteria_of(trial)]
    patient = patients.enrol_patient(
        session, actor=actor, trial=trial, command=command.command(trial.code, criteria)
    )
    flash(request, "Patient %(patient)s enrolled: print the wristband.", "ok", patient=patient.code)
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


@router.post("/trials/{code}/allocation-list")
def allocation_list(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.MANAGE_TRIALS))],
    session: SessionDep,
    arms: Annotated[str, Form(max_length=200_000)],
) -> Response:
    loaded = patients.load_allocation_list(
        session, actor=actor, trial=patients.get_trial(session, code), arm_codes=arms.split()
    )
    flash(request, "Concealed entries loaded: %(count)s.", "ok", count=format(loaded, ","))
    return RedirectResponse("/patients", status_code=303)


@router.get("/patients/{code}", response_class=HTMLResponse, name="patient")
def patient_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = views.patient_view(session, actor=actor, patient=patients.get_patient(session, code))
    context["now_local"] = local_now_input(request)
    return render(request, "clinical/patient.html", context)


@router.post("/patients/{code}/weight-verification")
def weight_verify(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_WEIGHT))],
    session: SessionDep,
) -> Response:
    patient = patients.verify_weight(
        session, actor=actor, patient=patients.get_patient(session, code)
    )
    flash(request, "Weight %(weight)s kg verified.", "ok", weight=format(patient.weight_kg, "g"))
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


@router.post("/patients/{code}/orders")
def order_create(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ORDER_DOSES))],
    session: SessionDep,
    infusions: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    patient = patients.get_patient(session, code)
    order = orders.create_order(session, actor=actor, patient=patient, infusions=infusions)
    flash(
        request,
        "Ordered %(cells)s cells per infusion × %(infusions)s.",
        "ok",
        cells=format(order.cells_per_infusion, ","),
        infusions=order.infusions,
    )
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


@router.post("/patients/{code}/orders/{order_id}/cancellation")
def order_cancel(
    code: str,
    order_id: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ORDER_DOSES))],
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)],
    password: Password,
) -> Response:
    patient = patients.get_patient(session, code)
    order = orders.get_order(session, order_id)
    if order.patient_id != patient.id:
        raise NotFound(
            "Order %(order)s is not one of %(patient)s's.",
            params={"order": order_id, "patient": patient.code},
        )
    orders.cancel_order(session, actor=actor, order=order, reason=reason, password=password)
    flash(request, "Order %(order)s cancelled.", "ok", order=order.id)
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


Lab = Annotated[User, Depends(Allow(Action.ALLOCATE_DOSES))]


@router.post("/patients/{code}/allocation")
def allocate(code: str, request: Request, actor: Lab, session: SessionDep) -> Response:
    patient = patients.get_patient(session, code)
    order = orders.order_of(session, patient)
    if order is None:
        raise NotFound("Patient %(patient)s has no active order.", params={"patient": patient.code})
    allocation = orders.allocate(session, actor=actor, order=order)
    dose = session.get(Dose, allocation.dose_id)
    flash(request, "Dose %(dose)s allocated (first expiry, first out).", "ok", dose=dose.identifier)
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


@router.post("/allocations/{allocation_id}/issue")
def issue(
    allocation_id: int,
    request: Request,
    actor: Lab,
    session: SessionDep,
    command: Annotated[IssueIn, Form()],
) -> Response:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("No allocation %(allocation)s.", params={"allocation": allocation_id})
    orders.issue(session, actor=actor, allocation=allocation, command=command)
    patient = patients.get_patient_by_id(session, allocation.patient_id)
    flash(request, "Dose handed over to the ward.")
    return RedirectResponse(f"/patients/{patient.code}", status_code=303)


@router.get("/bedside", response_class=HTMLResponse, name="bedside")
def bedside_page(request: Request, actor: Clinician) -> Response:
    return render(request, "clinical/bedside.html", {})


@router.post("/bedside")
def bedside_scan(
    request: Request,
    actor: Clinician,
    session: SessionDep,
    wristband: Annotated[str, Form(max_length=200)],
    dose: Annotated[str, Form(max_length=500)],
) -> Response:
    record = bedside.check_at_bedside(session, actor=actor, wristband=wristband, dose_scan=dose)
    return RedirectResponse(f"/bedside/checks/{record.id}", status_code=303)


@router.get("/bedside/checks/{check_id}", response_class=HTMLResponse, name="bedside_check")
def bedside_check_page(
    check_id: int, request: Request, actor: Clinician, session: SessionDep
) -> Response:
    context = views.bedside_check_view(session, check_id=check_id)
    context["now_local"] = local_now_input(request)
    return render(request, "clinical/bedside_check.html", context)


@router.post("/bedside/checks/{check_id}/verifications")
def bedside_verify(
    check_id: int,
    request: Request,
    actor: Clinician,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Password,
) -> Response:
    record = bedside.get_check(session, check_id)
    signer = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if signer is None:
        raise NotFound("No user %(username)s.", params={"username": username})
    bedside.verify_identity(session, actor=actor, record=record, signer=signer, password=password)
    flash(request, "Identity verified by %(name)s.", "ok", name=signer.full_name)
    return RedirectResponse(f"/bedside/checks/{record.id}", status_code=303)


@router.post("/bedside/checks/{check_id}/infusion")
def bedside_infusion(
    check_id: int,
    request: Request,
    actor: Clinician,
    session: SessionDep,
    command: Annotated[InfusionForm, Form()],
) -> Response:
    record = bedside.get_check(session, check_id)
    infusions.record_infusion(session, actor=actor, record=record, command=command.command())
    flash(request, "Infusion recorded.")
    return RedirectResponse(f"/bedside/checks/{check_id}", status_code=303)
