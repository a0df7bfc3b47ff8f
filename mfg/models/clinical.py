"""Clinical use: trials and arms, patients, orders, issue, bedside checks, infusions, adverse
events and outcomes (docs/process.md#the-trial and docs/process.md#patients)."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mfg.models.base import CELL_COUNT, Status, status_field, utcnow


class Trial(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)  # NCT04382547
    title: str = Field(max_length=400)
    cells_per_kg: float = Field(default=1e6)  # the protocol's prescription
    max_infusions: int = Field(default=2)
    min_age: int = Field(default=18)
    max_age: int = Field(default=70)
    # The inclusion and exclusion criteria, one per line, "I: …" or "E: …".
    criteria: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class TrialArm(SQLModel, table=True):
    __tablename__ = "trial_arm"
    __table_args__ = (UniqueConstraint("trial_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    receives_product: bool


class PatientStatus(StrEnum):
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


class Patient(SQLModel, table=True):
    """A trial subject, pseudonymous: a subject code (PT…) on the wristband, never a name."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)  # PT local identifier
    trial_id: int = Field(foreign_key="trial.id", index=True)
    arm_id: int = Field(foreign_key="trial_arm.id", index=True)
    sex: str = Field(max_length=1)
    age: int
    weight_kg: float
    weight_entered_by_id: int = Field(foreign_key="app_user.id")
    weight_verified_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    weight_verified_at: datetime | None = None
    eligibility: str = Field(sa_column=Column(Text, nullable=False))  # JSON: criterion, answer
    enrolled_on: date
    arm_assigned_by_id: int = Field(foreign_key="app_user.id")
    status: Status[PatientStatus] = status_field(PatientStatus.ENROLLED, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class OrderStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# An order is active until its infusions are given (completed) or it is withdrawn (cancelled).
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.ACTIVE: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class DoseOrder(SQLModel, table=True):
    """A prescription: cells per kg and infusions; cells per infusion from the verified weight."""

    __tablename__ = "dose_order"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    cells_per_kg: float
    infusions: int
    weight_kg: float  # the verified weight it was computed from
    cells_per_infusion: int = Field(sa_type=CELL_COUNT)
    status: Status[OrderStatus] = status_field(OrderStatus.ACTIVE, index=True)
    ordered_by_id: int = Field(foreign_key="app_user.id")
    ordered_at: datetime = Field(default_factory=utcnow)
    # completed when its infusions are given; cancelled with a reason, signed
    ended_at: datetime | None = None
    ended_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    cancel_reason: str | None = Field(default=None, max_length=2000)


class Allocation(SQLModel, table=True):
    """A dose set aside for a patient's order (first expiry, first out)."""

    id: int | None = Field(default=None, primary_key=True)
    dose_id: int = Field(foreign_key="dose.id", index=True)
    order_id: int = Field(foreign_key="dose_order.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    allocated_by_id: int = Field(foreign_key="app_user.id")
    allocated_at: datetime = Field(default_factory=utcnow)
    active: bool = Field(default=True)  # False once the dose is returned or re-allocated
    # Issue: the hand-over from the laboratory to the ward, recorded by both sides
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    received_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    issued_at: datetime | None = None
    transport_temp_c: float | None = None


class BedsideCheck(SQLModel, table=True):
    """Every scan attempt at the bedside, matched or not, with each check's outcome. Append-only
    for the attempt; the two identity signatures are signatures on it."""

    __tablename__ = "bedside_check"

    id: int | None = Field(default=None, primary_key=True)
    wristband_scan: str = Field(max_length=200)
    dose_scan: str = Field(max_length=500)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    dose_id: int | None = Field(default=None, foreign_key="dose.id", index=True)
    passed: bool
    results: str = Field(sa_column=Column(Text, nullable=False))  # JSON: [check, ok, reason]
    checked_by_id: int = Field(foreign_key="app_user.id")
    checked_at: datetime = Field(default_factory=utcnow)


class Infusion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dose_id: int = Field(foreign_key="dose.id", unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    bedside_check_id: int = Field(foreign_key="bedside_check.id")
    started_at: datetime
    stopped_at: datetime
    volume_ml: float
    complete: bool
    route: str = Field(default="intravenous", max_length=40)
    bag_inspected: bool
    vitals: str = Field(sa_column=Column(Text, nullable=False))  # JSON: before/during/after
    reactions: str = Field(default="", max_length=2000)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class Relation(StrEnum):
    NOT_RELATED = "not related"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"
    NOT_ASSESSABLE = "not assessable"


# docs/process.md#adverse-events: of the five graded relations, the last three count as
# treatment-related.
TREATMENT_RELATED = frozenset({Relation.POSSIBLE, Relation.PROBABLE, Relation.DEFINITE})


class AdverseEvent(SQLModel, table=True):
    __tablename__ = "adverse_event"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    term: str = Field(max_length=200)
    onset: date
    resolution: date | None = None
    grade: int  # CTCAE 1–5
    serious: bool
    relation: str = Field(max_length=20)
    action: str = Field(default="", max_length=500)
    outcome: str = Field(default="", max_length=200)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    # 1 as recorded; each signed amendment (a correction, with its reason) adds one
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Outcome(SQLModel, table=True):
    """The day-21 assessment: cured = PCR negative and chest CT improved."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", unique=True)
    assessed_on: date
    pcr: str = Field(max_length=10)  # negative | positive
    ct: str = Field(max_length=12)  # improved | unchanged | worsened
    cured: bool
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class AllocationSlot(SQLModel, table=True):
    """One entry of a pre-generated concealed allocation list (randomised trials): the next
    enrolled patient takes the next unused entry; its arm is not shown before it is used."""

    __tablename__ = "allocation_slot"
    __table_args__ = (UniqueConstraint("trial_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    sequence: int
    arm_code: str = Field(max_length=20)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", unique=True)
    used_at: datetime | None = None
    loaded_by_id: int = Field(foreign_key="app_user.id")
    loaded_at: datetime = Field(default_factory=utcnow)
