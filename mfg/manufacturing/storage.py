"""Cryopreserve a lot's filled doses into labelled positions of a storage box, and thaw one
dose for the patient it is prepared for: a dose's time in the tank, every move compare-and-set,
audited and signed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.errors import Conflict, Reason, RuleViolation, conflict
from mfg.manufacturing.doses import doses_of
from mfg.manufacturing.rules import storage_problems
from mfg.models import Dose, DoseStatus, Lot, Meaning, User, utcnow
from mfg.signatures import service as signatures

# Doses that may be thawed: prepared for the patient they are allocated or issued to.
THAWABLE = frozenset({DoseStatus.ALLOCATED, DoseStatus.ISSUED})


@signatures.signs("storage")
def storage_content(session: Session, din: str) -> dict:
    """What the cryopreservation signs: each frozen dose of the lot with its programme,
    temperature and position (the doses are frozen together, in one step)."""
    lot = session.exec(select(Lot).where(Lot.din == din)).one()
    query = select(Dose).where(Dose.lot_id == lot.id, col(Dose.frozen_at).is_not(None))
    doses = session.exec(query.order_by(col(Dose.id))).all()
    return {
        "lot": lot.din,
        "doses": [
            [
                d.identifier,
                d.frozen_at,
                d.freezing_programme,
                d.storage_temp_c,
                d.tank,
                d.rack,
                d.box,
                d.position,
            ]
            for d in doses
        ],
    }


def location_text(dose: Dose) -> str:
    if dose.tank is None:
        return "not stored"
    return f"tank {dose.tank} / rack {dose.rack} / box {dose.box} / position {dose.position}"


def cryopreserve_lot(
    session: Session,
    *,
    actor: User,
    lot: Lot,
    frozen_at: datetime,
    freezing_programme: str,
    temperature_c: float,
    tank: str,
    rack: str,
    box: str,
    first_position: int,
    password: str,
) -> list[Dose]:
    """Freeze the lot's filled doses and store them in consecutive positions of one box."""
    authorize(actor, Action.STORE_DOSES)
    doses = [d for d in doses_of(session, lot) if d.frozen_at is None]
    if not doses:
        raise RuleViolation.state(
            "no_dose_to_freeze", f"Lot {lot.din} has no filled dose waiting to be frozen."
        )
    tank, rack, box = tank.strip().upper(), rack.strip().upper(), box.strip().upper()
    positions = list(range(first_position, first_position + len(doses)))
    problems = storage_problems(
        temperature_c=temperature_c,
        max_temperature_c=settings_of(session).storage_max_temp_c,
        frozen_at=frozen_at,
        filled_at=max(d.filled_at for d in doses),
        now=utcnow(),
    )
    if not freezing_programme.strip():
        problems.append(
            Reason("freezing_programme_missing", "Name the controlled-rate freezing programme.")
        )
    problems += _location_problems(session, tank, rack, box, positions)
    if problems:
        raise RuleViolation.of(problems, several="storage_refused")
    for dose, position in zip(doses, positions, strict=True):
        try:
            stored = session.execute(
                update(Dose)
                .where(col(Dose.id) == dose.id, col(Dose.frozen_at).is_(None))
                .values(
                    frozen_at=frozen_at,
                    freezing_programme=freezing_programme.strip(),
                    storage_temp_c=temperature_c,
                    tank=tank,
                    rack=rack,
                    box=box,
                    position=position,
                    stored_by_id=actor.id,
                )
            )
        except IntegrityError as error:  # another technician took the position meanwhile
            raise Conflict(
                f"Position {position} of box {box} was taken meanwhile.", code="position_taken"
            ) from error
        if stored.rowcount != 1:
            raise Conflict(
                f"Dose {dose.identifier} was stored by someone else meanwhile.",
                code="changed_meanwhile",
            )
        session.refresh(dose)
        audit.record(
            session,
            actor=actor,
            action="dose.cryopreserved",
            entity_type="dose",
            entity_id=dose.identifier,
            changes={
                "frozen_at": [None, frozen_at],
                "location": [None, location_text(dose)],
                "storage_temp_c": [None, temperature_c],
            },
        )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="storage",
        entity_id=lot.din,
    )
    return doses


def _location_problems(
    session: Session, tank: str, rack: str, box: str, positions: list[int]
) -> list[Reason]:
    """Is the box named, and are its ``positions`` free (no unthawed dose in them)?"""
    problems = []
    if not (tank and rack and box):
        problems.append(Reason("location_missing", "Give the tank, rack and box."))
    if positions and positions[0] < 1:
        problems.append(Reason("position_out_of_range", "Positions are numbered from 1."))
    taken = session.exec(
        select(Dose).where(
            Dose.tank == tank,
            Dose.rack == rack,
            Dose.box == box,
            col(Dose.position).in_(positions),
            col(Dose.thawed_at).is_(None),
        )
    ).all()
    return problems + [
        conflict(
            "position_taken",
            f"Position {d.position} of box {box} holds dose {d.identifier} already.",
        )
        for d in taken
    ]


@signatures.signs("thaw")
def thaw_content(session: Session, identifier: str) -> dict:
    """What the thaw signs: the dose, when, and where it came from."""
    dose = session.exec(select(Dose).where(Dose.identifier == identifier)).one()
    return {"dose": dose.identifier, "thawed_at": dose.thawed_at, "location": location_text(dose)}


def thaw_dose(
    session: Session, *, actor: User, dose: Dose, thawed_at: datetime, password: str
) -> Dose:
    """Record the thaw of a dose prepared for its patient; it leaves its storage position."""
    authorize(actor, Action.THAW_DOSES)
    problems = []
    if dose.frozen_at is None:
        problems.append(
            conflict("dose_not_frozen", f"Dose {dose.identifier} was never cryopreserved.")
        )
    elif thawed_at < dose.frozen_at:
        problems.append(Reason("thaw_before_freezing", "The thaw cannot precede the freezing."))
    if dose.thawed_at is not None:
        problems.append(
            conflict("dose_already_thawed", f"Dose {dose.identifier} was already thawed.")
        )
    if dose.status not in THAWABLE:
        problems.append(
            conflict(
                "dose_not_allocated",
                f"Dose {dose.identifier} is {dose.status}: only a dose allocated or issued to a "
                "patient is thawed.",
            )
        )
    if thawed_at > utcnow():
        problems.append(Reason("time_in_future", "The thaw time is in the future."))
    if problems:
        raise RuleViolation.of(problems, several="thaw_refused")
    location = location_text(dose)
    thawed = session.execute(
        update(Dose)
        .where(col(Dose.id) == dose.id, col(Dose.thawed_at).is_(None))
        .values(thawed_at=thawed_at, thawed_by_id=actor.id)
    )
    if thawed.rowcount != 1:
        raise Conflict(
            f"Dose {dose.identifier} was thawed by someone else meanwhile.",
            code="changed_meanwhile",
        )
    session.refresh(dose)
    audit.record(
        session,
        actor=actor,
        action="dose.thawed",
        entity_type="dose",
        entity_id=dose.identifier,
        changes={"thawed_at": [None, thawed_at], "location": [location, "thawed"]},
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="thaw",
        entity_id=dose.identifier,
    )
    return dose
