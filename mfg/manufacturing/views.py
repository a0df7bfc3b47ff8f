"""What the manufacturing pages show and which of their actions they offer, built outside the
routers: the lots, the lot's bench page, the material lots, the culture vessels and the doses.

An action is offered when the row's transition table allows the move it makes, the permission
table allows the reader, and what it rests on is there (a fill needs its harvest). The template
only asks whether an action is offered (``"harvest" in offers``); the services refuse the same
things on their own when a request comes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from mfg.audit.machines import CULTURE, LOT, MATERIAL_LOT
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.config import Settings
from mfg.deviations.service import open_deviations_of_lot
from mfg.errors import MfgError
from mfg.manufacturing import cultures, doses, lots, materials, pools, storage
from mfg.models import (
    Biopsy,
    Culture,
    CultureStatus,
    Dose,
    Harvest,
    Lot,
    LotPassage,
    LotStatus,
    MaterialLot,
    MaterialStatus,
    User,
)
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


def _allowed(actor: User, *actions: tuple[str, Action]) -> frozenset[str]:
    """The offers whose permission ``actor`` holds, for actions that move no row."""
    return frozenset(offer for offer, action in actions if may(actor, action))


def lots_view(session: Session, *, actor: User, status: str) -> dict[str, Any]:
    """The lots, the culture vessels in process that may be pooled, and whether pooling is
    offered."""
    items, total = pools.list_lots(session, actor=actor, status=status or None, limit=500)
    pending, _ = cultures.list_cultures(session, actor=actor, status="in_process", limit=500)
    return {
        "lots": items,
        "total": total,
        "status": status,
        "in_process": pending,
        "offers": _allowed(actor, ("pool", Action.POOL_CULTURES)),
    }


def _material_prefill(session: Session, scan: str) -> tuple[dict[str, Any], str | None]:
    """The registration form's fields read from a scanned supplier bar code, completed from the
    last lot of the same GTIN; or why the scan could not be read."""
    if not scan.strip():
        return {}, None
    try:
        prefill = materials.gs1_fields(scan)
        previous = (
            materials.last_lot_of_gtin(session, prefill["gtin"]) if prefill.get("gtin") else None
        )
        if previous is not None:
            prefill.update(
                name=previous.name,
                supplier=previous.supplier,
                catalogue_number=previous.catalogue_number,
            )
    except MfgError as error:
        return {}, error.message
    return prefill, None


def materials_view(session: Session, *, actor: User, status: str, scan: str) -> dict[str, Any]:
    """The material lots, the registration form prefilled from a scanned supplier bar code, and
    whether registering is offered."""
    prefill, scan_error = _material_prefill(session, scan)
    items, total = materials.list_materials(session, actor=actor, status=status or None, limit=500)
    return {
        "lots": items,
        "total": total,
        "status": status,
        "prefill": prefill,
        "scan": scan,
        "scan_error": scan_error,
        "offers": _allowed(actor, ("register", Action.REGISTER_MATERIALS)),
    }


def material_offers(lot: MaterialLot, actor: User) -> frozenset[str]:
    """``release`` and ``reject`` where the material lot's transition table allows them and
    ``actor`` decides on materials; ``print_labels``."""
    offers = set(_allowed(actor, ("print_labels", Action.PRINT_LABELS)))
    if may(actor, Action.DECIDE_MATERIALS):
        if MATERIAL_LOT.can_move(lot, MaterialStatus.RELEASED):
            offers.add("release")
        if MATERIAL_LOT.can_move(lot, MaterialStatus.REJECTED):
            offers.add("reject")
    return frozenset(offers)


def material_view(session: Session, *, actor: User, lot: MaterialLot) -> dict[str, Any]:
    """A material lot: its signatures, its history and the decisions offered."""
    return {
        "lot": lot,
        "signatures": signatures.shown(session, entity_type="material", entity_id=lot.code),
        "events": history(session, entity_type="material", entity_id=lot.code),
        "offers": material_offers(lot, actor),
    }


def cultures_view(session: Session, *, actor: User, status: str) -> dict[str, Any]:
    """The culture vessels, and whether starting a primary culture is offered."""
    items, total = cultures.list_cultures(session, actor=actor, status=status or None, limit=500)
    return {
        "cultures": items,
        "total": total,
        "status": status,
        "offers": _allowed(actor, ("start", Action.PERFORM_CULTURE_STEPS)),
    }


def culture_offers(culture: Culture, actor: User) -> frozenset[str]:
    """``passage`` while the vessel's transition table lets it be passaged and ``actor``
    performs culture steps; ``print_labels``."""
    offers = set(_allowed(actor, ("print_labels", Action.PRINT_LABELS)))
    if CULTURE.can_move(culture, CultureStatus.PASSAGED) and may(
        actor, Action.PERFORM_CULTURE_STEPS
    ):
        offers.add("passage")
    return frozenset(offers)


def culture_view(
    session: Session, *, actor: User, culture: Culture, settings: Settings
) -> dict[str, Any]:
    """A culture vessel: its passage, the vessels it gave, the material lots used, the
    signatures of its steps, its history and the actions offered."""
    record = cultures.passage_of(session, culture)
    shown = signatures.shown(session, entity_type="culture", entity_id=culture.code)
    if record:
        shown += signatures.shown(session, entity_type="passage", entity_id=record.id)
    return {
        "culture": culture,
        "passage": record,
        "children": cultures.children_of(session, culture),
        "step_lots": cultures.materials_of(session, "culture", culture.id),
        "passage_lots": cultures.materials_of(session, "passage", record.id) if record else [],
        "signatures": shown,
        "parent": session.get(Culture, culture.parent_id) if culture.parent_id else None,
        "biopsy": session.get(Biopsy, culture.biopsy_id),
        "events": history(session, entity_type="culture", entity_id=culture.code),
        "offers": culture_offers(culture, actor),
        "min_viability": settings.inprocess_viability_min_pct,
    }


def dose_offers(dose: Dose, actor: User) -> frozenset[str]:
    """``thaw`` for a stored dose not yet thawed whose status may be thawed (allocated or
    issued) when ``actor`` thaws doses; ``print_labels``; ``view_lot`` (its lot and trace)."""
    offers = set(
        _allowed(
            actor,
            ("print_labels", Action.PRINT_LABELS),
            ("view_lot", Action.VIEW_MANUFACTURING),
        )
    )
    if (
        dose.status in storage.THAWABLE
        and dose.frozen_at is not None
        and dose.thawed_at is None
        and may(actor, Action.THAW_DOSES)
    ):
        offers.add("thaw")
    return frozenset(offers)


def dose_view(session: Session, *, actor: User, dose: Dose) -> dict[str, Any]:
    """A dose: its lot, storage place, the thaw's signature, its history and the actions
    offered."""
    shown = []
    if dose.thawed_at:
        shown = signatures.shown(session, entity_type="thaw", entity_id=dose.identifier)
    return {
        "dose": dose,
        "lot": session.get(Lot, dose.lot_id),
        "location": storage.location_text(dose),
        "signatures": shown,
        "events": history(session, entity_type="dose", entity_id=dose.identifier),
        "offers": dose_offers(dose, actor),
    }
