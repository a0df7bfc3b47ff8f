"""Demonstration material lots: released, quarantined and rejected, made through the services."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.donors.service import local_today
from mfg.manufacturing import materials

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
