"""Quality control: versioned specifications, samples, results with verification, deviations."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from mfg.models.base import Status, status_field, utcnow


class SpecStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # in force: the newest approved version
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"  # a draft never approved


SPEC_TRANSITIONS: dict[SpecStatus, frozenset[SpecStatus]] = {
    SpecStatus.DRAFT: frozenset({SpecStatus.APPROVED, SpecStatus.WITHDRAWN}),
    SpecStatus.APPROVED: frozenset({SpecStatus.SUPERSEDED}),
    SpecStatus.SUPERSEDED: frozenset(),
    SpecStatus.WITHDRAWN: frozenset(),
}


class SpecVersion(SQLModel, table=True):
    """One version of the product specification; its tests never change once written."""

    __tablename__ = "spec_version"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    title: str = Field(max_length=200)
    note: str = Field(default="", max_length=2000)
    status: Status[SpecStatus] = status_field(SpecStatus.DRAFT, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    approved_at: datetime | None = None
    approved_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class TestKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class Stage(StrEnum):
    IN_PROCESS = "in_process"  # at every passage
    RELEASE = "release"
    CHARACTERISATION = "characterisation"  # of the pool


class SpecTest(SQLModel, table=True):
    """A test of a specification version with its acceptance criterion. Append-only."""

    __tablename__ = "spec_test"
    __table_args__ = (UniqueConstraint("spec_version_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    spec_version_id: int = Field(foreign_key="spec_version.id", index=True)
    position: int
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    method: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=20)
    kind: str = Field(max_length=16)
    min_value: float | None = None
    min_inclusive: bool = Field(default=True)
    max_value: float | None = None
    max_inclusive: bool = Field(default=True)
    choices: str = Field(default="", max_length=500)  # categorical: every possible value, "|"
    accepted: str = Field(default="", max_length=500)  # categorical: the accepted ones, "|"
    stage: str = Field(max_length=20)
    required: bool = Field(default=True)  # for release
    preliminary_readings: str = Field(default="", max_length=100)  # e.g. "day 3|day 7"
    per_kg_from: str = Field(default="", max_length=20)  # e.g. "EU/mL": computed per kg of dose
    # A culture's incubation: its final reading is not read before this many days after sampling.
    incubation_days: int | None = None


class SampleStatus(StrEnum):
    AWAITING = "awaiting"  # a requested test has no verified final result
    COMPLETE = "complete"


SAMPLE_TRANSITIONS: dict[SampleStatus, frozenset[SampleStatus]] = {
    SampleStatus.AWAITING: frozenset({SampleStatus.COMPLETE}),
    SampleStatus.COMPLETE: frozenset({SampleStatus.AWAITING}),  # a result invalidated
}


class QcSample(SQLModel, table=True):
    """A sample taken from a culture vessel, a lot or a dose, labelled QS…, for some tests."""

    __tablename__ = "qc_sample"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)
    source_type: str = Field(max_length=16)  # culture | lot | dose
    source_identifier: str = Field(max_length=21, index=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    culture_id: int | None = Field(default=None, foreign_key="culture.id", index=True)
    dose_id: int | None = Field(default=None, foreign_key="dose.id", index=True)
    spec_version_id: int = Field(foreign_key="spec_version.id")
    tests: str = Field(max_length=500)  # test codes, "|"
    taken_at: datetime  # real-world time
    taken_by_id: int = Field(foreign_key="app_user.id")
    status: Status[SampleStatus] = status_field(SampleStatus.AWAITING, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class QcResultStatus(StrEnum):
    ENTERED = "entered"
    VERIFIED = "verified"
    INVALIDATED = "invalidated"


QC_RESULT_TRANSITIONS: dict[QcResultStatus, frozenset[QcResultStatus]] = {
    QcResultStatus.ENTERED: frozenset({QcResultStatus.VERIFIED, QcResultStatus.INVALIDATED}),
    QcResultStatus.VERIFIED: frozenset({QcResultStatus.INVALIDATED}),
    QcResultStatus.INVALIDATED: frozenset(),
}

FINAL = "final"


class QcResult(SQLModel, table=True):
    """One reading of one test on one sample, judged against the sample's specification."""

    __tablename__ = "qc_result"

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="qc_sample.id", index=True)
    spec_test_id: int = Field(foreign_key="spec_test.id")
    test_code: str = Field(max_length=20, index=True)
    reading: str = Field(default=FINAL, max_length=20)  # final, or a preliminary "day 3"…
    value_number: float | None = None
    value_text: str = Field(default="", max_length=100)
    unit: str = Field(default="", max_length=20)
    entered_value: str = Field(max_length=200)  # as entered, before any computation
    computation: str = Field(default="", max_length=300)  # e.g. EU/mL × mL ÷ kg
    method: str = Field(default="", max_length=200)
    instrument: str = Field(default="", max_length=200)
    tested_at: datetime
    verdict: str = Field(max_length=8)  # pass | fail
    limit_text: str = Field(max_length=200)
    status: Status[QcResultStatus] = status_field(QcResultStatus.ENTERED, index=True)
    entered_by_id: int = Field(foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)
    verified_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    verified_at: datetime | None = None
    invalidated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    invalidated_at: datetime | None = None
    invalidation_reason: str = Field(default="", max_length=1000)


class DeviationStatus(StrEnum):
    OPEN = "open"
    INVESTIGATED = "investigated"
    CLOSED = "closed"


DEVIATION_TRANSITIONS: dict[DeviationStatus, frozenset[DeviationStatus]] = {
    DeviationStatus.OPEN: frozenset({DeviationStatus.INVESTIGATED}),
    DeviationStatus.INVESTIGATED: frozenset({DeviationStatus.CLOSED}),
    DeviationStatus.CLOSED: frozenset(),
}


class Deviation(SQLModel, table=True):
    """A departure from the specification or the procedure: investigated, then closed by QA."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)  # DV local identifier
    title: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    entity_type: str = Field(max_length=32)  # what it is about: lot, culture, qc_result…
    entity_id: str = Field(max_length=40)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    result_id: int | None = Field(default=None, foreign_key="qc_result.id", index=True)
    status: Status[DeviationStatus] = status_field(DeviationStatus.OPEN, index=True)
    impact_assessment: str = Field(default="", max_length=4000)
    root_cause: str = Field(default="", max_length=4000)
    corrective_action: str = Field(default="", max_length=4000)
    opened_at: datetime = Field(default_factory=utcnow)
    opened_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # None: automatic
    investigated_at: datetime | None = None
    investigated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
