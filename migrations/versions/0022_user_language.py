"""user_language: each user may choose the language the application speaks to them; a
signature keeps its meaning as the signer was shown it

A user's null language means the facility's default (MFG_LANGUAGE). A signature's meaning stays
its stable code; meaning_shown is the text in the signer's language, language that language.
Signatures made before were all shown in English: their meaning_shown stays empty.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 02:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuilds the table and would drop the
    # triggers that keep signatures append-only. Signatures made before keep an empty
    # meaning_shown (their meaning was shown in English, as stored) and language "en": no row
    # is updated.
    op.add_column(
        "app_user",
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    )
    op.add_column(
        "signature",
        sa.Column(
            "meaning_shown",
            sqlmodel.sql.sqltypes.AutoString(length=200),
            nullable=False,
            server_default=sa.text("''"),
        ),
    )
    op.add_column(
        "signature",
        sa.Column(
            "language",
            sqlmodel.sql.sqltypes.AutoString(length=8),
            nullable=False,
            server_default="en",
        ),
    )


def downgrade() -> None:
    op.drop_column("signature", "language")
    op.drop_column("signature", "meaning_shown")
    op.drop_column("app_user", "language")
