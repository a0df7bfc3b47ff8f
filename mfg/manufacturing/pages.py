"""Bench pages of manufacturing: material lots and cultures (lots and doses: ``lot_pages``)."""

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg import quantities
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.errors import MfgError
from mfg.manufacturing import cultures, materials
from mfg.manufacturing.schemas import CultureStart, MaterialCreate, MaterialDecision, PassageIn
from mfg.models import Biopsy, Culture, User
from mfg.signatures import service as signatures
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]


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
    command: Annotated[MaterialCreate, Form()],
) -> Response:
    lot = materials.register_material(session, actor=actor, command=command)
    flash(
        request, f"Lot {lot.lot_number} registered as {lot.code}, in quarantine: print its label."
    )
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)


@router.get("/materials/{code}", response_class=HTMLResponse, name="material")
def material_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    lot = materials.get_material(session, code)
    shown = signatures.shown(session, entity_type="material", entity_id=lot.code)
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
    command: Annotated[MaterialDecision, Form()],
) -> Response:
    lot = materials.get_material(session, code)
    materials.decide_material(session, actor=actor, lot=lot, command=command)
    flash(request, f"Lot {lot.lot_number}: {lot.status}.")
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)


@router.get("/cultures", response_class=HTMLResponse, name="cultures")
def cultures_page(
    request: Request, actor: Viewer, session: SessionDep, status: str = ""
) -> Response:
    items, total = cultures.list_cultures(session, actor=actor, status=status or None, limit=500)
    context = {
        "cultures": items,
        "total": total,
        "status": status,
        "may_perform": may(actor, Action.PERFORM_CULTURE_STEPS),
        "now_local": local_now_input(request),
        "bounds": quantities,
    }
    return render(request, "manufacturing/cultures.html", context)


@router.post("/cultures")
def cultures_start(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    command: Annotated[CultureStart, Form()],
) -> Response:
    culture = cultures.start_primary_culture(session, actor=actor, command=command)
    flash(request, f"Culture {culture.code} started: print the vessel label.")
    return RedirectResponse(f"/cultures/{culture.code}", status_code=303)


@router.get("/cultures/{code}", response_class=HTMLResponse, name="culture")
def culture_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    culture = cultures.get_culture(session, code)
    record = cultures.passage_of(session, culture)
    children = cultures.children_of(session, culture)
    step_lots = cultures.materials_of(session, "culture", culture.id)
    passage_lots = cultures.materials_of(session, "passage", record.id) if record else []
    shown = signatures.shown(session, entity_type="culture", entity_id=culture.code)
    if record:
        shown += signatures.shown(session, entity_type="passage", entity_id=record.id)
    context = {
        "culture": culture,
        "passage": record,
        "children": children,
        "step_lots": step_lots,
        "passage_lots": passage_lots,
        "signatures": shown,
        "parent": session.get(Culture, culture.parent_id) if culture.parent_id else None,
        "biopsy": session.get(Biopsy, culture.biopsy_id),
        "events": history(session, entity_type="culture", entity_id=culture.code),
        "may_perform": may(actor, Action.PERFORM_CULTURE_STEPS),
        "may_print": may(actor, Action.PRINT_LABELS),
        "min_viability": request.app.state.settings.inprocess_viability_min_pct,
        "now_local": local_now_input(request),
        "bounds": quantities,
    }
    return render(request, "manufacturing/culture.html", context)


@router.post("/cultures/{code}/passage")
def culture_passage(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    command: Annotated[PassageIn, Form()],
) -> Response:
    culture = cultures.get_culture(session, code)
    _, children = cultures.record_passage(session, actor=actor, culture=culture, command=command)
    flash(
        request,
        f"Passage recorded: new vessels {', '.join(c.code for c in children)}; print their labels.",
    )
    return RedirectResponse(f"/cultures/{culture.code}", status_code=303)
