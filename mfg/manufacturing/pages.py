"""Pages for material lots: register by scanning the supplier's code, QA decision, label."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.errors import MfgError
from mfg.manufacturing import materials
from mfg.models import User
from mfg.signatures import service as signatures
from mfg.web.deps import SessionDep
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = APIRouter()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]
Text = Annotated[str, Form(max_length=200)]


@router.get("/materials", response_class=HTMLResponse, name="materials")
def materials_page(
    request: Request,
    actor: Viewer,
    session: SessionDep,
    status: str = "",
    scan: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The lots, and the registration form prefilled from a scanned supplier bar code."""
    prefill: dict = {}
    scan_error = None
    if scan.strip():
        try:
            prefill = materials.gs1_fields(scan)
            previous = (
                materials.last_lot_of_gtin(session, prefill["gtin"])
                if prefill.get("gtin")
                else None
            )
            if previous is not None:
                prefill.update(
                    name=previous.name,
                    supplier=previous.supplier,
                    catalogue_number=previous.catalogue_number,
                )
        except MfgError as error:
            scan_error = error.message
    items, total = materials.list_materials(session, actor=actor, status=status or None, limit=500)
    context = {
        "lots": items,
        "total": total,
        "status": status,
        "prefill": prefill,
        "scan": scan,
        "scan_error": scan_error,
        "may_register": may(actor, Action.REGISTER_MATERIALS),
    }
    return render(request, "manufacturing/materials.html", context)


@router.post("/materials")
def materials_register(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_MATERIALS))],
    session: SessionDep,
    name: Text,
    supplier: Text,
    catalogue_number: Text,
    lot_number: Text,
    expiry: Annotated[date, Form()],
    gtin: Text = "",
    serial: Text = "",
) -> Response:
    lot = materials.register_material(
        session,
        actor=actor,
        name=name,
        supplier=supplier,
        catalogue_number=catalogue_number,
        lot_number=lot_number,
        expiry=expiry,
        gtin=gtin,
        serial=serial,
    )
    flash(
        request, f"Lot {lot.lot_number} registered as {lot.code}, in quarantine: print its label."
    )
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)


@router.get("/materials/{code}", response_class=HTMLResponse, name="material")
def material_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    lot = materials.get_material(session, code)
    shown = signatures.shown(
        session, entity_type="material", entity_id=lot.code, content=materials.material_content(lot)
    )
    context = {
        "lot": lot,
        "signatures": shown,
        "events": history(session, entity_type="material", entity_id=lot.code),
        "may_decide": may(actor, Action.DECIDE_MATERIALS),
        "may_print": may(actor, Action.PRINT_LABELS),
    }
    return render(request, "manufacturing/material.html", context)


@router.post("/materials/{code}/decision")
def material_decide(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.DECIDE_MATERIALS))],
    session: SessionDep,
    decision: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    lot = materials.decide_material(
        session,
        actor=actor,
        lot=materials.get_material(session, code),
        release=decision == "release",
        password=password,
        reason=comment,
    )
    flash(request, f"Lot {lot.lot_number}: {lot.status}.")
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)
