"""spec_test.incubation_days: a culture's final reading waits for its incubation

A final 14-day sterility "no growth" entered one day after sampling used to be accepted and
could complete a conditional release. A specification's test now says how many days its final
reading waits after the sample is taken; preliminary readings named ``day N`` wait N days.

Version 1, installed by migration 0010 from ``mfg/defaults/specification.toml`` and never
signed by anyone, gets the value its method already states ("BacT/ALERT, 14 days") for its two
sterility cultures, so it stays identical to the file it was installed from; this is the one
time its rows are written after insertion (the append-only triggers are set again at once).
Versions that QA drafted and signed keep no value, so their signed content does not change:
their final reading waits as long as their last preliminary reading, until QA approves a
version that gives one.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.append_only import allow_changes, refuse_changes

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spec_test", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incubation_days", sa.Integer(), nullable=True))
    allow_changes("spec_test")
    op.execute(
        "UPDATE spec_test SET incubation_days = 14 "
        "WHERE code IN ('STER-AER', 'STER-ANA') AND method LIKE '%14 days%' "
        "AND spec_version_id IN (SELECT id FROM spec_version WHERE version = 1) "
        "AND NOT EXISTS (SELECT 1 FROM signature WHERE entity_type = 'specification' "
        "AND entity_id = '1')"
    )
    refuse_changes("spec_test")


def downgrade() -> None:
    allow_changes("spec_test")
    with op.batch_alter_table("spec_test", schema=None) as batch_op:
        batch_op.drop_column("incubation_days")
    refuse_changes("spec_test")
