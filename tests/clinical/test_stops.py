"""What stops a dose on its way to a patient: a hold (which ends its allocation), a lifted hold
(only on the release's rules), a donor found ineligible, a thawed bag, and co-signatures made
with a password an administrator issued."""

import pytest
from sqlmodel import Session, select

from mfg.audit.service import EventFilter, iter_events
from mfg.auth.service import create_user
from mfg.clinical import orders
from mfg.clinical.bedside import checks_of
from mfg.clinical.schemas import IssueIn
from mfg.db import unit_of_work
from mfg.donors.ineligibility import donor_found_ineligible
from mfg.errors import RuleViolation, SignatureRefused
from mfg.manufacturing import pools
from mfg.models import Allocation, Donor, Dose, DoseStatus, Lot, LotStatus, PoolMember, utcnow
from mfg.release import service as release
from tests.clinical.factories import (
    allocate,
    check,
    enrol,
    issue,
    order,
    ready_at_bedside,
    released_lot,
)
from tests.factories import PASSWORD
from tests.release.factories import conditionally_releasable_lot
from tests.release.factories import release as release_as_qa


def _decide(lab, action, lot: Lot, reason: str):
    return lab.run(
        "qa",
        lambda s, a: action(
            s, actor=a, lot=pools.get_lot(s, lot.din), password=PASSWORD, reason=reason
        ),
    )


def _failed(record) -> dict[str, str]:
    return {c.name: c.reason for c in checks_of(record) if not c.ok}


def test_a_hold_ends_the_allocation_so_a_lifted_hold_cannot_match_the_dose_to_its_old_patient(
    lab, engine
) -> None:
    lot = released_lot(lab)
    first = enrol(lab)
    first_order = order(lab, first)
    allocation = allocate(lab, first_order)
    _decide(lab, release.hold, lot, "Complaint under investigation")
    with Session(engine) as session:
        assert session.get(Allocation, allocation.id).active is False
        ended = list(iter_events(session, EventFilter(action="dose.allocation_ended")))
        dose = session.get(Dose, allocation.dose_id)
        assert [e.entity_id for e in ended] == [dose.identifier]
    _decide(lab, release.lift_hold, lot, "Complaint unfounded")
    second = enrol(lab)
    given = issue(lab, allocate(lab, order(lab, second)))
    assert given.dose_id == dose.id  # back in stock, first expiry first out
    assert "allocated to this patient" in _failed(check(lab, first.code, dose))
    # The first patient's order asks for a dose again, and gets the lot's other one.
    assert allocate(lab, first_order).dose_id != dose.id


def test_lifting_a_hold_on_a_conditional_release_waits_for_the_final_sterility(lab, engine) -> None:
    lot = conditionally_releasable_lot(lab)
    release_as_qa(lab, lot, conditional=True)
    _decide(lab, release.hold, lot, "Temperature excursion in the tank")
    with pytest.raises(RuleViolation) as refused:
        _decide(lab, release.lift_hold, lot, "Excursion within limits")
    assert set(refused.value.details["blocking"]) == {"test_missing"}
    with Session(engine) as session:
        assert session.get(Lot, lot.id).status == LotStatus.ON_HOLD


def _donor_found_ineligible(lab, lot: Lot) -> Donor:
    def found(session, actor):
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id)
        donor_found_ineligible(session, donor=donor, actor=actor, reason="late positive HCV NAT")
        return donor

    return lab.run("qa", found)


def test_lifting_a_hold_is_refused_once_a_donor_of_the_lot_is_found_ineligible(lab) -> None:
    lot = released_lot(lab)
    _decide(lab, release.hold, lot, "Look-back pending")
    donor = _donor_found_ineligible(lab, lot)
    with pytest.raises(RuleViolation, match=f"Donor {donor.code} is ineligible") as refused:
        _decide(lab, release.lift_hold, lot, "Hold lifted")
    assert refused.value.details["blocking"] == ["donor_not_eligible"]


def test_a_dose_of_a_donor_found_ineligible_is_never_allocated_and_fails_the_bedside_check(
    lab,
) -> None:
    patient, dose = ready_at_bedside(lab)  # its lot's other dose is still in stock
    with Session(lab.engine) as session:
        lot = session.get(Lot, dose.lot_id)
    donor = _donor_found_ineligible(lab, lot)
    failed = _failed(check(lab, patient.code, dose))
    assert failed == {"donors eligible": f"DONOR {donor.code} NOT ELIGIBLE: do not infuse"}
    with pytest.raises(RuleViolation, match="No released dose"):
        allocate(lab, order(lab, enrol(lab)))


def test_a_thawed_dose_returned_to_stock_by_a_lifted_hold_is_never_allocated_again(
    lab, engine
) -> None:
    _, thawed = ready_at_bedside(lab)
    with Session(engine) as session:
        lot = session.get(Lot, thawed.lot_id)
    _decide(lab, release.hold, lot, "Complaint under investigation")
    _decide(lab, release.lift_hold, lot, "Complaint unfounded")
    with Session(engine) as session:
        assert session.get(Dose, thawed.id).status == DoseStatus.AVAILABLE
    assert allocate(lab, order(lab, enrol(lab))).dose_id != thawed.id


def test_a_password_an_administrator_issued_signs_nothing(lab, engine, settings) -> None:
    with unit_of_work(engine, settings=settings) as session:
        issued = create_user(
            session,
            actor=None,
            username="new-clinician",
            full_name="New Clinician",
            roles=("clinician",),
            password=None,
        )
    released_lot(lab)
    allocation = allocate(lab, order(lab, enrol(lab)))
    with pytest.raises(SignatureRefused, match="has not yet chosen their own password"):
        lab.run(
            "technician",
            lambda s, a: orders.issue(
                s,
                actor=a,
                allocation=s.get(Allocation, allocation.id),
                command=IssueIn(
                    receiver_username="new-clinician",
                    receiver_password=issued.one_time_password,
                    issued_at=utcnow(),
                    transport_temp_c=-150,
                ),
            ),
        )
