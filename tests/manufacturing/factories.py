"""Manufacturing test data, made through the services as the technicians and QA would, with the
same input models as the forms and the API."""

from __future__ import annotations

from datetime import date, timedelta

from mfg.manufacturing import cultures, doses, lots, materials, pools, storage
from mfg.manufacturing.schemas import (
    CultureStart,
    FillIn,
    HarvestIn,
    LotPassageIn,
    MaterialCreate,
    MaterialDecision,
    PassageIn,
    PoolIn,
    PoolMemberIn,
    StorageIn,
)
from mfg.models import Culture, Dose, Harvest, Lot, MaterialLot, Passage, utcnow
from tests.donors.factories import Lab
from tests.factories import PASSWORD

# Biopsies collected (and received 6 hours later) before their cells are seeded here, 300 hours
# ago: before the lots the tests pool from them, up to 240 hours ago.
COLLECTED = utcnow() - timedelta(days=13)
SEEDED_HOURS_AGO = 300


def released_medium(lab: Lab) -> MaterialLot:
    name = f"medium-{utcnow().timestamp()}"
    received = MaterialCreate(
        name=name, supplier="S", catalogue_number=name, lot_number=name, expiry=date(2031, 1, 1)
    )
    lot = lab.run(
        "technician",
        lambda s, a: materials.register_material(s, actor=a, command=received),
    )
    return lab.run(
        "qa",
        lambda s, a: materials.decide_material(
            s,
            actor=a,
            lot=materials.get_material(s, lot.code),
            command=MaterialDecision(release=True, password=PASSWORD),
        ),
    )


def culture_of_eligible_donor(lab: Lab, medium: MaterialLot | None = None) -> Culture:
    if medium is None:
        medium = released_medium(lab)
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    start = CultureStart(
        biopsy=biopsy.din,
        vessel_type="T75",
        surface_cm2=75,
        seeded_cells=500_000,
        seeded_at=utcnow() - timedelta(hours=SEEDED_HOURS_AGO),
        password=PASSWORD,
        medium_lots=[medium.code],
    )
    return lab.run(
        "technician", lambda s, a: cultures.start_primary_culture(s, actor=a, command=start)
    )


def pool(lab: Lab, *items: tuple[Culture, int], hours_ago: float = 1 / 12) -> Lot:
    command = PoolIn(
        members=[PoolMemberIn(culture=c.code, cells=n) for c, n in items],
        pooled_at=utcnow() - timedelta(hours=hours_ago),
        password=PASSWORD,
    )
    return lab.run("technician", lambda s, a: pools.pool_cultures(s, actor=a, command=command))


def passage(
    lab: Lab,
    culture: Culture,
    medium: MaterialLot,
    *,
    hours_ago: float = 30,
    viability: float = 95.0,
    reseeded: int = 2_000_000,
    **extra,
) -> tuple[Passage, list[Culture]]:
    """An hour's passage of ``culture`` ended ``hours_ago``: 4 million cells harvested, 2 million
    (``reseeded``) seeded into two T175 flasks with ``medium``; returns the passage and the new
    vessels."""
    ended = utcnow() - timedelta(hours=hours_ago)
    command = PassageIn(
        **{
            "started_at": ended - timedelta(hours=1),
            "ended_at": ended,
            "harvested_cells": 4_000_000,
            "viability_pct": viability,
            "reseeded_cells": reseeded,
            "new_vessels": 2,
            "vessel_type": "T175 flask",
            "surface_cm2": 175,
            "reagent_lots": [medium.code],
            "password": PASSWORD,
            **extra,
        }
    )
    return lab.run(
        "technician",
        lambda s, a: cultures.record_passage(
            s, actor=a, culture=cultures.get_culture(s, culture.code), command=command
        ),
    )


def pooled_lot(lab: Lab, *, hours_ago: float = 240) -> Lot:
    """Two donors' primary cultures (500,000 cells seeded) pooled with 2 + 2 million cells."""
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    return pool(lab, (first, 2_000_000), (second, 2_000_000), hours_ago=hours_ago)


def lot_passage(
    lab: Lab,
    lot: Lot,
    *,
    harvested: int,
    reseeded: int,
    hours_ago: float = 0.1,
    viability: float = 92.0,
    role: str = "technician",
    **extra,
):
    """A 40-minute passage of the lot ended ``hours_ago``, at the passage the lot is at (unless
    ``passage_number`` says which passage the form showed)."""
    ended = utcnow() - timedelta(hours=hours_ago)

    def work(s, a):
        current = pools.get_lot(s, lot.din)
        command = LotPassageIn(
            **{
                "passage_number": current.passage_number,
                "started_at": ended - timedelta(minutes=40),
                "ended_at": ended,
                "harvested_cells": harvested,
                "viability_pct": viability,
                "reseeded_cells": reseeded,
                "vessels": 4,
                "vessel_type": "CellSTACK 5",
                "password": PASSWORD,
                **extra,
            }
        )
        return lots.record_lot_passage(s, actor=a, lot=current, command=command)

    return lab.run(role, work)


def harvest(
    lab: Lab,
    lot: Lot,
    *,
    cells: int = 400_000_000,
    volume_ml: float = 100.0,
    viability: float = 93.0,
    hours_ago: float = 0.5,
    **extra,
) -> Harvest:
    ended = utcnow() - timedelta(hours=hours_ago)
    command = HarvestIn(
        **{
            "started_at": ended - timedelta(hours=1),
            "ended_at": ended,
            "harvested_cells": cells,
            "viability_pct": viability,
            "final_volume_ml": volume_ml,
            "password": PASSWORD,
            **extra,
        }
    )
    return lab.run(
        "technician",
        lambda s, a: lots.harvest_lot(s, actor=a, lot=pools.get_lot(s, lot.din), command=command),
    )


def fill(
    lab: Lab, lot: Lot, *, count: int = 4, volume_ml: float = 20.0, role: str = "technician"
) -> list[Dose]:
    command = FillIn(
        filled_at=utcnow() - timedelta(minutes=10),
        doses=count,
        volume_ml=volume_ml,
        container="CryoMACS 250 bag",
        password=PASSWORD,
    )
    return lab.run(
        role,
        lambda s, a: doses.fill_lot(s, actor=a, lot=pools.get_lot(s, lot.din), command=command),
    )


def filled_lot(lab: Lab, *, count: int = 4) -> tuple[Lot, list[Dose]]:
    lot = pooled_lot(lab)
    harvest(lab, lot)
    return lot, fill(lab, lot, count=count)


def cryopreserve(lab: Lab, lot: Lot, *, box: str = "B1", first: int = 1) -> list[Dose]:
    command = StorageIn(
        frozen_at=utcnow() - timedelta(minutes=5),
        freezing_programme="MSC-10%DMSO-1C/min",
        temperature_c=-180,
        tank="T2",
        rack="R3",
        box=box,
        first_position=first,
        password=PASSWORD,
    )
    return lab.run(
        "technician",
        lambda s, a: storage.cryopreserve_lot(
            s, actor=a, lot=pools.get_lot(s, lot.din), command=command
        ),
    )
