"""label_print: one original print per label, held by the database

Twenty people printing a new label at once each saw no earlier print and each logged an
"original" (no reason, no reprint flag 05). A partial unique index keeps one original per
label; the others are reprints, which need a reason.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGINAL = sa.text("NOT reprint")


def upgrade() -> None:
    op.create_index(
        "uq_label_print_original",
        "label_print",
        ["kind", "identifier"],
        unique=True,
        sqlite_where=ORIGINAL,
        postgresql_where=ORIGINAL,
    )


def downgrade() -> None:
    op.drop_index("uq_label_print_original", table_name="label_print")
