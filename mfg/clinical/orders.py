"""Dose orders, allocation (first expiry, first out) and issue from the laboratory to the ward."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import DOSE, DOSE_ORDER
from mfg.auth.login import reauthenticate
from mfg.auth.permissions import Action, authorize, may
from mfg.clinical.patients import arm_of
from mfg.clinical.rules import (
    allocation_is_active,
    dose_available,
    handover_by_two_people,
    matches_prescription,
    order_is_active,
    order_problems,
    order_wants_a_dose,
    receiver_is_clinician,
    receiver_known,
)
from mfg.clinical.schemas import IssueIn
from mfg.db import count_where, lock_row, newest_page, settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mfg.i18n import N_
from mfg.identifiers.display import display_code
from mfg.identifiers.local import LocalId
from mfg.labeling.fields import (
    LabelData,
    common_fields,
    expiry_text,
    local_fields,
    prescription_text,
    record_text,
)
from mfg.manufacturing.pools import lots_of_ineligible_donors
from mfg.models import (
    Allocation,
    Dose,
    DoseOrder,
    DoseStatus,
    Infusion,
    Lot,
    LotStatus,
    Meaning,
    OrderStatus,
    Patient,
    Trial,
    User,
    utcnow,
)
from mfg.quantities import DOSE_TRANSPORT_TEMP_C, check
from mfg.signatures import service as signatures

USABLE_LOTS = (LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED)


def order_of(session: Session, patient: Patient) -> DoseOrder | None:
    """The patient's active order, if any (there is at most one)."""
    query = select(DoseOrder).where(
        DoseOrder.patient_id == patient.id, DoseOrder.status == OrderStatus.ACTIVE
    )
    return session.exec(query.order_by(col(DoseOrder.id).desc())).first()


def orders_of(session: Session, patient: Patient) -> list[DoseOrder]:
    """Every order of the patient, oldest first: active, completed or cancelled."""
    query = select(DoseOrder).where(DoseOrder.patient_id == patient.id)
    return list(session.exec(query.order_by(col(DoseOrder.id))).all())


def get_order(session: Session, order_id: int) -> DoseOrder:
    order = session.get(DoseOrder, order_id)
    if order is None:
        raise NotFound("No order %(order)s.", params={"order": order_id})
    return order


def list_orders(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    patient: Patient | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[DoseOrder], int]:
    authorize(actor, Action.VIEW_CLINICAL)
    conditions = [DoseOrder.status == status] if status else []
    if patient is not None:
        conditions.append(DoseOrder.patient_id == patient.id)
    return newest_page(session, DoseOrder, *conditions, limit=limit, offset=offset)


def infusions_given(session: Session, patient: Patient) -> int:
    """How many infusions the patient has had, under every order."""
    return count_where(session, Infusion, Infusion.patient_id == patient.id)


def infusions_of_order(session: Session, order: DoseOrder) -> int:
    """How many of the order's doses were infused."""
    query = (
        select(func.count())
        .select_from(Infusion)
        .join(Allocation, col(Allocation.dose_id) == Infusion.dose_id)
        .where(Allocation.order_id == order.id)
    )
    return session.exec(query).one()


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def create_order(
    session: Session,
    *,
    actor: User,
    patient: Patient,
    cells_per_kg: float | None = None,
    infusions: int = 1,
) -> DoseOrder:
    """Prescribe cells/kg (the trial's default) and infusions; the cells per infusion come from
    the verified weight. Refused beyond the trial's limit of infusions per patient."""
    authorize(actor, Action.ORDER_DOSES)
    patient = lock_row(session, Patient, patient.id)  # one active order per patient
    trial = session.get(Trial, patient.trial_id)
    problems = order_problems(
        patient=patient,
        receives_product=arm_of(session, patient).receives_product,
        infusions=infusions,
        active_order=order_of(session, patient),
        given=infusions_given(session, patient),
        max_infusions=trial.max_infusions,
    )
    if problems:
        raise RuleViolation.of(problems, several="order_refused")
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
            "order": [None, order.id],
            "cells_per_kg": [None, per_kg],
            "infusions": [None, infusions],
            "cells_per_infusion": [None, order.cells_per_infusion],
        },
    )
    return order


def complete_when_given(session: Session, *, actor: User, order: DoseOrder) -> bool:
    """The order is completed once each of its infusions is given; True when this happened."""
    if order.status != OrderStatus.ACTIVE or infusions_of_order(session, order) < order.infusions:
        return False
    _end(session, order, to=OrderStatus.COMPLETED, actor=actor, reason="every infusion given")
    return True


