"""Cultures and passages: each vessel labelled, each step signed "Performed", growth computed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import BIOPSY, CULTURE
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.deviations import service as deviations
from mfg.donors.biopsies import check_culture_start, get_biopsy
from mfg.errors import InvalidInput, RuleViolation
from mfg.i18n import N_
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.local_lookup import by_local_code
from mfg.manufacturing import materials
from mfg.manufacturing.materials import check_materials_usable
from mfg.manufacturing.rules import (
    below_viability_specification,
    cumulative_pd,
    doubling_time_hours,
    low_viability_problems,
    population_doublings,
    reseeding_problems,
)
from mfg.manufacturing.schemas import CultureStart, PassageIn
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


def _check_seeding(session: Session, biopsy: Biopsy, command: CultureStart) -> datetime:
    """A plausible surface and seeding, done after the biopsy's receipt and not in the future;
    the seeding time, on the facility's clock when typed without an offset."""
    tz = settings_of(session).tz
    seeded_at = quantities.in_zone(command.seeded_at, tz)
    quantities.check(
        {
            "surface_cm2": (command.surface_cm2, quantities.SURFACE_CM2),
            "seeded_cells": (command.seeded_cells, quantities.CELLS),
        }
    )
    quantities.check_event_time(
        "seeded_at",
        seeded_at,
        now=utcnow(),
        after=biopsy.received_at,
        what=N_("seeding time"),
        tz=tz,
    )
    return seeded_at


