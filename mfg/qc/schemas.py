"""Input and output models of the QC API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from mfg.models.qc import FINAL
from mfg.quantities import EventTime, Number


class SpecTestIn(BaseModel):
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    method: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=20)
    kind: str = Field(pattern="^(numeric|categorical)$")
    min: float | None = None
    min_inclusive: bool = True
    max: float | None = None
    max_inclusive: bool = True
    choices: str = Field(default="", max_length=500, description="possible values, '|'-separated")
    accepted: str = Field(default="", max_length=500, description="accepted values, '|'")
    stage: str = Field(default="release", pattern="^(in_process|release|characterisation)$")
    required: bool = True
    preliminary_readings: str = Field(default="", max_length=100)
    per_kg_from: str = Field(default="", max_length=20)
    incubation_days: int | None = Field(
        default=None, ge=1, le=60, description="a culture's final reading waits this many days"
    )


class SpecTestPublic(SpecTestIn):
    limit: str


class SpecDraftIn(BaseModel):
    title: str = Field(max_length=200)
    note: str = Field(default="", max_length=2000)
    tests: list[SpecTestIn] = Field(min_length=1)


class SpecPublic(BaseModel):
    identifier: str
    version: int
    status: str
    title: str
    note: str
    approved_at: datetime | None
    tests: list[SpecTestPublic]


class SpecList(BaseModel):
    items: list[SpecPublic]
    total: int


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class SampleIn(BaseModel):
    source: str = Field(max_length=100, description="a culture vessel, lot DIN or dose, or a scan")
    tests: list[str] = Field(min_length=1)
    taken_at: AwareDatetime


class ResultIn(BaseModel):
    """One reading of one requested test as the analyst enters it: the API's body and the
    sample page's form alike."""

    test_code: str = Field(max_length=20)
    value: str = Field(max_length=100, description="a number (12,5 or 12.5) or a category")
    unit: str = Field(default="", max_length=20)
    reading: str = Field(
        default=FINAL, max_length=20, description="final, or a preliminary reading ('day 3')"
    )
    method: str = Field(default="", max_length=200)
    instrument: str = Field(default="", max_length=200)
    tested_at: EventTime = Field(description="with its offset, or on the facility's clock")
    dose_volume_ml: Number | None = Field(default=None, gt=0, description="12,5 or 12.5")
    weight_kg: Number | None = Field(default=None, gt=0, description="12,5 or 12.5")


class ResultPublic(BaseModel):
    id: int
    sample: str
    test_code: str
    reading: str
    value: str
    entered_value: str
    computation: str
    unit: str
    method: str
    instrument: str
    tested_at: datetime
    verdict: str
    limit: str
    status: str
    entered_by: str
    verified_by: str | None
    invalidation_reason: str


class SamplePublic(BaseModel):
    identifier: str
    code: str
    status: str
    source_type: str
    source: str
    spec_version: int
    tests: list[str]
    taken_at: datetime
    results: list[ResultPublic]


class SampleList(BaseModel):
    items: list[SamplePublic]
    total: int


class InvestigationIn(BaseModel):
    impact_assessment: str = Field(max_length=4000)
    root_cause: str = Field(max_length=4000)
    corrective_action: str = Field(max_length=4000)


class DeviationPublic(BaseModel):
    identifier: str
    code: str
    status: str
    title: str
    description: str
    about: str
    lot: str | None
    impact_assessment: str
    root_cause: str
    corrective_action: str
    opened_at: datetime
    closed_at: datetime | None


class DeviationList(BaseModel):
    items: list[DeviationPublic]
    total: int


class TestStandingPublic(BaseModel):
    code: str
    name: str
    stage: str
    required: bool
    limit: str
    state: str
    value: str | None
    sample: str
    preliminary: list[str]


class LotQcPublic(BaseModel):
    lot: str
    spec_version: int
    tests: list[TestStandingPublic]
    blocking: list[str]
    open_deviations: list[str]
