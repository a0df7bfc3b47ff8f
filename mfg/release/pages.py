"""Release pages: the QA queue, and a lot's release page with its check and signature dialogs."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from mfg.auth.permissions import Action
from mfg.i18n import N_
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing.pools import get_lot
from mfg.models import Lot, LotStatus, User
from mfg.release import service, views
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_RELEASE))]
Releaser = Annotated[User, Depends(Allow(Action.RELEASE_LOTS))]
Password = Annotated[str, Form(max_length=1024)]
Reason = Annotated[str, Form(max_length=2000)]


@router.get("/release", response_class=HTMLResponse, name="release_queue")
def queue(request: Request, actor: Viewer, session: SessionDep) -> Response:
    """Lots awaiting a QA decision, each with what still blocks its release."""
    lots = session.exec(
        select(Lot).where(col(Lot.status).in_(service.RELEASE_QUEUE)).order_by(col(Lot.id).desc())
    ).all()
    rows = [(lot, service.release_check(session, actor=actor, lot=lot)) for lot in lots]
    return render(request, "release/queue.html", {"rows": rows})


@router.get("/lots/{din}/release", response_class=HTMLResponse, name="lot_release")
def release_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    lot = get_lot(session, din)
    context = views.release_view(session, actor=actor, lot=lot) | {"din": Din.parse(lot.din)}
    return render(request, "release/lot.html", context)


def _back(request: Request, lot: Lot, message: str) -> Response:
    """Back to the lot's release page with ``message`` (a catalog message, marked ``N_``, naming
    the lot's DIN)."""
    flash(request, message, "ok", din=lot.din)
    return RedirectResponse(f"/lots/{lot.din}/release", status_code=303)


@router.post("/lots/{din}/release")
def release(
    din: str,
    request: Request,
    actor: Releaser,
    session: SessionDep,
    password: Password = "",
    conditional: Annotated[str, Form(max_length=5)] = "",
    audit_trail_reviewed: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    lot = get_lot(session, din)
    service.release_lot(
        session,
        actor=actor,
        lot=lot,
        password=password,
        conditional=conditional == "yes",
        audit_trail_reviewed=audit_trail_reviewed == "yes",
    )
    if lot.status == LotStatus.CONDITIONALLY_RELEASED:
        return _back(request, lot, N_("Lot %(din)s conditionally released; doses available."))
    return _back(request, lot, N_("Lot %(din)s released; doses available."))


@router.post("/lots/{din}/release-completion")
def complete(
    din: str, request: Request, actor: Releaser, session: SessionDep, password: Password = ""
) -> Response:
    lot = get_lot(session, din)
    service.complete_release(session, actor=actor, lot=lot, password=password)
    return _back(request, lot, N_("Lot %(din)s released: the final sterility results are in."))


def _decision_page(action, message: str):
    def endpoint(
        din: str,
        request: Request,
        actor: Releaser,
        session: SessionDep,
        password: Password = "",
        reason: Reason = "",
    ) -> Response:
        lot = get_lot(session, din)
        action(session, actor=actor, lot=lot, password=password, reason=reason)
        return _back(request, lot, message)

    return endpoint


for path, action, message in (
    ("reject", service.reject_lot, N_("Lot %(din)s rejected; its doses are discarded.")),
    ("hold", service.hold, N_("Lot %(din)s on hold with its unused doses.")),
    ("hold-release", service.lift_hold, N_("Lot %(din)s released from hold.")),
    ("recall", service.recall, N_("Lot %(din)s recalled.")),
):
    router.add_api_route(
        f"/lots/{{din}}/{path}",
        _decision_page(action, message),
        methods=["POST"],
        name=f"lot_{path.replace('-', '_')}_page",
        include_in_schema=False,
    )
