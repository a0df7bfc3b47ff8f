"""JSON API of lot release: the check, QA's signed decisions, the release certificate."""

from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response
from sqlmodel import Session

from mfg.auth.permissions import Action
from mfg.manufacturing.pools import get_lot
from mfg.models import Lot, ReleaseDecision, User
from mfg.release import certificate, service
from mfg.release.schemas import (
    BlockingPublic,
    DecisionIn,
    DecisionPublic,
    ReleaseCheckPublic,
    ReleaseIn,
)
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.openapi import PDF, binary
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["release"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_RELEASE))]
Releaser = Annotated[User, Depends(Allow(Action.RELEASE_LOTS))]


@router.get("/lots/{din}/release-check", response_model=ReleaseCheckPublic)
def release_check(din: str, actor: Viewer, session: SessionDep) -> ReleaseCheckPublic:
    """Every reason the lot cannot be released by the caller now (empty when it can)."""
    check = service.release_check(session, actor=actor, lot=get_lot(session, din))
    return ReleaseCheckPublic(
        ready=check.ready,
        blocking=[BlockingPublic(code=b.code, message=b.message) for b in check.blocking],
        conditional_ready=check.conditional_ready,
        conditional_blocking=[
            BlockingPublic(code=b.code, message=b.message) for b in check.conditional_blocking
        ],
    )


def decision_public(session: Session, lot: Lot, decision: ReleaseDecision) -> DecisionPublic:
    signature = service.release_signature(session, decision)
    return DecisionPublic(
        lot=lot.din,
        lot_status=lot.status,
        decision=decision.decision,
        reason=decision.reason,
        certified_sha256=decision.content_hash,
        signed_by=signature.printed_name if signature else "",
        meaning=signature.meaning if signature else "",
        decided_at=decision.decided_at,
    )


@router.post("/lots/{din}/release", response_model=DecisionPublic)
def release(din: str, body: ReleaseIn, actor: Releaser, session: SessionDep) -> DecisionPublic:
    """Release (or conditionally release) the lot: signed "Released for clinical use"."""
    lot = get_lot(session, din)
    decision = service.release_lot(
        session,
        actor=actor,
        lot=lot,
        password=body.password,
        conditional=body.conditional,
        audit_trail_reviewed=body.audit_trail_reviewed,
    )
    return decision_public(session, lot, decision)


@router.post("/lots/{din}/release-completion", response_model=DecisionPublic)
def complete(din: str, body: DecisionIn, actor: Releaser, session: SessionDep) -> DecisionPublic:
    lot = get_lot(session, din)
    decision = service.complete_release(session, actor=actor, lot=lot, password=body.password)
    return decision_public(session, lot, decision)


def _decision(action):
    def endpoint(din: str, body: DecisionIn, actor: Releaser, session: SessionDep):
        lot = get_lot(session, din)
        decision = action(session, actor=actor, lot=lot, password=body.password, reason=body.reason)
        return decision_public(session, lot, decision)

    return endpoint


for path, action, summary in (
    ("reject", service.reject_lot, "Reject the lot (reason required): its doses are discarded."),
    ("hold", service.hold, "Put a released lot and its unused doses on hold (reason required)."),
    ("hold-release", service.lift_hold, "Lift a hold: the lot and its doses are usable again."),
    ("recall", service.recall, "Recall the lot and its unused doses (reason required)."),
):
    router.add_api_route(
        f"/lots/{{din}}/{path}",
        _decision(action),
        methods=["POST"],
        response_model=DecisionPublic,
        summary=summary,
        name=f"lot_{path.replace('-', '_')}",
    )


@router.get(
    "/lots/{din}/certificate.pdf",
    name="certificate_pdf",
    response_class=Response,
    responses=binary(PDF, "The signed release certificate."),
)
def certificate_pdf(din: str, actor: Viewer, session: WriteSessionDep) -> Response:
    """The signed release certificate (docs/architecture.md#http-endpoints); each copy issued is
    audited."""
    lot = get_lot(session, din)
    content = certificate.certificate_pdf(session, actor=actor, lot=lot)
    headers = {"content-disposition": f'inline; filename="certificate-{lot.din}.pdf"'}
    return Response(content, media_type="application/pdf", headers=headers)
