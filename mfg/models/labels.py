"""The print log: every label printed, by whom, where, how many; reprints with their reason."""

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class LabelPrint(SQLModel, table=True):
    __tablename__ = "label_print"
    __table_args__ = (
        Index("ix_label_print_record", "kind", "identifier"),
        # one original print per label (migration 0019); the others are reprints
        Index(
            "uq_label_print_original",
            "kind",
            "identifier",
            unique=True,
            sqlite_where=text("NOT reprint"),
            postgresql_where=text("NOT reprint"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    identifier: str = Field(max_length=64)
    output_format: str = Field(max_length=8)  # pdf | zpl
    copies: int = Field(default=1)
    printer: str = Field(default="", max_length=100)
    reprint: bool = Field(default=False)
    reason: str = Field(default="", max_length=1000)
    data_hash: str = Field(max_length=64)  # SHA-256 of the label's data as printed
    printed_at: datetime = Field(default_factory=utcnow)
    printed_by_id: int = Field(foreign_key="app_user.id")
