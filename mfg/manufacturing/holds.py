"""Putting a lot and its unused doses on hold, and back: used by QA decisions and, on a late
positive sterility result, automatically (a safety stop never waits for a person)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from mfg.audit import service as audit
from mfg.audit.machines import DOSE, LOT
from mfg.manufacturing.doses import doses_of
from mfg.models import Allocation, Dose, DoseStatus, Lot, LotStatus, User

SET_ASIDE = frozenset({DoseStatus.ALLOCATED, DoseStatus.ISSUED})  # for a patient, not yet infused


def move_dose(session: Session, *, actor: User | None, dose: Dose, to: str, reason: str) -> None:
    """One dose moves to ``to``, audited. A dose set aside for a patient and stopped (on hold)
    is no longer theirs: its allocation ends in the same transaction, so that a hold lifted
    later leaves an available dose that no bedside check can still match to that patient, and
    the patient's order asks for another dose."""
    set_aside = dose.status in SET_ASIDE
    DOSE.move(session, dose, to=to, actor=actor, reason=reason)
    if set_aside and to == DoseStatus.ON_HOLD:
        ended = session.execute(
            update(Allocation)
            .where(col(Allocation.dose_id) == dose.id, col(Allocation.active))
            .values(active=False)
        )
        if ended.rowcount:
            audit.record(
                session,
                actor=actor,
                action="dose.allocation_ended",
                entity_type="dose",
                entity_id=dose.identifier,
                changes={"allocation_active": [True, False]},
                reason=reason,
            )


def move_doses(
    session: Session, *, actor: User | None, lot: Lot, frm: set[str], to: str, reason: str
) -> list[Dose]:
    """Every dose of the lot in one of ``frm`` moves to ``to``, each audited."""
    moved = []
    for dose in doses_of(session, lot):
        if dose.status in frm:
            move_dose(session, actor=actor, dose=dose, to=to, reason=reason)
            moved.append(dose)
    return moved


def hold_lot(session: Session, *, actor: User | None, lot: Lot, reason: str) -> list[Dose]:
    """The lot and its doses not yet used go on hold; the doses already infused are returned."""
    LOT.move(session, lot, to=LotStatus.ON_HOLD, actor=actor, reason=reason, require_reason=True)
    move_doses(
        session,
        actor=actor,
        lot=lot,
        frm={DoseStatus.QUARANTINE, DoseStatus.AVAILABLE, DoseStatus.ALLOCATED, DoseStatus.ISSUED},
        to=DoseStatus.ON_HOLD,
        reason=reason,
    )
    return [d for d in doses_of(session, lot) if d.status == DoseStatus.INFUSED]
