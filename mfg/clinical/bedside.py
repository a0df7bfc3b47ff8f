"""The bedside: scan the wristband, then the dose; every check of REFERENCE.md §6 shown pass or
fail with its reason; any failure is a hard stop. Every attempt is kept. Two different
clinicians then sign "Verified patient and product identity"; only then is the infusion
recorded (``infusions``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize, may
from mfg.clinical.orders import matches_prescription, order_of
from mfg.clinical.patients import arm_of, get_patient
from mfg.db import settings_of
from mfg.errors import MfgError, NotFound, RuleViolation
from mfg.manufacturing.doses import get_dose
from mfg.manufacturing.pools import ineligible_donors_of
from mfg.models import (
    Allocation,
    BedsideCheck,
    Dose,
    DoseStatus,
    Infusion,
    Lot,
    LotStatus,
    Meaning,
    Patient,
    Signature,
    Trial,
    User,
    utcnow,
)
from mfg.signatures import service as signatures


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str


@dataclass
class BedsideFacts:
    patient: Patient | None
    patient_error: str
    dose: Dose | None
    dose_error: str
    receives_product: bool
    allocated_to: int | None  # the patient id of the dose's active allocation
    lot_status: str | None
    prescribed_cells: int | None
    infusions_done: int
    infusions_allowed: int
    now: datetime
    thaw_limit_minutes: int
    ineligible_donors: Sequence[str] = ()  # the dose's donors found not eligible


def bedside_checks(f: BedsideFacts) -> list[Check]:
    """Each check of REFERENCE.md §6 with its outcome and, when it fails, why."""
    if f.patient is None or f.dose is None:
        return [
            Check("wristband", f.patient is not None, f.patient_error or "patient identified"),
            Check("dose label", f.dose is not None, f.dose_error or "dose identified"),
        ]
    d = f.dose
    checks = [
        Check(
            "arm",
            f.receives_product,
            "the patient's arm receives the product"
            if f.receives_product
            else "CONTROL ARM: this patient receives no cell product",
        ),
        Check(
            "allocated to this patient",
            f.allocated_to == f.patient.id,
            "allocated to this patient"
            if f.allocated_to == f.patient.id
            else "THIS DOSE IS NOT ALLOCATED TO THIS PATIENT",
        ),
    ]
    usable = f.lot_status in (LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED)
    conditional = f.lot_status == LotStatus.CONDITIONALLY_RELEASED
    checks.append(
        Check(
            "lot released",
            usable,
            (
                "CONDITIONALLY released — sterility pending: acknowledge"
                if conditional
                else "released"
            )
            if usable
            else f"LOT NOT RELEASED: {str(f.lot_status).replace('_', ' ')}",
        )
    )
    checks.append(
        Check(
            "not expired",
            d.expires_at > f.now,
            "within expiry"
            if d.expires_at > f.now
            else f"EXPIRED {d.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    )
    stopped = d.status in (DoseStatus.ON_HOLD, DoseStatus.RECALLED, DoseStatus.DISCARDED)
    checks.append(
        Check(
            "not on hold or recalled",
            not stopped and f.lot_status not in (LotStatus.ON_HOLD, LotStatus.RECALLED),
            "usable"
            if not stopped and f.lot_status not in (LotStatus.ON_HOLD, LotStatus.RECALLED)
            else f"DOSE {d.status.replace('_', ' ').upper()} / LOT {str(f.lot_status).upper()}",
        )
    )
    checks.append(
        Check(
            "donors eligible",
            not f.ineligible_donors,
            "every donor eligible"
            if not f.ineligible_donors
            else f"DONOR {', '.join(f.ineligible_donors)} NOT ELIGIBLE: do not infuse",
        )
    )
    checks.append(
        Check(
            "not already infused",
            d.status != DoseStatus.INFUSED,
            "not infused" if d.status != DoseStatus.INFUSED else "ALREADY INFUSED",
        )
    )
    checks.append(
        Check(
            "issued to the ward",
            d.status in (DoseStatus.ISSUED, DoseStatus.INFUSED),
            "issued"
            if d.status in (DoseStatus.ISSUED, DoseStatus.INFUSED)
            else f"NOT ISSUED: the dose is {d.status.replace('_', ' ')}",
        )
    )
    limit = timedelta(minutes=f.thaw_limit_minutes)
    if d.thawed_at is None:
        thaw = Check("thaw window", False, "NOT THAWED: record the thaw first")
    elif f.now - d.thawed_at > limit:
        minutes = int((f.now - d.thawed_at).total_seconds() // 60)
        thaw = Check(
            "thaw window", False, f"THAWED {minutes} MIN AGO: beyond {f.thaw_limit_minutes} min"
        )
    else:
        thaw = Check("thaw window", True, f"thawed within {f.thaw_limit_minutes} min")
    checks.append(thaw)
    fits = f.prescribed_cells is not None and matches_prescription(d.cells, f.prescribed_cells)
    checks.append(
        Check(
            "cell dose matches prescription",
            fits,
            f"{d.cells:,} cells for {f.prescribed_cells:,} prescribed"
            if f.prescribed_cells
            else "NO ACTIVE ORDER for this patient",
        )
        if fits or f.prescribed_cells is None
        else Check(
            "cell dose matches prescription",
            False,
            f"{d.cells:,} CELLS vs {f.prescribed_cells:,} PRESCRIBED (±10 %)",
        )
    )
    within = f.infusions_done < f.infusions_allowed
    checks.append(
        Check(
            "infusions within the maximum",
            within,
            f"infusion {f.infusions_done + 1} of {f.infusions_allowed}"
            if within
            else f"MAXIMUM OF {f.infusions_allowed} INFUSIONS REACHED",
        )
    )
    return checks


def _facts(session: Session, wristband: str, dose_scan: str) -> BedsideFacts:
    patient = dose = None
    patient_error = dose_error = ""
    try:
        patient = get_patient(session, wristband)
    except MfgError as error:
        patient_error = f"WRISTBAND NOT RECOGNISED: {error.message}"
    try:
        dose = get_dose(session, dose_scan)
    except MfgError as error:
        dose_error = f"DOSE LABEL NOT RECOGNISED: {error.message}"
    settings = settings_of(session)
    allocated_to = order = trial = None
    infusions_done = 0
    if dose is not None:
        allocation = session.exec(
            select(Allocation).where(Allocation.dose_id == dose.id, col(Allocation.active))
        ).first()
        allocated_to = allocation.patient_id if allocation else None
    if patient is not None:
        order = order_of(session, patient)
        trial = session.get(Trial, patient.trial_id)
        infusions_done = len(
            session.exec(select(Infusion).where(Infusion.patient_id == patient.id)).all()
        )
    allowed = min(order.infusions, trial.max_infusions) if order and trial else 0
    return BedsideFacts(
        patient=patient,
        patient_error=patient_error,
        dose=dose,
        dose_error=dose_error,
        receives_product=bool(patient and arm_of(session, patient).receives_product),
        allocated_to=allocated_to,
        lot_status=session.get(Lot, dose.lot_id).status if dose else None,
        prescribed_cells=order.cells_per_infusion if order else None,
        infusions_done=infusions_done,
        infusions_allowed=allowed or (trial.max_infusions if trial else 0),
        now=utcnow(),
        thaw_limit_minutes=settings.thaw_to_infusion_limit_minutes,
        ineligible_donors=ineligible_donors_of(session, dose.lot_id) if dose else (),
    )


def check_at_bedside(
    session: Session, *, actor: User, wristband: str, dose_scan: str
) -> BedsideCheck:
    """Record the attempt with every check's outcome; the caller shows it, pass or stop."""
    authorize(actor, Action.BEDSIDE)
    facts = _facts(session, wristband, dose_scan)
    checks = bedside_checks(facts)
    record = BedsideCheck(
        wristband_scan=wristband.strip()[:200],
        dose_scan=dose_scan.strip()[:500],
        patient_id=facts.patient.id if facts.patient else None,
        dose_id=facts.dose.id if facts.dose else None,
        passed=all(c.ok for c in checks),
        results=json.dumps([[c.name, c.ok, c.reason] for c in checks], ensure_ascii=False),
        checked_by_id=actor.id,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="bedside.checked",
        entity_type="patient",
        entity_id=facts.patient.code if facts.patient else wristband.strip()[:40],
        changes={
            "dose": [None, facts.dose.identifier if facts.dose else dose_scan.strip()[:40]],
            "passed": [None, record.passed],
            "failed": [None, [c.name for c in checks if not c.ok]],
        },
    )
    return record


