"""Demonstration material lots: released, quarantined and rejected, made through the services."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from mfg.auth.service import require_user
from mfg.donors.service import local_today
from mfg.manufacturing import cultures, materials, pools
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, utcnow

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
        lot = materials.register_material(
            session,
            actor=tech,
            name=name,
            supplier=supplier,
            catalogue_number=catalogue,
            lot_number=lot_number,
            expiry=today + timedelta(days=days),
            gtin=gtin,
        )
        if decision:
            materials.decide_material(
                session,
                actor=qa,
                lot=lot,
                release=decision == "release",
                password=qa_password,
                reason="" if decision == "release" else "Certificate of analysis missing",
            )
        codes.append(lot.code)
    return [f"material lots {', '.join(codes)}: released, quarantined and rejected"]


def load_demo_cultures(session: Session, *, tech_password: str) -> list[str]:
    """A primary culture from each received biopsy of an eligible donor; the first one passaged."""
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
    made = []
    for index, biopsy in enumerate(received):
        culture = cultures.start_primary_culture(
            session,
            actor=tech,
            biopsy=biopsy,
            vessel_type="T25 flask",
            surface_cm2=25,
            seeded_cells=300_000 + 50_000 * index,
            seeded_at=utcnow() - timedelta(hours=20),
            medium_lots=[medium, lysate],
            password=tech_password,
        )
        made.append(culture.code)
        if index == 0:
            _, children = cultures.record_passage(
                session,
                actor=tech,
                culture=culture,
                started_at=utcnow() - timedelta(hours=2),
                ended_at=utcnow() - timedelta(hours=1),
                harvested_cells=2_100_000,
                viability_pct=93.5,
                reseeded_cells=1_800_000,
                new_vessels=2,
                vessel_type="T75 flask",
                surface_cm2=75,
                reagent_lots=[medium],
                password=tech_password,
                split_ratio="1:3",
            )
            made += [c.code for c in children]
    summary = [f"culture vessels {', '.join(made)} (one primary culture passaged into two vessels)"]
    in_process = {
        c.code: c for c in cultures.list_cultures(session, actor=tech, status="in_process")[0]
    }
    # a passaged vessel of the first donor and the primary culture of the second
    chosen = [in_process[made[1]], in_process[made[-1]]]
    lot = pools.pool_cultures(
        session,
        actor=tech,
        contributions=[(chosen[0], 600_000), (chosen[1], 900_000)],
        pooled_at=utcnow() - timedelta(minutes=30),
        password=tech_password,
    )
    return [*summary, f"lot {lot.din} pooled from two donors, in process"]
