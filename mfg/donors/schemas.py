"""The donors' and biopsies' command schemas (what a person enters, one model per use case,
read alike by the JSON API and the page forms) and the API's output models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from mfg.models import Biopsy, Donor, MarkerResult
from mfg.quantities import (
    BIOPSY_TRANSPORT_TEMP_C,
    DONOR_AGE_YEARS,
    EventTime,
    Number,
    WholeNumber,
)


class DonorCreate(BaseModel):
    """Registering a pseudonymous donor: sex and year of birth, nothing that names them."""

    sex: Literal["F", "M"]
    birth_year: WholeNumber = Field(
        description=f"a donor {DONOR_AGE_YEARS[0]} to {DONOR_AGE_YEARS[1]} years old"
    )


class ConsentIn(BaseModel):
    """The date the donor consented; a correction gives its reason."""

    consent_date: date
    reason: str = Field(default="", max_length=1000)


class ScreeningIn(BaseModel):
    """The screening questionnaire's outcome; a correction gives its reason."""

    outcome: Literal["passed", "failed"]
    notes: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=1000)


class ResultIn(BaseModel):
    """A marker result as on the laboratory report."""

    marker_code: str = Field(max_length=32)
    outcome: Literal["negative", "positive", "indeterminate"]
    sample_date: date
    test_date: date
    method: str = Field(default="", max_length=200)
    kit_lot: str = Field(default="", max_length=100)


class ReasonIn(BaseModel):
    """Why a wrong entry is invalidated."""

    reason: str = Field(min_length=1, max_length=1000)


class EligibilityIn(BaseModel):
    """QA's signed determination: eligible or not (then saying why in the comment)."""

    eligible: bool
    password: str = Field(min_length=1, max_length=1024)
    comment: str = Field(default="", max_length=1000)


class BiopsyIn(BaseModel):
    """A biopsy collected from the donor (the donor page's form: the donor is its page's)."""

    collected_at: EventTime = Field(description="with its offset, or on the facility's clock")
    site: str = Field(min_length=1, max_length=200)
    collected_by: str = Field(min_length=1, max_length=200)


class BiopsyCreate(BiopsyIn):
    """A biopsy collected from the donor named by ``donor`` (the API's body)."""

    donor: str = Field(max_length=20, description="donor code, e.g. DN000001K")


class ReceiptIn(BaseModel):
    """The biopsy's receipt at the laboratory."""

    received_at: EventTime = Field(description="with its offset, or on the facility's clock")
    transport_temperature_c: Number = Field(
        description=f"°C, plausible {BIOPSY_TRANSPORT_TEMP_C.text()}; 12,5 or 12.5"
    )
    container_intact: bool
    deviation_note: str = Field(default="", max_length=2000)


class ResultPublic(BaseModel):
    id: int
    marker_code: str
    outcome: str
    sample_date: date
    test_date: date
    method: str
    kit_lot: str
    status: str
    entered_by_id: int
    verified_by_id: int | None
    invalidated_reason: str

    @classmethod
    def of(cls, r: MarkerResult) -> ResultPublic:
        return cls.model_validate(r, from_attributes=True)


class BiopsyPublic(BaseModel):
    identifier: str
    din: str
    status: str
    donor: str
    quarantine: str = Field(
        description="on_hold (held, or its donor ineligible), quarantine (its donor's "
        "eligibility not yet determined) or released (its donor eligible)"
    )
    on_hold: bool
    hold_reason: str
    collected_at: datetime
    site: str
    collected_by: str
    received_at: datetime | None
    transport_temperature_c: float | None
    container_intact: bool | None
    hours_in_transit: float | None
    receipt_deviation_note: str

    @classmethod
    def of(cls, b: Biopsy, donor: Donor) -> BiopsyPublic:
        from mfg.donors.biopsies import quarantine_of  # the service imports these schemas

        data = b.model_dump()
        return cls(
            identifier=b.din,
            donor=donor.code,
            quarantine=quarantine_of(b, donor.status),
            **{k: data[k] for k in cls.model_fields if k in data},
        )


class DonorPublic(BaseModel):
    identifier: str
    code: str
    status: str
    sex: str
    birth_year: int
    consent_date: date | None
    screening_outcome: str | None
    screening_notes: str
    created_at: datetime

    @classmethod
    def of(cls, d: Donor) -> DonorPublic:
        data = d.model_dump()
        return cls(identifier=d.code, **{k: data[k] for k in cls.model_fields if k in data})


class DonorDetail(DonorPublic):
    results: list[ResultPublic]
    biopsies: list[BiopsyPublic]
    eligibility_blocking: list[str]


class DonorList(BaseModel):
    items: list[DonorPublic]
    total: int


class BiopsyList(BaseModel):
    items: list[BiopsyPublic]
    total: int


class MarkerIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    required: bool


class MarkerSetIn(BaseModel):
    markers: list[MarkerIn] = Field(min_length=1)
    note: str = Field(min_length=1, max_length=1000, description="why the set changes")


class MarkerSetPublic(BaseModel):
    version: int
    markers: list[MarkerIn]
    note: str
    created_at: datetime
