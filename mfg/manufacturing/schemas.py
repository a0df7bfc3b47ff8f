"""The manufacturing command schemas (what a person enters, one model per use case, read alike
by the JSON API and the page forms, and taken by the services) and the API's output models.
Bounds are described here for the API's document; the services check them (``mfg.quantities``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from mfg.models import MaterialLot
from mfg.quantities import (
    BOX_POSITION,
    CELLS,
    CELLS_OR_NONE,
    DOSE_VOLUME_ML,
    DOSES,
    FINAL_VOLUME_ML,
    STORAGE_TEMP_C,
    SURFACE_CM2,
    VESSELS,
    VIABILITY_PCT,
    Bounds,
    Codes,
    EventTime,
    Number,
    WholeNumber,
)


class MaterialCreate(BaseModel):
    """A received material lot, typed, or read from the supplier's GS1 bar code (``scan``)."""

    name: str = Field(
        default="", max_length=200, description="empty: as the last lot of the same GTIN"
    )
    supplier: str = Field(
        default="", max_length=200, description="empty: as the last lot of the same GTIN"
    )
    catalogue_number: str = Field(
        default="", max_length=100, description="empty: as the last lot of the same GTIN"
    )
    lot_number: str = Field(default="", max_length=100)
    expiry: date | None = None
    gtin: str = Field(default="", max_length=14)
    serial: str = Field(default="", max_length=100)
    scan: str = Field(
        default="", max_length=500, description="the supplier's GS1 bar code, as scanned"
    )


class MaterialDecision(BaseModel):
    """QA's signed release of a material lot, or its rejection with the reason."""

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


def _plausible(bounds: Bounds, typed: str = "12,5 or 12.5") -> str:
    return f"{bounds.unit}, plausible {bounds.text()}; typed as {typed}".lstrip(", ")


WHEN = "with its offset, or on the facility's clock (a page's datetime-local field)"


class CultureStart(BaseModel):
    """A received biopsy into its first vessel, with the medium lots; signed "Performed"."""

    biopsy: str = Field(max_length=40, description="the biopsy's DIN, or a scan of its tube")
    vessel_type: str = Field(max_length=100)
    surface_cm2: Number = Field(description=_plausible(SURFACE_CM2))
    seeded_cells: WholeNumber | None = Field(
        default=None, description="empty for an explant culture; " + _plausible(CELLS, "2,5e5")
    )
    seeded_at: EventTime = Field(description=WHEN)
    medium_lots: Codes = Field(description="material lot codes (ML…) or their scans")
    password: str = Field(min_length=1, max_length=1024)


class PassageIn(BaseModel):
    """A vessel harvested and its cells seeded into new vessels; signed "Performed"."""

    started_at: EventTime = Field(description=WHEN)
    ended_at: EventTime = Field(description=WHEN)
    harvested_cells: WholeNumber = Field(description=_plausible(CELLS, "4 000 000 or 4e6"))
    viability_pct: Number = Field(description=_plausible(VIABILITY_PCT))
    reseeded_cells: WholeNumber = Field(description=_plausible(CELLS_OR_NONE, "2 000 000"))
    new_vessels: WholeNumber = Field(description=_plausible(VESSELS, "2"))
    vessel_type: str = Field(max_length=100)
    surface_cm2: Number = Field(description=_plausible(SURFACE_CM2))
    reagent_lots: Codes = Field(default_factory=list)
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
    """One culture vessel of the pool and the cells it gives."""

    culture: str = Field(max_length=20, description="culture vessel code (CV…)")
    cells: WholeNumber = Field(description=_plausible(CELLS, "5 600 000 or 5,6e6"))


class PoolIn(BaseModel):
    """Cultures of at least two eligible donors pooled into a new lot; signed "Performed".

    The page's form sends each vessel as a ``culture`` field and the cells beside it as a
    ``cells`` field; a vessel whose cells are left empty is not pooled."""

    members: list[PoolMemberIn] = Field(min_length=1)
    pooled_at: EventTime = Field(description=WHEN)
    password: str = Field(min_length=1, max_length=1024)

    @model_validator(mode="before")
    @classmethod
    def _members_of_a_form(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "members" in data or "culture" not in data:
            return data
        cultures, cells = (_listed(data.get(k)) for k in ("culture", "cells"))
        members = [
            {"culture": c, "cells": n} for c, n in zip(cultures, cells, strict=False) if n.strip()
        ]
        return {**data, "members": members}


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]


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
    """The lot's growth harvested and re-seeded, at the passage the form showed; signed
    "Performed"."""

    passage_number: WholeNumber = Field(
        ge=1, description="the passage the lot is growing at, as read before recording"
    )
    started_at: EventTime = Field(description=WHEN)
    ended_at: EventTime = Field(description=WHEN)
    harvested_cells: WholeNumber = Field(description=_plausible(CELLS, "32 000 000 or 3,2e7"))
    viability_pct: Number = Field(description=_plausible(VIABILITY_PCT))
    reseeded_cells: WholeNumber = Field(description=_plausible(CELLS_OR_NONE, "8 000 000"))
    vessels: WholeNumber = Field(description=_plausible(VESSELS, "4"))
    vessel_type: str = Field(max_length=100)
    reagent_lots: Codes = Field(default_factory=list)
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
    """The final harvest of the lot and its formulation; signed "Performed"."""

    started_at: EventTime = Field(description=WHEN)
    ended_at: EventTime = Field(description=WHEN)
    harvested_cells: WholeNumber = Field(description=_plausible(CELLS, "400 000 000 or 4e8"))
    viability_pct: Number = Field(description=_plausible(VIABILITY_PCT))
    final_volume_ml: Number = Field(description=_plausible(FINAL_VOLUME_ML))
    formulation_lots: Codes = Field(default_factory=list)
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
    """The harvested lot filled into doses (divisions A0, B0, …); signed "Performed"."""

    filled_at: EventTime = Field(description=WHEN)
    doses: WholeNumber = Field(description=_plausible(DOSES, "4"))
    volume_ml: Number = Field(description=_plausible(DOSE_VOLUME_ML))
    container: str = Field(max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class StorageIn(BaseModel):
    """The lot's filled doses frozen into consecutive positions of one box; signed
    "Performed"."""

    frozen_at: EventTime = Field(description=WHEN)
    freezing_programme: str = Field(max_length=100)
    temperature_c: Number = Field(description=_plausible(STORAGE_TEMP_C, "-180"))
    tank: str = Field(max_length=20)
    rack: str = Field(max_length=20)
    box: str = Field(max_length=20)
    first_position: WholeNumber = Field(description=_plausible(BOX_POSITION, "1"))
    password: str = Field(min_length=1, max_length=1024)


class ThawIn(BaseModel):
    """A dose thawed for its patient; signed "Performed"."""

    thawed_at: EventTime = Field(description=WHEN)
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
    """A printed dose label scanned back (its 2-D code)."""

    scanned: str = Field(max_length=500, description="the dose label's 2-D code, as scanned")
