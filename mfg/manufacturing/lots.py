"""Expansion of a pooled lot, then its final harvest and formulation
(docs/process.md#passage-and-pd-limits).

A lot grows as one population: pooling seeds it, each lot passage harvests and re-seeds it, the
harvest ends it. The passage and cumulative-PD limits are enforced at harvest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import LOT
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.deviations import service as deviations
from mfg.errors import Conflict, Reason, RuleViolation
from mfg.i18n import N_
from mfg.manufacturing import materials
from mfg.manufacturing.rules import (
    below_viability_specification,
    concentration_per_ml,
    cumulative_pd,
    doubling_time_hours,
    harvest_limit_problems,
    low_viability_problems,
    population_doublings,
    reseeding_problems,
)
from mfg.manufacturing.schemas import HarvestIn, LotPassageIn
from mfg.models import Harvest, Lot, LotPassage, LotStatus, MaterialLot, Meaning, User, utcnow
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
            "lot_not_in_process",
            "Lot %(lot)s is %(status)s: %(step)s needs a lot in process.",
            params={"lot": lot.din, "status": lot.status, "step": step},
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


def _check_growth_step(
    session: Session, lot: Lot, command: LotPassageIn | HarvestIn, *, step: quantities.Step
) -> tuple[datetime, datetime]:
    """Plausible counts and viability; a step that starts after the lot's cells were seeded,
    ends not in the future and lasts; a deviation note below the in-process viability. Its start
    and end, on the facility's clock when typed without an offset."""
    tz = settings_of(session).tz
    started, ended = (quantities.in_zone(t, tz) for t in (command.started_at, command.ended_at))
    figures = {
        "harvested_cells": (command.harvested_cells, quantities.CELLS),
        "viability_pct": (command.viability_pct, quantities.VIABILITY_PCT),
    }
    if isinstance(command, LotPassageIn):
        figures["reseeded_cells"] = (command.reseeded_cells, quantities.CELLS_OR_NONE)
        figures["vessels"] = (command.vessels, quantities.VESSELS)
    else:
        figures["final_volume_ml"] = (command.final_volume_ml, quantities.FINAL_VOLUME_ML)
    quantities.check(figures)
    seeded = lot.seeded_at or lot.pooled_at
    quantities.check_step_times(started, ended, now=utcnow(), after=seeded, step=step, tz=tz)
    return started, ended


def record_lot_passage(
    session: Session, *, actor: User, lot: Lot, command: LotPassageIn
) -> LotPassage:
    """Harvest the lot's growth and re-seed it: the lot moves on to the next passage.

    ``command.passage_number`` is the passage the operator saw on the form: when the lot has
    moved on meanwhile (a colleague recorded it), the second recording is refused, not added.
    """
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    _require_in_process(lot, N_("a passage"))
    if command.passage_number != lot.passage_number:
        raise Conflict(
            "Lot %(lot)s is now growing at passage %(passage)s, not %(typed)s: someone recorded "
            "this passage meanwhile.",
            params={
                "lot": lot.din,
                "passage": lot.passage_number,
                "typed": command.passage_number,
            },
            code="changed_meanwhile",
        )
    started_at, ended_at = _check_growth_step(session, lot, command, step=quantities.PASSAGE)
    problems = reseeding_problems(
        harvested=command.harvested_cells, reseeded=command.reseeded_cells
    )
    problems += _viability_problem(session, command.viability_pct, command.deviation_note)
    if problems:
        raise RuleViolation.of(problems, several="passage_refused")
    reagent_lots = materials.lots_by_codes(session, command.reagent_lots)
    materials.check_materials_usable(session, reagent_lots)
    record = _lot_passage_row(session, lot, command, started_at, ended_at)
    record.performed_by_id = actor.id
    before = (lot.passage_number, lot.cumulative_pd, lot.seeded_cells)
    _move_lot_on(session, lot, record)
    session.add(record)
    session.flush()
    session.refresh(lot)
    materials.record_use(
        session, actor=actor, lots=reagent_lots, step_type="lot_passage", step_id=record.id
    )
    _excursion(session, actor, lot, record, f"lot passage {record.passage_number} of {lot.din}")
    _lot_passaged(session, actor, lot, record, before, password=command.password)
    return record


def _lot_passage_row(
    session: Session, lot: Lot, command: LotPassageIn, started_at: datetime, ended_at: datetime
) -> LotPassage:
    """The passage at the lot's current passage, with its growth since the lot was seeded."""
    pd, cpd, doubling = _growth(lot, command.harvested_cells, ended_at)
    minimum = settings_of(session).inprocess_viability_min_pct
    return LotPassage(
        lot_id=lot.id,
        passage_number=lot.passage_number,
        started_at=started_at,
        ended_at=ended_at,
        seeded_cells=lot.seeded_cells or 0,
        harvested_cells=command.harvested_cells,
        viability_pct=command.viability_pct,
        reseeded_cells=command.reseeded_cells,
        vessels=command.vessels,
        vessel_type=command.vessel_type.strip(),
        population_doublings=pd,
        cumulative_pd=cpd,
        doubling_time_h=doubling,
        viability_below_spec=below_viability_specification(command.viability_pct, minimum),
        deviation_note=command.deviation_note.strip(),
    )


