"""Patients, orders, allocation, issue and thaw, made through the services by the ward and lab."""

from __future__ import annotations

from datetime import timedelta

from mfg.clinical import bedside, orders, patients
from mfg.clinical.schemas import EnrolmentIn, IssueIn
from mfg.manufacturing import doses, storage
from mfg.manufacturing.schemas import ThawIn
from mfg.models import Allocation, Dose, DoseOrder, Lot, Patient, utcnow
from tests.donors.factories import Lab
from tests.factories import PASSWORD, add_user
from tests.release.factories import label_scan, releasable_lot, release

YES_TO_INCLUSION = {
    "PCR-confirmed COVID-19 pneumonia": True,
    "Respiratory failure": True,
    "Diagnosed cancer": False,
}


def laboratory_and_ward(engine, settings, users) -> Lab:
    """A laboratory and a ward: second QC analyst, second QA person, second clinician, for the
    steps a colleague verifies or signs."""
    extra = {
        name: add_user(engine, settings, name, role)
        for name, role in (("qc-2", "qc"), ("qa-2", "qa"), ("clinician-2", "clinician"))
    }
    return Lab(engine, settings, {**users, **extra})


def enrol(lab: Lab, *, arm: str = "MSC", weight: float = 80, verified: bool = True) -> Patient:
    patient = lab.run(
        "clinician",
        lambda s, a: patients.enrol_patient(
            s,
            actor=a,
            trial=patients.get_trial(s),
            command=EnrolmentIn(
                arm=arm,
                sex="F",
                age=54,
                weight_kg=weight,
                eligibility=YES_TO_INCLUSION,
                enrolled_on=utcnow().astimezone(lab.settings.tz).date() - timedelta(days=1),
            ),
        ),
    )
    if verified:
        lab.run(
            "clinician-2",
            lambda s, a: patients.verify_weight(
                s, actor=a, patient=patients.get_patient(s, patient.code)
            ),
        )
    return patient


def order(lab: Lab, patient: Patient, infusions: int = 1) -> DoseOrder:
    return lab.run(
        "clinician",
        lambda s, a: orders.create_order(
            s, actor=a, patient=patients.get_patient(s, patient.code), infusions=infusions
        ),
    )


def allocate(lab: Lab, dose_order: DoseOrder) -> Allocation:
    return lab.run(
        "technician",
        lambda s, a: orders.allocate(s, actor=a, order=orders.get_order(s, dose_order.id)),
    )


def issue(lab: Lab, allocation: Allocation) -> Allocation:
    return lab.run(
        "technician",
        lambda s, a: orders.issue(
            s,
            actor=a,
            allocation=s.get(Allocation, allocation.id),
            command=IssueIn(
                receiver_username="clinician",
                receiver_password=PASSWORD,
                issued_at=utcnow() - timedelta(minutes=20),
                transport_temp_c=-150,
            ),
        ),
    )


def thaw(lab: Lab, dose: Dose, minutes_ago: float = 2) -> Dose:
    return lab.run(
        "clinician",
        lambda s, a: storage.thaw_dose(
            s,
            actor=a,
            dose=doses.get_dose(s, dose.identifier),
            command=ThawIn(thawed_at=utcnow() - timedelta(minutes=minutes_ago), password=PASSWORD),
        ),
    )


def released_lot(lab: Lab, *, count: int = 2) -> Lot:
    lot = releasable_lot(lab, count=count)
    release(lab, lot)
    return lot


def ready_at_bedside(lab: Lab, *, thawed_minutes_ago: float = 2):
    """A patient of the product arm with an order, a dose of a released lot allocated, issued and
    thawed: what the bedside check passes."""
    released_lot(lab)
    patient = enrol(lab)
    allocation = allocate(lab, order(lab, patient))
    issue(lab, allocation)
    dose = lab.run("clinician", lambda s, a: s.get(Dose, allocation.dose_id))
    thaw(lab, dose, minutes_ago=thawed_minutes_ago)
    return patient, dose


def check(lab: Lab, patient_code: str, dose: Dose | str, role: str = "clinician"):
    scan = dose if isinstance(dose, str) else label_scan(lab, dose)
    return lab.run(
        role,
        lambda s, a: bedside.check_at_bedside(s, actor=a, wristband=patient_code, dose_scan=scan),
    )
