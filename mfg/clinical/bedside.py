"""The bedside: scan the wristband, then the dose; every check of docs/process.md#bedside-checks
shown pass or fail with its reason; any failure is a hard stop. Every attempt is kept. Two different
clinicians then sign "Verified patient and product identity"; only then is the infusion
recorded (``infusions``).
"""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize, may
from mfg.clinical.bedside_rules import BedsideFacts, Check, bedside_checks
from mfg.clinical.orders import infusions_given, order_of
from mfg.clinical.patients import arm_of, get_patient
from mfg.clinical.rules import identity_verification_refused, signer_is_clinician
from mfg.db import lock_row, newest_page, settings_of
from mfg.errors import MfgError, NotFound, Reason, RuleViolation
from mfg.manufacturing.doses import get_dose
from mfg.manufacturing.pools import ineligible_donors_of
from mfg.models import (
    Allocation,
    BedsideCheck,
    Lot,
    Meaning,
    Patient,
    Signature,
    Trial,
    User,
    utcnow,
)
from mfg.signatures import service as signatures

CHECK_VALID_MINUTES = 30  # a bedside check older than this is scanned again


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
        # each check with its reason's message and parameters: shown in the reader's language
        results=json.dumps(
            [[c.name, c.ok, c.reason, c.code, c.template, c.params] for c in checks],
            ensure_ascii=False,
        ),
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
        raise NotFound("No bedside check %(check)s.", params={"check": check_id})
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
    if refused := signer_is_clinician(signer, is_clinician=may(signer, Action.BEDSIDE)):
        raise RuleViolation.of([refused], several=refused.code, field="username")
    if refused := identity_verification_refused(
        checks_passed=record.passed,
        checked_at=record.checked_at,
        now=utcnow(),
        valid_minutes=CHECK_VALID_MINUTES,
        earlier_signer_ids=[s.user_id for s in identity_signatures(session, record)],
        signer_id=signer.id,
    ):
        raise RuleViolation.of([refused], several=refused.code)
    return signatures.sign(
        session,
        signer=signer,
        password=password,
        meaning=Meaning.IDENTITY_VERIFIED,
        entity_type="bedside_check",
        entity_id=record.id,
    )
