"""The bedside: a refusal for each check of docs/process.md#bedside-checks, every attempt recorded,
two different clinicians, the infusion; and allocation of the last dose to one patient only."""

import json
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mfg.clinical import bedside, infusions, orders, patients
from mfg.clinical.schemas import EnrolmentIn, InfusionIn, IssueIn
from mfg.db import unit_of_work
from mfg.errors import Conflict, RuleViolation
from mfg.manufacturing import pools
from mfg.models import BedsideCheck, Dose, DoseStatus, User, utcnow
from mfg.release import service as release_service
from tests.audit.tamper import execute
from tests.clinical.factories import (
    allocate,
    check,
    enrol,
    issue,
    order,
    ready_at_bedside,
    released_lot,
    thaw,
)
from tests.factories import PASSWORD, log_in
from tests.manufacturing.factories import filled_lot
from tests.races import race

VITALS = {
    moment: {
        "temperature_c": 36.8,
        "heart_rate": 82,
        "systolic_mmhg": 125,
        "diastolic_mmhg": 80,
        "respiratory_rate": 18,
        "spo2": 95,
    }
    for moment in ("before", "during", "after")
}


def failed(record: BedsideCheck) -> list[str]:
    return [row[0] for row in json.loads(record.results) if not row[1]]


def failed_codes(record: BedsideCheck) -> list[str]:
    return [row[3] for row in json.loads(record.results) if not row[1]]


def sign(lab, record: BedsideCheck, signer: str, role: str = "clinician"):
    return lab.run(
        role,
        lambda s, a: bedside.verify_identity(
            s,
            actor=a,
            record=bedside.get_check(s, record.id),
            signer=s.exec(select(User).where(User.username == signer)).one(),
            password=PASSWORD,
        ),
    )


def infuse(lab, record: BedsideCheck):
    return lab.run(
        "clinician",
        lambda s, a: infusions.record_infusion(
            s,
            actor=a,
            record=bedside.get_check(s, record.id),
            command=InfusionIn(
                started_at=utcnow() - timedelta(seconds=30),
                stopped_at=utcnow(),
                volume_ml=20,
                complete=True,
                bag_inspected=True,
                vitals=VITALS,
                reactions="none",
                password=PASSWORD,
            ),
        ),
    )


def test_a_dose_passes_every_check_is_verified_by_two_clinicians_and_infused(lab, engine) -> None:
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    assert record.passed, failed(record)
    with pytest.raises(RuleViolation, match="Two different clinicians"):
        infuse(lab, record)
    sign(lab, record, "clinician")
    sign(lab, record, "clinician-2")
    infusion = infuse(lab, record)
    assert infusion.volume_ml == 20
    with Session(engine) as session:
        assert session.get(Dose, dose.id).status == DoseStatus.INFUSED


def test_the_same_clinician_cannot_sign_both_verifications(lab) -> None:
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    sign(lab, record, "clinician")
    with pytest.raises(RuleViolation, match="second, different clinician"):
        sign(lab, record, "clinician", role="clinician-2")


def test_bedside_refuses_another_patients_dose(lab) -> None:
    _, dose = ready_at_bedside(lab)
    other = enrol(lab)
    order(lab, other)
    record = check(lab, other.code, dose)
    assert not record.passed and failed(record) == ["allocated to this patient"]


def test_bedside_refuses_a_dose_not_released(lab) -> None:
    patient, _ = ready_at_bedside(lab)
    _, quarantined = filled_lot(lab, count=1)
    record = check(lab, patient.code, quarantined[0])
    assert "lot released" in failed(record)


def test_bedside_refuses_an_expired_dose(lab, engine) -> None:
    patient, dose = ready_at_bedside(lab)
    past = (utcnow() - timedelta(hours=1)).replace(tzinfo=None).isoformat(sep=" ")
    execute(engine, f"UPDATE dose SET expires_at = '{past}' WHERE id = {dose.id}")
    assert failed(check(lab, patient.code, dose)) == ["not expired"]


def test_bedside_refuses_a_dose_on_hold_or_recalled(lab) -> None:
    patient, dose = ready_at_bedside(lab)
    lab.run(
        "qa",
        lambda s, a: release_service.hold(
            s,
            actor=a,
            lot=pools.get_lot(s, dose.identifier[:13]),
            password=PASSWORD,
            reason="complaint",
        ),
    )
    record = check(lab, patient.code, dose)
    assert "not on hold or recalled" in failed(record) and "lot released" in failed(record)


