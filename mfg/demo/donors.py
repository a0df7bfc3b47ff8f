"""Demonstration donors in every state, with biopsies, made through the same input models and
services as the forms (typed as people type: facility-clock times, decimal commas)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.db import settings_of
from mfg.demo.typed import local_input, with_comma
from mfg.donors import biopsies, eligibility, service
from mfg.donors.schemas import (
    BiopsyIn,
    ConsentIn,
    DonorCreate,
    EligibilityIn,
    ReceiptIn,
    ResultIn,
    ScreeningIn,
)
from mfg.models import Donor, utcnow


def _people(session: Session) -> dict[str, object]:
    return {name: require_user(session, name) for name in ("tech", "tech2", "qc", "qc2", "qa")}


def _donor_with_biopsy(
    session: Session, people, *, sex: str, birth_year: int, hours_ago: float, received: bool
) -> tuple[Donor, object]:
    tech = people["tech"]
    donor = service.register_donor(
        session, actor=tech, command=DonorCreate(sex=sex, birth_year=str(birth_year))
    )
    today = service.local_today(session)
    collected = utcnow() - timedelta(hours=hours_ago)
    consent = min(today, collected.astimezone(settings_of(session).tz).date()) - timedelta(days=2)
    service.record_consent(
        session, actor=tech, donor=donor, command=ConsentIn(consent_date=consent.isoformat())
    )
    screening = ScreeningIn(outcome="passed", notes="Questionnaire v3: no exclusion criteria")
    service.record_screening(session, actor=tech, donor=donor, command=screening)
    collection = BiopsyIn(
        collected_at=local_input(session, collected),
        site="Olfactory mucosa, superior turbinate",
        collected_by="Dr. A. Lebedzeu (ENT)",
    )
    biopsy = biopsies.register_biopsy(session, actor=tech, donor=donor, command=collection)
    if received:
        receipt = ReceiptIn(
            received_at=local_input(session, collected + timedelta(hours=min(4, hours_ago / 2))),
            transport_temperature_c=with_comma(4.2),
            container_intact="yes",
        )
        biopsies.receive_biopsy(session, actor=people["tech2"], biopsy=biopsy, command=receipt)
    return donor, biopsy


def _results(
    session: Session,
    people,
    donor: Donor,
    *,
    positive: str | None = None,
    leave_unverified: int = 0,
    days_ago: int = 1,
) -> None:
    _, markers = service.current_marker_set(session)
    sample = service.local_today(session) - timedelta(days=days_ago)
    required = [m for m in markers if m.required]
    for index, marker in enumerate(required):
        outcome = "positive" if marker.code == positive else "negative"
        entry = ResultIn(
            marker_code=marker.code,
            outcome=outcome,
            sample_date=sample.isoformat(),
            test_date=sample.isoformat(),
            method="CLIA / NAT",
            kit_lot=f"KIT-{2026}{index:02d}",
        )
        result = service.enter_result(session, actor=people["qc"], donor=donor, command=entry)
        if index < len(required) - leave_unverified:
            service.verify_result(session, actor=people["qc2"], result=result)


def load_demo_donors(session: Session, *, qa_password: str) -> list[str]:
    people = _people(session)
    eligible = []
    for sex, year in (("F", 1986), ("M", 1979)):
        # Collected six weeks ago: their cells have grown into the demo lots since.
        donor, _ = _donor_with_biopsy(
            session, people, sex=sex, birth_year=year, hours_ago=42 * 24, received=True
        )
        _results(session, people, donor, days_ago=42)
        signed = EligibilityIn(eligible=True, password=qa_password, comment="All criteria met")
        eligibility.determine_eligibility(session, actor=people["qa"], donor=donor, command=signed)
        eligible.append(donor.code)
    pending, _ = _donor_with_biopsy(
        session, people, sex="F", birth_year=1992, hours_ago=6, received=False
    )
    _results(session, people, pending, leave_unverified=2)
    ineligible, _ = _donor_with_biopsy(
        session, people, sex="M", birth_year=1970, hours_ago=28, received=True
    )
    _results(session, people, ineligible, positive="HBC-AB")
    refused = EligibilityIn(eligible=False, password=qa_password, comment="anti-HBc reactive")
    eligibility.determine_eligibility(
        session, actor=people["qa"], donor=ineligible, command=refused
    )
    return [
        f"donors {', '.join(eligible)} eligible with received biopsies",
        f"donor {pending.code} pending: biopsy awaiting receipt, two results awaiting verification",
        f"donor {ineligible.code} ineligible (anti-HBc reactive), biopsy on hold",
    ]
