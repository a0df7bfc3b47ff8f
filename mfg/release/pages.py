"""Release pages: the QA queue, and a lot's release page with its check and signature dialogs."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing.pools import get_lot
from mfg.models import Lot, Signature, User
from mfg.release import service
from mfg.signatures import service as signatures
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
    context = {
        "lot": lot,
        "din": Din.parse(lot.din),
        "check": service.release_check(session, actor=actor, lot=lot),
        "decisions": [
            (d, _shown(session, service.release_signature(session, d)))
            for d in service.decisions_of(session, lot)
        ],
        "events": history(session, entity_type="lot", entity_id=lot.din),
        "may_release": may(actor, Action.RELEASE_LOTS),
    }
    return render(request, "release/lot.html", context)


def _back(request: Request, lot: Lot, message: str) -> Response:
    flash(request, message)
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
    return _back(request, lot, f"Lot {lot.din} {lot.status.replace('_', ' ')}; doses available.")


@router.post("/lots/{din}/release-completion")
def complete(
    din: str, request: Request, actor: Releaser, session: SessionDep, password: Password = ""
) -> Response:
    lot = get_lot(session, din)
    service.complete_release(session, actor=actor, lot=lot, password=password)
    return _back(request, lot, f"Lot {lot.din} released: the final sterility results are in.")


def _decision_page(action, verb: str):
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
        return _back(request, lot, f"Lot {lot.din} {verb}.")

    return endpoint


for path, action, verb in (
    ("reject", service.reject_lot, "rejected; its doses are discarded"),
    ("hold", service.hold, "on hold with its unused doses"),
    ("hold-release", service.lift_hold, "released from hold"),
    ("recall", service.recall, "recalled"),
):
    router.add_api_route(
        f"/lots/{{din}}/{path}",
        _decision_page(action, verb),
        methods=["POST"],
        name=f"lot_{path.replace('-', '_')}_page",
        include_in_schema=False,
    )


def _shown(session: Session, signature: Signature | None) -> signatures.ShownSignature | None:
    """A decision's signature with whether its record still matches what was signed."""
    if signature is None:
        return None
    return signatures.ShownSignature(signature, signatures.is_valid(session, signature))
