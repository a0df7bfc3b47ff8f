"""Cryopreserve a lot's filled doses into labelled positions of a storage box, and thaw one
dose for the patient it is prepared for: a dose's time in the tank, every move compare-and-set,
audited and signed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.errors import Conflict, Reason, RuleViolation, conflict, reason
from mfg.i18n import N_
from mfg.manufacturing.doses import doses_of
from mfg.manufacturing.rules import storage_problems
from mfg.manufacturing.schemas import StorageIn, ThawIn
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


def _check_storage(
    session: Session, doses: list[Dose], command: StorageIn
) -> tuple[datetime, list[int]]:
    """A plausible temperature at or below the storage limit; frozen after the doses were
    filled and not in the future; a named programme and box, with free positions for every dose.
    The freezing time (on the facility's clock when typed without an offset) and the positions."""
    quantities.check(
        {
            "temperature_c": (command.temperature_c, quantities.STORAGE_TEMP_C),
            "first_position": (command.first_position, quantities.BOX_POSITION),
        }
    )
    tz = settings_of(session).tz
    frozen_at = quantities.in_zone(command.frozen_at, tz)
    filled = max(d.filled_at for d in doses)
    quantities.check_event_time(
        "frozen_at", frozen_at, now=utcnow(), after=filled, what=N_("freezing time"), tz=tz
    )
    positions = list(range(command.first_position, command.first_position + len(doses)))
    problems = storage_problems(
        temperature_c=command.temperature_c,
        max_temperature_c=settings_of(session).storage_max_temp_c,
    )
    if not command.freezing_programme.strip():
        problems.append(
            Reason("freezing_programme_missing", "Name the controlled-rate freezing programme.")
        )
    tank, rack, box = (v.strip().upper() for v in (command.tank, command.rack, command.box))
    problems += _location_problems(session, tank, rack, box, positions)
    if problems:
        raise RuleViolation.of(problems, several="storage_refused")
    return frozen_at, positions


def cryopreserve_lot(session: Session, *, actor: User, lot: Lot, command: StorageIn) -> list[Dose]:
    """Freeze the lot's filled doses and store them in consecutive positions of one box."""
    authorize(actor, Action.STORE_DOSES)
    doses = [d for d in doses_of(session, lot) if d.frozen_at is None]
    if not doses:
        raise RuleViolation.state(
            "no_dose_to_freeze",
            "Lot %(lot)s has no filled dose waiting to be frozen.",
            params={"lot": lot.din},
        )
    frozen_at, positions = _check_storage(session, doses, command)
    for dose, position in zip(doses, positions, strict=True):
        _store_dose(session, actor, dose, command, frozen_at=frozen_at, position=position)
    signatures.sign(
        session,
        signer=actor,
        password=command.password,
        meaning=Meaning.PERFORMED,
        entity_type="storage",
        entity_id=lot.din,
    )
    return doses


def _store_dose(
    session: Session,
    actor: User,
    dose: Dose,
    command: StorageIn,
    *,
    frozen_at: datetime,
    position: int,
) -> None:
    """One dose into its position, compare-and-set: a position or a dose taken meanwhile by
    another technician is refused, never overwritten."""
    box = command.box.strip().upper()
    try:
        stored = session.execute(
            update(Dose)
            .where(col(Dose.id) == dose.id, col(Dose.frozen_at).is_(None))
            .values(
                frozen_at=frozen_at,
                freezing_programme=command.freezing_programme.strip(),
                storage_temp_c=command.temperature_c,
                tank=command.tank.strip().upper(),
                rack=command.rack.strip().upper(),
                box=box,
                position=position,
                stored_by_id=actor.id,
            )
        )
    except IntegrityError as error:  # another technician took the position meanwhile
        raise Conflict(
            "Position %(position)s of box %(box)s was taken meanwhile.",
            params={"position": position, "box": box},
            code="position_taken",
        ) from error
    if stored.rowcount != 1:
        raise Conflict(
            "Dose %(dose)s was stored by someone else meanwhile.",
            params={"dose": dose.identifier},
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
            "storage_temp_c": [None, command.temperature_c],
        },
    )


def _location_problems(
    session: Session, tank: str, rack: str, box: str, positions: list[int]
) -> list[Reason]:
    """Is the box named, and are its ``positions`` free (no unthawed dose in them)?"""
    problems = []
    if not (tank and rack and box):
        problems.append(Reason("location_missing", "Give the tank, rack and box."))
    last = quantities.BOX_POSITION.high
    if positions and positions[-1] > last:
        problems.append(
            reason(
                "position_out_of_range",
                "%(doses)s doses from position %(first)s end at position %(last)s: a box holds "
                "at most %(capacity)s.",
                doses=len(positions),
                first=positions[0],
                last=positions[-1],
                capacity=format(last, "g"),
            )
        )
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
            "Position %(position)s of box %(box)s holds dose %(dose)s already.",
            position=d.position,
            box=box,
            dose=d.identifier,
        )
        for d in taken
    ]


@signatures.signs("thaw")
def thaw_content(session: Session, identifier: str) -> dict:
    """What the thaw signs: the dose, when, and where it came from."""
    dose = session.exec(select(Dose).where(Dose.identifier == identifier)).one()
    return {"dose": dose.identifier, "thawed_at": dose.thawed_at, "location": location_text(dose)}


def _thaw_problems(dose: Dose) -> list[Reason]:
    """Only a frozen dose, not yet thawed, prepared for the patient it is allocated or issued to."""
    problems = []
    if dose.frozen_at is None:
        problems.append(
            conflict(
                "dose_not_frozen",
                "Dose %(dose)s was never cryopreserved.",
                dose=dose.identifier,
            )
        )
    if dose.thawed_at is not None:
        problems.append(
            conflict(
                "dose_already_thawed",
                "Dose %(dose)s was already thawed.",
                dose=dose.identifier,
            )
        )
    if dose.status not in THAWABLE:
        problems.append(
            conflict(
                "dose_not_allocated",
                "Dose %(dose)s is %(status)s: only a dose allocated or issued to a patient is "
                "thawed.",
                dose=dose.identifier,
                status=dose.status,
            )
        )
    return problems


def thaw_dose(session: Session, *, actor: User, dose: Dose, command: ThawIn) -> Dose:
    """Record the thaw of a dose prepared for its patient, after its freezing and not in the
    future; it leaves its storage position."""
    authorize(actor, Action.THAW_DOSES)
    problems = _thaw_problems(dose)
    if problems:
        raise RuleViolation.of(problems, several="thaw_refused")
    tz = settings_of(session).tz
    thawed_at = quantities.in_zone(command.thawed_at, tz)
    quantities.check_event_time(
        "thawed_at", thawed_at, now=utcnow(), after=dose.frozen_at, what=N_("thaw time"), tz=tz
    )
    location = location_text(dose)
    thawed = session.execute(
        update(Dose)
        .where(col(Dose.id) == dose.id, col(Dose.thawed_at).is_(None))
        .values(thawed_at=thawed_at, thawed_by_id=actor.id)
    )
    if thawed.rowcount != 1:
        raise Conflict(
            "Dose %(dose)s was thawed by someone else meanwhile.",
            params={"dose": dose.identifier},
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
        password=command.password,
        meaning=Meaning.PERFORMED,
        entity_type="thaw",
        entity_id=dose.identifier,
    )
    return dose
