"""Eligibility is a signed determination, refused while any prerequisite is unmet (REFERENCE §3)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.donors import eligibility, service
from mfg.donors.schemas import EligibilityIn, ReasonIn
from mfg.errors import InvalidInput, PermissionDenied, RuleViolation, SignatureRefused
from mfg.models import Biopsy, Donor, DonorStatus, Signature, User


def refusal(world, donor) -> list[str]:
    with pytest.raises(RuleViolation) as refused:
        world.sign_eligible(donor)
    return refused.value.reasons


def test_a_donor_with_everything_in_place_is_signed_eligible(world, engine) -> None:
    donor, _ = world.eligible_donor()
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.ELIGIBLE
        signature = session.exec(
            select(Signature).where(Signature.entity_type == "eligibility")
        ).one()
    assert signature.meaning == "Approved — donor eligible" and signature.username == "qa"


def test_eligibility_refused_without_consent_and_the_refusal_names_it(world) -> None:
    donor = world.donor()
    world.biopsy(donor)
    world.all_required_negative(donor)
    reasons = refusal(world, donor)
    assert "Consent is not recorded." in reasons
    assert "The screening questionnaire outcome is not recorded." in reasons


def test_eligibility_refused_when_screening_failed(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor, outcome="failed")
    world.biopsy(donor)
    world.all_required_negative(donor)
    assert refusal(world, donor) == ["The donor did not pass the screening questionnaire."]


def test_eligibility_refused_for_each_missing_required_marker(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    world.biopsy(donor)
    world.result(donor, "HIV-AB")
    reasons = refusal(world, donor)
    for name in ("HIV-1 NAT", "HBsAg", "anti-HBc", "anti-HCV", "HCV NAT", "Syphilis"):
        assert any(name in r and "No " in r for r in reasons), name
    assert not any("anti-HIV-1/2" in r for r in reasons)


def test_eligibility_refused_while_a_result_is_not_verified_by_a_second_person(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    world.biopsy(donor)
    world.all_required_negative(donor)
    world.result(donor, "HIV-AB", verify=False)  # a re-test entered but not verified: still fine
    with unit_of_work(world.engine, settings=world.settings) as session:
        d = service.get_donor(session, donor.code)
        for r in service.results_of(session, d):
            if r.marker_code == "HCV-NAT":
                service.invalidate_result(
                    session,
                    actor=session.get(User, world.users["qc"].id),
                    result=r,
                    command=ReasonIn(reason="typed into the wrong donor"),
                )
    world.result(donor, "HCV-NAT", verify=False)
    assert refusal(world, donor) == ["The HCV NAT result is not yet verified by a second person."]


def test_eligibility_refused_for_a_positive_marker(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    world.biopsy(donor)
    world.all_required_negative(donor)
    world.result(donor, "CMV", outcome="positive")
    assert any("anti-CMV is positive" in r for r in refusal(world, donor))


def test_a_sample_outside_seven_days_of_the_biopsy_blocks_eligibility(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    biopsy = world.biopsy(donor)
    collected = biopsy.collected_at.astimezone(world.settings.tz).date()
    world.all_required_negative(donor, sample_date=collected - timedelta(days=8))
    reasons = refusal(world, donor)
    assert reasons and all("8 days from the collection" in r for r in reasons)


def test_a_sample_seven_days_before_the_biopsy_is_accepted(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    biopsy = world.biopsy(donor)
    collected = biopsy.collected_at.astimezone(world.settings.tz).date()
    world.all_required_negative(donor, sample_date=collected - timedelta(days=7))
    world.sign_eligible(donor)


def test_eligibility_refused_without_any_biopsy(world) -> None:
    donor = world.donor()
    world.consent_and_screening(donor)
    world.all_required_negative(donor)
    assert any("No biopsy" in r for r in refusal(world, donor))


def test_only_qa_signs_eligibility(world) -> None:
    donor = world.donor()
    with pytest.raises(PermissionDenied):
        world.run(
            "technician",
            lambda s, a: eligibility.determine_eligibility(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=EligibilityIn(eligible=False, password="x", comment="no"),
            ),
        )


def test_a_wrong_password_leaves_the_donor_undetermined(world, engine) -> None:
    donor = world.donor()
    with pytest.raises(SignatureRefused):
        world.run(
            "qa",
            lambda s, a: eligibility.determine_eligibility(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=EligibilityIn(eligible=False, password="wrong", comment="positive screen"),
            ),
        )
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.REGISTERED


def test_ineligible_needs_a_reason_and_holds_the_donors_material(world, engine) -> None:
    donor = world.donor()
    biopsy = world.biopsy(donor)
    with pytest.raises(InvalidInput):
        world.sign_eligible(donor, eligible=False)
    world.sign_eligible(donor, eligible=False, comment="travel history")
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.INELIGIBLE
        assert session.get(Biopsy, biopsy.id).on_hold


def test_a_later_verified_positive_turns_an_eligible_donor_ineligible_and_holds_material(
    world, engine
) -> None:
    donor, biopsy = world.eligible_donor()
    world.result(donor, "HCV-NAT", outcome="positive")
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.INELIGIBLE
        held = session.get(Biopsy, biopsy.id)
        assert held.on_hold and "HCV-NAT" in held.hold_reason


def test_the_eligibility_signature_shows_invalid_when_its_results_change(world, engine) -> None:
    donor, _ = world.eligible_donor()
    with unit_of_work(world.engine, settings=world.settings) as session:
        d = service.get_donor(session, donor.code)
        [signature] = session.exec(
            select(Signature).where(Signature.entity_type == "eligibility")
        ).all()
        from mfg.signatures.service import is_valid

        assert is_valid(session, signature)
        first = service.results_of(session, d)[0]
        service.invalidate_result(
            session,
            actor=session.get(User, world.users["qc"].id),
            result=first,
            command=ReasonIn(reason="transcription error"),
        )
        assert not is_valid(session, signature)