def checks_of(record: BedsideCheck) -> list[Check]:
    return [Check(name, ok, reason) for name, ok, reason in json.loads(record.results)]


def get_check(session: Session, check_id: int) -> BedsideCheck:
    record = session.get(BedsideCheck, check_id)
    if record is None:
        raise NotFound(f"No bedside check {check_id}.")
    return record


@signatures.signs("bedside_check")
def check_content(session: Session, check_id: str) -> dict:
    """What each identity verification signs: the patient, the dose and every check's outcome."""
    record = get_check(session, int(check_id))
    return {
        "check": record.id,
        "patient_id": record.patient_id,
        "dose_id": record.dose_id,
        "results": record.results,
    }


def identity_signatures(session: Session, record: BedsideCheck) -> list[Signature]:
    return signatures.signatures_for(session, entity_type="bedside_check", entity_id=record.id)


def verify_identity(
    session: Session, *, actor: User, record: BedsideCheck, signer: User, password: str
) -> Signature:
    """One of the two clinicians signs; the second signs on the same device with their own
    password. The same clinician cannot sign both."""
    authorize(actor, Action.BEDSIDE)
    if not may(signer, Action.BEDSIDE):
        raise RuleViolation(f"{signer.full_name} is not a clinician.")
    if not record.passed:
        raise RuleViolation("The checks did not pass: there is nothing to verify.")
    if utcnow() - record.checked_at > timedelta(minutes=30):
        raise RuleViolation("This check is over 30 minutes old: scan again.")
    earlier = identity_signatures(session, record)
    if len(earlier) >= 2:
        raise RuleViolation("Two clinicians have verified already.")
    if any(s.user_id == signer.id for s in earlier):
        raise RuleViolation(
            "You verified already: a second, different clinician signs the identity check."
        )
    return signatures.sign(
        session,
        signer=signer,
        password=password,
        meaning=Meaning.IDENTITY_VERIFIED,
        entity_type="bedside_check",
        entity_id=record.id,
    )
