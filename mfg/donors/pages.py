"""Pages for the bench and QA: donors, marker results, eligibility signing, biopsies, receipt."""

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.auth.permissions import Action
from mfg.donors import biopsies, eligibility, service, views
from mfg.donors.scan_and_label import quarantine_text
from mfg.donors.schemas import (
    BiopsyIn,
    ConsentIn,
    DonorCreate,
    EligibilityIn,
    ReasonIn,
    ReceiptIn,
    ResultIn,
    ScreeningIn,
)
from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.identifiers.isbt128 import Din
from mfg.models import Donor, User
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_DONORS))]
Registrar = Annotated[User, Depends(Allow(Action.REGISTER_DONORS))]


def _back(request: Request, url: str, message: str, /, **params: object) -> RedirectResponse:
    """Back to ``url`` with ``message`` (a catalog message, marked ``N_``) and its params."""
    flash(request, message, "ok", **params)
    return RedirectResponse(url, status_code=303)


@router.get("/donors", response_class=HTMLResponse, name="donors")
def donors_page(request: Request, actor: Viewer, session: SessionDep, status: str = "") -> Response:
    context = views.donors_view(session, actor=actor, status=status)
    return render(request, "donors/list.html", context)


@router.post("/donors")
def donors_register(
    request: Request,
    actor: Registrar,
    session: SessionDep,
    command: Annotated[DonorCreate, Form()],
) -> Response:
    donor = service.register_donor(session, actor=actor, command=command)
    return _back(
        request, f"/donors/{donor.code}", N_("Donor %(code)s registered."), code=donor.code
    )


@router.get("/donors/{code}", response_class=HTMLResponse, name="donor")
def donor_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = views.donor_view(session, actor=actor, donor=service.get_donor(session, code))
    return render(request, "donors/donor.html", context)


@router.post("/donors/{code}/consent")
def donor_consent(
    code: str,
    request: Request,
    actor: Registrar,
    session: SessionDep,
    command: Annotated[ConsentIn, Form()],
) -> Response:
    donor = service.get_donor(session, code)
    service.record_consent(session, actor=actor, donor=donor, command=command)
    return _back(request, f"/donors/{code}", N_("Consent recorded."))


@router.post("/donors/{code}/screening")
def donor_screening(
    code: str,
    request: Request,
    actor: Registrar,
    session: SessionDep,
    command: Annotated[ScreeningIn, Form()],
) -> Response:
    donor = service.get_donor(session, code)
    service.record_screening(session, actor=actor, donor=donor, command=command)
    return _back(request, f"/donors/{code}", N_("Screening recorded."))


@router.post("/donors/{code}/results")
def donor_result(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ENTER_MARKER_RESULTS))],
    session: SessionDep,
    command: Annotated[ResultIn, Form()],
) -> Response:
    donor = service.get_donor(session, code)
    result = service.enter_result(session, actor=actor, donor=donor, command=command)
    return _back(
        request,
        f"/donors/{code}",
        N_("%(marker)s result entered: a second person must verify it."),
        marker=result.marker_code,
    )


@router.post("/donors/{code}/results/{result_id}/verify")
def donor_result_verify(
    code: str,
    result_id: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_MARKER_RESULTS))],
    session: SessionDep,
) -> Response:
    result = service.verify_result(
        session, actor=actor, result=service.get_result(session, result_id)
    )
    return _back(
        request, f"/donors/{code}", N_("%(marker)s result verified."), marker=result.marker_code
    )


@router.post("/donors/{code}/results/{result_id}/invalidate")
def donor_result_invalidate(
    code: str,
    result_id: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ENTER_MARKER_RESULTS))],
    session: SessionDep,
    command: Annotated[ReasonIn, Form()],
) -> Response:
    result = service.get_result(session, result_id)
    service.invalidate_result(session, actor=actor, result=result, command=command)
    return _back(request, f"/donors/{code}", N_("Result invalidated."))


@router.post("/donors/{code}/eligibility")
def donor_eligibility(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.DETERMINE_ELIGIBILITY))],
    session: SessionDep,
    command: Annotated[EligibilityIn, Form()],
) -> Response:
    donor = service.get_donor(session, code)
    eligibility.determine_eligibility(session, actor=actor, donor=donor, command=command)
    return _back(request, f"/donors/{code}", N_("Eligibility signed."))


@router.post("/donors/{code}/biopsies")
def donor_biopsy(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_BIOPSIES))],
    session: SessionDep,
    command: Annotated[BiopsyIn, Form()],
) -> Response:
    donor = service.get_donor(session, code)
    biopsy = biopsies.register_biopsy(session, actor=actor, donor=donor, command=command)
    return _back(
        request,
        f"/biopsies/{biopsy.din}",
        N_("Biopsy %(din)s registered: print its tube label."),
        din=biopsy.din,
    )


@router.get("/biopsies", response_class=HTMLResponse, name="biopsies")
def biopsies_page(
    request: Request, actor: Viewer, session: SessionDep, status: str = ""
) -> Response:
    items, total = biopsies.list_biopsies(session, actor=actor, status=status or None, limit=500)
    donors = {d.id: d for d in service.list_donors(session, actor=actor, limit=100_000)[0]}
    return render(
        request,
        "donors/biopsies.html",
        {
            "biopsies": items,
            "total": total,
            "donors": donors,
            "status": status,
            "quarantine": quarantine_text,
        },
    )


@router.get("/biopsies/receive", response_class=HTMLResponse, name="biopsy_receive")
def receive_page(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.RECEIVE_BIOPSIES))],
    session: SessionDep,
    tube: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Scan the tube: the receipt form of that biopsy, or why the scan names none."""
    context: dict = {"tube": tube, "biopsy": None, "error": None}
    if tube.strip():
        try:
            biopsy = biopsies.get_biopsy(session, tube)
            context.update(
                biopsy=biopsy, donor=session.get(Donor, biopsy.donor_id), din=Din.parse(biopsy.din)
            )
        except MfgError as error:
            context["error"] = error.localized()
    return render(
        request, "donors/receive.html", context, status_code=404 if context["error"] else 200
    )


@router.get("/biopsies/{din}", response_class=HTMLResponse, name="biopsy")
def biopsy_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = views.biopsy_view(session, actor=actor, biopsy=biopsies.get_biopsy(session, din))
    # the receipt time defaults to now on the facility's clock (not the browser's)
    context["now_local"] = local_now_input(request)
    return render(request, "donors/biopsy.html", context)


@router.post("/biopsies/{din}/receive")
def biopsy_receive(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.RECEIVE_BIOPSIES))],
    session: SessionDep,
    command: Annotated[ReceiptIn, Form()],
) -> Response:
    biopsy = biopsies.get_biopsy(session, din)
    biopsies.receive_biopsy(session, actor=actor, biopsy=biopsy, command=command)
    return _back(request, f"/biopsies/{biopsy.din}", N_("Biopsy %(din)s received."), din=biopsy.din)