def start_primary_culture(session: Session, *, actor: User, command: CultureStart) -> Culture:
    """A received biopsy of an eligible donor into a labelled vessel, with released media."""
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    biopsy = get_biopsy(session, command.biopsy)
    check_culture_start(session, biopsy)
    medium_lots = materials.lots_by_codes(session, command.medium_lots)
    if not medium_lots:
        raise InvalidInput("Record the medium lot(s) used.", details={"field": "medium_lots"})
    check_materials_usable(session, medium_lots)
    seeded_at = _check_seeding(session, biopsy, command)
    seeded_cells = command.seeded_cells
    BIOPSY.move(session, biopsy, to=BiopsyStatus.IN_CULTURE, actor=actor, verb="into_culture")
    culture = Culture(
        code=str(allocate_local(session, "CV")),
        biopsy_id=biopsy.id,
        vessel_type=command.vessel_type.strip(),
        surface_cm2=command.surface_cm2,
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
    _culture_started(session, actor, culture, biopsy, medium_lots, password=command.password)
    return culture


def _culture_started(
    session: Session,
    actor: User,
    culture: Culture,
    biopsy: Biopsy,
    medium_lots: Sequence[MaterialLot],
    *,
    password: str,
) -> None:
    """The culture's start in the audit trail, signed "Performed" by who seeded it."""
    audit.record(
        session,
        actor=actor,
        action="culture.started",
        entity_type="culture",
        entity_id=culture.code,
        changes={
            "biopsy": [None, biopsy.din],
            "vessel": [None, culture.vessel_type],
            "seeded_cells": [None, culture.seeded_cells],
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


def _check_passage(
    session: Session, culture: Culture, command: PassageIn
) -> tuple[datetime, datetime]:
    """Plausible counts, viability, vessels and surface; a passage that starts after the vessel
    was seeded, ends not in the future and lasts; no more cells re-seeded than harvested, and a
    deviation note below the in-process viability. Its start and end, on the facility's clock."""
    tz = settings_of(session).tz
    started, ended = (quantities.in_zone(t, tz) for t in (command.started_at, command.ended_at))
    quantities.check(
        {
            "harvested_cells": (command.harvested_cells, quantities.CELLS),
            "viability_pct": (command.viability_pct, quantities.VIABILITY_PCT),
            "reseeded_cells": (command.reseeded_cells, quantities.CELLS_OR_NONE),
            "new_vessels": (command.new_vessels, quantities.VESSELS),
            "surface_cm2": (command.surface_cm2, quantities.SURFACE_CM2),
        }
    )
    quantities.check_step_times(
        started, ended, now=utcnow(), after=culture.seeded_at, step=quantities.PASSAGE, tz=tz
    )
    problems = reseeding_problems(
        harvested=command.harvested_cells, reseeded=command.reseeded_cells
    )
    problems += low_viability_problems(
        viability_pct=command.viability_pct,
        minimum_pct=settings_of(session).inprocess_viability_min_pct,
        deviation_note=command.deviation_note,
    )
    if problems:
        raise RuleViolation.of(problems, several="passage_refused")
    return started, ended


def record_passage(
    session: Session, *, actor: User, culture: Culture, command: PassageIn
) -> tuple[Passage, list[Culture]]:
    """Harvest a vessel and seed new ones; PD, cumulative PD and doubling time are computed."""
    authorize(actor, Action.PERFORM_CULTURE_STEPS)
    started_at, ended_at = _check_passage(session, culture, command)
    reagent_lots = materials.lots_by_codes(session, command.reagent_lots)
    check_materials_usable(session, reagent_lots)
    minimum = settings_of(session).inprocess_viability_min_pct
    passage = _passage_row(culture, command, started_at, ended_at, minimum=minimum)
    passage.performed_by_id = actor.id
    session.add(passage)
    note = command.deviation_note.strip()
    CULTURE.move(session, culture, to=CultureStatus.PASSAGED, actor=actor, reason=note or None)
    children = _seed_vessels(session, actor, culture, command, passage)
    materials.record_use(
        session, actor=actor, lots=reagent_lots, step_type="passage", step_id=passage.id
    )
    if passage.viability_below_spec:
        deviations.viability_excursion(
            session,
            actor=actor,
            step=f"passage of vessel {culture.code}",
            entity_type="culture",
            entity_id=culture.code,
            viability_pct=passage.viability_pct,
            minimum_pct=minimum,
            note=note,
        )
    _passage_recorded(session, actor, culture, passage, children, password=command.password)
    return passage, children


def _passage_row(
    culture: Culture,
    command: PassageIn,
    started_at: datetime,
    ended_at: datetime,
    *,
    minimum: float,
) -> Passage:
    """The passage with its growth: PD, cumulative PD and doubling time since the seeding."""
    harvested = command.harvested_cells
    pd = population_doublings(harvested, culture.seeded_cells)
    hours = (ended_at - culture.seeded_at).total_seconds() / 3600
    return Passage(
        culture_id=culture.id,
        started_at=started_at,
        ended_at=ended_at,
        harvested_cells=harvested,
        viability_pct=command.viability_pct,
        reseeded_cells=command.reseeded_cells,
        new_vessels=command.new_vessels,
        split_ratio=command.split_ratio.strip(),
        population_doublings=pd,
        cumulative_pd=cumulative_pd(culture.cumulative_pd, pd),
        doubling_time_h=doubling_time_hours(hours, harvested, culture.seeded_cells),
        viability_below_spec=below_viability_specification(command.viability_pct, minimum),
        deviation_note=command.deviation_note.strip(),
    )


def _seed_vessels(
    session: Session, actor: User, culture: Culture, command: PassageIn, passage: Passage
) -> list[Culture]:
    """The new vessels at the next passage, the re-seeded cells shared among them."""
    children = [
        Culture(
            code=str(allocate_local(session, "CV")),
            biopsy_id=culture.biopsy_id,
            parent_id=culture.id,
            passage_number=culture.passage_number + 1,
            vessel_type=command.vessel_type.strip(),
            surface_cm2=command.surface_cm2,
            seeded_cells=command.reseeded_cells // command.new_vessels,
            seeded_at=passage.ended_at,
            cumulative_pd=passage.cumulative_pd,
            created_by_id=actor.id,
        )
        for _ in range(command.new_vessels)
    ]
    session.add_all(children)
    session.flush()
    return children


def _passage_recorded(
    session: Session,
    actor: User,
    culture: Culture,
    passage: Passage,
    children: list[Culture],
    *,
    password: str,
) -> None:
    """The passage in the audit trail, signed "Performed" by who did it."""
    audit.record(
        session,
        actor=actor,
        action="passage.recorded",
        entity_type="culture",
        entity_id=culture.code,
        changes={
            "harvested_cells": [None, passage.harvested_cells],
            "viability_pct": [None, passage.viability_pct],
            "population_doublings": [None, passage.population_doublings],
            "cumulative_pd": [None, passage.cumulative_pd],
            "new_vessels": [None, [c.code for c in children]],
        },
        reason=passage.deviation_note or None,
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="passage",
        entity_id=passage.id,
    )


def passage_of(session: Session, culture: Culture) -> Passage | None:
    return session.exec(select(Passage).where(Passage.culture_id == culture.id)).first()


def children_of(session: Session, culture: Culture) -> list[Culture]:
    return list(
        session.exec(
            select(Culture).where(Culture.parent_id == culture.id).order_by(col(Culture.id))
        ).all()
    )
