"""lot_dose_count: each lot's doses counted per status, kept by triggers on dose

A donor's trace reaches 10,000 lots and 100,000 doses; counting them on every scan took most of
its time. The database keeps the count itself, in the transaction that inserts a dose, changes
its status (or lot) or deletes it, whatever code or statement does it, so it cannot drift from
the doses. The application only reads it.

On PostgreSQL two transactions moving doses of one lot in opposite directions (a hold and a
release of a hold, say) touch the same two counter rows; the trigger always touches them in
(lot, status) order, so they wait for each other instead of deadlocking.

A later migration that rebuilds ``dose`` on SQLite (batch "move and copy") drops its triggers
and must create them again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADD = (
    "INSERT INTO lot_dose_count (lot_id, status, doses) VALUES ({lot}, {status}, {delta}) "
    "ON CONFLICT (lot_id, status) DO UPDATE SET doses = lot_dose_count.doses + excluded.doses"
)

POSTGRESQL = [
    f"""
    CREATE FUNCTION lot_dose_count_add(lot integer, state varchar, delta integer)
    RETURNS void LANGUAGE sql AS $$
        {ADD.format(lot="$1", status="$2", delta="$3")}
    $$
    """,
    """
    CREATE FUNCTION lot_dose_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM lot_dose_count_add(NEW.lot_id, NEW.status, 1);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM lot_dose_count_add(OLD.lot_id, OLD.status, -1);
        ELSIF (OLD.lot_id, OLD.status) < (NEW.lot_id, NEW.status) THEN
            PERFORM lot_dose_count_add(OLD.lot_id, OLD.status, -1);
            PERFORM lot_dose_count_add(NEW.lot_id, NEW.status, 1);
        ELSE
            PERFORM lot_dose_count_add(NEW.lot_id, NEW.status, 1);
            PERFORM lot_dose_count_add(OLD.lot_id, OLD.status, -1);
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER dose_counted_insert AFTER INSERT ON dose FOR EACH ROW "
    "EXECUTE FUNCTION lot_dose_count_keep()",
    "CREATE TRIGGER dose_counted_update AFTER UPDATE OF status, lot_id ON dose FOR EACH ROW "
    "WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.lot_id IS DISTINCT FROM NEW.lot_id) "
    "EXECUTE FUNCTION lot_dose_count_keep()",
    "CREATE TRIGGER dose_counted_delete AFTER DELETE ON dose FOR EACH ROW "
    "EXECUTE FUNCTION lot_dose_count_keep()",
]

_PLUS = ADD.format(lot="NEW.lot_id", status="NEW.status", delta=1)
_MINUS = ADD.format(lot="OLD.lot_id", status="OLD.status", delta=-1)
SQLITE = [
    f"CREATE TRIGGER dose_counted_insert AFTER INSERT ON dose BEGIN {_PLUS}; END",
    "CREATE TRIGGER dose_counted_update AFTER UPDATE OF status, lot_id ON dose "
    "WHEN OLD.status IS NOT NEW.status OR OLD.lot_id IS NOT NEW.lot_id "
    f"BEGIN {_MINUS}; {_PLUS}; END",
    f"CREATE TRIGGER dose_counted_delete AFTER DELETE ON dose BEGIN {_MINUS}; END",
]


def upgrade() -> None:
    op.create_table(
        "lot_dose_count",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"]),
        sa.PrimaryKeyConstraint("lot_id", "status"),
    )
    op.execute(
        "INSERT INTO lot_dose_count (lot_id, status, doses) "
        "SELECT lot_id, status, count(*) FROM dose GROUP BY lot_id, status"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("insert", "update", "delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS dose_counted_{trigger} ON dose")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS dose_counted_{trigger}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lot_dose_count_keep()")
        op.execute("DROP FUNCTION IF EXISTS lot_dose_count_add(integer, varchar, integer)")
    op.drop_table("lot_dose_count")
