"""The bedside: scan the wristband, then the dose; every check of docs/process.md#bedside-checks
shown pass or fail with its reason; any failure is a hard stop. Every attempt is kept. Two different
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
from mfg.clinical.orders import infusions_given, matches_prescription, order_of
from mfg.clinical.patients import arm_of, get_patient
from mfg.db import lock_row, newest_page, settings_of
from mfg.errors import MfgError, NotFound, Reason, RuleViolation
from mfg.manufacturing.doses import get_dose
from mfg.manufacturing.pools import ineligible_donors_of
from mfg.models import (
    Allocation,
    BedsideCheck,
    Dose,
    DoseStatus,
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

CHECK_VALID_MINUTES = 30  # a bedside check older than this is scanned again


@dataclass(frozen=True)
class Check:
    """One bedside check: its name, whether it passed, why, and the stable code of the rule
    (``ok`` when it passed)."""

    name: str
    ok: bool
    reason: str
    code: str = "ok"


def _passed(name: str, reason: str) -> Check:
    return Check(name, True, reason)


def _stop(name: str, code: str, reason: str) -> Check:
    return Check(name, False, reason, code)


@dataclass
class BedsideFacts:
    patient: Patient | None
    patient_error: MfgError | None
    dose: Dose | None
    dose_error: MfgError | None
    receives_product: bool
    allocated_to: int | None  # the patient id of the dose's active allocation
    lot_status: str | None
    prescribed_cells: int | None
    infusions_done: int
    infusions_allowed: int  # the trial's maximum per patient
    now: datetime
    thaw_limit_minutes: int
    ineligible_donors: Sequence[str] = ()  # the dose's donors found not eligible


def arm_guard(f: BedsideFacts) -> Check:
    """Only a patient of an arm that receives the product is infused."""
    if f.receives_product:
        return _passed("arm", "the patient's arm receives the product")
    return _stop("arm", "control_arm", "CONTROL ARM: this patient receives no cell product")


def allocation_guard(f: BedsideFacts) -> Check:
    """The dose is allocated to this very patient."""
    if f.allocated_to == f.patient.id:
        return _passed("allocated to this patient", "allocated to this patient")
    return _stop(
        "allocated to this patient",
        "not_allocated_to_patient",
        "THIS DOSE IS NOT ALLOCATED TO THIS PATIENT",
    )


def release_guard(f: BedsideFacts) -> Check:
    """The lot is released, or conditionally released (acknowledged before infusing)."""
    if f.lot_status == LotStatus.RELEASED:
        return _passed("lot released", "released")
    if f.lot_status == LotStatus.CONDITIONALLY_RELEASED:
        return _passed("lot released", "CONDITIONALLY released — sterility pending: acknowledge")
    return _stop(
        "lot released",
        "lot_not_released",
        f"LOT NOT RELEASED: {str(f.lot_status).replace('_', ' ')}",
    )


def expiry_guard(f: BedsideFacts) -> Check:
    """The dose is within its expiry."""
    if f.dose.expires_at > f.now:
        return _passed("not expired", "within expiry")
    return _stop("not expired", "dose_expired", f"EXPIRED {f.dose.expires_at:%Y-%m-%d %H:%M} UTC")


_STOPPED_DOSE = (DoseStatus.ON_HOLD, DoseStatus.RECALLED, DoseStatus.DISCARDED)
_STOPPED_LOT = (LotStatus.ON_HOLD, LotStatus.RECALLED)


def stop_guard(f: BedsideFacts) -> Check:
    """Neither the dose nor its lot is on hold, recalled or discarded; the reason names which."""
    name = "not on hold or recalled"
    stopped = []
    if f.dose.status in _STOPPED_DOSE:
        stopped.append(f"DOSE {f.dose.status.replace('_', ' ').upper()}")
    if f.lot_status in _STOPPED_LOT:
        stopped.append(f"LOT {str(f.lot_status).replace('_', ' ').upper()}")
    if not stopped:
        return _passed(name, "usable")
    held = f.dose.status == DoseStatus.ON_HOLD or f.lot_status == LotStatus.ON_HOLD
    return _stop(name, "dose_on_hold" if held else "dose_recalled", " / ".join(stopped))


def donor_guard(f: BedsideFacts) -> Check:
    """Every donor of the dose is still eligible (a look-back may have found one ineligible)."""
    if not f.ineligible_donors:
        return _passed("donors eligible", "every donor eligible")
    return _stop(
        "donors eligible",
        "donor_not_eligible",
        f"DONOR {', '.join(f.ineligible_donors)} NOT ELIGIBLE: do not infuse",
    )


def infused_guard(f: BedsideFacts) -> Check:
    """A dose is infused once."""
    if f.dose.status != DoseStatus.INFUSED:
        return _passed("not already infused", "not infused")
    return _stop("not already infused", "already_infused", "ALREADY INFUSED")


def issue_guard(f: BedsideFacts) -> Check:
    """The dose was handed over to the ward."""
    if f.dose.status in (DoseStatus.ISSUED, DoseStatus.INFUSED):
        return _passed("issued to the ward", "issued")
    return _stop(
        "issued to the ward",
        "not_issued",
        f"NOT ISSUED: the dose is {f.dose.status.replace('_', ' ')}",
    )


def thaw_guard(f: BedsideFacts) -> Check:
    """The dose was thawed, within the thaw-to-infusion limit."""
    name, limit = "thaw window", f.thaw_limit_minutes
    if f.dose.thawed_at is None:
        return _stop(name, "not_thawed", "NOT THAWED: record the thaw first")
    minutes = int((f.now - f.dose.thawed_at).total_seconds() // 60)
    if f.now - f.dose.thawed_at > timedelta(minutes=limit):
        return _stop(name, "thaw_window_exceeded", f"THAWED {minutes} MIN AGO: beyond {limit} min")
    return _passed(name, f"thawed within {limit} min")


def prescription_guard(f: BedsideFacts) -> Check:
    """The cells of the dose are within ±10 % of the prescription of the active order."""
    name = "cell dose matches prescription"
    if f.prescribed_cells is None:
        return _stop(name, "no_active_order", "NO ACTIVE ORDER for this patient")
    if matches_prescription(f.dose.cells, f.prescribed_cells):
        return _passed(name, f"{f.dose.cells:,} cells for {f.prescribed_cells:,} prescribed")
    return _stop(
        name,
        "cells_outside_prescription",
        f"{f.dose.cells:,} CELLS vs {f.prescribed_cells:,} PRESCRIBED (±10 %)",
    )


def infusion_count_guard(f: BedsideFacts) -> Check:
    """The patient's infusions stay within the trial's maximum."""
    name = "infusions within the maximum"
    if f.infusions_done < f.infusions_allowed:
        return _passed(name, f"infusion {f.infusions_done + 1} of {f.infusions_allowed}")
    limit = f.infusions_allowed
    return _stop(
        name,
        "infusion_limit_reached",
        f"MAXIMUM OF {limit} INFUSION{'' if limit == 1 else 'S'} REACHED",
    )


# The checks of docs/process.md#bedside-checks, in the order the clinician reads them.
GUARDS = (
    arm_guard,
    allocation_guard,
    release_guard,
    expiry_guard,
    stop_guard,
    donor_guard,
    infused_guard,
    issue_guard,
    thaw_guard,
    prescription_guard,
    infusion_count_guard,
)


def bedside_checks(f: BedsideFacts) -> list[Check]:
    """Each check of docs/process.md#bedside-checks with its outcome and, when it fails, why."""
    if f.patient is None or f.dose is None:
        return [_identified("wristband", f.patient_error), _identified("dose label", f.dose_error)]
    return [guard(f) for guard in GUARDS]


