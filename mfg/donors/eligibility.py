"""The signed eligibility determination (docs/regulation.md#donor-eligibility): never inferred,
always a QA signature."""

from __future__ import annotations

from sqlmodel import Session, col, select

from mfg import i18n
from mfg.audit.machines import DONOR
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.donors import service
from mfg.donors.ineligibility import hold_donor_material
from mfg.donors.rules import eligibility_problems
from mfg.donors.schemas import EligibilityIn
from mfg.errors import InvalidInput, Reason, RuleViolation
from mfg.i18n import N_
from mfg.models import Biopsy, Donor, DonorStatus, EligibilityDetermination, Meaning, User
from mfg.signatures import service as signatures


def biopsies_of(session: Session, donor: Donor) -> list[Biopsy]:
    return list(
        session.exec(
            select(Biopsy).where(Biopsy.donor_id == donor.id).order_by(col(Biopsy.id))
        ).all()
    )


def eligibility_check(session: Session, donor: Donor) -> list[Reason]:
    """Every reason a QA user could not yet sign this donor eligible (empty: ready to sign)."""
    settings = settings_of(session)
    _, markers = service.current_marker_set(session)
    return eligibility_problems(
        donor,
        markers,
        service.results_of(session, donor),
        biopsies_of(session, donor),
        window_days=settings.marker_sample_window_days,
        tz=settings.tz,
    )


@signatures.signs("eligibility")
def determination_content(session: Session, determination_id: str) -> dict:
    """What an eligibility signature binds to: the decision and the results it rested on."""
    determination = session.get(EligibilityDetermination, int(determination_id))
    donor = session.get(Donor, determination.donor_id)
    results = service.results_of(session, donor)
    return {
        "donor": donor.code,
        "decision": determination.decision,
        "marker_set_version": determination.marker_set_version,
        "consent_date": donor.consent_date,
        "screening": donor.screening_outcome,
        # the results the decision rested on: those entered before it
        "results": [
            [r.id, r.marker_code, r.outcome, r.status, r.sample_date]
            for r in results
            if r.entered_at <= determination.determined_at
        ],
        "comment": determination.comment,
    }


def determine_eligibility(
    session: Session, *, actor: User, donor: Donor, command: EligibilityIn
) -> EligibilityDetermination:
    """QA signs "Approved — donor eligible" (refused with every unmet rule) or ineligible."""
    authorize(actor, Action.DETERMINE_ELIGIBILITY)
    eligible, password, comment = command.eligible, command.password, command.comment
    if eligible:
        problems = eligibility_check(session, donor)
        if problems:
            raise RuleViolation.of(
                problems,
                several="eligibility_not_met",
                lead=N_("Donor %(donor)s cannot be signed eligible"),
                params={"donor": donor.code},
                separator=" ",
            )
    elif not comment.strip():
        raise InvalidInput("Say why the donor is ineligible.", details={"field": "comment"})
    version, _ = service.current_marker_set(session)
    decision = DonorStatus.ELIGIBLE if eligible else DonorStatus.INELIGIBLE
    determination = EligibilityDetermination(
        donor_id=donor.id,
        decision=decision,
        marker_set_version=version.version,
        comment=comment.strip(),
        determined_by_id=actor.id,
    )
    session.add(determination)
    session.flush()
    DONOR.move(
        session,
        donor,
        to=decision,
        actor=actor,
        verb="eligibility_determined",
        reason=comment.strip() or None,
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.DONOR_ELIGIBLE if eligible else Meaning.DONOR_INELIGIBLE,
        entity_type="eligibility",
        entity_id=determination.id,
        comment=comment,
    )
    if not eligible:
        reason = i18n.in_language(
            settings_of(session).language,
            N_("donor %(donor)s determined ineligible"),
            donor=donor.code,
        )
        hold_donor_material(session, donor=donor, actor=actor, reason=reason)
    return determination


def determinations_of(session: Session, donor: Donor) -> list[EligibilityDetermination]:
    query = select(EligibilityDetermination).where(EligibilityDetermination.donor_id == donor.id)
    return list(session.exec(query.order_by(col(EligibilityDetermination.id))).all())
