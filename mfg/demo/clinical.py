"""Demonstration clinical use: patients enrolled in both arms; one infused with its full record,
an adverse event and a day-21 outcome; one with a dose allocated; control patients assessed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.clinical import bedside, infusions, orders, outcomes, patients
from mfg.clinical.schemas import AdverseEventIn, EnrolmentIn, InfusionIn, IssueIn, OutcomeIn
from mfg.db import settings_of
from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from mfg.manufacturing import storage
from mfg.manufacturing.schemas import ThawIn
from mfg.models import Dose, Relation, utcnow

ANSWERS = {
    "PCR-confirmed COVID-19 pneumonia": True,
    "Respiratory failure": True,
    "Diagnosed cancer": False,
}
VITALS = {
    "before": {
        "temperature_c": 37.9,
        "heart_rate": 96,
        "systolic_mmhg": 128,
        "diastolic_mmhg": 82,
        "respiratory_rate": 24,
        "spo2": 91,
    },
    "during": {
        "temperature_c": 38.1,
        "heart_rate": 98,
        "systolic_mmhg": 126,
        "diastolic_mmhg": 80,
        "respiratory_rate": 23,
        "spo2": 92,
    },
    "after": {
        "temperature_c": 38.0,
        "heart_rate": 94,
        "systolic_mmhg": 124,
        "diastolic_mmhg": 80,
        "respiratory_rate": 22,
        "spo2": 93,
    },
}


def _enrol(session: Session, *, arm: str, sex: str, age: int, weight: float, days_ago: int):
    doctor, doctor2 = require_user(session, "doctor"), require_user(session, "doctor2")
    patient = patients.enrol_patient(
        session,
        actor=doctor,
        trial=patients.get_trial(session),
        command=EnrolmentIn(
            arm=arm,
            sex=sex,
            age=age,
            weight_kg=weight,
            eligibility=ANSWERS,
            enrolled_on=(utcnow() - timedelta(days=days_ago)).date(),
        ),
    )
    patients.verify_weight(session, actor=doctor2, patient=patient)
    return patient


def _infuse(session: Session, patient, *, passwords: dict[str, str]) -> Dose:
    """Order, allocation, hand-over, thaw, bedside check, two signatures, infusion."""
    tech, doctor, doctor2 = (require_user(session, n) for n in ("tech", "doctor", "doctor2"))
    order = orders.create_order(session, actor=doctor, patient=patient)
    allocation = orders.allocate(session, actor=tech, order=order)
    orders.issue(
        session,
        actor=tech,
        allocation=allocation,
        command=IssueIn(
            receiver_username="doctor",
            receiver_password=passwords["doctor"],
            issued_at=utcnow() - timedelta(minutes=40),
            transport_temp_c=-152,
        ),
    )
    dose = session.get(Dose, allocation.dose_id)
    storage.thaw_dose(
        session,
        actor=doctor,
        dose=dose,
        command=ThawIn(thawed_at=utcnow() - timedelta(minutes=15), password=passwords["doctor"]),
    )
    label = (
        Din.parse(dose.identifier[:13]).barcode_data()
        + ProductCode.parse(dose.product_code).barcode_data()
        + format_expiry(dose.expires_at, settings_of(session).tz)
    )
    check = bedside.check_at_bedside(session, actor=doctor, wristband=patient.code, dose_scan=label)
    for signer in (doctor, doctor2):
        bedside.verify_identity(
            session, actor=doctor, record=check, signer=signer, password=passwords[signer.username]
        )
    infusions.record_infusion(
        session,
        actor=doctor,
        record=check,
        command=InfusionIn(
            started_at=utcnow() - timedelta(seconds=50),
            stopped_at=utcnow() - timedelta(seconds=5),
            volume_ml=dose.volume_ml,
            complete=True,
            bag_inspected=True,
            vitals=VITALS,
            reactions="Transient rise in temperature to 38.1 °C",
            password=passwords["doctor"],
        ),
    )
    return dose


def load_demo_clinical(session: Session, *, passwords: dict[str, str]) -> list[str]:
    doctor = require_user(session, "doctor")
    infused = _enrol(session, arm="MSC", sex="F", age=58, weight=60, days_ago=22)
    dose = _infuse(session, infused, passwords=passwords)
    fever = AdverseEventIn(
        term="Fever",
        onset=(utcnow() - timedelta(days=0)).date(),
        grade=1,
        serious=False,
        relation=Relation.POSSIBLE,
        action="Paracetamol",
        outcome="Recovering",
        password=passwords["doctor"],
    )
    outcomes.record_adverse_event(session, actor=doctor, patient=infused, command=fever)
    waiting = _enrol(session, arm="MSC", sex="M", age=44, weight=61.5, days_ago=1)
    orders.allocate(
        session,
        actor=require_user(session, "tech"),
        order=orders.create_order(session, actor=doctor, patient=waiting),
    )
    cured = _enrol(session, arm="CONTROL", sex="M", age=63, weight=88, days_ago=25)
    outcomes.record_outcome(
        session,
        actor=doctor,
        patient=cured,
        command=OutcomeIn(
            assessed_on=(utcnow() - timedelta(days=4)).date(),
            pcr="negative",
            ct="improved",
            password=passwords["doctor"],
        ),
    )
    pending = _enrol(session, arm="CONTROL", sex="F", age=51, weight=70, days_ago=3)
    return [
        f"patient {infused.code} (MSC arm) infused with dose {dose.identifier}: bedside check, "
        "two identity signatures, infusion record, a grade-1 fever",
        f"patient {waiting.code} (MSC arm): dose allocated, awaiting hand-over",
        f"patients {cured.code} (control, cured at day 21) and {pending.code} (control)",
    ]
