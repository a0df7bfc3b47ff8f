"""Bench pages of manufacturing: material lots and cultures (lots and doses: ``lot_pages``)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.donors.biopsies import get_biopsy
from mfg.errors import MfgError
from mfg.manufacturing import cultures, materials
from mfg.models import Biopsy, Culture, User
from mfg.signatures import service as signatures
from mfg.web.deps import SessionDep
from mfg.web.forms import local_datetime, local_now_input
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
    }
    return render(request, "manufacturing/cultures.html", context)


@router.post("/cultures")
def cultures_start(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    biopsy: Text,
    vessel_type: Text,
    surface_cm2: Annotated[float, Form()],
    seeded_at: Annotated[str, Form(max_length=32)],
    medium_lots: Text,
    password: Annotated[str, Form(max_length=1024)],
    seeded_cells: Text = "",
) -> Response:
    culture = cultures.start_primary_culture(
        session,
        actor=actor,
        biopsy=get_biopsy(session, biopsy),
        vessel_type=vessel_type,
        surface_cm2=surface_cm2,
        seeded_cells=int(seeded_cells) if seeded_cells.strip() else None,
        seeded_at=local_datetime(request, seeded_at, "seeded_at"),
        medium_lots=cultures.lots_by_codes(session, materials.codes_in(medium_lots)),
        password=password,
    )
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
    }
    return render(request, "manufacturing/culture.html", context)


@router.post("/cultures/{code}/passage")
def culture_passage(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    started_at: Annotated[str, Form(max_length=32)],
    ended_at: Annotated[str, Form(max_length=32)],
    harvested_cells: Annotated[int, Form(gt=0)],
    viability_pct: Annotated[float, Form(ge=0, le=100)],
    reseeded_cells: Annotated[int, Form(ge=0)],
    new_vessels: Annotated[int, Form(ge=1, le=50)],
    vessel_type: Text,
    surface_cm2: Annotated[float, Form(gt=0)],
    password: Annotated[str, Form(max_length=1024)],
    reagent_lots: Text = "",
    split_ratio: Text = "",
    deviation_note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    culture = cultures.get_culture(session, code)
    _, children = cultures.record_passage(
        session,
        actor=actor,
        culture=culture,
        started_at=local_datetime(request, started_at, "started_at"),
        ended_at=local_datetime(request, ended_at, "ended_at"),
        harvested_cells=harvested_cells,
        viability_pct=viability_pct,
        reseeded_cells=reseeded_cells,
        new_vessels=new_vessels,
        vessel_type=vessel_type,
        surface_cm2=surface_cm2,
        reagent_lots=cultures.lots_by_codes(session, materials.codes_in(reagent_lots)),
        password=password,
        split_ratio=split_ratio,
        deviation_note=deviation_note,
    )
    flash(
        request,
        f"Passage recorded: new vessels {', '.join(c.code for c in children)}; print their labels.",
    )
    return RedirectResponse(f"/cultures/{culture.code}", status_code=303)
