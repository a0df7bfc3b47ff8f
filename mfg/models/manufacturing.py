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
