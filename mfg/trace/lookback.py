"""Look-back (docs/regulation.md#look-back): from a donor or a material lot, every affected lot and
dose and every infused patient with the treating clinician; one signed QA action puts every unused
affected dose on hold and gives the notification list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.errors import InvalidInput, RuleViolation
from mfg.manufacturing.holds import move_dose
from mfg.models import (
    Dose,
    DoseStatus,
    Infusion,
    LookbackHold,
    Lot,
    Meaning,
    Patient,
    User,
)
from mfg.signatures import service as signatures
from mfg.trace.service import build_trace

SOURCES = ("donor", "material")
# A dose not yet used can still be stopped; these are past stopping.
USED = frozenset({DoseStatus.INFUSED, DoseStatus.DISCARDED, DoseStatus.RECALLED})


@dataclass
class Notification:
    patient: Patient
    dose: Dose
    infusion: Infusion
    clinician: User


@dataclass
class LookBack:
    kind: str
    identifier: str
    lots: list[Lot]
    doses: list[Dose]
    notifications: list[Notification]
    held: list[Dose] = field(default_factory=list)  # put on hold by this look-back

    @property
    def unused(self) -> list[Dose]:
        return [d for d in self.doses if d.status not in USED and d.status != DoseStatus.ON_HOLD]


def look_back(session: Session, *, actor: User, kind: str, identifier: str) -> LookBack:
    authorize(actor, Action.VIEW_MANUFACTURING)
    if kind not in SOURCES:
        raise InvalidInput(
            "Look-back starts from a donor or a material lot.", details={"field": "kind"}
        )
    found = build_trace(session, kind=kind, identifier=identifier)
    dins = [n.identifier for n in found.of_kind("lot")]
    lots = list(session.exec(select(Lot).where(col(Lot.din).in_(dins)).order_by(col(Lot.id))))
    # Doses and infusions by a join on the lots, never a list of every dose id: a donor's cells
    # can reach a hundred thousand doses, beyond a database's limit of bound parameters.
    affected = col(Dose.lot_id).in_([lot.id for lot in lots])
    doses = list(session.exec(select(Dose).where(affected).order_by(col(Dose.id))))
    by_id = {d.id: d for d in doses}
    rows = session.exec(
        select(Infusion, Patient, User)
        .join(Dose, col(Dose.id) == Infusion.dose_id)
        .join(Patient, col(Patient.id) == Infusion.patient_id)
        .join(User, col(User.id) == Infusion.recorded_by_id)
        .where(affected)
        .order_by(col(Infusion.started_at))
    ).all()
    notifications = [
        Notification(patient, by_id[infusion.dose_id], infusion, clinician)
        for infusion, patient, clinician in rows
    ]
    return LookBack(kind, identifier, lots, doses, notifications)


def hold_affected(
    session: Session, *, actor: User, kind: str, identifier: str, reason: str, password: str
) -> LookBack:
    """QA's one signed action: every unused affected dose goes on hold, each audited."""
    authorize(actor, Action.RELEASE_LOTS)
    if not reason.strip():
        raise InvalidInput("A look-back hold states its reason.", details={"field": "reason"})
    result = look_back(session, actor=actor, kind=kind, identifier=identifier)
    targets = result.unused
    if not targets:
        raise RuleViolation.state(
            "no_dose_to_hold", "No unused affected dose is left to put on hold."
        )
    for dose in targets:
        move_dose(
            session,
            actor=actor,
            dose=dose,
            to=DoseStatus.ON_HOLD,
            reason=f"look-back from {kind} {identifier}: {reason.strip()}",
        )
    held = sorted(d.identifier for d in targets)
    patients = sorted({n.patient.code for n in result.notifications})
    record = LookbackHold(
        source_kind=kind,
        source_identifier=identifier,
        reason=reason.strip(),
        doses=json.dumps(held),
        patients=json.dumps(patients),
        held_by_id=actor.id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lookback.hold",
        entity_type=kind,
        entity_id=identifier,
        changes={
            "lookback_hold": [None, record.id],
            "doses_on_hold": [None, held],
            "patients_to_notify": [None, patients],
        },
        reason=reason.strip(),
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.ON_HOLD,
        entity_type="lookback_hold",
        entity_id=record.id,
    )
    result.held = targets
    return result


@signatures.signs("lookback_hold")
def hold_content(session: Session, hold_id: str) -> dict:
    """What QA's look-back hold signs: where it started, every dose it held, the patients to
    notify, and why."""
    record = session.get(LookbackHold, int(hold_id))
    return {
        "source": [record.source_kind, record.source_identifier],
        "held": json.loads(record.doses),
        "patients": json.loads(record.patients),
        "reason": record.reason,
    }


def held_doses(hold: LookbackHold) -> list[str]:
    return json.loads(hold.doses)


def held_patients(hold: LookbackHold) -> list[str]:
    return json.loads(hold.patients)


def holds_of(session: Session, *, kind: str, identifier: str) -> list[LookbackHold]:
    """The look-back holds made from this donor or material lot, oldest first."""
    query = select(LookbackHold).where(
        LookbackHold.source_kind == kind, LookbackHold.source_identifier == identifier
    )
    return list(session.exec(query.order_by(col(LookbackHold.id))).all())
