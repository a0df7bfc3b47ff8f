"""What the audit-trail page shows and which of its actions it offers, built outside the router.
The template only asks whether an action is offered."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mfg.audit.service import EventFilter
from mfg.audit_review import service
from mfg.auth.permissions import Action, may
from mfg.models import User


def audit_offers(actor: User) -> frozenset[str]:
    """``review`` (sign a review of the events shown) and ``export`` (CSV), to the roles the
    permission table names."""
    actions = (("review", Action.REVIEW_AUDIT_TRAIL), ("export", Action.EXPORT_AUDIT_TRAIL))
    return frozenset(offer for offer, action in actions if may(actor, action))


def events_view(
    session: Session, *, actor: User, flt: EventFilter, page: int, page_size: int
) -> dict[str, Any]:
    """One page of the events the filter selects, the number of pages, and the actions offered."""
    events, total = service.read_events(
        session, actor=actor, flt=flt, limit=page_size, offset=(page - 1) * page_size
    )
    return {
        "events": events,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // page_size)),
        "offers": audit_offers(actor),
    }
