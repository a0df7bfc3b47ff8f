"""Raw SQL, as someone with database access would use it to tamper with the audit trail."""

from sqlalchemy import Engine, text

from mfg.db import is_sqlite


def drop_append_only_triggers(engine: Engine, table: str = "audit_event") -> None:
    with engine.begin() as conn:
        if is_sqlite(engine):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))


def execute(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)
