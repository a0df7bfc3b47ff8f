"""Dose orders, allocation (first expiry, first out) and issue from the laboratory to the ward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.transitions import transition
from mfg.auth.login import reauthenticate
from mfg.auth.permissions import Action, authorize, may
from mfg.clinical.patients import arm_of
from mfg.db import settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mfg.identifiers.isbt128 import Din
from mfg.identifiers.local import LocalId
from mfg.labeling.fields import LabelData, common_fields, local_fields
from mfg.manufacturing.pools import lots_of_ineligible_donors
from mfg.models import (
    Allocation,
    Dose,
    DoseOrder,
    DoseStatus,
    Lot,
    LotStatus,
    OrderStatus,
    Patient,
    Trial,
    User,
    utcnow,
)
from mfg.models.manufacturing import DOSE_TRANSITIONS

USABLE_LOTS = (LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED)
TOLERANCE = 0.10  # a dose matches a prescription within ±10 % of the cells (REFERENCE.md §5)


def matches_prescription(cells: int, prescribed: int) -> bool:
    return abs(cells - prescribed) <= TOLERANCE * prescribed


def order_of(session: Session, patient: Patient) -> DoseOrder | None:
    query = select(DoseOrder).where(
        DoseOrder.patient_id == patient.id, DoseOrder.status == OrderStatus.ACTIVE
    )
    return session.exec(query.order_by(col(DoseOrder.id).desc())).first()


def get_order(session: Session, order_id: int) -> DoseOrder:
    order = session.get(DoseOrder, order_id)
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def create_order(
    session: Session,
    *,
    actor: User,
    patient: Patient,
    cells_per_kg: float | None = None,
    infusions: int = 1,
) -> DoseOrder:
    """Prescribe cells/kg (the trial's default) and infusions; the cells per infusion come from
    the verified weight."""
    authorize(actor, Action.ORDER_DOSES)
    trial = session.get(Trial, patient.trial_id)
    problems = []
    if not arm_of(session, patient).receives_product:
        problems.append(f"Patient {patient.code} is in the control arm: no product is ordered.")
    if patient.weight_verified_at is None:
        problems.append("The weight is not verified by a second person yet.")
    if not 1 <= infusions <= trial.max_infusions:
        problems.append(f"Infusions: 1 to {trial.max_infusions} by the protocol.")
    if order_of(session, patient) is not None:
        problems.append(f"Patient {patient.code} has an active order already.")
    if problems:
        raise RuleViolation(problems)
    per_kg = cells_per_kg or trial.cells_per_kg
    order = DoseOrder(
        patient_id=patient.id,
        cells_per_kg=per_kg,
        infusions=infusions,
        weight_kg=patient.weight_kg,
        cells_per_infusion=round(per_kg * patient.weight_kg),
        ordered_by_id=actor.id,
    )
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="order.created",
        entity_type="patient",
        entity_id=patient.code,
        changes={
            "cells_per_kg": [None, per_kg],
            "infusions": [None, infusions],
            "cells_per_infusion": [None, order.cells_per_infusion],
        },
    )
    return order


def allocations_of(session: Session, patient: Patient) -> list[Allocation]:
    query = select(Allocation).where(Allocation.patient_id == patient.id)
    return list(session.exec(query.order_by(col(Allocation.id))).all())


def candidates(session: Session, order: DoseOrder) -> list[Dose]:
    """Available doses of usable lots, unexpired, never thawed, of eligible donors only, matching
    the prescription: first expiry first."""
    doses = session.exec(
        select(Dose)
        .join(Lot, col(Lot.id) == Dose.lot_id)
        .where(
            Dose.status == DoseStatus.AVAILABLE,
            col(Lot.status).in_(USABLE_LOTS),
            Dose.expires_at > utcnow(),
            col(Dose.thawed_at).is_(None),  # a bag once thawed never goes back to stock
            col(Dose.lot_id).not_in(lots_of_ineligible_donors()),
        )
        .order_by(col(Dose.expires_at), col(Dose.id))
    ).all()
    return [d for d in doses if matches_prescription(d.cells, order.cells_per_infusion)]


def doses_to_allocate(session: Session, order: DoseOrder) -> int:
    """How many of the order's infusions still want a dose set aside (none once it is over)."""
    if order.status != OrderStatus.ACTIVE:
        return 0
    patient = session.get(Patient, order.patient_id)
    return max(0, order.infusions - sum(a.active for a in allocations_of(session, patient)))


def allocate(session: Session, *, actor: User, order: DoseOrder) -> Allocation:
    """Set aside the first-expiring matching dose for the order. Of two allocations racing for
    the last dose, one wins (compare-and-set on the dose); the other is refused."""
    authorize(actor, Action.ALLOCATE_DOSES)
    if order.status != OrderStatus.ACTIVE:
        raise RuleViolation(f"Order {order.id} is {order.status}.")
    patient = session.get(Patient, order.patient_id)
    if not doses_to_allocate(session, order):
        raise RuleViolation(f"The order's {order.infusions} infusions have their doses already.")
    found = candidates(session, order)
    if not found:
        raise RuleViolation(
            f"No released dose of about {order.cells_per_infusion:,} cells is available."
        )
    dose = found[0]
    transition(
        session,
        dose,
        to=DoseStatus.ALLOCATED,
        table=DOSE_TRANSITIONS,
        actor=actor,
        action="dose.allocated",
        entity_type="dose",
        entity_id=dose.identifier,
        reason=f"patient {patient.code}",
    )
    allocation = Allocation(
        dose_id=dose.id, order_id=order.id, patient_id=patient.id, allocated_by_id=actor.id
    )
    session.add(allocation)
    session.flush()
    return allocation


def issue(
    session: Session,
    *,
    actor: User,
    allocation: Allocation,
    receiver_username: str,
    receiver_password: str,
    issued_at: datetime,
    transport_temp_c: float,
) -> Allocation:
    """The hand-over: the technician issues, the receiving clinician confirms with their own
    password on the same device; both names, the time and the transport temperature are kept."""
    authorize(actor, Action.ALLOCATE_DOSES)
    receiver = session.exec(
        select(User).where(User.username == receiver_username.strip().lower())
    ).first()
    if receiver is None:
        raise RuleViolation(f"No user {receiver_username!r} to receive the dose.")
    reauthenticate(session, user=receiver, password=receiver_password)
    if not may(receiver, Action.BEDSIDE):
        raise RuleViolation(f"{receiver.full_name} is not a clinician: a clinician receives.")
    if receiver.id == actor.id:
        raise RuleViolation("The hand-over needs two people.")
    if issued_at > utcnow():
        raise InvalidInput("The issue time is in the future.", details={"field": "issued_at"})
    dose = session.get(Dose, allocation.dose_id)
    transition(
        session,
        dose,
        to=DoseStatus.ISSUED,
        table=DOSE_TRANSITIONS,
        actor=actor,
        action="dose.issued",
        entity_type="dose",
        entity_id=dose.identifier,
        reason=f"received by {receiver.username} at {transport_temp_c:g} °C",
    )
    done = session.execute(
        update(Allocation)
        .where(col(Allocation.id) == allocation.id, col(Allocation.issued_at).is_(None))
        .values(
            issued_by_id=actor.id,
            received_by_id=receiver.id,
            issued_at=issued_at,
            transport_temp_c=transport_temp_c,
        )
    )
    if done.rowcount != 1:
        raise Conflict("This dose was issued already.")
    session.refresh(allocation)
    audit.record(
        session,
        actor=actor,
        action="dose.handed_over",
        entity_type="dose",
        entity_id=dose.identifier,
        changes={
            "received_by": [None, receiver.username],
            "transport_temp_c": [None, transport_temp_c],
        },
    )
    return allocation


def allocation_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    """The tag of an allocated dose: whose it is (scannable subject code) and which dose."""
    allocation = session.get(Allocation, int(identifier)) if identifier.isdigit() else None
    if allocation is None:
        return None
    settings = settings_of(session)
    patient = session.get(Patient, allocation.patient_id)
    dose = session.get(Dose, allocation.dose_id)
    order = session.get(DoseOrder, allocation.order_id)
    trial = session.get(Trial, patient.trial_id)
    expiry = dose.expires_at.astimezone(settings.tz)
    offset = f"{expiry:%z}"
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("subject", LocalId("PT", int(patient.code[2:8]))),
        "trial": trial.code,
        "arm": arm_of(session, patient).name,
        "dose_text": f"Dose {Din.parse(dose.identifier[:13]).eye_readable} {dose.product_code}",
        "prescription_text": f"{order.cells_per_kg:g} cells/kg x {order.weight_kg:g} kg = "
        f"{order.cells_per_infusion:,} cells",
        "expiry_text": f"Expires {expiry:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}",
    }
