"""What the lot's bench page shows and which of its actions it offers, built outside the router.

An action is offered when the lot's transition table allows the move it makes, the permission
table allows the reader, and what it rests on is there (a fill needs its harvest). The template
only asks whether an action is offered (``"harvest" in offers``); the services refuse the same
things on their own when a request comes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from mfg.audit.machines import LOT
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.config import Settings
from mfg.deviations.service import open_deviations_of_lot
from mfg.manufacturing import doses, lots, materials, pools, storage
from mfg.models import Dose, Harvest, Lot, LotPassage, LotStatus, User
from mfg.signatures import service as signatures


def _moves(lot: Lot, to: LotStatus) -> bool:
    return LOT.can_move(lot, to)


def lot_offers(
    lot: Lot, actor: User, *, harvest: Harvest | None, filled: list[Dose]
) -> frozenset[str]:
    """The actions the lot page offers ``actor`` for ``lot`` as it is now."""
    offers: set[str] = set()
    if lot.status == LotStatus.IN_PROCESS and may(actor, Action.PERFORM_CULTURE_STEPS):
        offers.add("passage")  # the lot stays in process: no move, only its state
    if _moves(lot, LotStatus.HARVESTED) and may(actor, Action.HARVEST_AND_FILL):
        offers.add("harvest")
    if (
        lot.status == LotStatus.HARVESTED
        and _moves(lot, LotStatus.QUARANTINE)
        and harvest is not None
        and may(actor, Action.HARVEST_AND_FILL)
    ):
        offers.add("fill")
    if any(d.label_verified_at is None for d in filled) and may(actor, Action.VERIFY_LABELS):
        offers.add("check_labels")
    if any(d.frozen_at is None for d in filled) and may(actor, Action.STORE_DOSES):
        offers.add("store")
    if may(actor, Action.PRINT_LABELS):
        offers.add("print_labels")
    if may(actor, Action.VIEW_QC):
        offers.add("view_qc")
    # the release page exists once the lot is filled: in quarantine and every status after it
    if lot.status not in (LotStatus.IN_PROCESS, LotStatus.HARVESTED) and may(
        actor, Action.VIEW_RELEASE
    ):
        offers.add("view_release")
    return frozenset(offers)


def _lot_signatures(
    session: Session,
    lot: Lot,
    passages: list[LotPassage],
    record: Harvest | None,
    filled: list[Dose],
) -> list:
    """Every signature of the lot's own steps, each checked against its record."""
    shown = signatures.shown(session, entity_type="lot", entity_id=lot.din)
    for p in passages:
        shown += signatures.shown(session, entity_type="lot_passage", entity_id=p.id)
    if record:
        shown += signatures.shown(session, entity_type="harvest", entity_id=record.id)
    if filled:
        shown += signatures.shown(session, entity_type="fill", entity_id=lot.din)
        shown += signatures.shown(session, entity_type="storage", entity_id=lot.din)
    return shown


@dataclass(frozen=True)
class LotLimits:
    passage: int
    cpd: float
    viability: float
    storage: float


def lot_view(session: Session, *, actor: User, lot: Lot, settings: Settings) -> dict[str, Any]:
    """The bench page of a lot: its pool, growth, harvest, doses, signatures, the open deviations
    that block its release (the lot's own, and those of every biopsy and culture vessel its
    cells came through: the release check's own list), and the actions offered."""
    passages = list(lots.passages_of(session, lot))
    record = lots.harvest_of(session, lot)
    filled = list(doses.doses_of(session, lot))
    return {
        "lot": lot,
        "rows": pools.member_rows(session, lot),
        "passages": passages,
        "harvest": record,
        "harvest_lots": materials.used_by(session, "harvest", record.id) if record else [],
        "doses": filled,
        "unfrozen": [d for d in filled if d.frozen_at is None],
        "location": storage.location_text,
        "signatures": _lot_signatures(session, lot, passages, record, filled),
        "open_deviations": open_deviations_of_lot(session, lot),
        "events": history(session, entity_type="lot", entity_id=lot.din),
        "offers": lot_offers(lot, actor, harvest=record, filled=filled),
        "limits": LotLimits(
            passage=settings.max_harvest_passage,
            cpd=settings.max_cumulative_pd,
            viability=settings.inprocess_viability_min_pct,
            storage=settings.storage_max_temp_c,
        ),
    }
