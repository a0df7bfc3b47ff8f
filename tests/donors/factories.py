"""Donor test data, made through the services as a technician, QC analyst and QA would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from mfg.config import Settings
from mfg.db import unit_of_work
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
from mfg.models import Biopsy, Donor, MarkerResult, User, utcnow
from tests.factories import PASSWORD


class Lab:
    """A test's people and clock: enter as one user, verify as another."""

    def __init__(self, engine: Engine, settings: Settings, users: dict[str, User]):
        self.engine, self.settings, self.users = engine, settings, users

    def run(self, role: str, fn, *args, **kwargs):
        with unit_of_work(self.engine, settings=self.settings) as session:
            actor = session.get(User, self.users[role].id)
            return fn(session, actor, *args, **kwargs)

    def donor(self) -> Donor:
        return self.run(
            "technician",
            lambda s, a: service.register_donor(
                s, actor=a, command=DonorCreate(sex="F", birth_year=1985)
            ),
        )

    def consent_and_screening(self, donor: Donor, outcome: str = "passed") -> None:
        def work(s, a):
            d = service.get_donor(s, donor.code)
            consent = service.local_today(s) - timedelta(days=3)
            service.record_consent(s, actor=a, donor=d, command=ConsentIn(consent_date=consent))
            screening = ScreeningIn(outcome=outcome, notes="questionnaire v2")
            service.record_screening(s, actor=a, donor=d, command=screening)

        self.run("technician", work)

    def biopsy(self, donor: Donor, collected_at: datetime | None = None) -> Biopsy:
        when = collected_at or (utcnow() - timedelta(hours=5))
        return self.run(
            "technician",
            lambda s, a: biopsies.register_biopsy(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=BiopsyIn(
                    collected_at=when, site="Olfactory mucosa, left", collected_by="Dr. ENT Surgeon"
                ),
            ),
        )

    def result(
        self,
        donor: Donor,
        code: str,
        outcome: str = "negative",
        sample_date: date | None = None,
        verify: bool = True,
    ) -> MarkerResult:
        sample = sample_date or utcnow().astimezone(self.settings.tz).date()
        result = self.run(
            "qc",
            lambda s, a: service.enter_result(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=ResultIn(
                    marker_code=code,
                    outcome=outcome,
                    sample_date=sample,
                    test_date=sample,
                    method="CLIA",
                    kit_lot="K-1",
                ),
            ),
        )
        if verify:
            self.run(
                "technician",
                lambda s, a: service.verify_result(
                    s, actor=a, result=service.get_result(s, result.id)
                ),
            )
        return result

    def all_required_negative(self, donor: Donor, sample_date: date | None = None) -> None:
        with unit_of_work(self.engine, settings=self.settings) as session:
            _, markers = service.current_marker_set(session)
        for marker in markers:
            if marker.required:
                self.result(donor, marker.code, sample_date=sample_date)

    def sign_eligible(self, donor: Donor, *, eligible: bool = True, comment: str = ""):
        return self.run(
            "qa",
            lambda s, a: eligibility.determine_eligibility(
                s,
                actor=a,
                donor=service.get_donor(s, donor.code),
                command=EligibilityIn(eligible=eligible, password=PASSWORD, comment=comment),
            ),
        )

    def eligible_donor(self, collected_at: datetime | None = None) -> tuple[Donor, Biopsy]:
        """A donor signed eligible, with a biopsy collected ``collected_at`` (5 hours ago; the
        blood samples then, or today)."""
        donor = self.donor()
        self.consent_and_screening(donor)
        biopsy = self.biopsy(donor, collected_at)
        sampled = collected_at.astimezone(self.settings.tz).date() if collected_at else None
        self.all_required_negative(donor, sample_date=sampled)
        self.sign_eligible(donor)
        return donor, biopsy

    def receive(
        self, biopsy: Biopsy, *, hours_after: float = 6, note: str = "", intact: bool = True
    ) -> Biopsy:
        return self.run(
            "technician",
            lambda s, a: biopsies.receive_biopsy(
                s,
                actor=a,
                biopsy=biopsies.get_biopsy(s, biopsy.din),
                command=ReceiptIn(
                    received_at=min(
                        biopsy.collected_at + timedelta(hours=hours_after), datetime.now(UTC)
                    ),
                    transport_temperature_c=4.0,
                    container_intact=intact,
                    deviation_note=note,
                ),
            ),
        )
