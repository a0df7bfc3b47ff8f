"""Input and output models of the manufacturing API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from mfg.models import MaterialLot


class MaterialCreate(BaseModel):
    name: str = Field(max_length=200)
    supplier: str = Field(max_length=200)
    catalogue_number: str = Field(max_length=100)
    lot_number: str = Field(default="", max_length=100)
    expiry: date | None = None
    gtin: str = Field(default="", max_length=14)
    serial: str = Field(default="", max_length=100)
    scan: str = Field(
        default="", max_length=500, description="the supplier's GS1 bar code, as scanned"
    )


class MaterialDecision(BaseModel):
    release: bool
    password: str = Field(min_length=1, max_length=1024)
    reason: str = Field(default="", max_length=1000)


class MaterialPublic(BaseModel):
    identifier: str
    code: str
    status: str
    name: str
    supplier: str
    catalogue_number: str
    lot_number: str
    gtin: str | None
    serial: str
    expiry: date
    received_at: datetime
    decision_reason: str

    @classmethod
    def of(cls, lot: MaterialLot) -> MaterialPublic:
        data = lot.model_dump()
        return cls(identifier=lot.code, **{k: data[k] for k in cls.model_fields if k in data})


class MaterialList(BaseModel):
    items: list[MaterialPublic]
    total: int


class CultureStart(BaseModel):
    biopsy: str = Field(max_length=40, description="the biopsy's DIN, or a scan of its tube")
    vessel_type: str = Field(max_length=100)
    surface_cm2: float = Field(gt=0)
    seeded_cells: int | None = Field(default=None, gt=0, description="empty for an explant culture")
    seeded_at: AwareDatetime
    medium_lots: list[str] = Field(min_length=1, description="material lot codes (ML…)")
    password: str = Field(min_length=1, max_length=1024)


class PassageIn(BaseModel):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    harvested_cells: int = Field(gt=0)
    viability_pct: float = Field(ge=0, le=100)
    reseeded_cells: int = Field(ge=0)
    new_vessels: int = Field(ge=1, le=50)
    vessel_type: str = Field(max_length=100)
    surface_cm2: float = Field(gt=0)
    reagent_lots: list[str] = Field(default_factory=list)
    split_ratio: str = Field(default="", max_length=20)
    deviation_note: str = Field(default="", max_length=2000)
    password: str = Field(min_length=1, max_length=1024)


class CulturePublic(BaseModel):
    identifier: str
    code: str
    status: str
    biopsy: str
    parent: str | None
    passage_number: int
    vessel_type: str
    surface_cm2: float
    seeded_cells: int | None
    seeded_at: datetime
    cumulative_pd: float | None


class PassagePublic(BaseModel):
    culture: str
    harvested_cells: int
    viability_pct: float
    population_doublings: float | None
    cumulative_pd: float | None
    doubling_time_h: float | None
    viability_below_spec: bool
    new_vessels: list[str]


class CultureList(BaseModel):
    items: list[CulturePublic]
    total: int


class PoolMemberIn(BaseModel):
    culture: str = Field(max_length=20, description="culture vessel code (CV…)")
    cells: int = Field(gt=0)


class PoolIn(BaseModel):
    members: list[PoolMemberIn] = Field(min_length=1)
    pooled_at: AwareDatetime
    password: str = Field(min_length=1, max_length=1024)


class PoolMemberPublic(BaseModel):
    culture: str
    biopsy: str
    donor: str
    donor_status: str
    cells_contributed: int


class LotPublic(BaseModel):
    identifier: str
    din: str
    status: str
    pooled_at: datetime
    total_cells: int
    spec_version: int | None
    passage_number: int
    cumulative_pd: float | None
    members: list[PoolMemberPublic]
    passages: list[LotPassagePublic]
    harvest: HarvestPublic | None
    doses: list[str]


class LotList(BaseModel):
    items: list[LotPublic]
    total: int


class LotPassageIn(BaseModel):
    passage_number: int = Field(
        ge=1, description="the passage the lot is growing at, as read before recording"
    )
    started_at: AwareDatetime
    ended_at: AwareDatetime
    harvested_cells: int = Field(gt=0)
    viability_pct: float = Field(ge=0, le=100)
    reseeded_cells: int = Field(ge=0)
    vessels: int = Field(ge=1, le=100)
    vessel_type: str = Field(max_length=100)
    reagent_lots: list[str] = Field(default_factory=list)
    deviation_note: str = Field(default="", max_length=2000)
    password: str = Field(min_length=1, max_length=1024)


class LotPassagePublic(BaseModel):
    passage_number: int
    started_at: datetime
    ended_at: datetime
    seeded_cells: int
    harvested_cells: int
    viability_pct: float
    reseeded_cells: int
    vessels: int
    population_doublings: float | None
    cumulative_pd: float | None
    doubling_time_h: float | None
    viability_below_spec: bool
    deviation_note: str


class HarvestIn(BaseModel):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    harvested_cells: int = Field(gt=0)
    viability_pct: float = Field(ge=0, le=100)
    final_volume_ml: float = Field(gt=0)
    formulation_lots: list[str] = Field(default_factory=list)
    deviation_note: str = Field(default="", max_length=2000)
    password: str = Field(min_length=1, max_length=1024)


class HarvestPublic(BaseModel):
    started_at: datetime
    ended_at: datetime
    passage_number: int
    harvested_cells: int
    viability_pct: float
    population_doublings: float | None
    cumulative_pd: float | None
    final_volume_ml: float
    concentration_per_ml: float
    viability_below_spec: bool


class FillIn(BaseModel):
    filled_at: AwareDatetime
    doses: int = Field(ge=1, le=100)
    volume_ml: float = Field(gt=0)
    container: str = Field(max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class StorageIn(BaseModel):
    frozen_at: AwareDatetime
    freezing_programme: str = Field(max_length=100)
    temperature_c: float
    tank: str = Field(max_length=20)
    rack: str = Field(max_length=20)
    box: str = Field(max_length=20)
    first_position: int = Field(ge=1)
    password: str = Field(min_length=1, max_length=1024)


class ThawIn(BaseModel):
    thawed_at: AwareDatetime
    password: str = Field(min_length=1, max_length=1024)


class DosePublic(BaseModel):
    identifier: str
    status: str
    lot: str
    product_code: str
    division: str
    cells: int
    volume_ml: float
    container: str
    filled_at: datetime
    expires_at: datetime
    frozen_at: datetime | None
    location: str | None
    storage_temp_c: float | None
    thawed_at: datetime | None
    label_verified_at: datetime | None


class DoseList(BaseModel):
    items: list[DosePublic]
    total: int


LotPublic.model_rebuild()


class LabelCheckIn(BaseModel):
    scanned: str = Field(max_length=500, description="the dose label's 2-D code, as scanned")