def test_bedside_refuses_a_dose_already_infused(lab) -> None:
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    sign(lab, record, "clinician")
    sign(lab, record, "clinician-2")
    infuse(lab, record)
    again = check(lab, patient.code, dose)
    assert "not already infused" in failed(again)
    # the order's one infusion is given: the order is completed, none is active
    assert {"already_infused", "no_active_order"} <= set(failed_codes(again))


def test_bedside_refuses_beyond_the_thaw_window(lab, engine, settings) -> None:
    patient, dose = ready_at_bedside(lab)
    assert settings.thaw_to_infusion_limit_minutes == 60
    long_ago = (utcnow() - timedelta(minutes=75)).replace(tzinfo=None).isoformat(sep=" ")
    execute(engine, f"UPDATE dose SET thawed_at = '{long_ago}' WHERE id = {dose.id}")
    assert failed(check(lab, patient.code, dose)) == ["thaw window"]


def test_bedside_refuses_a_dose_outside_the_prescription(lab, engine) -> None:
    patient, dose = ready_at_bedside(lab)
    execute(
        engine,
        f"UPDATE dose_order SET cells_per_infusion = 50000000 WHERE patient_id = {patient.id}",
    )
    assert failed(check(lab, patient.code, dose)) == ["cell dose matches prescription"]


def test_bedside_refuses_a_control_arm_patient(lab) -> None:
    _, dose = ready_at_bedside(lab)
    control = enrol(lab, arm="CONTROL")
    assert "arm" in failed(check(lab, control.code, dose))


def test_every_bedside_attempt_is_recorded_matched_or_not(lab, engine) -> None:
    patient, dose = ready_at_bedside(lab)
    check(lab, "PT-999999-X", dose)  # a wristband that names no one
    check(lab, patient.code, "=A99992699999900")  # a label that names no dose
    check(lab, patient.code, dose)
    with Session(engine) as session:
        attempts = session.exec(select(BedsideCheck).order_by(BedsideCheck.id)).all()
    assert [a.passed for a in attempts] == [False, False, True]
    assert attempts[0].wristband_scan == "PT-999999-X" and attempts[0].patient_id is None


def test_orders_need_a_verified_weight_and_a_product_arm(lab) -> None:
    unverified = enrol(lab, verified=False)
    with pytest.raises(RuleViolation, match="not verified"):
        order(lab, unverified)
    with pytest.raises(RuleViolation, match="control arm"):
        order(lab, enrol(lab, arm="CONTROL"))
    with pytest.raises(RuleViolation, match="second person verifies"):
        lab.run(
            "clinician",
            lambda s, a: patients.verify_weight(
                s, actor=a, patient=patients.get_patient(s, unverified.code)
            ),
        )


def test_enrolment_refused_when_a_criterion_fails(lab) -> None:
    with pytest.raises(RuleViolation, match="Exclusion criterion present: Diagnosed cancer"):
        lab.run(
            "clinician",
            lambda s, a: patients.enrol_patient(
                s,
                actor=a,
                trial=patients.get_trial(s),
                command=EnrolmentIn(
                    arm="MSC",
                    sex="M",
                    age=61,
                    weight_kg=90,
                    eligibility={
                        "PCR-confirmed COVID-19 pneumonia": True,
                        "Respiratory failure": True,
                        "Diagnosed cancer": True,
                    },
                    enrolled_on=utcnow().date(),
                ),
            ),
        )


