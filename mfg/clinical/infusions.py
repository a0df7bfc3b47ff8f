"""The infusion of a dose verified at the bedside (``bedside``): the times, volume, vital signs
before, during and after, and reactions, signed "Administered" by the clinician; the dose
becomes infused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.transitions import transition
from mfg.auth.permissions import Action, authorize
from mfg.clinical.bedside import identity_signatures
from mfg.errors import InvalidInput, RuleViolation
from mfg.models import (
    BedsideCheck,
    Dose,
    DoseStatus,
    Infusion,
    Lot,
    LotStatus,
    Meaning,
    Patient,
    User,
    utcnow,
)
from mfg.models.manufacturing import DOSE_TRANSITIONS
from mfg.signatures import service as signatures

VITALS = ("temperature_c", "heart_rate", "blood_pressure", "respiratory_rate", "spo2")
MOMENTS = ("before", "during", "after")


def infusion_content(infusion: Infusion) -> dict:
    return {
        "dose_id": infusion.dose_id,
        "patient_id": infusion.patient_id,
        "started": infusion.started_at,
        "stopped": infusion.stopped_at,
        "volume_ml": infusion.volume_ml,
        "complete": infusion.complete,
        "vitals": infusion.vitals,
        "reactions": infusion.reactions,
    }


def infusion_problems(
    record: BedsideCheck,
    started_at: datetime,
    stopped_at: datetime,
    volume_ml: float,
    vitals: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """What is wrong with an infusion's record, all of it at once."""
    problems = []
    if stopped_at < started_at:
        problems.append("The infusion stops before it starts.")
    if stopped_at > utcnow():
        problems.append("The stop time is in the future.")
    if started_at < record.checked_at - timedelta(minutes=1):
        problems.append("The infusion starts before the bedside check.")
    if volume_ml <= 0:
        problems.append("The volume infused is positive.")
    missing = [f"{m} {v}" for m in MOMENTS for v in VITALS if not vitals.get(m, {}).get(v)]
    if missing:
        problems.append("Vital signs missing: " + ", ".join(missing) + ".")
    return problems


def record_infusion(
    session: Session,
    *,
    actor: User,
    record: BedsideCheck,
    started_at: datetime,
    stopped_at: datetime,
    volume_ml: float,
    complete: bool,
    bag_inspected: bool,
    vitals: Mapping[str, Mapping[str, str]],
    reactions: str,
    password: str,
    route: str = "intravenous",
    conditional_acknowledged: bool = False,
) -> Infusion:
    """The infusion of a verified dose: the dose becomes infused; signed "Administered"."""
    authorize(actor, Action.BEDSIDE)
    signed = identity_signatures(session, record)
    if len({s.user_id for s in signed}) < 2:
        raise RuleViolation(
            "Two different clinicians must sign the identity verification before the infusion."
        )
    problems = infusion_problems(record, started_at, stopped_at, volume_ml, vitals)
    if problems:
        raise RuleViolation(problems)
    if not bag_inspected:
        raise InvalidInput(
            "Inspect the bag before infusing (leaks, clumps, label intact).",
            code="bag_not_inspected",
            details={"field": "bag_inspected"},
        )
    dose = session.get(Dose, record.dose_id)
    lot = session.get(Lot, dose.lot_id)
    if lot.status == LotStatus.CONDITIONALLY_RELEASED and not conditional_acknowledged:
        raise RuleViolation(
            f"Lot {lot.din} is conditionally released (final sterility pending): acknowledge it "
            "before infusing."
        )
    transition(
        session,
        dose,
        to=DoseStatus.INFUSED,
        table=DOSE_TRANSITIONS,
        actor=actor,
        action="dose.infused",
        entity_type="dose",
        entity_id=dose.identifier,
    )
    infusion = Infusion(
        dose_id=dose.id,
        patient_id=record.patient_id,
        bedside_check_id=record.id,
        started_at=started_at,
        stopped_at=stopped_at,
        volume_ml=volume_ml,
        complete=complete,
        route=route,
        bag_inspected=bag_inspected,
        vitals=json.dumps({m: dict(vitals.get(m, {})) for m in MOMENTS}, ensure_ascii=False),
        reactions=reactions.strip(),
        recorded_by_id=actor.id,
    )
    session.add(infusion)
    session.flush()
    patient = session.get(Patient, record.patient_id)
    audit.record(
        session,
        actor=actor,
        action="patient.infused",
        entity_type="patient",
        entity_id=patient.code,
        changes={
            "dose": [None, dose.identifier],
            "volume_ml": [None, volume_ml],
            "complete": [None, complete],
            "reactions": [None, infusion.reactions],
            "conditional_release_acknowledged": [None, conditional_acknowledged],
        },
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.ADMINISTERED,
        entity_type="infusion",
        entity_id=infusion.id,
        content=infusion_content(infusion),
    )
    return infusion


def infusions_of(session: Session, patient: Patient) -> list[Infusion]:
    query = select(Infusion).where(Infusion.patient_id == patient.id)
    return list(session.exec(query.order_by(col(Infusion.id))).all())
