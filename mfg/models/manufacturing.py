"""Manufacturing records (the electronic batch record): materials, cultures, lots, doses.

Cell counts are 64-bit: a harvested lot holds billions of cells.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from mfg.models.base import CELL_COUNT, Status, status_field, utcnow


class MaterialStatus(StrEnum):
    QUARANTINED = "quarantined"
    RELEASED = "released"
    REJECTED = "rejected"


MATERIAL_TRANSITIONS: dict[MaterialStatus, frozenset[MaterialStatus]] = {
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
    status: Status[MaterialStatus] = status_field(MaterialStatus.QUARANTINED, index=True)
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


CULTURE_TRANSITIONS: dict[CultureStatus, frozenset[CultureStatus]] = {
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
    seeded_cells: int | None = Field(default=None, sa_type=CELL_COUNT)  # None: explant
    explant: bool = Field(default=False)
    seeded_at: datetime  # real-world time
    cumulative_pd: float | None = None  # up to the seeding of this vessel
    status: Status[CultureStatus] = status_field(CultureStatus.IN_PROCESS, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")


class Passage(SQLModel, table=True):
    """Harvest of a culture vessel and re-seeding into new vessels, with the computed growth."""

    id: int | None = Field(default=None, primary_key=True)
    culture_id: int = Field(foreign_key="culture.id", unique=True)
    started_at: datetime
    ended_at: datetime
    harvested_cells: int = Field(sa_type=CELL_COUNT)
    viability_pct: float
    reseeded_cells: int = Field(sa_type=CELL_COUNT)
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
    """Which material lots a step used (docs/process.md#materials: each process step records its
    lots)."""

    __tablename__ = "material_use"
    # a step's materials, read by the batch record and by every trace up from a lot
    __table_args__ = (Index("ix_material_use_step", "step_type", "step_id"),)

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


LOT_TRANSITIONS: dict[LotStatus, frozenset[LotStatus]] = {
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
    status: Status[LotStatus] = status_field(LotStatus.IN_PROCESS, length=24, index=True)
    spec_version: int | None = None  # the QC specification in force when the lot was started
    pooled_at: datetime  # real-world time
    total_cells: int = Field(sa_type=CELL_COUNT)  # pooled
    # The growth under way: pooling seeds it, each lot passage re-seeds it, harvest ends it.
    passage_number: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    cumulative_pd: float | None = None  # up to the seeding of the current growth
    seeded_cells: int | None = Field(default=None, sa_type=CELL_COUNT)
    seeded_at: datetime | None = None
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
    cells_contributed: int = Field(sa_type=CELL_COUNT)


class LotPassage(SQLModel, table=True):
    """Expansion of a lot after pooling: the growth harvested and re-seeded, with its figures."""

    __tablename__ = "lot_passage"
    __table_args__ = (UniqueConstraint("lot_id", "passage_number"),)

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    passage_number: int  # of the growth harvested; the re-seeded cells grow at the next one
    started_at: datetime
    ended_at: datetime
    seeded_cells: int = Field(sa_type=CELL_COUNT)
    harvested_cells: int = Field(sa_type=CELL_COUNT)
    viability_pct: float
    reseeded_cells: int = Field(sa_type=CELL_COUNT)
    vessels: int
    vessel_type: str = Field(max_length=100)
    population_doublings: float | None = None
    cumulative_pd: float | None = None
    doubling_time_h: float | None = None
    viability_below_spec: bool = Field(default=False)
    deviation_note: str = Field(default="", max_length=2000)
    performed_by_id: int = Field(foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)


class Harvest(SQLModel, table=True):
    """The final harvest and formulation of a lot: the cells that become its doses."""

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", unique=True)
    started_at: datetime
    ended_at: datetime
    passage_number: int
    harvested_cells: int = Field(sa_type=CELL_COUNT)  # viable cells formulated
    viability_pct: float
    population_doublings: float | None = None
    cumulative_pd: float | None = None
    doubling_time_h: float | None = None
    final_volume_ml: float
    concentration_per_ml: float  # cells / mL, computed
    viability_below_spec: bool = Field(default=False)
    deviation_note: str = Field(default="", max_length=2000)
    performed_by_id: int = Field(foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)


class DoseStatus(StrEnum):
    QUARANTINE = "quarantine"
    AVAILABLE = "available"
    ALLOCATED = "allocated"
    ISSUED = "issued"
    INFUSED = "infused"
    RETURNED = "returned"
    DISCARDED = "discarded"
    ON_HOLD = "on_hold"
    RECALLED = "recalled"


DOSE_TRANSITIONS: dict[DoseStatus, frozenset[DoseStatus]] = {
    DoseStatus.QUARANTINE: frozenset(
        {DoseStatus.AVAILABLE, DoseStatus.DISCARDED, DoseStatus.ON_HOLD}
    ),
    DoseStatus.AVAILABLE: frozenset(
        {DoseStatus.ALLOCATED, DoseStatus.DISCARDED, DoseStatus.ON_HOLD}
    ),
    DoseStatus.ALLOCATED: frozenset(
        {DoseStatus.ISSUED, DoseStatus.AVAILABLE, DoseStatus.DISCARDED, DoseStatus.ON_HOLD}
    ),
    DoseStatus.ISSUED: frozenset(
        {DoseStatus.INFUSED, DoseStatus.RETURNED, DoseStatus.DISCARDED, DoseStatus.ON_HOLD}
    ),
    DoseStatus.RETURNED: frozenset({DoseStatus.DISCARDED}),
    DoseStatus.ON_HOLD: frozenset({DoseStatus.AVAILABLE, DoseStatus.RECALLED}),
    DoseStatus.INFUSED: frozenset(),
    DoseStatus.DISCARDED: frozenset(),
    DoseStatus.RECALLED: frozenset(),
}


class Dose(SQLModel, table=True):
    """One bag of a lot: the lot DIN + product code with its division, and where it is stored."""

    __table_args__ = (
        UniqueConstraint("lot_id", "division"),
        # Two doses never share a storage position while both are still frozen.
        Index(
            "uq_dose_storage_position",
            "tank",
            "rack",
            "box",
            "position",
            unique=True,
            sqlite_where=text("thawed_at IS NULL AND tank IS NOT NULL"),
            postgresql_where=text("thawed_at IS NULL AND tank IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    identifier: str = Field(max_length=21, unique=True, index=True)  # DIN + product code
    lot_id: int = Field(foreign_key="lot.id", index=True)
    product_code: str = Field(max_length=8)  # description, collection type, division
    division: str = Field(max_length=2)
    cells: int = Field(sa_type=CELL_COUNT)
    volume_ml: float
    container: str = Field(max_length=100)
    filled_at: datetime  # real-world time
    expires_at: datetime
    status: Status[DoseStatus] = status_field(DoseStatus.QUARANTINE, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="app_user.id")
    # Cryopreservation
    frozen_at: datetime | None = None
    freezing_programme: str = Field(default="", max_length=100)
    storage_temp_c: float | None = None
    tank: str | None = Field(default=None, max_length=20)
    rack: str | None = Field(default=None, max_length=20)
    box: str | None = Field(default=None, max_length=20)
    position: int | None = None
    stored_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Label check: the printed label scanned back and matched to this dose
    label_verified_at: datetime | None = None
    label_verified_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Thaw, when the dose is prepared for a patient
    thawed_at: datetime | None = None
    thawed_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class LotDoseCount(SQLModel, table=True):
    """How many of a lot's doses are in each status: derived data, kept by database triggers
    on ``dose`` (migration 0016) in the transaction that inserts a dose or changes its status,
    whichever code or statement does it. Read by the trace, which would otherwise count a
    donor's 100,000 doses on every scan. Never written by the application."""

    __tablename__ = "lot_dose_count"

    lot_id: int = Field(foreign_key="lot.id", primary_key=True)
    status: Status[DoseStatus] = Field(sa_type=String(16), primary_key=True)
    doses: int = Field(default=0)
