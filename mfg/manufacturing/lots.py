"""Expansion of a pooled lot, then its final harvest and formulation (REFERENCE.md §4).

A lot grows as one population: pooling seeds it, each lot passage harvests and re-seeds it, the
harvest ends it. The passage and cumulative-PD limits are enforced at harvest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.transitions import transition
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.deviations import service as deviations
from mfg.errors import Conflict, Reason, RuleViolation
from mfg.manufacturing import materials
from mfg.manufacturing.rules import (
    concentration_per_ml,
    cumulative_pd,
    doubling_time_hours,
    harvest_limit_problems,
    low_viability_problems,
    passage_problems,
    population_doublings,
)
from mfg.models import Harvest, Lot, LotPassage, LotStatus, MaterialLot, Meaning, User, utcnow
from mfg.models.manufacturing import LOT_TRANSITIONS
from mfg.signatures import service as signatures


def _viability_problem(session: Session, viability_pct: float, deviation_note: str) -> list[Reason]:
    return low_viability_problems(
        viability_pct=viability_pct,
        minimum_pct=settings_of(session).inprocess_viability_min_pct,
        deviation_note=deviation_note,
    )


def _excursion(
    session: Session, actor: User, lot: Lot, record: LotPassage | Harvest, step: str
) -> None:
    """A step below the in-process viability specification opens its deviation itself."""
    if record.viability_below_spec:
        deviations.viability_excursion(
            session,
            actor=actor,
            step=step,
            entity_type="lot",
            entity_id=lot.din,
            viability_pct=record.viability_pct,
            minimum_pct=settings_of(session).inprocess_viability_min_pct,
            note=record.deviation_note,
            lot=lot,
        )


def _growth(
    lot: Lot, harvested: int, ended_at: datetime
) -> tuple[float | None, float | None, float | None]:
    pd = population_doublings(harvested, lot.seeded_cells)
    hours = (ended_at - (lot.seeded_at or lot.pooled_at)).total_seconds() / 3600
    return (
        pd,
        cumulative_pd(lot.cumulative_pd, pd),
        doubling_time_hours(hours, harvested, lot.seeded_cells),
    )


def _require_in_process(lot: Lot, step: str) -> None:
    if lot.status != LotStatus.IN_PROCESS:
        raise RuleViolation.state(
            "lot_not_in_process", f"Lot {lot.din} is {lot.status}: {step} needs a lot in process."
        )


def passages_of(session: Session, lot: Lot) -> list[LotPassage]:
    query = select(LotPassage).where(LotPassage.lot_id == lot.id)
    return list(session.exec(query.order_by(col(LotPassage.passage_number))).all())


@signatures.signs("lot_passage")
def lot_passage_content(session: Session, passage_id: str) -> dict:
    """What a lot passage signs: its growth, re-seeding and reagent lots."""
    record = session.get(LotPassage, int(passage_id))
    lot = session.get(Lot, record.lot_id)
    lots = materials.used_by(session, "lot_passage", record.id)
    return {
        "lot": lot.din,
        "passage": record.passage_number,
        "started": record.started_at,
        "ended": record.ended_at,
        "seeded": record.seeded_cells,
        "harvested": record.harvested_cells,
        "viability": record.viability_pct,
        "reseeded": record.reseeded_cells,
        "vessels": record.vessels,
        "pd": record.population_doublings,
        "cpd": record.cumulative_pd,
        "deviation": record.deviation_note,
        "materials": sorted(m.code for m in lots),
    }


def record_lot_passage(
    session: Session,
    *,
    actor: User,
    lot: Lot,
    started_at: datetime,
    ended_at: datetime,
    harvested_cells: int,
    viability_pct: float,
    reseeded_cells: int,
    vessels: int,
    vessel_type: str,
    reagent_lots: Sequence[MaterialLot],
    password: str,
    deviation_note: str = "",
    expected_passage: int | None = None,
) -> LotPassage:
    """Harvest the lot's growth and re-seed it: the lot moves on to the next passage.

    ``expected_passage`` is the passage the operator saw on the form: when the lot has moved on
    meanwhile (a colleague recorded it), the second recording is refused, not added.
    """
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    _require_in_process(lot, "a passage")
    if expected_passage is not None and expected_passage != lot.passage_number:
        raise Conflict(
            f"Lot {lot.din} is now growing at passage {lot.passage_number}, not "
            f"{expected_passage}: someone recorded this passage meanwhile.",
            code="changed_meanwhile",
        )
    problems = passage_problems(
        harvested=harvested_cells,
        viability_pct=viability_pct,
        reseeded=reseeded_cells,
        new_vessels=vessels,
        started_at=started_at,
        ended_at=ended_at,
        now=utcnow(),
    )
    if lot.seeded_at and ended_at < lot.seeded_at:
        problems.append(
            Reason("ends_before_seeding", "The passage ends before the lot's cells were seeded.")
        )
    problems += _viability_problem(session, viability_pct, deviation_note)
    if problems:
        raise RuleViolation.of(problems, several="passage_refused")
    materials.check_materials_usable(session, reagent_lots)
    pd, cpd, doubling = _growth(lot, harvested_cells, ended_at)
    before = lot.cumulative_pd
    record = LotPassage(
        lot_id=lot.id,
        passage_number=lot.passage_number,
        started_at=started_at,
        ended_at=ended_at,
        seeded_cells=lot.seeded_cells or 0,
        harvested_cells=harvested_cells,
        viability_pct=viability_pct,
        reseeded_cells=reseeded_cells,
        vessels=vessels,
        vessel_type=vessel_type.strip(),
        population_doublings=pd,
        cumulative_pd=cpd,
        doubling_time_h=doubling,
        viability_below_spec=viability_pct < settings_of(session).inprocess_viability_min_pct,
        deviation_note=deviation_note.strip(),
        performed_by_id=actor.id,
    )
    # Compare-and-set on the passage number: two technicians recording the same passage at once
    # cannot both move the lot on.
    moved = session.execute(
        update(Lot)
        .where(
            col(Lot.id) == lot.id,
            col(Lot.status) == LotStatus.IN_PROCESS,
            col(Lot.passage_number) == lot.passage_number,
        )
        .values(
            passage_number=lot.passage_number + 1,
            cumulative_pd=cpd,
            seeded_cells=reseeded_cells,
            seeded_at=ended_at,
        )
    )
    if moved.rowcount != 1:
        session.expire(lot)
        raise Conflict(
            f"Lot {lot.din} was changed by someone else meanwhile.", code="changed_meanwhile"
        )
    session.add(record)
    session.flush()
    session.refresh(lot)
    materials.record_use(
        session, actor=actor, lots=reagent_lots, step_type="lot_passage", step_id=record.id
    )
    _excursion(session, actor, lot, record, f"lot passage {record.passage_number} of {lot.din}")
    audit.record(
        session,
        actor=actor,
        action="lot.passaged",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "passage_number": [record.passage_number, lot.passage_number],
            "harvested_cells": [None, harvested_cells],
            "viability_pct": [None, viability_pct],
            "population_doublings": [None, pd],
            "cumulative_pd": [before, cpd],
            "seeded_cells": [record.seeded_cells, reseeded_cells],
        },
        reason=deviation_note.strip() or None,
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="lot_passage",
        entity_id=record.id,
    )
    return record


def harvest_of(session: Session, lot: Lot) -> Harvest | None:
    return session.exec(select(Harvest).where(Harvest.lot_id == lot.id)).first()


@signatures.signs("harvest")
def harvest_content(session: Session, harvest_id: str) -> dict:
    """What the harvest and formulation signs: the cells, volume, concentration, materials."""
    record = session.get(Harvest, int(harvest_id))
    lot = session.get(Lot, record.lot_id)
    lots = materials.used_by(session, "harvest", record.id)
    return {
        "lot": lot.din,
        "passage": record.passage_number,
        "started": record.started_at,
        "ended": record.ended_at,
        "harvested": record.harvested_cells,
        "viability": record.viability_pct,
        "cpd": record.cumulative_pd,
        "volume_ml": record.final_volume_ml,
        "concentration": record.concentration_per_ml,
        "deviation": record.deviation_note,
        "materials": sorted(m.code for m in lots),
    }


def harvest_lot(
    session: Session,
    *,
    actor: User,
    lot: Lot,
    started_at: datetime,
    ended_at: datetime,
    harvested_cells: int,
    viability_pct: float,
    final_volume_ml: float,
    formulation_lots: Sequence[MaterialLot],
    password: str,
    deviation_note: str = "",
) -> Harvest:
    """Harvest and formulate the lot; refused beyond the passage or cumulative-PD limit."""
    authorize(actor, Action.HARVEST_AND_FILL)
    _require_in_process(lot, "a harvest")
    settings = settings_of(session)
    problems = passage_problems(
        harvested=harvested_cells,
        viability_pct=viability_pct,
        reseeded=0,
        new_vessels=1,
        started_at=started_at,
        ended_at=ended_at,
        now=utcnow(),
    )
    if final_volume_ml <= 0:
        problems.append(Reason("volume_not_positive", "The final volume must be positive."))
    if lot.seeded_at and ended_at < lot.seeded_at:
        problems.append(
            Reason("ends_before_seeding", "The harvest ends before the lot's cells were seeded.")
        )
    pd, cpd, doubling = _growth(lot, harvested_cells, ended_at)
    problems += harvest_limit_problems(
        passage_number=lot.passage_number,
        cumulative=cpd,
        max_passage=settings.max_harvest_passage,
        max_cumulative_pd=settings.max_cumulative_pd,
    )
    problems += _viability_problem(session, viability_pct, deviation_note)
    if problems:
        raise RuleViolation.of(problems, several="harvest_refused")
    materials.check_materials_usable(session, formulation_lots)
    record = Harvest(
        lot_id=lot.id,
        started_at=started_at,
        ended_at=ended_at,
        passage_number=lot.passage_number,
        harvested_cells=harvested_cells,
        viability_pct=viability_pct,
        population_doublings=pd,
        cumulative_pd=cpd,
        doubling_time_h=doubling,
        final_volume_ml=final_volume_ml,
        concentration_per_ml=concentration_per_ml(harvested_cells, final_volume_ml),
        viability_below_spec=viability_pct < settings.inprocess_viability_min_pct,
        deviation_note=deviation_note.strip(),
        performed_by_id=actor.id,
    )
    transition(
        session,
        lot,
        to=LotStatus.HARVESTED,
        table=LOT_TRANSITIONS,
        actor=actor,
        action="lot.harvested",
        entity_type="lot",
        entity_id=lot.din,
        reason=deviation_note.strip() or None,
        also={"cumulative_pd": cpd},
    )
    session.add(record)
    session.flush()
    materials.record_use(
        session, actor=actor, lots=formulation_lots, step_type="harvest", step_id=record.id
    )
    _excursion(session, actor, lot, record, f"harvest of lot {lot.din}")
    audit.record(
        session,
        actor=actor,
        action="lot.formulated",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "harvested_cells": [None, harvested_cells],
            "viability_pct": [None, viability_pct],
            "final_volume_ml": [None, final_volume_ml],
            "concentration_per_ml": [None, record.concentration_per_ml],
            "materials": [None, [m.code for m in formulation_lots]],
        },
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="harvest",
        entity_id=record.id,
    )
    return record
