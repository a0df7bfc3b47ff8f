"""Cultures and passages: each vessel labelled, each step signed "Performed", growth computed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.transitions import transition
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.deviations import service as deviations
from mfg.donors.biopsies import check_culture_start
from mfg.errors import InvalidInput, RuleViolation
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.records import by_local_code
from mfg.manufacturing import materials
from mfg.manufacturing.materials import check_materials_usable, get_material
from mfg.manufacturing.rules import (
    cumulative_pd,
    doubling_time_hours,
    low_viability_problems,
    passage_problems,
    population_doublings,
)
from mfg.models import (
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    MaterialLot,
    Meaning,
    Passage,
    User,
    utcnow,
)
from mfg.models.donors import BIOPSY_TRANSITIONS
from mfg.models.manufacturing import CULTURE_TRANSITIONS
from mfg.signatures import service as signatures


def get_culture(session: Session, code: str) -> Culture:
    return by_local_code(session, Culture, code, noun="culture vessel")


def list_cultures(
    session: Session, *, actor: User, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Culture], int]:
    authorize(actor, Action.VIEW_MANUFACTURING)
    conditions = [Culture.status == status] if status else []
    return newest_page(session, Culture, *conditions, limit=limit, offset=offset)


def materials_of(session: Session, step_type: str, step_id: int) -> list[MaterialLot]:
    return materials.used_by(session, step_type, step_id)


@signatures.signs("culture")
def culture_content(session: Session, code: str) -> dict:
    """What the start of a primary culture signs: the vessel, its seeding and the medium lots."""
    culture = get_culture(session, code)
    lots = materials.used_by(session, "culture", culture.id)
    return {
        "code": culture.code,
        "biopsy_id": culture.biopsy_id,
        "passage": culture.passage_number,
        "vessel": culture.vessel_type,
        "surface_cm2": culture.surface_cm2,
        "seeded_cells": culture.seeded_cells,
        "explant": culture.explant,
        "seeded_at": culture.seeded_at,
        "materials": sorted(lot.code for lot in lots),
    }


def start_primary_culture(
    session: Session,
    *,
    actor: User,
    biopsy: Biopsy,
    vessel_type: str,
    surface_cm2: float,
    seeded_at: datetime,
    medium_lots: Sequence[MaterialLot],
    password: str,
    seeded_cells: int | None = None,
) -> Culture:
    """A received biopsy of an eligible donor into a labelled vessel, with released media."""
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    check_culture_start(session, biopsy)
    if not medium_lots:
        raise InvalidInput("Record the medium lot(s) used.", details={"field": "medium_lots"})
    check_materials_usable(session, medium_lots)
    if surface_cm2 <= 0 or (seeded_cells is not None and seeded_cells <= 0):
        raise InvalidInput(
            "The surface and the cells seeded must be positive.",
            details={"field": "surface_cm2" if surface_cm2 <= 0 else "seeded_cells"},
        )
    if seeded_at > utcnow():
        raise InvalidInput("The seeding time is in the future.", details={"field": "seeded_at"})
    transition(
        session,
        biopsy,
        to=BiopsyStatus.IN_CULTURE,
        table=BIOPSY_TRANSITIONS,
        actor=actor,
        action="biopsy.into_culture",
        entity_type="biopsy",
        entity_id=biopsy.din,
    )
    culture = Culture(
        code=str(allocate_local(session, "CV")),
        biopsy_id=biopsy.id,
        vessel_type=vessel_type.strip(),
        surface_cm2=surface_cm2,
        seeded_cells=seeded_cells,
        explant=seeded_cells is None,
        seeded_at=seeded_at,
        created_by_id=actor.id,
    )
    session.add(culture)
    session.flush()
    materials.record_use(
        session, actor=actor, lots=medium_lots, step_type="culture", step_id=culture.id
    )
    audit.record(
        session,
        actor=actor,
        action="culture.started",
        entity_type="culture",
        entity_id=culture.code,
        changes={
            "biopsy": [None, biopsy.din],
            "vessel": [None, culture.vessel_type],
            "seeded_cells": [None, seeded_cells],
            "materials": [None, [m.code for m in medium_lots]],
        },
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="culture",
        entity_id=culture.code,
    )
    return culture


@signatures.signs("passage")
def passage_content(session: Session, passage_id: str) -> dict:
    """What a vessel's passage signs: its growth, the vessels seeded and the reagent lots."""
    passage = session.get(Passage, int(passage_id))
    culture = session.get(Culture, passage.culture_id)
    children = children_of(session, culture)
    lots = materials.used_by(session, "passage", passage.id)
    return {
        "culture": culture.code,
        "started": passage.started_at,
        "ended": passage.ended_at,
        "harvested": passage.harvested_cells,
        "viability": passage.viability_pct,
        "reseeded": passage.reseeded_cells,
        "vessels": sorted(c.code for c in children),
        "pd": passage.population_doublings,
        "cpd": passage.cumulative_pd,
        "deviation": passage.deviation_note,
        "materials": sorted(lot.code for lot in lots),
    }


