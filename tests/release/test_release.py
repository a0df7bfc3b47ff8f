"""Lot release: refused for each blocking reason (stated), atomic, one winner; conditional release,
its completion and the late positive; rejection, hold and recall."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.deviations import service as deviations
from mfg.deviations.schemas import DeviationIn
from mfg.errors import Conflict, RuleViolation, SignatureRefused
from mfg.manufacturing import pools
from mfg.models import (
    Donor,
    Dose,
    DoseStatus,
    Lot,
    LotStatus,
    ReleaseDecision,
    User,
    utcnow,
)
from mfg.release import service
from tests.audit.tamper import execute
from tests.factories import PASSWORD, add_user
from tests.manufacturing.factories import cryopreserve, filled_lot
from tests.qc.factories import enter, sample_of, verify
from tests.release.factories import (
    IN_SPECIFICATION,
    blocking_codes,
    check_labels,
    conditionally_releasable_lot,
    record_results,
    releasable_lot,
    release,
)


def _statuses(engine, lot: Lot) -> tuple[str, set[str]]:
    with Session(engine) as session:
        doses = session.exec(select(Dose).where(Dose.lot_id == lot.id)).all()
        return session.get(Lot, lot.id).status, {d.status for d in doses}


def test_a_releasable_lot_is_released_and_its_doses_become_available(lab, engine) -> None:
    lot = releasable_lot(lab)
    assert blocking_codes(lab, lot) == []
    decision = release(lab, lot)
    assert decision.decision == "released" and len(decision.content_hash) == 64
    assert _statuses(engine, lot) == (LotStatus.RELEASED, {DoseStatus.AVAILABLE})


def test_release_refused_when_a_donor_is_ineligible(lab, engine) -> None:
    lot = releasable_lot(lab)
    with Session(engine) as session:
        member = pools.members_of(session, session.get(Lot, lot.id))[0]
        donor = session.get(Donor, member.donor_id)
    lab.result(donor, "HIV-NAT", outcome="positive")  # look-back: the donor becomes ineligible
    with pytest.raises(RuleViolation, match=f"Donor {donor.code} is ineligible"):
        release(lab, lot)


def test_release_refused_when_a_required_test_has_no_verified_result(lab) -> None:
    lot = releasable_lot(lab, skip=("MYCO",))
    assert blocking_codes(lab, lot) == ["test_missing"]
    with pytest.raises(RuleViolation, match=r"MYCO .* has no verified final result"):
        release(lab, lot)


def test_release_refused_when_a_result_is_out_of_specification(lab) -> None:
    lot = releasable_lot(lab, skip=("ENDO",))
    record_results(lab, lot, {"ENDO": "0.9"})
    codes = blocking_codes(lab, lot)
    assert "result_out_of_specification" in codes
    assert "open_deviation" in codes  # the failing verified result opened one


def test_release_refused_while_a_deviation_is_open(lab) -> None:
    lot = releasable_lot(lab)
    lab.run(
        "technician",
        lambda s, a: deviations.open_deviation(
            s,
            actor=a,
            command=DeviationIn(
                title="Freezer door alarm",
                description="Door open 3 min",
                entity_type="lot",
                entity_id=lot.din,
            ),
            lot=pools.get_lot(s, lot.din),
        ),
    )
    assert blocking_codes(lab, lot) == ["open_deviation"]


def test_release_refused_when_a_manufacturing_step_signature_no_longer_matches(lab, engine) -> None:
    lot = releasable_lot(lab)
    execute(engine, f"UPDATE harvest SET final_volume_ml = 99 WHERE lot_id = {lot.id}")
    assert blocking_codes(lab, lot) == ["step_unsigned"]


def test_release_refused_beyond_the_passage_limit(lab, settings) -> None:
    lot = releasable_lot(lab)
    settings.max_harvest_passage = 0  # a stricter SOP since the harvest
    assert blocking_codes(lab, lot) == ["limit_exceeded"]


def test_release_refused_when_the_lot_has_expired(lab, engine) -> None:
    lot = releasable_lot(lab)
    past = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" ")
    execute(engine, f"UPDATE dose SET expires_at = '{past}' WHERE lot_id = {lot.id}")
    assert "lot_expired" in blocking_codes(lab, lot)


def test_release_refused_until_every_label_is_checked(lab) -> None:
    lot, _ = filled_lot(lab, count=2)
    cryopreserve(lab, lot)
    record_results(lab, lot, IN_SPECIFICATION)
    assert blocking_codes(lab, lot) == ["labels_not_verified"]
    check_labels(lab, lot)
    assert blocking_codes(lab, lot) == []


def test_a_user_who_took_part_in_the_lot_cannot_release_it(lab, engine, settings) -> None:
    both = add_user(engine, settings, "qa-tech", "qa", "technician")
    lab.users["qa-tech"] = both
    lot = releasable_lot(lab)
    sample_of(lab, lot.din, "KARYO", role="qa-tech")  # took a sample of this lot
    assert blocking_codes(lab, lot, role="qa-tech") == ["releaser_took_part"]
    with pytest.raises(RuleViolation, match="You took part in this lot"):
        release(lab, lot, role="qa-tech")
    assert blocking_codes(lab, lot, role="qa") == []


def test_release_doses_signature_and_audit_are_atomic(lab, engine) -> None:
    lot = releasable_lot(lab)
    with pytest.raises(SignatureRefused):
        lab.run(
            "qa",
            lambda s, a: service.release_lot(
                s,
                actor=a,
                lot=pools.get_lot(s, lot.din),
                password="wrong password",
                audit_trail_reviewed=True,
            ),
        )
    assert _statuses(engine, lot) == (LotStatus.QUARANTINE, {DoseStatus.QUARANTINE})
    with Session(engine) as session:
        assert session.exec(select(ReleaseDecision)).first() is None


def test_release_needs_the_audit_trail_reviewed(lab) -> None:
    lot = releasable_lot(lab)
    with pytest.raises(Exception, match="Review the lot's audit trail"):
        lab.run(
            "qa",
            lambda s, a: service.release_lot(
                s, actor=a, lot=pools.get_lot(s, lot.din), password=PASSWORD
            ),
        )


def test_two_qa_users_releasing_the_same_lot_at_once_exactly_one_succeeds(
    lab, engine, settings
) -> None:
    lot = releasable_lot(lab)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def work(user: User) -> None:
        barrier.wait()
        try:
            with unit_of_work(engine, settings=settings) as session:
                service.release_lot(
                    session,
                    actor=session.get(User, user.id),
                    lot=pools.get_lot(session, lot.din),
                    password=PASSWORD,
                    audit_trail_reviewed=True,
                )
            outcomes.append("ok")
        except Exception as error:  # the loser's error is the point
            outcomes.append(error)

    threads = [threading.Thread(target=work, args=(lab.users[r],)) for r in ("qa", "qa-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), Conflict | RuleViolation)
    with Session(engine) as session:
        assert len(session.exec(select(ReleaseDecision)).all()) == 1


def test_conditional_release_before_the_final_sterility_result(lab, engine) -> None:
    lot = conditionally_releasable_lot(lab)
    check = lab.run(
        "qa", lambda s, a: service.release_check(s, actor=a, lot=pools.get_lot(s, lot.din))
    )
    assert not check.ready and check.conditional_ready
    with pytest.raises(RuleViolation, match="STER-AER"):
        release(lab, lot)  # a full release still waits for the final result
    release(lab, lot, conditional=True)
    assert _statuses(engine, lot) == (LotStatus.CONDITIONALLY_RELEASED, {DoseStatus.AVAILABLE})


def test_conditional_release_refused_without_a_negative_gram_stain(lab) -> None:
    lot = releasable_lot(lab, skip=("STER-AER", "STER-ANA", "GRAM"))
    sample = sample_of(lab, lot.din, "STER-AER", "STER-ANA")
    for code in ("STER-AER", "STER-ANA"):
        verify(lab, enter(lab, sample, code, "no growth", reading="day 3"))
    with pytest.raises(RuleViolation, match="negative Gram stain"):
        release(lab, lot, conditional=True)


def test_the_final_negative_sterility_result_completes_a_conditional_release(lab, engine) -> None:
    lot = conditionally_releasable_lot(lab)
    release(lab, lot, conditional=True)
    record_results(lab, lot, {"STER-AER": "no growth", "STER-ANA": "no growth"})
    decision = lab.run(
        "qa",
        lambda s, a: service.complete_release(
            s, actor=a, lot=pools.get_lot(s, lot.din), password=PASSWORD
        ),
    )
    assert decision.decision == "release_completed"
    assert _statuses(engine, lot) == (LotStatus.RELEASED, {DoseStatus.AVAILABLE})


def test_a_late_positive_sterility_result_puts_the_lot_and_its_unused_doses_on_hold(
    lab, engine
) -> None:
    lot = conditionally_releasable_lot(lab)
    release(lab, lot, conditional=True)
    record_results(lab, lot, {"STER-AER": "growth"})
    assert _statuses(engine, lot) == (LotStatus.ON_HOLD, {DoseStatus.ON_HOLD})


def test_a_rejected_lot_discards_its_doses_and_needs_a_reason(lab, engine) -> None:
    lot = releasable_lot(lab)

    def reject(reason: str):
        return lab.run(
            "qa",
            lambda s, a: service.reject_lot(
                s, actor=a, lot=pools.get_lot(s, lot.din), password=PASSWORD, reason=reason
            ),
        )

    with pytest.raises(Exception, match="states its reason"):
        reject("  ")
    reject("Mycoplasma contamination of the incubator")
    assert _statuses(engine, lot) == (LotStatus.REJECTED, {DoseStatus.DISCARDED})


def test_hold_and_recall_of_a_released_lot_take_its_doses_along(lab, engine) -> None:
    lot = releasable_lot(lab)
    release(lab, lot)

    def decide(action, reason: str):
        return lab.run(
            "qa",
            lambda s, a: action(
                s, actor=a, lot=pools.get_lot(s, lot.din), password=PASSWORD, reason=reason
            ),
        )

    decide(service.hold, "Complaint under investigation")
    assert _statuses(engine, lot) == (LotStatus.ON_HOLD, {DoseStatus.ON_HOLD})
    decide(service.lift_hold, "Complaint unfounded")
    assert _statuses(engine, lot) == (LotStatus.RELEASED, {DoseStatus.AVAILABLE})
    decide(service.hold, "Supplier recall of the platelet lysate")
    decide(service.recall, "Supplier recall confirmed")
    assert _statuses(engine, lot) == (LotStatus.RECALLED, {DoseStatus.RECALLED})
    with Session(engine) as session:
        kinds = [d.decision for d in service.decisions_of(session, session.get(Lot, lot.id))]
    assert kinds == ["released", "on_hold", "hold_lifted", "on_hold", "recalled"]
