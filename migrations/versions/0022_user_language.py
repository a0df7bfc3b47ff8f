"""user_language: each user may choose the language the application speaks to them; a
signature keeps its meaning as the signer was shown it

A user's null language means the facility's default (MFG_LANGUAGE). A signature's meaning stays
its stable code; meaning_shown is the text in the signer's language, language that language.
Signatures made before were all shown in English.

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
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
    with op.batch_alter_table("signature") as batch:
        batch.add_column(
            sa.Column(
                "meaning_shown",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default=sa.text("''"),
            )
        )
        batch.add_column(
            sa.Column(
                "language",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="en",
            )
        )
    op.execute("UPDATE signature SET meaning_shown = meaning WHERE meaning_shown = ''")


def downgrade() -> None:
    with op.batch_alter_table("signature") as batch:
        batch.drop_column("language")
        batch.drop_column("meaning_shown")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("language")