@signatures.signs("dose_order")
def order_content(session: Session, order_id: str) -> dict:
    """What a cancellation signs: the order, its prescription, its end and why."""
    order = get_order(session, int(order_id))
    return {
        "order": order.id,
        "patient": session.get(Patient, order.patient_id).code,
        "cells_per_kg": order.cells_per_kg,
        "infusions": order.infusions,
        "cells_per_infusion": order.cells_per_infusion,
        "status": order.status,
        "ended_at": order.ended_at,
        "reason": order.cancel_reason,
    }


def cancel_order(
    session: Session, *, actor: User, order: DoseOrder, reason: str, password: str
) -> DoseOrder:
    """The prescriber withdraws an active order, with a reason and a signature. Its doses not
    yet infused leave the patient: back to stock when never thawed nor issued, returned from
    the ward when issued, discarded when thawed."""
    authorize(actor, Action.ORDER_DOSES)
    if not reason.strip():
        raise InvalidInput("A cancellation states its reason.", details={"field": "reason"})
    if refused := order_is_active(order, otherwise=N_("only an active order ends.")):
        raise RuleViolation.of([refused], several=refused.code)
    _end(session, order, to=OrderStatus.CANCELLED, actor=actor, reason=reason.strip())
    for allocation in allocations_of_order(session, order):
        _release_allocation(session, actor=actor, allocation=allocation, reason=reason.strip())
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.CANCELLED,
        entity_type="dose_order",
        entity_id=order.id,
        comment=reason,
    )
    return order


def _end(session: Session, order: DoseOrder, *, to: str, actor: User, reason: str) -> None:
    cancelled = to == OrderStatus.CANCELLED
    DOSE_ORDER.move(
        session,
        order,
        to=to,
        actor=actor,
        reason=reason,
        require_reason=cancelled,
        also={
            "ended_at": utcnow(),
            "ended_by_id": actor.id,
            **({"cancel_reason": reason} if cancelled else {}),
        },
    )


def _release_allocation(
    session: Session, *, actor: User, allocation: Allocation, reason: str
) -> None:
    """An allocation of a cancelled order ends; its dose, unless infused, leaves the patient."""
    if not allocation.active:
        return
    dose = session.get(Dose, allocation.dose_id)
    if dose.status == DoseStatus.INFUSED:
        return
    to = {
        DoseStatus.ALLOCATED: DoseStatus.DISCARDED if dose.thawed_at else DoseStatus.AVAILABLE,
        DoseStatus.ISSUED: DoseStatus.RETURNED,
    }.get(dose.status)
    session.execute(
        update(Allocation).where(col(Allocation.id) == allocation.id).values(active=False)
    )
    if to is not None:
        DOSE.move(
            session,
            dose,
            to=to,
            actor=actor,
            reason=f"order {allocation.order_id} cancelled: {reason}",
        )


def allocations_of(session: Session, patient: Patient) -> list[Allocation]:
    query = select(Allocation).where(Allocation.patient_id == patient.id)
    return list(session.exec(query.order_by(col(Allocation.id))).all())


def allocations_of_order(session: Session, order: DoseOrder) -> list[Allocation]:
    query = select(Allocation).where(Allocation.order_id == order.id)
    return list(session.exec(query.order_by(col(Allocation.id))).all())


def get_allocation(session: Session, allocation_id: int) -> Allocation:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("No allocation %(allocation)s.", params={"allocation": allocation_id})
    return allocation


def list_allocations(
    session: Session,
    *,
    actor: User,
    patient: Patient | None = None,
    order: DoseOrder | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Allocation], int]:
    authorize(actor, Action.VIEW_CLINICAL)
    conditions = []
    if patient is not None:
        conditions.append(Allocation.patient_id == patient.id)
    if order is not None:
        conditions.append(Allocation.order_id == order.id)
    if active is not None:
        conditions.append(col(Allocation.active).is_(active))
    return newest_page(session, Allocation, *conditions, limit=limit, offset=offset)


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


