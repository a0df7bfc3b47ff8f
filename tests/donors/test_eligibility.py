"""Eligibility is a signed determination, refused while any prerequisite is unmet (REFERENCE §3)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.donors import eligibility, service
from mfg.donors.schemas import EligibilityIn, ReasonIn
from mfg.errors import InvalidInput, PermissionDenied, RuleViolation, SignatureRefused
from mfg.models import Biopsy, Donor, DonorStatus, Signature, User


def refusal(lab, donor) -> list[str]:
    with pytest.raises(RuleViolation) as refused:
        lab.sign_eligible(donor)
    return refused.value.reasons


def test_a_donor_with_everything_in_place_is_signed_eligible(lab, engine) -> None:
    donor, _ = lab.eligible_donor()
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.ELIGIBLE
        signature = session.exec(
            select(Signature).where(Signature.entity_type == "eligibility")
        ).one()
    assert signature.meaning == "Approved — donor eligible" and signature.username == "qa"


def test_eligibility_refused_without_consent_and_the_refusal_names_it(lab) -> None:
    donor = lab.donor()
    lab.biopsy(donor)
    lab.all_required_negative(donor)
    reasons = refusal(lab, donor)
    assert "Consent is not recorded." in reasons
    assert "The screening questionnaire outcome is not recorded." in reasons


def test_eligibility_refused_when_screening_failed(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor, outcome="failed")
    lab.biopsy(donor)
    lab.all_required_negative(donor)
    assert refusal(lab, donor) == ["The donor did not pass the screening questionnaire."]


def test_eligibility_refused_for_each_missing_required_marker(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    lab.biopsy(donor)
    lab.result(donor, "HIV-AB")
    reasons = refusal(lab, donor)
    for name in ("HIV-1 NAT", "HBsAg", "anti-HBc", "anti-HCV", "HCV NAT", "Syphilis"):
        assert any(name in r and "No " in r for r in reasons), name
    assert not any("anti-HIV-1/2" in r for r in reasons)


def test_eligibility_refused_while_a_result_is_not_verified_by_a_second_person(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    lab.biopsy(donor)
    lab.all_required_negative(donor)
    lab.result(donor, "HIV-AB", verify=False)  # a re-test entered but not verified: still fine
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        d = service.get_donor(session, donor.code)
        for r in service.results_of(session, d):
            if r.marker_code == "HCV-NAT":
                service.invalidate_result(
                    session,
                    actor=session.get(User, lab.users["qc"].id),
                    result=r,
                    command=ReasonIn(reason="typed into the wrong donor"),
                )
    lab.result(donor, "HCV-NAT", verify=False)
    assert refusal(lab, donor) == ["The HCV NAT result is not yet verified by a second person."]


def test_eligibility_refused_for_a_positive_marker(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    lab.biopsy(donor)
    lab.all_required_negative(donor)
    lab.result(donor, "CMV", outcome="positive")
    assert any("anti-CMV is positive" in r for r in refusal(lab, donor))


def test_a_sample_outside_seven_days_of_the_biopsy_blocks_eligibility(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    biopsy = lab.biopsy(donor)
    collected = biopsy.collected_at.astimezone(lab.settings.tz).date()
    lab.all_required_negative(donor, sample_date=collected - timedelta(days=8))
    reasons = refusal(lab, donor)
    assert reasons and all("8 days from the collection" in r for r in reasons)


def test_a_sample_seven_days_before_the_biopsy_is_accepted(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    biopsy = lab.biopsy(donor)
    collected = biopsy.collected_at.astimezone(lab.settings.tz).date()
    lab.all_required_negative(donor, sample_date=collected - timedelta(days=7))
    lab.sign_eligible(donor)


def test_eligibility_refused_without_any_biopsy(lab) -> None:
    donor = lab.donor()
    lab.consent_and_screening(donor)
    lab.all_required_negative(donor)
    assert any("No biopsy" in r for r in refusal(lab, donor))


def test_only_qa_signs_eligibility(lab) -> None:
    donor = lab.donor()
    with pytest.raises(PermissionDenied):
        lab.run(
            "technician",
            lambda s, a: eligibility.determine_eligibility(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=EligibilityIn(eligible=False, password="x", comment="no"),
            ),
        )


def test_a_wrong_password_leaves_the_donor_undetermined(lab, engine) -> None:
    donor = lab.donor()
    with pytest.raises(SignatureRefused):
        lab.run(
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


def test_ineligible_needs_a_reason_and_holds_the_donors_material(lab, engine) -> None:
    donor = lab.donor()
    biopsy = lab.biopsy(donor)
    with pytest.raises(InvalidInput):
        lab.sign_eligible(donor, eligible=False)
    lab.sign_eligible(donor, eligible=False, comment="travel history")
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.INELIGIBLE
        assert session.get(Biopsy, biopsy.id).on_hold


def test_a_later_verified_positive_turns_an_eligible_donor_ineligible_and_holds_material(
    lab, engine
) -> None:
    donor, biopsy = lab.eligible_donor()
    lab.result(donor, "HCV-NAT", outcome="positive")
    with Session(engine) as session:
        assert session.get(Donor, donor.id).status == DonorStatus.INELIGIBLE
        held = session.get(Biopsy, biopsy.id)
        assert held.on_hold and "HCV-NAT" in held.hold_reason


def test_the_eligibility_signature_shows_invalid_when_its_results_change(lab, engine) -> None:
    donor, _ = lab.eligible_donor()
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        d = service.get_donor(session, donor.code)
        [signature] = session.exec(
            select(Signature).where(Signature.entity_type == "eligibility")
        ).all()
        from mfg.signatures.service import is_valid

        assert is_valid(session, signature)
        first = service.results_of(session, d)[0]
        service.invalidate_result(
            session,
            actor=session.get(User, lab.users["qc"].id),
            result=first,
            command=ReasonIn(reason="transcription error"),
        )
        assert not is_valid(session, signature)
