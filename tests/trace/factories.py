"""A small real history to trace: two pools sharing no donor, a dose of each infused into its own
patient (enrolled, ordered, allocated, issued, thawed, checked, signed twice, infused)."""

from datetime import timedelta

from sqlmodel import Session, select

from mfg.clinical import bedside, infusions
from mfg.clinical.schemas import InfusionIn
from mfg.models import Dose, PoolMember, User, utcnow
from tests.clinical.factories import allocate, check, enrol, issue, order, thaw
from tests.factories import PASSWORD
from tests.release.factories import releasable_lot, release

VITALS = {
    m: {
        "temperature_c": 37,
        "heart_rate": 80,
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "respiratory_rate": 16,
        "spo2": 96,
    }
    for m in ("before", "during", "after")
}


def infuse_next_dose(lab, engine):
    """Enrol, order, allocate (first expiry, first out), issue, thaw, check, sign twice, infuse."""
    patient = enrol(lab)
    allocation = allocate(lab, order(lab, patient))
    issue(lab, allocation)
    with Session(engine) as session:
        dose = session.get(Dose, allocation.dose_id)
    thaw(lab, dose)
    record = check(lab, patient.code, dose)
    for signer in ("clinician", "clinician-2"):
        lab.run(
            "clinician",
            lambda s, a, who=signer: bedside.verify_identity(
                s,
                actor=a,
                record=bedside.get_check(s, record.id),
                signer=s.exec(select(User).where(User.username == who)).one(),
                password=PASSWORD,
            ),
        )
    lab.run(
        "clinician",
        lambda s, a: infusions.record_infusion(
            s,
            actor=a,
            record=bedside.get_check(s, record.id),
            command=InfusionIn(
                started_at=utcnow() - timedelta(seconds=20),
                stopped_at=utcnow(),
                volume_ml=20,
                complete=True,
                bag_inspected=True,
                vitals=VITALS,
                reactions="",
                password=PASSWORD,
            ),
        ),
    )
    return patient, dose


def two_pool_history(lab, engine):
    """Lot A (one dose) and lot B from four different donors; a patient infused from each."""
    lot_a = releasable_lot(lab, count=1)
    release(lab, lot_a)
    patient_a, dose_a = infuse_next_dose(lab, engine)
    lot_b = releasable_lot(lab, count=2)
    release(lab, lot_b)
    patient_b, dose_b = infuse_next_dose(lab, engine)
    with Session(engine) as session:
        donors = {
            lot.din: {
                m.donor_id
                for m in session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id))
            }
            for lot in (lot_a, lot_b)
        }
    assert not donors[lot_a.din] & donors[lot_b.din]
    return {"a": (lot_a, dose_a, patient_a), "b": (lot_b, dose_b, patient_b)}
