"""Pages for the bench and QA: donors, marker results, eligibility signing, biopsies, receipt."""

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from mfg import quantities
from mfg.audit.machines import MARKER_RESULT
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.donors import biopsies, eligibility, service
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
from mfg.identifiers.isbt128 import Din
from mfg.models import Donor, MarkerOutcome, User
from mfg.signatures import service as signatures
from mfg.signatures.offers import entry_offers
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_DONORS))]
Registrar = Annotated[User, Depends(Allow(Action.REGISTER_DONORS))]


def _back(request: Request, url: str, message: str) -> RedirectResponse:
    flash(request, message)
    return RedirectResponse(url, status_code=303)


@router.get("/donors", response_class=HTMLResponse, name="donors")
def donors_page(request: Request, actor: Viewer, session: SessionDep, status: str = "") -> Response:
    items, total = service.list_donors(session, actor=actor, status=status or None, limit=500)
    return render(
        request,
        "donors/list.html",
        {
            "donors": items,
            "total": total,
            "status": status,
            "may_register": may(actor, Action.REGISTER_DONORS),
            "birth_years": quantities.birth_year_bounds(service.local_today(session).year),
        },
    )


@router.post("/donors")
def donors_register(
    request: Request,
    actor: Registrar,
    session: SessionDep,
    command: Annotated[DonorCreate, Form()],
) -> Response:
    donor = service.register_donor(session, actor=actor, command=command)
    return _back(request, f"/donors/{donor.code}", f"Donor {donor.code} registered.")


@router.get("/donors/{code}", response_class=HTMLResponse, name="donor")
def donor_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    donor = service.get_donor(session, code)
    version, markers = service.current_marker_set(session)
    results = service.results_of(session, donor)
    determinations = eligibility.determinations_of(session, donor)
    shown = [
        (d, signatures.shown(session, entity_type="eligibility", entity_id=d.id))
        for d in determinations
    ]
    rows, _ = biopsies.list_biopsies_of(session, donor)
    context = {
        "donor": donor,
        "markers": markers,
        "marker_version": version.version,
        "results": results,
        "biopsies": rows,
        "determinations": shown,
        "outcomes": list(MarkerOutcome),
        "blocking": eligibility.eligibility_check(session, donor)
        if donor.status == "registered"
        else [],
        "events": history(session, entity_type="donor", entity_id=donor.code),
        "users": {u.id: u.full_name for u in session.exec(select(User)).all()},
        "may": {a.name: may(actor, a) for a in Action},
        "offers": {
            r.id: entry_offers(
                MARKER_RESULT,
                r,
                actor,
                verify=Action.VERIFY_MARKER_RESULTS,
                invalidate=Action.ENTER_MARKER_RESULTS,
            )
            for r in results
        },
        "actor": actor,
    }
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
    return _back(request, f"/donors/{code}", "Consent recorded.")


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
    return _back(request, f"/donors/{code}", "Screening recorded.")


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
        f"{result.marker_code} result entered: a second person must verify it.",
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
    return _back(request, f"/donors/{code}", f"{result.marker_code} result verified.")


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
    return _back(request, f"/donors/{code}", "Result invalidated.")


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
    return _back(request, f"/donors/{code}", "Eligibility signed.")


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
        request, f"/biopsies/{biopsy.din}", f"Biopsy {biopsy.din} registered: print its tube label."
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
            context["error"] = error.message
    return render(
        request, "donors/receive.html", context, status_code=404 if context["error"] else 200
    )


@router.get("/biopsies/{din}", response_class=HTMLResponse, name="biopsy")
def biopsy_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    biopsy = biopsies.get_biopsy(session, din)
    donor = session.get(Donor, biopsy.donor_id)
    context = {
        "biopsy": biopsy,
        "donor": donor,
        "din": Din.parse(biopsy.din),
        "status_text": quarantine_text(donor, biopsy),
        "events": history(session, entity_type="biopsy", entity_id=biopsy.din),
        "may_receive": may(actor, Action.RECEIVE_BIOPSIES),
        "may_print": may(actor, Action.PRINT_LABELS),
        # the receipt time defaults to now on the facility's clock (not the browser's)
        "now_local": local_now_input(request),
        "transport_bounds": quantities.BIOPSY_TRANSPORT_TEMP_C,
    }
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
    return _back(request, f"/biopsies/{biopsy.din}", f"Biopsy {biopsy.din} received.")
