"""Manufacturing test data, made through the services as the technicians and QA would."""

from __future__ import annotations

from datetime import date, timedelta

from mfg.donors import biopsies
from mfg.manufacturing import cultures, doses, lots, materials, pools, storage
from mfg.models import Culture, Dose, Harvest, Lot, MaterialLot, Passage, utcnow
from tests.donors.factories import DonorWorld
from tests.factories import PASSWORD


def released_medium(lab: DonorWorld) -> MaterialLot:
    name = f"medium-{utcnow().timestamp()}"
    lot = lab.run(
        "technician",
        lambda s, a: materials.register_material(
            s,
            actor=a,
            name=name,
            supplier="S",
            catalogue_number=name,
            lot_number=name,
            expiry=date(2031, 1, 1),
        ),
    )
    return lab.run(
        "qa",
        lambda s, a: materials.decide_material(
            s, actor=a, lot=materials.get_material(s, lot.code), release=True, password=PASSWORD
        ),
    )


def culture_of_eligible_donor(lab: DonorWorld, medium: MaterialLot | None = None) -> Culture:
    if medium is None:
        medium = released_medium(lab)
    _, biopsy = lab.eligible_donor()
    lab.receive(biopsy)
    return lab.run(
        "technician",
        lambda s, a: cultures.start_primary_culture(
            s,
            actor=a,
            biopsy=biopsies.get_biopsy(s, biopsy.din),
            vessel_type="T75",
            surface_cm2=75,
            seeded_cells=500_000,
            seeded_at=utcnow() - timedelta(hours=50),
            password=PASSWORD,
            medium_lots=[s.get(MaterialLot, medium.id)],
        ),
    )


def pool(lab: DonorWorld, *items: tuple[Culture, int], hours_ago: float = 1 / 12) -> Lot:
    return lab.run(
        "technician",
        lambda s, a: pools.pool_cultures(
            s,
            actor=a,
            contributions=[(cultures.get_culture(s, c.code), n) for c, n in items],
            pooled_at=utcnow() - timedelta(hours=hours_ago),
            password=PASSWORD,
        ),
    )


def passage(
    lab: DonorWorld,
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
    return lab.run(
        "technician",
        lambda s, a: cultures.record_passage(
            s,
            actor=a,
            culture=cultures.get_culture(s, culture.code),
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
            harvested_cells=4_000_000,
            viability_pct=viability,
            reseeded_cells=reseeded,
            new_vessels=2,
            vessel_type="T175 flask",
            surface_cm2=175,
            reagent_lots=[s.get(MaterialLot, medium.id)],
            password=PASSWORD,
            **extra,
        ),
    )


def pooled_lot(lab: DonorWorld, *, hours_ago: float = 240) -> Lot:
    """Two donors' primary cultures (500,000 cells seeded) pooled with 2 + 2 million cells."""
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    return pool(lab, (first, 2_000_000), (second, 2_000_000), hours_ago=hours_ago)


def lot_passage(
    lab: DonorWorld,
    lot: Lot,
    *,
    harvested: int,
    reseeded: int,
    hours_ago: float = 0.1,
    viability: float = 92.0,
    role: str = "technician",
    **extra,
):
    ended = utcnow() - timedelta(hours=hours_ago)
    return lab.run(
        role,
        lambda s, a: lots.record_lot_passage(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            started_at=ended - timedelta(minutes=40),
            ended_at=ended,
            harvested_cells=harvested,
            viability_pct=viability,
            reseeded_cells=reseeded,
            vessels=4,
            vessel_type="CellSTACK 5",
            reagent_lots=[],
            password=PASSWORD,
            **extra,
        ),
    )


def harvest(
    lab: DonorWorld,
    lot: Lot,
    *,
    cells: int = 400_000_000,
    volume_ml: float = 100.0,
    viability: float = 93.0,
    hours_ago: float = 0.5,
    **extra,
) -> Harvest:
    ended = utcnow() - timedelta(hours=hours_ago)
    return lab.run(
        "technician",
        lambda s, a: lots.harvest_lot(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
            harvested_cells=cells,
            viability_pct=viability,
            final_volume_ml=volume_ml,
            formulation_lots=[],
            password=PASSWORD,
            **extra,
        ),
    )


def fill(
    lab: DonorWorld, lot: Lot, *, count: int = 4, volume_ml: float = 20.0, role: str = "technician"
) -> list[Dose]:
    return lab.run(
        role,
        lambda s, a: doses.fill_lot(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            filled_at=utcnow() - timedelta(minutes=10),
            doses=count,
            volume_ml=volume_ml,
            container="CryoMACS 250 bag",
            password=PASSWORD,
        ),
    )


def filled_lot(lab: DonorWorld, *, count: int = 4) -> tuple[Lot, list[Dose]]:
    lot = pooled_lot(lab)
    harvest(lab, lot)
    return lot, fill(lab, lot, count=count)


def cryopreserve(lab: DonorWorld, lot: Lot, *, box: str = "B1", first: int = 1) -> list[Dose]:
    return lab.run(
        "technician",
        lambda s, a: storage.cryopreserve_lot(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            frozen_at=utcnow() - timedelta(minutes=5),
            freezing_programme="MSC-10%DMSO-1C/min",
            temperature_c=-180,
            tank="T2",
            rack="R3",
            box=box,
            first_position=first,
            password=PASSWORD,
        ),
    )
