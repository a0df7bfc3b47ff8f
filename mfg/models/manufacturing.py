"""Manufacturing records (the electronic batch record): material lots so far."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class MaterialStatus(StrEnum):
    QUARANTINED = "quarantined"
    RELEASED = "released"
    REJECTED = "rejected"


MATERIAL_TRANSITIONS: dict[str, frozenset[str]] = {
    MaterialStatus.QUARANTINED: frozenset({MaterialStatus.RELEASED, MaterialStatus.REJECTED}),
    MaterialStatus.RELEASED: frozenset({MaterialStatus.REJECTED}),  # e.g. a supplier recall
    MaterialStatus.REJECTED: frozenset(),
}


class MaterialLot(SQLModel, table=True):
    """A received lot of a material (medium, platelet lysate, trypsin, DMSO…)."""

    __tablename__ = "material_lot"
    __table_args__ = (UniqueConstraint("supplier", "catalogue_number", "lot_number"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)  # ML local identifier
    name: str = Field(max_length=200)
    supplier: str = Field(max_length=200)
    catalogue_number: str = Field(max_length=100)
    lot_number: str = Field(max_length=100)
    gtin: str | None = Field(default=None, max_length=14, index=True)
    serial: str = Field(default="", max_length=100)
    expiry: date
    status: str = Field(default=MaterialStatus.QUARANTINED, max_length=16, index=True)
    received_at: datetime = Field(default_factory=utcnow)
    registered_by_id: int = Field(foreign_key="app_user.id")
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    decision_reason: str = Field(default="", max_length=1000)


class CultureStatus(StrEnum):
    IN_PROCESS = "in_process"
    PASSAGED = "passaged"  # harvested and re-seeded into new vessels
    POOLED = "pooled"
    DISCARDED = "discarded"


CULTURE_TRANSITIONS: dict[str, frozenset[str]] = {
    CultureStatus.IN_PROCESS: frozenset(
        {CultureStatus.PASSAGED, CultureStatus.POOLED, CultureStatus.DISCARDED}
    ),
    CultureStatus.PASSAGED: frozenset(),
    CultureStatus.POOLED: frozenset(),
    CultureStatus.DISCARDED: frozenset(),
}


class Culture(SQLModel, table=True):
    """One culture vessel, with its label code (CV…): a primary culture or a passage's vessel."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True)  # CV local identifier
    biopsy_id: int = Field(foreign_key="biopsy.id", index=True)  # the donor tissue it came from
    parent_id: int | None = Field(default=None, foreign_key="culture.id", index=True)
    passage_number: int = Field(default=0)  # 0: primary culture
    vessel_type: str = Field(max_length=100)
    surface_cm2: float
    seeded_cells: int | None = None  # None for an explant culture
    explant: bool = Field(default=False)
    seeded_at: datetime  # real-world time
    cumulative_pd: float | None = None  # up to the seeding of this vessel
    status: str = Field(default=CultureStatus.IN_PROCESS, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")


class Passage(SQLModel, table=True):
    """Harvest of a culture vessel and re-seeding into new vessels, with the computed growth."""

    id: int | None = Field(default=None, primary_key=True)
    culture_id: int = Field(foreign_key="culture.id", unique=True)
    started_at: datetime
    ended_at: datetime
    harvested_cells: int
    viability_pct: float
    reseeded_cells: int
    new_vessels: int
    split_ratio: str = Field(default="", max_length=20)
    population_doublings: float | None = None
    cumulative_pd: float | None = None
    doubling_time_h: float | None = None
    viability_below_spec: bool = Field(default=False)
    deviation_note: str = Field(default="", max_length=2000)
    performed_by_id: int = Field(foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)


class MaterialUse(SQLModel, table=True):
    """Which material lots a step used (REFERENCE.md §4: each process step records its lots)."""

    __tablename__ = "material_use"

    id: int | None = Field(default=None, primary_key=True)
    material_id: int = Field(foreign_key="material_lot.id", index=True)
    step_type: str = Field(max_length=32)  # culture | passage | …
    step_id: int
    used_at: datetime = Field(default_factory=utcnow)
    used_by_id: int = Field(foreign_key="app_user.id")


class LotStatus(StrEnum):
    IN_PROCESS = "in_process"
    HARVESTED = "harvested"
    QUARANTINE = "quarantine"
    RELEASED = "released"
    CONDITIONALLY_RELEASED = "conditionally_released"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    RECALLED = "recalled"


LOT_TRANSITIONS: dict[str, frozenset[str]] = {
    LotStatus.IN_PROCESS: frozenset({LotStatus.HARVESTED, LotStatus.REJECTED}),
    LotStatus.HARVESTED: frozenset({LotStatus.QUARANTINE, LotStatus.REJECTED}),
    LotStatus.QUARANTINE: frozenset(
        {LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED, LotStatus.REJECTED}
    ),
    LotStatus.CONDITIONALLY_RELEASED: frozenset({LotStatus.RELEASED, LotStatus.ON_HOLD}),
    LotStatus.RELEASED: frozenset({LotStatus.ON_HOLD}),
    LotStatus.ON_HOLD: frozenset({LotStatus.RELEASED, LotStatus.RECALLED}),
    LotStatus.REJECTED: frozenset(),
    LotStatus.RECALLED: frozenset(),
}


class Lot(SQLModel, table=True):
    """A pool of several donors' cultures: a new DIN, and the batch that becomes doses."""

    id: int | None = Field(default=None, primary_key=True)
    din: str = Field(max_length=13, unique=True, index=True)
    status: str = Field(default=LotStatus.IN_PROCESS, max_length=24, index=True)
    spec_version: int | None = None  # the QC specification in force when the lot was started
    pooled_at: datetime  # real-world time
    total_cells: int
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")


class PoolMember(SQLModel, table=True):
    """Which culture (biopsy, donor) went into a lot, with how many cells. Never changes."""

    __tablename__ = "pool_member"

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    culture_id: int = Field(foreign_key="culture.id", unique=True)
    biopsy_id: int = Field(foreign_key="biopsy.id", index=True)
    donor_id: int = Field(foreign_key="donor.id", index=True)
    cells_contributed: int
