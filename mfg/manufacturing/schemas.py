"""Input and output models of the manufacturing API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

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
