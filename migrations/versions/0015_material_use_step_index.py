"""an index on material_use (step_type, step_id): a step's materials, read by every upward trace

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 04:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("material_use", schema=None) as batch_op:
        batch_op.create_index("ix_material_use_step", ["step_type", "step_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("material_use", schema=None) as batch_op:
        batch_op.drop_index("ix_material_use_step")
