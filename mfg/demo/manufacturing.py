"""Demonstration material lots (released, quarantined, rejected), cultures and lots, made through
the same input models and services as the forms, typed as people type them: facility-clock times,
decimal commas (12,5 mL), grouped counts (91 000 000) and scanned codes in one field."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlmodel import Session, col, select

from mfg.auth.service import require_user
from mfg.demo.typed import local_input, with_comma
from mfg.donors.service import local_today
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
    StorageIn,
)
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, Lot, utcnow

LOTS = (
    # name, supplier, catalogue, lot, GTIN, days to expiry, decision
    (
        "Alpha-MEM culture medium",
        "Example Media GmbH",
        "AM-500",
        "AM26-1187",
        "09501101020917",
        300,
        "release",
    ),
    (
        "Human platelet lysate",
        "Example Biologicals",
        "HPL-100",
        "HPL-2026-0457",
        "04012345678901",
        540,
        "release",
    ),
    ("Recombinant trypsin", "Example Enzymes", "TRY-100", "TR-55012", "", 200, None),
    ("DMSO, cryo grade", "Example Chemicals", "DM-050", "DM-7781", "", 90, "reject"),
)


def load_demo_materials(session: Session, *, qa_password: str) -> list[str]:
    tech, qa = require_user(session, "tech"), require_user(session, "qa")
    today = local_today(session)
    codes = []
    for name, supplier, catalogue, lot_number, gtin, days, decision in LOTS:
        received = MaterialCreate(
            name=name,
            supplier=supplier,
            catalogue_number=catalogue,
            lot_number=lot_number,
            expiry=(today + timedelta(days=days)).isoformat(),
            gtin=gtin,
        )
        lot = materials.register_material(session, actor=tech, command=received)
        if decision:
            decided = MaterialDecision(
                release=decision == "release",
                password=qa_password,
                reason="" if decision == "release" else "Certificate of analysis missing",
            )
            materials.decide_material(session, actor=qa, lot=lot, command=decided)
        codes.append(lot.code)
    return [f"material lots {', '.join(codes)}: released, quarantined and rejected"]


def _typed_days_ago(session: Session, days: float) -> str:
    """A time ``days`` ago as typed into a page's datetime-local field."""
    return local_input(session, utcnow() - timedelta(days=days))


def load_demo_cultures(session: Session, *, tech_password: str) -> tuple[dict[str, str], list[str]]:
    """A primary culture from each received biopsy of an eligible donor, each passaged into two
    vessels; one vessel of each donor pooled into a lot in process, the other two into a lot
    expanded, harvested, filled into doses and cryopreserved."""
    tech = require_user(session, "tech")
    released = {
        lot.name: lot for lot in materials.list_materials(session, actor=tech, status="released")[0]
    }
    medium, lysate = released["Alpha-MEM culture medium"], released["Human platelet lysate"]
    received = session.exec(
        select(Biopsy)
        .join(Donor, col(Donor.id) == Biopsy.donor_id)
        .where(Biopsy.status == BiopsyStatus.RECEIVED, Donor.status == DonorStatus.ELIGIBLE)
        .order_by(col(Biopsy.id))
    ).all()
    made, vessels = [], []
    for index, biopsy in enumerate(received):
        start = CultureStart(
            biopsy=biopsy.din,
            vessel_type="T25 flask",
            surface_cm2=with_comma(25),
            seeded_cells=f"{300_000 + 50_000 * index:,}".replace(",", " "),
            seeded_at=_typed_days_ago(session, 40),
            medium_lots=f"{medium.code} {lysate.code}",  # scanned one after the other
            password=tech_password,
        )
        culture = cultures.start_primary_culture(session, actor=tech, command=start)
        passage = PassageIn(
            started_at=_typed_days_ago(session, 33.05),
            ended_at=_typed_days_ago(session, 33),
            harvested_cells=f"{2_100_000 + 200_000 * index:,}".replace(",", " "),
            viability_pct=with_comma(93.5 - index),
            reseeded_cells="1 800 000",
            new_vessels="4",
            vessel_type="T75 flask",
            surface_cm2="75",
            reagent_lots=medium.code,
            password=tech_password,
            split_ratio="1:3",
        )
        _, children = cultures.record_passage(session, actor=tech, culture=culture, command=passage)
        made += [culture.code, *(c.code for c in children)]
        vessels.append(children)
    summary = [f"culture vessels {', '.join(made)} (each primary culture passaged into four)"]
    in_process = pools.pool_cultures(
        session,
        actor=tech,
        command=PoolIn(
            culture=[vessels[0][0].code, vessels[1][0].code],
            cells=["5 600 000", "6,1e6"],
            pooled_at=_typed_days_ago(session, 2),
            password=tech_password,
        ),
    )
    filled = {
        name: _expanded_and_filled_lot(
            session, tech, [vessels[0][i], vessels[1][i]], tech_password, medium, days=days
        ).din
        for i, (name, days) in enumerate(
            (("released", 32), ("conditional", 22), ("rejected", 30)), start=1
        )
    }
    return {"in_process": in_process.din, **filled}, [
        *summary,
        f"lot {in_process.din} pooled from two donors, in process",
        f"lots {', '.join(filled.values())} expanded, harvested, filled into doses and stored",
    ]


def _expanded_and_filled_lot(
    session: Session, tech, pair, password: str, medium, *, days: float
) -> Lot:
    """Pooled ``days`` ago, expanded once, harvested, filled and stored 12 days later."""
    at = partial(_typed_days_ago, session)
    pooled = PoolIn(
        culture=[pair[0].code, pair[1].code],
        cells=["5 400 000", "6 000 000"],
        pooled_at=at(days),
        password=password,
    )
    lot = pools.pool_cultures(session, actor=tech, command=pooled)
    later = days - 14  # the offsets below are those of a lot pooled 14 days ago
    expanded = LotPassageIn(
        passage_number=str(lot.passage_number),
        started_at=at(8.05 + later),
        ended_at=at(8 + later),
        harvested_cells="91 000 000",
        viability_pct="94,2",
        reseeded_cells="3e7",
        vessels="6",
        vessel_type="CellSTACK 2 chamber",
        reagent_lots=medium.code,
        password=password,
    )
    lots.record_lot_passage(session, actor=tech, lot=lot, command=expanded)
    harvested = HarvestIn(
        started_at=at(2.1 + later),
        ended_at=at(2 + later),
        harvested_cells="252 000 000",
        viability_pct="92,6",
        final_volume_ml="50",
        formulation_lots=medium.code,
        password=password,
    )
    lots.harvest_lot(session, actor=tech, lot=lot, command=harvested)
    filled = FillIn(
        filled_at=at(1.95 + later),
        doses="4",
        volume_ml="12,5",
        container="CryoMACS freezing bag 50",
        password=password,
    )
    doses.fill_lot(session, actor=tech, lot=lot, command=filled)
    stored = StorageIn(
        frozen_at=at(1.9 + later),
        freezing_programme="MSC controlled-rate −1 °C/min to −90 °C",
        temperature_c="-185",
        tank="LN2-1",
        rack="A",
        box=f"B{lot.din[-2:]}",  # a box per lot
        first_position="1",
        password=password,
    )
    storage.cryopreserve_lot(session, actor=tech, lot=lot, command=stored)
    return lot