def test_concurrent_allocation_of_the_last_available_dose_gives_it_to_one_patient(
    lab, engine, settings
) -> None:
    released_lot(lab, count=1)
    first, second = enrol(lab), enrol(lab)
    orders_ = [order(lab, first), order(lab, second)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def work(order_id: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(engine, settings=settings) as session:
                orders.allocate(
                    session,
                    actor=session.get(User, lab.users["technician"].id),
                    order=orders.get_order(session, order_id),
                )
            outcomes.append("ok")
        except Exception as error:  # the loser's error is the point
            outcomes.append(error)

    threads = [threading.Thread(target=work, args=(o.id,)) for o in orders_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), Conflict | RuleViolation)


def test_issue_is_a_hand_over_confirmed_by_the_receiving_clinician(lab) -> None:
    released_lot(lab)
    allocation = allocate(lab, order(lab, enrol(lab)))
    with pytest.raises(Exception, match="password"):
        lab.run(
            "technician",
            lambda s, a: orders.issue(
                s,
                actor=a,
                allocation=s.get(type(allocation), allocation.id),
                command=IssueIn(
                    receiver_username="clinician",
                    receiver_password="not the password",
                    issued_at=utcnow(),
                    transport_temp_c=-150,
                ),
            ),
        )
    issued = issue(lab, allocation)
    assert issued.received_by_id == lab.users["clinician"].id


def test_the_allocation_tag_scans_back_to_the_patients_subject_code(lab, engine, settings) -> None:
    from mfg.labeling.service import print_label
    from mfg.record_kinds import build_label_sources
    from tests.labeling.helpers import decoded

    released_lot(lab)
    patient = enrol(lab)
    allocation = allocate(lab, order(lab, patient))
    with unit_of_work(engine, settings=settings) as session:
        printed = print_label(
            session,
            actor=session.get(User, lab.users["technician"].id),
            sources=build_label_sources(),
            kind="allocation",
            identifier=str(allocation.id),
        )
    assert decoded(printed.content)[0] == [patient.code]


def test_a_conditional_dose_needs_acknowledging_and_a_late_positive_names_its_patient(
    lab, engine
) -> None:
    from mfg.models import Deviation, Lot, LotStatus
    from tests.qc.factories import enter, sample_of
    from tests.qc.factories import verify as verify_result
    from tests.release.factories import record_results, releasable_lot, release

    lot = releasable_lot(lab, skip=("STER-AER", "STER-ANA"))
    sample = sample_of(lab, lot.din, "STER-AER", "STER-ANA")
    for code in ("STER-AER", "STER-ANA"):
        verify_result(lab, enter(lab, sample, code, "no growth", reading="day 3"))
    release(lab, lot, conditional=True)
    patient = enrol(lab)
    allocation = allocate(lab, order(lab, patient))
    issue(lab, allocation)
    with Session(engine) as session:
        dose = session.get(Dose, allocation.dose_id)
    thaw(lab, dose)
    record = check(lab, patient.code, dose)
    assert record.passed
    assert "CONDITIONALLY" in {row[0]: row[2] for row in json.loads(record.results)}["lot released"]
    sign(lab, record, "clinician")
    sign(lab, record, "clinician-2")
    with pytest.raises(RuleViolation, match="acknowledge it"):
        infuse(lab, record)
    infusion = lab.run(
        "clinician",
        lambda s, a: infusions.record_infusion(
            s,
            actor=a,
            record=bedside.get_check(s, record.id),
            command=InfusionIn(
                started_at=utcnow() - timedelta(seconds=30),
                stopped_at=utcnow(),
                volume_ml=20,
                complete=True,
                bag_inspected=True,
                vitals=VITALS,
                reactions="",
                password=PASSWORD,
                conditional_acknowledged=True,
            ),
        ),
    )
    assert infusion.id is not None
    record_results(lab, lot, {"STER-AER": "growth"})  # the final culture turns positive
    with Session(engine) as session:
        assert session.get(Lot, lot.id).status == LotStatus.ON_HOLD
        notice = session.exec(
            select(Deviation).where(Deviation.title.startswith("Notify treating physicians"))
        ).one()
    assert f"to patient {patient.code}" in notice.description


def test_two_clinicians_verifying_one_weight_at_once_record_one_verification(
    lab, engine, settings
) -> None:
    from tests.factories import add_user

    patient = enrol(lab, verified=False)
    third = add_user(engine, settings, "clinician-3", "clinician")

    def work(session: Session, actor: User) -> None:
        patients.verify_weight(
            session,
            actor=actor,
            patient=patients.get_patient(session, patient.code),
        )

    outcomes = race(engine, settings, (lab.users["clinician-2"], third), work)
    assert outcomes.count("ok") == 1, outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), Conflict)


def test_an_infusion_record_shows_each_signature_and_whether_it_still_matches(
    lab, client, engine
) -> None:
    """The two identity signatures and the "Administered" one, each as a signature block that
    says whether its record is unchanged since signing."""
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    sign(lab, record, "clinician")
    sign(lab, record, "clinician-2")
    infusion = infuse(lab, record)
    log_in(client, "clinician")
    page = client.get(f"/bedside/checks/{record.id}").text
    assert page.count('class="signature"') == 3 and page.count("Signature valid") == 3
    execute(engine, f"UPDATE infusion SET volume_ml = 19 WHERE id = {infusion.id}")
    page = client.get(f"/bedside/checks/{record.id}").text
    assert page.count("SIGNATURE INVALID") == 1 and page.count("Signature valid") == 2
