"""Bench pages of a lot: pooling, expansion, harvest, fill, storage, label check, batch record,
and the doses."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg import quantities
from mfg.auth.permissions import Action
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing import batchrecord, doses, lots, pools, storage, views
from mfg.manufacturing.schemas import (
    FillIn,
    HarvestIn,
    LabelCheckIn,
    LotPassageIn,
    PoolIn,
    StorageIn,
    ThawIn,
)
from mfg.models import DoseStatus, Lot, User
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]


@router.get("/lots", response_class=HTMLResponse, name="lots")
def lots_page(request: Request, actor: Viewer, session: SessionDep, status: str = "") -> Response:
    context = views.lots_view(session, actor=actor, status=status)
    context |= {"now_local": local_now_input(request), "bounds": quantities}
    return render(request, "manufacturing/lots.html", context)


@router.post("/lots")
def lots_pool(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.POOL_CULTURES))],
    session: SessionDep,
    command: Annotated[PoolIn, Form()],
) -> Response:
    """The pool form: the cells each culture vessel gives (left empty: not pooled)."""
    lot = pools.pool_cultures(session, actor=actor, command=command)
    flash(request, "Lot %(lot)s pooled.", "ok", lot=lot.din)
    return RedirectResponse(f"/lots/{lot.din}", status_code=303)


@router.get("/lots/{din}", response_class=HTMLResponse, name="lot")
def lot_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    """The lot at the bench: its pool, growth, harvest and doses, and the next step's form."""
    lot = pools.get_lot(session, din)
    context = views.lot_view(session, actor=actor, lot=lot, settings=request.app.state.settings)
    context |= {
        "din": Din.parse(lot.din),
        "now_local": local_now_input(request),
        "bounds": quantities,
    }
    return render(request, "manufacturing/lot.html", context)


@router.post("/lots/{din}/passages")
def lot_passage(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
    command: Annotated[LotPassageIn, Form()],
) -> Response:
    lot = pools.get_lot(session, din)
    record = lots.record_lot_passage(session, actor=actor, lot=lot, command=command)
    flash(request, "Passage %(passage)s of the lot recorded.", "ok", passage=record.passage_number)
    return RedirectResponse(f"/lots/{din}", status_code=303)


@router.post("/lots/{din}/harvest")
def lot_harvest(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.HARVEST_AND_FILL))],
    session: SessionDep,
    command: Annotated[HarvestIn, Form()],
) -> Response:
    lots.harvest_lot(session, actor=actor, lot=pools.get_lot(session, din), command=command)
    flash(request, "Lot harvested and formulated: fill it into doses.")
    return RedirectResponse(f"/lots/{din}", status_code=303)


@router.post("/lots/{din}/fill")
def lot_fill(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.HARVEST_AND_FILL))],
    session: SessionDep,
    command: Annotated[FillIn, Form()],
) -> Response:
    lot = pools.get_lot(session, din)
    filled = doses.fill_lot(session, actor=actor, lot=lot, command=command)
    flash(
        request,
        "Doses filled, in quarantine: %(count)s. Print their labels.",
        "ok",
        count=format(len(filled), ","),
    )
    return RedirectResponse(f"/lots/{din}", status_code=303)


@router.post("/lots/{din}/storage")
def lot_storage(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.STORE_DOSES))],
    session: SessionDep,
    command: Annotated[StorageIn, Form()],
) -> Response:
    lot = pools.get_lot(session, din)
    stored = storage.cryopreserve_lot(session, actor=actor, lot=lot, command=command)
    flash(
        request,
        "Doses cryopreserved in box %(box)s: %(count)s.",
        "ok",
        box=stored[0].box,
        count=format(len(stored), ","),
    )
    return RedirectResponse(f"/lots/{din}", status_code=303)


DoseViewer = Annotated[User, Depends(Allow(Action.VIEW_DOSES))]


@router.get("/doses", response_class=HTMLResponse, name="doses")
def doses_page(
    request: Request, actor: DoseViewer, session: SessionDep, status: str = ""
) -> Response:
    items, total = doses.list_doses(session, actor=actor, status=status or None, limit=500)
    lots_by_id = {d.lot_id: session.get(Lot, d.lot_id) for d in items}
    context = {
        "doses": items,
        "lots": lots_by_id,
        "total": total,
        "status": status,
        "statuses": list(DoseStatus),
        "location": storage.location_text,
    }
    return render(request, "manufacturing/doses.html", context)


@router.get("/doses/{identifier}", response_class=HTMLResponse, name="dose")
def dose_page(
    identifier: str, request: Request, actor: DoseViewer, session: SessionDep
) -> Response:
    dose = doses.get_dose(session, identifier)
    context = views.dose_view(session, actor=actor, dose=dose)
    context |= {"din": Din.parse(context["lot"].din), "now_local": local_now_input(request)}
    return render(request, "manufacturing/dose.html", context)


@router.post("/doses/{identifier}/thaw")
def dose_thaw(
    identifier: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.THAW_DOSES))],
    session: SessionDep,
    command: Annotated[ThawIn, Form()],
) -> Response:
    dose = doses.get_dose(session, identifier)
    storage.thaw_dose(session, actor=actor, dose=dose, command=command)
    flash(
        request,
        "Dose %(dose)s thawed: the thaw-to-infusion clock runs.",
        "ok",
        dose=dose.division,
    )
    return RedirectResponse(f"/doses/{dose.identifier}", status_code=303)


@router.get("/lots/{din}/batch-record", response_class=HTMLResponse, name="batch_record")
def batch_record_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    record = batchrecord.batch_record(session, actor=actor, lot=pools.get_lot(session, din))
    return render(request, "manufacturing/batch_record.html", {"record": record})


@router.post("/lots/{din}/label-check")
def lot_label_check(
    din: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_LABELS))],
    session: SessionDep,
    command: Annotated[LabelCheckIn, Form()],
) -> Response:
    """Scan a printed dose label: it must match a dose of this lot, DIN, product and expiry."""
    lot = pools.get_lot(session, din)
    dose = doses.verify_label_of_lot(session, actor=actor, lot=lot, command=command)
    flash(request, "Label of dose %(dose)s matches.", "ok", dose=dose.division)
    return RedirectResponse(f"/lots/{din}", status_code=303)
