"""What a lot's release page shows and which decisions it offers, built outside the router.

A decision is offered when the lot's transition table allows the move it makes, the permission
table lets the reader release lots, and the release guards (``release_check``) do not block it.
The template only asks whether a decision is offered (``"release" in offers``); the service
refuses the same things on its own when a request comes anyway.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mfg.audit.machines import LOT
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.models import Lot, LotStatus, Signature, User
from mfg.release import service
from mfg.release.service import ReleaseCheck
from mfg.signatures import service as signatures


def release_offers(lot: Lot, actor: User, check: ReleaseCheck) -> frozenset[str]:
    """The decisions the release page offers ``actor`` for ``lot`` as it is now."""
    if not may(actor, Action.RELEASE_LOTS):
        return frozenset()
    moves = LOT.allowed(lot)
    offers: set[str] = set()
    if lot.status == LotStatus.QUARANTINE:
        if check.ready and LotStatus.RELEASED in moves:
            offers.add("release")
        elif check.conditional_ready and LotStatus.CONDITIONALLY_RELEASED in moves:
            offers.add("release_conditionally")
    if lot.status == LotStatus.CONDITIONALLY_RELEASED and LotStatus.RELEASED in moves:
        offers.add("complete_release")  # its guards answer on the dialog: results may come in
    if LotStatus.REJECTED in moves:
        offers.add("reject")
    if LotStatus.ON_HOLD in moves:
        offers.add("hold")
    if lot.status == LotStatus.ON_HOLD:
        if LotStatus.RELEASED in moves:
            offers.add("lift_hold")
        if LotStatus.RECALLED in moves:
            offers.add("recall")
    return frozenset(offers)


def _shown(session: Session, signature: Signature | None) -> signatures.ShownSignature | None:
    """A decision's signature with whether its record still matches what was signed."""
    if signature is None:
        return None
    return signatures.ShownSignature(signature, signatures.is_valid(session, signature))


def release_view(session: Session, *, actor: User, lot: Lot) -> dict[str, Any]:
    """The release page of a lot: the check, the decisions taken, the audit trail to review, and
    the decisions offered."""
    check = service.release_check(session, actor=actor, lot=lot)
    return {
        "lot": lot,
        "check": check,
        "decisions": [
            (d, _shown(session, service.release_signature(session, d)))
            for d in service.decisions_of(session, lot)
        ],
        "events": history(session, entity_type="lot", entity_id=lot.din),
        "offers": release_offers(lot, actor, check),
    }