def _move_lot_on(session: Session, lot: Lot, record: LotPassage) -> None:
    """The lot grows on at the next passage from the re-seeded cells: compare-and-set on the
    passage number, so that two technicians recording the same passage cannot both move it."""
    moved = session.execute(
        update(Lot)
        .where(
            col(Lot.id) == lot.id,
            col(Lot.status) == LotStatus.IN_PROCESS,
            col(Lot.passage_number) == record.passage_number,
        )
        .values(
            passage_number=record.passage_number + 1,
            cumulative_pd=record.cumulative_pd,
            seeded_cells=record.reseeded_cells,
            seeded_at=record.ended_at,
        )
    )
    if moved.rowcount != 1:
        session.expire(lot)
        raise Conflict(
            "Lot %(lot)s was changed by someone else meanwhile.",
            params={"lot": lot.din},
            code="changed_meanwhile",
        )


def _lot_passaged(
    session: Session,
    actor: User,
    lot: Lot,
    record: LotPassage,
    before: tuple[int, float | None, int | None],
    *,
    password: str,
) -> None:
    """The passage in the audit trail (the lot before and after), signed "Performed"."""
    passage_number, cumulative, seeded = before
    audit.record(
        session,
        actor=actor,
        action="lot.passaged",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "passage_number": [passage_number, lot.passage_number],
            "harvested_cells": [None, record.harvested_cells],
            "viability_pct": [None, record.viability_pct],
            "population_doublings": [None, record.population_doublings],
            "cumulative_pd": [cumulative, record.cumulative_pd],
            "seeded_cells": [seeded, record.reseeded_cells],
        },
        reason=record.deviation_note or None,
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="lot_passage",
        entity_id=record.id,
    )


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


def harvest_lot(session: Session, *, actor: User, lot: Lot, command: HarvestIn) -> Harvest:
    """Harvest and formulate the lot; refused beyond the passage or cumulative-PD limit."""
    authorize(actor, Action.HARVEST_AND_FILL)
    _require_in_process(lot, N_("a harvest"))
    settings = settings_of(session)
    started_at, ended_at = _check_growth_step(session, lot, command, step=quantities.HARVEST)
    record = _harvest_row(session, lot, command, started_at, ended_at)
    problems = harvest_limit_problems(
        passage_number=lot.passage_number,
        cumulative=record.cumulative_pd,
        max_passage=settings.max_harvest_passage,
        max_cumulative_pd=settings.max_cumulative_pd,
    )
    problems += _viability_problem(session, command.viability_pct, command.deviation_note)
    if problems:
        raise RuleViolation.of(problems, several="harvest_refused")
    formulation_lots = materials.lots_by_codes(session, command.formulation_lots)
    materials.check_materials_usable(session, formulation_lots)
    record.performed_by_id = actor.id
    LOT.move(
        session,
        lot,
        to=LotStatus.HARVESTED,
        actor=actor,
        reason=record.deviation_note or None,
        also={"cumulative_pd": record.cumulative_pd},
    )
    session.add(record)
    session.flush()
    materials.record_use(
        session, actor=actor, lots=formulation_lots, step_type="harvest", step_id=record.id
    )
    _excursion(session, actor, lot, record, f"harvest of lot {lot.din}")
    _harvest_recorded(session, actor, lot, record, formulation_lots, password=command.password)
    return record


def _harvest_row(
    session: Session, lot: Lot, command: HarvestIn, started_at: datetime, ended_at: datetime
) -> Harvest:
    """The harvest with its growth since the lot was seeded and the formulated concentration."""
    pd, cpd, doubling = _growth(lot, command.harvested_cells, ended_at)
    minimum = settings_of(session).inprocess_viability_min_pct
    return Harvest(
        lot_id=lot.id,
        started_at=started_at,
        ended_at=ended_at,
        passage_number=lot.passage_number,
        harvested_cells=command.harvested_cells,
        viability_pct=command.viability_pct,
        population_doublings=pd,
        cumulative_pd=cpd,
        doubling_time_h=doubling,
        final_volume_ml=command.final_volume_ml,
        concentration_per_ml=concentration_per_ml(command.harvested_cells, command.final_volume_ml),
        viability_below_spec=below_viability_specification(command.viability_pct, minimum),
        deviation_note=command.deviation_note.strip(),
    )


def _harvest_recorded(
    session: Session,
    actor: User,
    lot: Lot,
    record: Harvest,
    formulation_lots: Sequence[MaterialLot],
    *,
    password: str,
) -> None:
    """The harvest and formulation in the audit trail, signed "Performed"."""
    audit.record(
        session,
        actor=actor,
        action="lot.formulated",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "harvested_cells": [None, record.harvested_cells],
            "viability_pct": [None, record.viability_pct],
            "final_volume_ml": [None, record.final_volume_ml],
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
