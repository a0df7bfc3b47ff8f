"""The engine and the unit of work, on the real database of the run (SQLite or PostgreSQL)."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from mfg.db import database_reachable, describe_database, is_sqlite, unit_of_work
from mfg.models import Installation


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(engine: Engine) -> None:
    if not is_sqlite(engine):
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_unit_of_work_commits_when_the_block_ends(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999"))
    with Session(engine) as session:
        assert len(session.exec(select(Installation)).all()) == 1


def test_the_unit_of_work_rolls_back_everything_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999"))
        session.flush()
        raise RuntimeError("step two failed")
    with Session(engine) as session:
        assert session.exec(select(Installation)).all() == []


def test_times_are_stored_and_read_back_as_timezone_aware_utc(engine: Engine) -> None:
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999", created_at=moment))
    with Session(engine) as session:
        stored = session.exec(select(Installation)).one().created_at
    assert stored == moment and stored.tzinfo is not None


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="timezone"), unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999", created_at=datetime(2026, 3, 1)))  # noqa: DTZ001


def test_concurrent_writers_queue_instead_of_failing(engine: Engine) -> None:
    """Read-then-write units of work from many threads all succeed, one after another."""
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with unit_of_work(engine) as session:
                count = len(session.exec(select(Installation)).all())
                session.add(Installation(facility_fin="A9999", demo=bool(count % 2)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM installation")).scalar() == 8


def test_health_check_reports_an_unreachable_database(tmp_path) -> None:
    from mfg.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}")  # a directory is not a database file
    ok, detail = database_reachable(engine)
    assert ok is False and detail


def test_the_database_description_never_shows_a_password() -> None:
    described = describe_database("postgresql://mfg:s3cret@db.local/mfg")
    assert "s3cret" not in described and "db.local" in described


def test_an_autocommit_lookup_cannot_write(engine, settings) -> None:
    """On PostgreSQL a lookup reads without a transaction, so a stray write is refused."""
    import pytest

    from mfg.db import unit_of_work
    from mfg.models import Installation

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite a lookup reads in a transaction")
    with unit_of_work(engine, settings=settings, write=False, autocommit_reads=True) as session:
        session.add(Installation(demo=True, facility_fin="A9999"))
        with pytest.raises(RuntimeError, match="cannot write"):
            session.flush()
        session.rollback()
