"""Marker results need a second person; biopsies are received within the limit or with a note."""

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from mfg.db import unit_of_work
from mfg.donors import biopsies, service
from mfg.donors.schemas import MarkerSetIn, ReasonIn
from mfg.errors import Conflict, InvalidInput, RuleViolation
from mfg.models import Biopsy, BiopsyStatus, MarkerResult, ResultStatus


def test_a_result_cannot_be_verified_by_the_user_who_entered_it(lab) -> None:
    donor = lab.donor()
    result = lab.result(donor, "HIV-AB", verify=False)
    with pytest.raises(RuleViolation, match="second person"):
        lab.run(
            "qc",
            lambda s, a: service.verify_result(s, actor=a, result=service.get_result(s, result.id)),
        )


def test_a_verified_result_records_who_verified_it(lab, engine) -> None:
    donor = lab.donor()
    result = lab.result(donor, "HIV-AB")
    with Session(engine) as session:
        stored = session.get(MarkerResult, result.id)
    assert (
        stored.status == ResultStatus.VERIFIED
        and stored.verified_by_id == lab.users["technician"].id
    )


def test_an_invalidated_result_stays_visible_with_its_reason(lab, engine) -> None:
    donor = lab.donor()
    result = lab.result(donor, "HIV-AB")
    with pytest.raises(ValidationError):
        ReasonIn(reason="")
    with pytest.raises(InvalidInput):  # a reason of spaces is no reason either
        lab.run(
            "qc",
            lambda s, a: service.invalidate_result(
                s, actor=a, result=service.get_result(s, result.id), command=ReasonIn(reason="  ")
            ),
        )
    lab.run(
        "qc",
        lambda s, a: service.invalidate_result(
            s,
            actor=a,
            result=service.get_result(s, result.id),
            command=ReasonIn(reason="wrong donor"),
        ),
    )
    with Session(engine) as session:
        stored = session.get(MarkerResult, result.id)
    assert stored.status == ResultStatus.INVALIDATED and stored.invalidated_reason == "wrong donor"


def test_two_people_verifying_the_same_result_at_once_one_wins(lab) -> None:
    import threading

    donor = lab.donor()
    result = lab.result(donor, "HIV-AB", verify=False)
    outcomes, barrier = [], threading.Barrier(2)

    def verify(role):
        barrier.wait()
        try:
            lab.run(
                role,
                lambda s, a: service.verify_result(
                    s, actor=a, result=service.get_result(s, result.id)
                ),
            )
            outcomes.append("ok")
        except (Conflict, RuleViolation):
            outcomes.append("refused")

    threads = [threading.Thread(target=verify, args=(r,)) for r in ("technician", "qa")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]


def test_an_unknown_marker_is_refused(lab) -> None:
    donor = lab.donor()
    with pytest.raises(InvalidInput, match="not a marker"):
        lab.result(donor, "EBOLA")


def test_a_new_marker_set_version_applies_from_then_on(lab) -> None:
    markers = [{"code": "HIV-AB", "name": "anti-HIV-1/2", "required": True}]
    version = lab.run(
        "qa",
        lambda s, a: service.new_marker_set_version(
            s, actor=a, command=MarkerSetIn(markers=markers, note="validation study")
        ),
    )
    assert version.version == 2
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        _, specs = service.current_marker_set(session)
    assert [m.code for m in specs] == ["HIV-AB"]


def test_biopsies_get_a_new_din_each(lab) -> None:
    donor = lab.donor()
    first, second = lab.biopsy(donor), lab.biopsy(donor)
    assert first.din != second.din and len(first.din) == 13


def test_receipt_within_the_limit_is_accepted(lab, engine) -> None:
    donor = lab.donor()
    biopsy = lab.receive(lab.biopsy(donor), hours_after=3)
    with Session(engine) as session:
        stored = session.get(Biopsy, biopsy.id)
    assert stored.status == BiopsyStatus.RECEIVED and stored.hours_in_transit <= 3.01


def test_receipt_beyond_the_time_limit_without_a_deviation_note_is_refused(lab) -> None:
    from mfg.models import utcnow

    donor = lab.donor()
    biopsy = lab.biopsy(donor, collected_at=utcnow() - timedelta(hours=30))
    with pytest.raises(RuleViolation, match="beyond the 24 h limit"):
        lab.receive(biopsy, hours_after=29)
    received = lab.receive(biopsy, hours_after=29, note="courier delayed; QA informed, DEV-12")
    assert received.receipt_deviation_note.startswith("courier")


def test_a_damaged_container_needs_a_deviation_note(lab) -> None:
    donor = lab.donor()
    biopsy = lab.biopsy(donor)
    with pytest.raises(RuleViolation, match="not intact"):
        lab.receive(biopsy, intact=False)


def test_a_quarantined_donors_biopsy_cannot_enter_culture(lab) -> None:
    donor = lab.donor()
    biopsy = lab.receive(lab.biopsy(donor))
    with pytest.raises(RuleViolation, match="quarantine"):
        lab.run(
            "technician",
            lambda s, a: biopsies.check_culture_start(s, biopsies.get_biopsy(s, biopsy.din)),
        )


def test_an_ineligible_donors_biopsy_cannot_enter_culture(lab) -> None:
    donor, biopsy = lab.eligible_donor()
    lab.receive(biopsy)
    lab.result(donor, "HIV-NAT", outcome="positive")
    with pytest.raises(RuleViolation) as refused:
        lab.run(
            "technician",
            lambda s, a: biopsies.check_culture_start(s, biopsies.get_biopsy(s, biopsy.din)),
        )
    assert any("ineligible" in r for r in refused.value.reasons)
    assert any("on hold" in r for r in refused.value.reasons)


def test_an_eligible_donors_received_biopsy_may_enter_culture(lab) -> None:
    _, biopsy = lab.eligible_donor()
    lab.receive(biopsy)
    lab.run(
        "technician",
        lambda s, a: biopsies.check_culture_start(s, biopsies.get_biopsy(s, biopsy.din)),
    )


def test_a_biopsy_is_found_by_a_scan_of_its_tube_label(lab) -> None:
    donor = lab.donor()
    biopsy = lab.biopsy(donor)
    found = lab.run("technician", lambda s, a: biopsies.get_biopsy(s, f"={biopsy.din}00"))
    assert found.id == biopsy.id
