"""The infusion of a dose verified at the bedside (``bedside``): the times, volume, vital signs
before, during and after, and reactions, signed "Administered" by the clinician; the dose
becomes infused.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import DOSE
from mfg.auth.permissions import Action, authorize
from mfg.clinical.bedside import identity_signatures
from mfg.clinical.orders import complete_when_given, get_order
from mfg.clinical.rules import (
    bag_inspected,
    conditional_release_acknowledged,
    identity_verified_by_two,
    infusion_record_plausible,
    vital_signs_plausible,
)
from mfg.clinical.schemas import InfusionIn
from mfg.db import newest_page, settings_of
from mfg.errors import NotFound, RuleViolation
from mfg.models import (
    Allocation,
    BedsideCheck,
    Dose,
    DoseStatus,
    Infusion,
    Lot,
    Meaning,
    Patient,
    User,
    utcnow,
)
from mfg.signatures import service as signatures


@signatures.signs("infusion")
def infusion_content(session: Session, infusion_id: str) -> dict:
    """What the clinician signs "Administered": the times, volume, vital signs and reactions."""
    infusion = session.get(Infusion, int(infusion_id))
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


def record_infusion(
    session: Session, *, actor: User, record: BedsideCheck, command: InfusionIn
) -> Infusion:
    """The infusion of a verified dose: the dose becomes infused; signed "Administered"."""
    authorize(actor, Action.BEDSIDE)
    signers = [s.user_id for s in identity_signatures(session, record)]
    if refused := identity_verified_by_two(signers):
        raise RuleViolation.of([refused], several=refused.code)
    dose = session.get(Dose, record.dose_id)
    tz = settings_of(session).tz
    started_at, stopped_at = (
        quantities.in_zone(t, tz) for t in (command.started_at, command.stopped_at)
    )
    _check_infusion(session, record, dose, command, started_at, stopped_at)
    DOSE.move(session, dose, to=DoseStatus.INFUSED, actor=actor)
    infusion = _infusion_row(record, dose, command, started_at, stopped_at)
    infusion.recorded_by_id = actor.id
    session.add(infusion)
    session.flush()
    allocation = session.exec(
        select(Allocation).where(Allocation.dose_id == dose.id, col(Allocation.active))
    ).one()
    complete_when_given(session, actor=actor, order=get_order(session, allocation.order_id))
    _infusion_recorded(session, actor, record, dose, infusion, command)
    signatures.sign(
        session,
        signer=actor,
        password=command.password,
        meaning=Meaning.ADMINISTERED,
        entity_type="infusion",
        entity_id=infusion.id,
    )
    return infusion


def _check_infusion(
    session: Session,
    record: BedsideCheck,
    dose: Dose,
    command: InfusionIn,
    started_at: datetime,
    stopped_at: datetime,
) -> None:
    """Everything wrong with the infusion's record, refused at once: its times, volume and
    vital signs, the bag's inspection and the acknowledgement of a conditional release."""
    problems = infusion_record_plausible(
        record,
        dose,
        started_at=started_at,
        stopped_at=stopped_at,
        volume_ml=command.volume_ml,
        now=utcnow(),
        tz=settings_of(session).tz,
    )
    problems += vital_signs_plausible(command.vitals.model_dump())
    lot = session.get(Lot, dose.lot_id)
    problems += [
        reason
        for reason in (
            bag_inspected(command.bag_inspected),
            conditional_release_acknowledged(
                lot.status, din=lot.din, acknowledged=command.conditional_acknowledged
            ),
        )
        if reason
    ]
    if problems:
        raise RuleViolation.of(problems, several="infusion_refused")


def _infusion_row(
    record: BedsideCheck,
    dose: Dose,
    command: InfusionIn,
    started_at: datetime,
    stopped_at: datetime,
) -> Infusion:
    return Infusion(
        dose_id=dose.id,
        patient_id=record.patient_id,
        bedside_check_id=record.id,
        started_at=started_at,
        stopped_at=stopped_at,
        volume_ml=command.volume_ml,
        complete=command.complete,
        route=command.route,
        bag_inspected=command.bag_inspected,
        vitals=json.dumps(command.vitals.model_dump(), ensure_ascii=False),
        reactions=command.reactions.strip(),
    )


def _infusion_recorded(
    session: Session,
    actor: User,
    record: BedsideCheck,
    dose: Dose,
    infusion: Infusion,
    command: InfusionIn,
) -> None:
    audit.record(
        session,
        actor=actor,
        action="patient.infused",
        entity_type="patient",
        entity_id=session.get(Patient, record.patient_id).code,
        changes={
            "dose": [None, dose.identifier],
            "volume_ml": [None, command.volume_ml],
            "complete": [None, command.complete],
            "reactions": [None, infusion.reactions],
            "conditional_release_acknowledged": [None, command.conditional_acknowledged],
        },
    )


def infusions_of(session: Session, patient: Patient) -> list[Infusion]:
    query = select(Infusion).where(Infusion.patient_id == patient.id)
    return list(session.exec(query.order_by(col(Infusion.id))).all())


def get_infusion(session: Session, infusion_id: int) -> Infusion:
    infusion = session.get(Infusion, infusion_id)
    if infusion is None:
        raise NotFound("No infusion %(infusion)s.", params={"infusion": infusion_id})
    return infusion


def list_infusions(
    session: Session,
    *,
    actor: User,
    patient: Patient | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Infusion], int]:
    authorize(actor, Action.VIEW_CLINICAL)
    conditions = [Infusion.patient_id == patient.id] if patient else []
    return newest_page(session, Infusion, *conditions, limit=limit, offset=offset)


def infusion_of_check(session: Session, record: BedsideCheck) -> Infusion | None:
    """The infusion recorded after this bedside check, if any."""
    return session.exec(select(Infusion).where(Infusion.bedside_check_id == record.id)).first()
