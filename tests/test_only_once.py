"""Every "only one" rule is held by the database, on SQLite and PostgreSQL alike: twenty people
doing the same thing at the same moment (threads, real commits) leave one record, and each of
the others gets the rule's own refusal — never a 500 and never a second row. Allocation under
contention takes the next free dose instead of refusing while one remains."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, col, func, select

from mfg.clinical import bedside, orders, outcomes, patients
from mfg.clinical.schemas import OutcomeIn
from mfg.errors import MfgError
from mfg.labeling import service as labeling
from mfg.models import (
    Allocation,
    DoseOrder,
    LabelPrint,
    Outcome,
    QcResult,
    Signature,
    User,
)
from mfg.qc import results, samples
from mfg.qc.schemas import ResultIn
from mfg.record_kinds import build_label_sources
from tests.clinical.factories import (
    check,
    enrol,
    laboratory_and_ward,
    order,
    ready_at_bedside,
    released_lot,
)
from tests.clinical.outcome_factories import enrolled, today
from tests.factories import PASSWORD, add_user
from tests.manufacturing.factories import pooled_lot
from tests.qc.factories import lot_sample
from tests.races import race

RACERS = 20


@pytest.fixture
def lab(engine, settings, users):
    return laboratory_and_ward(engine, settings, users)


def _codes(outcomes: list[object]) -> Counter:
    """ "ok" for each winner, the refusal's code for each loser (anything else fails here)."""
    for outcome in outcomes:
        if outcome != "ok" and not isinstance(outcome, MfgError):
            raise AssertionError(f"not a clean refusal: {outcome!r}") from outcome  # type: ignore[misc]
    return Counter(o if o == "ok" else o.code for o in outcomes)  # type: ignore[union-attr]


def _count(engine, model, *conditions) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*conditions)).one()


def _same(lab, role: str) -> list[User]:
    return [lab.users[role]] * RACERS


def test_one_standing_result_per_test_and_reading_of_a_sample(engine, settings, lab) -> None:
    sample = lot_sample(lab, pooled_lot(lab), "VIAB")

    def work(session, actor) -> None:
        results.enter_result(
            session,
            actor=actor,
            sample=samples.get_sample(session, sample.code),
            command=ResultIn(test_code="VIAB", value="91", tested_at=sample.taken_at),
        )

    assert _codes(race(engine, settings, _same(lab, "qc"), work)) == {
        "ok": 1,
        "result_already_entered": RACERS - 1,
    }
    assert _count(engine, QcResult, QcResult.sample_id == sample.id) == 1


def test_one_active_order_per_patient(engine, settings, lab) -> None:
    patient = enrol(lab)

    def work(session, actor) -> None:
        orders.create_order(
            session, actor=actor, patient=patients.get_patient(session, patient.code)
        )

    assert _codes(race(engine, settings, _same(lab, "clinician"), work)) == {
        "ok": 1,
        "order_active": RACERS - 1,
    }
    assert _count(engine, DoseOrder, DoseOrder.patient_id == patient.id) == 1


def test_one_identity_signature_per_clinician_per_check(engine, settings, lab) -> None:
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    signer = lab.users["clinician"]

    def work(session, actor) -> None:
        bedside.verify_identity(
            session,
            actor=actor,
            record=bedside.get_check(session, record.id),
            signer=session.get(User, signer.id),
            password=PASSWORD,
        )

    assert _codes(race(engine, settings, _same(lab, "clinician"), work)) == {
        "ok": 1,
        "second_person_required": RACERS - 1,
    }
    identity = (Signature.entity_type == "bedside_check", Signature.entity_id == str(record.id))
    assert _count(engine, Signature, *identity) == 1


def test_two_identity_signatures_at_most_however_many_clinicians_sign_at_once(
    engine, settings, lab
) -> None:
    patient, dose = ready_at_bedside(lab)
    record = check(lab, patient.code, dose)
    clinicians = [add_user(engine, settings, f"ward-{n}", "clinician") for n in range(RACERS)]

    def work(session, actor) -> None:
        bedside.verify_identity(
            session,
            actor=actor,
            record=bedside.get_check(session, record.id),
            signer=actor,
            password=PASSWORD,
        )

    assert _codes(race(engine, settings, clinicians, work)) == {
        "ok": 2,
        "already_verified": RACERS - 2,
    }
    identity = (Signature.entity_type == "bedside_check", Signature.entity_id == str(record.id))
    assert _count(engine, Signature, *identity) == 2


def test_one_original_print_per_label(engine, settings, lab) -> None:
    sample = lot_sample(lab, pooled_lot(lab), "VIAB")
    sources = build_label_sources()

    def work(session, actor) -> None:
        labeling.print_label(
            session, actor=actor, kind="qc-sample", identifier=sample.code, sources=sources
        )

    assert _codes(race(engine, settings, _same(lab, "technician"), work)) == {
        "ok": 1,
        "reprint_reason_required": RACERS - 1,
    }
    prints = (LabelPrint.kind == "qc-sample", LabelPrint.identifier == sample.code)
    assert _count(engine, LabelPrint, *prints, col(LabelPrint.reprint).is_(False)) == 1
    assert _count(engine, LabelPrint, *prints) == 1


def test_one_outcome_per_patient(engine, settings, lab) -> None:
    patient = enrolled(lab)
    day_21 = today(lab)

    def work(session, actor) -> None:
        outcomes.record_outcome(
            session,
            actor=actor,
            patient=patients.get_patient(session, patient.code),
            command=OutcomeIn(
                assessed_on=day_21,
                pcr="negative",
                ct="improved",
                password=PASSWORD,
            ),
        )

    assert _codes(race(engine, settings, _same(lab, "clinician"), work)) == {
        "ok": 1,
        "outcome_already_recorded": RACERS - 1,
    }
    assert _count(engine, Outcome, Outcome.patient_id == patient.id) == 1


def test_allocation_under_contention_takes_the_next_free_dose(engine, settings, lab) -> None:
    """Twenty orders racing for six doses: six allocations, and each refusal says there is no
    dose left — none says "the dose changed" while another remained."""
    free = 5  # a lot's formulated 100 mL fill five bags of 20 mL
    released_lot(lab, count=free)
    technicians = [add_user(engine, settings, f"bench-{n}", "technician") for n in range(RACERS)]
    order_of = {t.id: order(lab, enrol(lab)).id for t in technicians}

    def work(session, actor) -> None:
        orders.allocate(session, actor=actor, order=orders.get_order(session, order_of[actor.id]))

    assert _codes(race(engine, settings, technicians, work)) == {
        "ok": free,
        "no_dose_available": RACERS - free,
    }
    assert _count(engine, Allocation) == free
    with Session(engine) as session:
        doses = session.exec(select(Allocation.dose_id)).all()
    assert len(set(doses)) == free
