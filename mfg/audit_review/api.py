"""JSON API of the audit trail: verify the chain, list events, sign and read reviews."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from mfg.audit.service import EventFilter
from mfg.audit_review import service
from mfg.audit_review.schemas import (
    EventList,
    EventPublic,
    MissingCreation,
    ReviewPublic,
    ReviewRequest,
    SignaturePublic,
    VerifyResult,
)
from mfg.auth.permissions import Action
from mfg.models import User
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow

router = Router(prefix="/api/audit", tags=["audit"])


@router.get("/verify", response_model=VerifyResult)
def verify(
    actor: Annotated[User, Depends(Allow(Action.VERIFY_AUDIT_TRAIL))], session: SessionDep
) -> VerifyResult:
    """Recompute the whole chain; ``first_bad_seq`` names the first missing or altered event."""
    report = service.verify(session, actor=actor)
    return VerifyResult(
        ok=report.ok,
        events=report.events,
        first_bad_seq=report.first_bad_seq,
        message=report.message,
        missing_creation=[
            MissingCreation(table=table, id=ident) for table, ident in report.missing_creation
        ],
    )


@router.get("/events", response_model=EventList)
def events(
    actor: Annotated[User, Depends(Allow(Action.VIEW_AUDIT_TRAIL))],
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EventList:
    flt = EventFilter(entity_type, entity_id, username, action, since, until)
    items, total = service.read_events(session, actor=actor, flt=flt, limit=limit, offset=offset)
    return EventList(items=[EventPublic.of(e) for e in items], total=total)


def _review_public(session: SessionDep, actor: User, review_id: int) -> ReviewPublic:
    review, shown = service.get_review(session, actor=actor, review_id=review_id)
    return ReviewPublic(
        id=review.id,
        from_seq=review.from_seq,
        to_seq=review.to_seq,
        event_count=review.event_count,
        filter=review.filter_description,
        comment=review.comment,
        signatures=[
            SignaturePublic(
                id=s.signature.id,
                meaning=s.signature.meaning,
                printed_name=s.signature.printed_name,
                username=s.signature.username,
                signed_at=s.signature.signed_at,
                content_hash=s.signature.content_hash,
                valid=s.valid,
            )
            for s in shown
        ],
    )


@router.post("/reviews", response_model=ReviewPublic, status_code=201)
def sign_review(
    body: ReviewRequest,
    actor: Annotated[User, Depends(Allow(Action.REVIEW_AUDIT_TRAIL))],
    session: SessionDep,
) -> ReviewPublic:
    """QA signs "Reviewed" over the events matching the filter (password re-entered)."""
    flt = EventFilter(
        body.entity_type, body.entity_id, body.username, body.action, body.since, body.until
    )
    review = service.sign_review(
        session, actor=actor, password=body.password, flt=flt, comment=body.comment
    )
    return _review_public(session, actor, review.id)


@router.get("/reviews/{review_id}", response_model=ReviewPublic)
def read_review(
    review_id: int,
    actor: Annotated[User, Depends(Allow(Action.VIEW_AUDIT_TRAIL))],
    session: SessionDep,
) -> ReviewPublic:
    return _review_public(session, actor, review_id)
