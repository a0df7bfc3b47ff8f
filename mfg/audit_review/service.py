"""Use cases over the audit trail: filtered reading, CSV export, verification, signed reviews."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from mfg.audit import service as audit
from mfg.audit.service import ChainReport, EventFilter
from mfg.auth.permissions import Action, authorize
from mfg.errors import NotFound, RuleViolation
from mfg.models import AuditEvent, AuditReview, Meaning, User
from mfg.signatures import service as signatures
from mfg.signatures.service import ShownSignature

CSV_COLUMNS = (
    "seq",
    "occurred_at_utc",
    "username",
    "user_full_name",
    "action",
    "entity_type",
    "entity_id",
    "changes",
    "reason",
    "prev_hash",
    "hash",
)


def local_day_bounds(
    since: date | None, until: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """Facility-local calendar days [since, until] as a UTC half-open interval."""
    start = datetime.combine(since, time.min, tzinfo=tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None
    return start, end


def read_events(
    session: Session, *, actor: User, flt: EventFilter, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    authorize(actor, Action.VIEW_AUDIT_TRAIL)
    return audit.list_events(session, flt, limit=limit, offset=offset)


def verify(session: Session, *, actor: User) -> ChainReport:
    authorize(actor, Action.VERIFY_AUDIT_TRAIL)
    return audit.verify_chain(session)


def export_csv(session: Session, *, actor: User, flt: EventFilter) -> Iterator[str]:
    """The filtered events as CSV text chunks; the export itself is an audit event."""
    authorize(actor, Action.EXPORT_AUDIT_TRAIL)
    audit.record(
        session,
        actor=actor,
        action="audit.exported",
        entity_type="audit_trail",
        entity_id="csv",
        reason=flt.describe(),
    )
    events = list(audit.iter_events(session, flt))  # read inside the unit of work, stream after
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for index, event in enumerate(events, 1):
        writer.writerow(
            [
                event.seq,
                event.occurred_at.isoformat(),
                event.username,
                event.user_full_name,
                event.action,
                event.entity_type,
                event.entity_id,
                event.changes,
                event.reason or "",
                event.prev_hash,
                event.hash,
            ]
        )
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@signatures.signs("audit_review")
def review_content(session: Session, review_id: str) -> dict[str, Any]:
    """What a review signature binds to: the events reviewed (range, count, last hash)."""
    review = session.get(AuditReview, int(review_id))
    return {
        "id": review.id,
        "from_seq": review.from_seq,
        "to_seq": review.to_seq,
        "last_hash": review.last_hash,
        "event_count": review.event_count,
        "filter": review.filter_description,
        "comment": review.comment,
        "created_by_id": review.created_by_id,
        "created_at": review.created_at,
    }


def sign_review(
    session: Session, *, actor: User, password: str, flt: EventFilter, comment: str = ""
) -> AuditReview:
    """QA signs "Reviewed" over the events matching ``flt``; refused on a broken chain."""
    authorize(actor, Action.REVIEW_AUDIT_TRAIL)
    stats = session.exec(
        audit.apply_filter(
            select(func.count(), func.min(AuditEvent.seq), func.max(AuditEvent.seq)).select_from(
                AuditEvent
            ),
            flt,
        )
    ).one()
    count, first, last = stats
    if not count:
        raise RuleViolation.one(
            "nothing_to_review", "There are no events to review for this filter."
        )
    report = audit.verify_chain(session)
    if not report.ok:
        raise RuleViolation.state(
            "audit_chain_broken",
            "The audit chain is broken (%(problem)s); a review cannot be signed until this "
            "is investigated.",
            params={"problem": report.message},
        )
    last_hash = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == last)).one()
    review = AuditReview(
        from_seq=first,
        to_seq=last,
        last_hash=last_hash,
        event_count=count,
        filter_description=flt.describe()[:500],
        comment=comment.strip(),
        created_by_id=actor.id,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="audit_review.created",
        entity_type="audit_review",
        entity_id=review.id,
        changes={"from_seq": [None, first], "to_seq": [None, last], "event_count": [None, count]},
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.REVIEWED,
        entity_type="audit_review",
        entity_id=review.id,
        comment=comment,
    )
    return review


def get_review(
    session: Session, *, actor: User, review_id: int
) -> tuple[AuditReview, list[ShownSignature]]:
    authorize(actor, Action.VIEW_AUDIT_TRAIL)
    review = session.get(AuditReview, review_id)
    if review is None:
        raise NotFound("No audit-trail review #%(id)s.", params={"id": review_id})
    shown = signatures.shown(session, entity_type="audit_review", entity_id=review.id)
    return review, shown


def list_reviews(session: Session, *, actor: User) -> list[AuditReview]:
    authorize(actor, Action.VIEW_AUDIT_TRAIL)
    return list(session.exec(select(AuditReview).order_by(col(AuditReview.id).desc())).all())