def _set_aside(session: Session, dose: Dose) -> bool:
    """Take ``dose`` for this transaction if it is still available and nobody else is taking it:
    under contention each allocation takes the next free dose (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL) instead of being refused while doses remain. SQLite serialises writers."""
    query = (
        select(Dose)
        .where(col(Dose.id) == dose.id, Dose.status == DoseStatus.AVAILABLE)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first() is not None


def doses_to_allocate(session: Session, order: DoseOrder) -> int:
    """How many of the order's infusions still want a dose set aside (none once it is over):
    its infusions less its allocations still standing (infused ones included)."""
    if order.status != OrderStatus.ACTIVE:
        return 0
    standing = sum(a.active for a in allocations_of_order(session, order))
    return max(0, order.infusions - standing)


def allocate(session: Session, *, actor: User, order: DoseOrder) -> Allocation:
    """Set aside the first-expiring matching dose for the order. Of two allocations racing for
    the last dose, one wins (compare-and-set on the dose); the other is refused."""
    authorize(actor, Action.ALLOCATE_DOSES)
    order = lock_row(session, DoseOrder, order.id)  # its allocations, one at a time
    if refused := order_is_active(order, otherwise=N_("nothing more is allocated.")):
        raise RuleViolation.of([refused], several=refused.code)
    patient = session.get(Patient, order.patient_id)
    if refused := order_wants_a_dose(order, to_allocate=doses_to_allocate(session, order)):
        raise RuleViolation.of([refused], several=refused.code)
    dose = next((d for d in candidates(session, order) if _set_aside(session, d)), None)
    if refused := dose_available(dose, cells_per_infusion=order.cells_per_infusion):
        raise RuleViolation.of([refused], several=refused.code)
    DOSE.move(session, dose, to=DoseStatus.ALLOCATED, actor=actor, reason=f"patient {patient.code}")
    allocation = Allocation(
        dose_id=dose.id, order_id=order.id, patient_id=patient.id, allocated_by_id=actor.id
    )
    session.add(allocation)
    session.flush()
    return allocation


def issue(session: Session, *, actor: User, allocation: Allocation, command: IssueIn) -> Allocation:
    """The hand-over: the technician issues, the receiving clinician confirms with their own
    password on the same device; both names, the time and the transport temperature are kept."""
    authorize(actor, Action.ALLOCATE_DOSES)
    check({"transport_temp_c": (command.transport_temp_c, DOSE_TRANSPORT_TEMP_C)})
    if refused := allocation_is_active(allocation):
        raise RuleViolation.of([refused], several=refused.code)
    receiver = _receiver(session, actor, command)
    issued_at = quantities.in_zone(command.issued_at, settings_of(session).tz)
    if issued_at > utcnow():
        raise InvalidInput("The issue time is in the future.", details={"field": "issued_at"})
    dose = session.get(Dose, allocation.dose_id)
    temperature = command.transport_temp_c
    DOSE.move(
        session,
        dose,
        to=DoseStatus.ISSUED,
        actor=actor,
        reason=f"received by {receiver.username} at {temperature:g} °C",
    )
    done = session.execute(
        update(Allocation)
        .where(col(Allocation.id) == allocation.id, col(Allocation.issued_at).is_(None))
        .values(
            issued_by_id=actor.id,
            received_by_id=receiver.id,
            issued_at=issued_at,
            transport_temp_c=temperature,
        )
    )
    if done.rowcount != 1:
        raise Conflict("This dose was issued already.", code="already_issued")
    session.refresh(allocation)
    _handed_over(session, actor, dose, receiver, temperature)
    return allocation


def _receiver(session: Session, actor: User, command: IssueIn) -> User:
    """The receiving clinician, who confirmed with their password, someone other than the
    issuer."""
    username = command.receiver_username
    receiver = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if refused := receiver_known(receiver, username=username):
        raise RuleViolation.of([refused], several=refused.code, field="receiver_username")
    reauthenticate(session, user=receiver, password=command.receiver_password)
    if refused := receiver_is_clinician(receiver, is_clinician=may(receiver, Action.BEDSIDE)):
        raise RuleViolation.of([refused], several=refused.code, field="receiver_username")
    if refused := handover_by_two_people(actor.id, receiver.id):
        raise RuleViolation.of([refused], several=refused.code)
    return receiver


def _handed_over(
    session: Session, actor: User, dose: Dose, receiver: User, temperature: float
) -> None:
    audit.record(
        session,
        actor=actor,
        action="dose.handed_over",
        entity_type="dose",
        entity_id=dose.identifier,
        changes={
            "received_by": [None, receiver.username],
            "transport_temp_c": [None, temperature],
        },
    )


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
        "dose_text": record_text("dose", display_code(dose.identifier)),
        "prescription_text": prescription_text(
            order.cells_per_kg, order.weight_kg, order.cells_per_infusion
        ),
        "expiry_text": expiry_text(f"{expiry:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"),
    }
