"""Which actions a page offers on a verified entry (a donor marker result, a QC result): from its
table's state machine, the permission table and the second-person guard, in one place; the
templates only ask whether an action is offered."""

from __future__ import annotations

from typing import Any

from mfg.audit.machines import StateMachine
from mfg.auth.permissions import Action, may
from mfg.models import User
from mfg.signatures.rules import second_person_verifies

VERIFIED, INVALIDATED = "verified", "invalidated"


def entry_offers(
    machine: StateMachine[Any], row: Any, actor: User, *, verify: Action, invalidate: Action
) -> frozenset[str]:
    """``verify`` when the row may become verified, ``actor`` may verify and is not the one who
    entered it; ``awaiting_second_person`` when ``actor`` entered it and it awaits verification;
    ``invalidate`` when the row may become invalidated and ``actor`` may invalidate."""
    offers: set[str] = set()
    if machine.can_move(row, VERIFIED):
        refused = second_person_verifies(row.entered_by_id, actor.id)
        if refused is not None:
            offers.add("awaiting_second_person")
        elif may(actor, verify):
            offers.add("verify")
    if machine.can_move(row, INVALIDATED) and may(actor, invalidate):
        offers.add("invalidate")
    return frozenset(offers)