def record_passage(
    session: Session,
    *,
    actor: User,
    culture: Culture,
    started_at: datetime,
    ended_at: datetime,
    harvested_cells: int,
    viability_pct: float,
    reseeded_cells: int,
    new_vessels: int,
    vessel_type: str,
    surface_cm2: float,
    reagent_lots: Sequence[MaterialLot],
    password: str,
    split_ratio: str = "",
    deviation_note: str = "",
) -> tuple[Passage, list[Culture]]:
    """Harvest a vessel and seed new ones; PD, cumulative PD and doubling time are computed."""
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    problems = passage_problems(
        harvested=harvested_cells,
        viability_pct=viability_pct,
        reseeded=reseeded_cells,
        new_vessels=new_vessels,
        started_at=started_at,
        ended_at=ended_at,
        now=utcnow(),
    )
    minimum = settings_of(session).inprocess_viability_min_pct
    below = viability_pct < minimum
    problems += low_viability_problems(
        viability_pct=viability_pct, minimum_pct=minimum, deviation_note=deviation_note
    )
    if problems:
        raise RuleViolation.of(problems, several="passage_refused")
    check_materials_usable(session, reagent_lots)
    pd = population_doublings(harvested_cells, culture.seeded_cells)
    hours = (ended_at - culture.seeded_at).total_seconds() / 3600
    passage = Passage(
        culture_id=culture.id,
        started_at=started_at,
        ended_at=ended_at,
        harvested_cells=harvested_cells,
        viability_pct=viability_pct,
        reseeded_cells=reseeded_cells,
        new_vessels=new_vessels,
        split_ratio=split_ratio.strip(),
        population_doublings=pd,
        cumulative_pd=cumulative_pd(culture.cumulative_pd, pd),
        doubling_time_h=doubling_time_hours(hours, harvested_cells, culture.seeded_cells),
        viability_below_spec=below,
        deviation_note=deviation_note.strip(),
        performed_by_id=actor.id,
    )
    session.add(passage)
    transition(
        session,
        culture,
        to=CultureStatus.PASSAGED,
        table=CULTURE_TRANSITIONS,
        actor=actor,
        action="culture.passaged",
        entity_type="culture",
        entity_id=culture.code,
        reason=deviation_note.strip() or None,
    )
    children = [
        Culture(
            code=str(allocate_local(session, "CV")),
            biopsy_id=culture.biopsy_id,
            parent_id=culture.id,
            passage_number=culture.passage_number + 1,
            vessel_type=vessel_type.strip(),
            surface_cm2=surface_cm2,
            seeded_cells=reseeded_cells // new_vessels,
            seeded_at=ended_at,
            cumulative_pd=passage.cumulative_pd,
            created_by_id=actor.id,
        )
        for _ in range(new_vessels)
    ]
    session.add_all(children)
    session.flush()
    materials.record_use(
        session, actor=actor, lots=reagent_lots, step_type="passage", step_id=passage.id
    )
    if below:
        deviations.viability_excursion(
            session,
            actor=actor,
            step=f"passage of vessel {culture.code}",
            entity_type="culture",
            entity_id=culture.code,
            viability_pct=viability_pct,
            minimum_pct=minimum,
            note=deviation_note,
        )
    audit.record(
        session,
        actor=actor,
        action="passage.recorded",
        entity_type="culture",
        entity_id=culture.code,
        changes={
            "harvested_cells": [None, harvested_cells],
            "viability_pct": [None, viability_pct],
            "population_doublings": [None, pd],
            "cumulative_pd": [None, passage.cumulative_pd],
            "new_vessels": [None, [c.code for c in children]],
        },
        reason=deviation_note.strip() or None,
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="passage",
        entity_id=passage.id,
    )
    return passage, children


def passage_of(session: Session, culture: Culture) -> Passage | None:
    return session.exec(select(Passage).where(Passage.culture_id == culture.id)).first()


def children_of(session: Session, culture: Culture) -> list[Culture]:
    return list(
        session.exec(
            select(Culture).where(Culture.parent_id == culture.id).order_by(col(Culture.id))
        ).all()
    )


def lots_by_codes(session: Session, codes: Sequence[str]) -> list[MaterialLot]:
    """The material lots named by codes or scans (ML… or supplier GS1), each found or refused."""
    return [get_material(session, code) for code in codes if code.strip()]