def _identified(name: str, error: MfgError | None) -> Check:
    if error is None:
        return _passed(name, "patient identified" if name == "wristband" else "dose identified")
    code = error.code if error.code != "not_found" else f"{name.split()[0]}_not_recognised"
    return _stop(name, code, f"{name.upper()} NOT RECOGNISED: {error.message}")


def _facts(session: Session, wristband: str, dose_scan: str) -> BedsideFacts:
    patient = dose = patient_error = dose_error = None
    try:
        patient = get_patient(session, wristband)
    except MfgError as error:
        patient_error = error
    try:
        dose = get_dose(session, dose_scan)
    except MfgError as error:
        dose_error = error
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
        infusions_done = infusions_given(session, patient)
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
        infusions_allowed=trial.max_infusions if trial else 0,
        now=utcnow(),
        thaw_limit_minutes=settings.thaw_to_infusion_limit_minutes,
        ineligible_donors=ineligible_donors_of(session, dose.lot_id) if dose else (),
    )


def _dose_scanned_first(session: Session, wristband: str) -> bool:
    """The first scan names a dose: the clinician scanned the bag before the wristband."""
    try:
        get_patient(session, wristband)
    except MfgError:
        try:
            get_dose(session, wristband)
        except MfgError:
            return False
        return True
    return False


