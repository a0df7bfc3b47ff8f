"""Patients with adverse events, outcomes and infusions, for the outcome and report tests."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import update

from mfg.clinical import outcomes, patients
from mfg.clinical.schemas import AdverseEventIn, EnrolmentIn, OutcomeIn
from mfg.donors.service import local_today
from mfg.models import (
    AdverseEvent,
    BedsideCheck,
    Dose,
    Infusion,
    Outcome,
    Patient,
    PatientStatus,
    utcnow,
)
from tests.donors.factories import Lab
from tests.factories import PASSWORD

ELIGIBLE = {
    "PCR-confirmed COVID-19 pneumonia": True,
    "Respiratory failure": True,
    "Diagnosed cancer": False,
}


def today(lab: Lab) -> date:
    return lab.run("clinician", lambda s, _a: local_today(s))


def enrolled(lab: Lab, *, arm: str = "MSC", days_ago: int = 25) -> Patient:
    """A patient enrolled ``days_ago`` days ago through the enrolment service."""
    return lab.run(
        "clinician",
        lambda s, a: patients.enrol_patient(
            s,
            actor=a,
            trial=patients.get_trial(s),
            command=EnrolmentIn(
                arm=arm,
                sex="M",
                age=47,
                weight_kg=82,
                eligibility=ELIGIBLE,
                enrolled_on=local_today(s) - timedelta(days=days_ago),
            ),
        ),
    )


def withdrawn(lab: Lab, patient: Patient) -> None:
    """Marks the patient withdrawn directly: the withdrawal use case is not the subject here."""
    lab.run(
        "clinician",
        lambda s, _a: s.execute(
            update(Patient).where(Patient.id == patient.id).values(status=PatientStatus.WITHDRAWN)
        ),
    )


def adverse_event(
    lab: Lab,
    patient: Patient,
    *,
    relation: str = "possible",
    grade: int = 2,
    serious: bool = False,
    onset_days_ago: int = 10,
    term: str = "Fever",
) -> AdverseEvent:
    def work(s, a):
        return outcomes.record_adverse_event(
            s,
            actor=a,
            patient=patients.get_patient(s, patient.code),
            command=AdverseEventIn(
                term=term,
                onset=local_today(s) - timedelta(days=onset_days_ago),
                grade=grade,
                serious=serious,
                relation=relation,
                action="paracetamol",
                outcome="recovering",
                password=PASSWORD,
            ),
        )

    return lab.run("clinician", work)


def outcome(lab: Lab, patient: Patient, *, pcr: str = "negative", ct: str = "improved") -> Outcome:
    def work(s, a):
        p = patients.get_patient(s, patient.code)
        return outcomes.record_outcome(
            s,
            actor=a,
            patient=p,
            command=OutcomeIn(
                assessed_on=min(p.enrolled_on + timedelta(days=21), local_today(s)),
                pcr=pcr,
                ct=ct,
                password=PASSWORD,
            ),
        )

    return lab.run("clinician", work)


def infused(lab: Lab, patient: Patient, dose: Dose) -> Infusion:
    """An infusion written as rows (with its passed bedside check): the report only counts it."""

    def work(s, a):
        check = BedsideCheck(
            wristband_scan=patient.code,
            dose_scan=dose.identifier,
            patient_id=patient.id,
            dose_id=dose.id,
            passed=True,
            results="[]",
            checked_by_id=a.id,
        )
        s.add(check)
        s.flush()
        started = utcnow() - timedelta(days=20)
        infusion = Infusion(
            dose_id=dose.id,
            patient_id=patient.id,
            bedside_check_id=check.id,
            started_at=started,
            stopped_at=started + timedelta(minutes=30),
            volume_ml=20,
            complete=True,
            bag_inspected=True,
            vitals=json.dumps({}),
            recorded_by_id=a.id,
        )
        s.add(infusion)
        s.flush()
        return infusion

    return lab.run("clinician", work)
