"""Facts about this database itself."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from mfg.models.base import utcnow


class Installation(SQLModel, table=True):
    """One row: when this database was initialised and whether it holds demonstration data.

    ``mfg demo`` writes it with ``demo=True``; a database with records but no such row holds real
    data and is never touched by the demo loader.
    """

    id: int | None = Field(default=None, primary_key=True)
    demo: bool = Field(default=False)
    facility_fin: str = Field(max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