def check_at_bedside(
    session: Session, *, actor: User, wristband: str, dose_scan: str
) -> BedsideCheck:
    """Record the attempt with every check's outcome; the caller shows it, pass or stop."""
    authorize(actor, Action.BEDSIDE)
    if _dose_scanned_first(session, wristband):
        raise RuleViolation(
            Reason(
                "scan_wristband_first",
                "This is a dose label: scan the patient's wristband first, then the dose.",
            ),
            field="wristband",
        )
    facts = _facts(session, wristband, dose_scan)
    checks = bedside_checks(facts)
    record = BedsideCheck(
        wristband_scan=wristband.strip()[:200],
        dose_scan=dose_scan.strip()[:500],
        patient_id=facts.patient.id if facts.patient else None,
        dose_id=facts.dose.id if facts.dose else None,
        passed=all(c.ok for c in checks),
        results=json.dumps([[c.name, c.ok, c.reason, c.code] for c in checks], ensure_ascii=False),
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
    """The checks as recorded (records made before the checks had codes have none)."""
    return [Check(*row) for row in json.loads(record.results)]


def list_checks(
    session: Session,
    *,
    actor: User,
    patient: Patient | None = None,
    passed: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[BedsideCheck], int]:
    authorize(actor, Action.VIEW_CLINICAL)
    conditions = []
    if patient is not None:
        conditions.append(BedsideCheck.patient_id == patient.id)
    if passed is not None:
        conditions.append(col(BedsideCheck.passed).is_(passed))
    return newest_page(session, BedsideCheck, *conditions, limit=limit, offset=offset)


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
    record = lock_row(session, BedsideCheck, record.id)  # two different clinicians, once each
    if not may(signer, Action.BEDSIDE):
        raise RuleViolation(
            Reason("signer_not_clinician", f"{signer.full_name} is not a clinician."),
            field="username",
        )
    if not record.passed:
        raise RuleViolation.state(
            "checks_failed", "The checks did not pass: there is nothing to verify."
        )
    if utcnow() - record.checked_at > timedelta(minutes=CHECK_VALID_MINUTES):
        raise RuleViolation.state(
            "check_too_old", f"This check is over {CHECK_VALID_MINUTES} minutes old: scan again."
        )
    earlier = identity_signatures(session, record)
    if len(earlier) >= 2:
        raise RuleViolation.state("already_verified", "Two clinicians have verified already.")
    if any(s.user_id == signer.id for s in earlier):
        raise RuleViolation.one(
            "second_person_required",
            "You verified already: a second, different clinician signs the identity check.",
        )
    return signatures.sign(
        session,
        signer=signer,
        password=password,
        meaning=Meaning.IDENTITY_VERIFIED,
        entity_type="bedside_check",
        entity_id=record.id,
    )
