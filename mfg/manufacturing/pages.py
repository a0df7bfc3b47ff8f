"""Bench pages of manufacturing: material lots and cultures (lots and doses: ``lot_pages``)."""

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg import quantities
from mfg.auth.permissions import Action
from mfg.manufacturing import cultures, materials, views
from mfg.manufacturing.schemas import CultureStart, MaterialCreate, MaterialDecision, PassageIn
from mfg.models import User
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
    context = views.materials_view(session, actor=actor, status=status, scan=scan)
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
        request,
        "Lot %(lot)s registered as %(code)s, in quarantine: print its label.",
        "ok",
        lot=lot.lot_number,
        code=lot.code,
    )
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)


@router.get("/materials/{code}", response_class=HTMLResponse, name="material")
def material_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    lot = materials.get_material(session, code)
    context = views.material_view(session, actor=actor, lot=lot)
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
    flash(request, "Lot %(lot)s: %(status)s.", "ok", lot=lot.lot_number, status=lot.status)
    return RedirectResponse(f"/materials/{lot.code}", status_code=303)


@router.get("/cultures", response_class=HTMLResponse, name="cultures")
def cultures_page(
    request: Request, actor: Viewer, session: SessionDep, status: str = ""
) -> Response:
    context = views.cultures_view(session, actor=actor, status=status)
    context |= {"now_local": local_now_input(request), "bounds": quantities}
    return render(request, "manufacturing/cultures.html", context)


@router.post("/cultures")
def cultures_start(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    command: Annotated[CultureStart, Form()],
) -> Response:
    culture = cultures.start_primary_culture(session, actor=actor, command=command)
    flash(
        request,
        "Culture %(culture)s started: print the vessel label.",
        "ok",
        culture=culture.code,
    )
    return RedirectResponse(f"/cultures/{culture.code}", status_code=303)


@router.get("/cultures/{code}", response_class=HTMLResponse, name="culture")
def culture_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    culture = cultures.get_culture(session, code)
    settings = request.app.state.settings
    context = views.culture_view(session, actor=actor, culture=culture, settings=settings)
    context |= {"now_local": local_now_input(request), "bounds": quantities}
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
        "Passage recorded: new vessels %(vessels)s; print their labels.",
        "ok",
        vessels=", ".join(c.code for c in children),
    )
    return RedirectResponse(f"/cultures/{culture.code}", status_code=303)
