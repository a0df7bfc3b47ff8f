"""login_throttle: failed logins counted per account name and per client address

Every failed login for an unknown username appended an audit event and cost an argon2 hash,
without limit. Failures are now counted per account name and per client address in a window;
past the limit, attempts are refused (429) before any password is checked, and the failures of
an unknown name are audited once per window, not once per attempt.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("window_started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
