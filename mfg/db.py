"""Database engine and the unit of work.

SQLite (the embedded default) runs in WAL mode with foreign keys and a busy timeout; a unit of work
that may write starts with ``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of
failing half-way through a read-then-write. PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col, create_engine, func, select

from mfg.config import Settings, normalise_database_url

log = logging.getLogger("mfg.db")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
_BEGIN_OPTION = "mfg_sqlite_begin"
_SETTINGS_KEY = "mfg_settings"
_KEEP_KEY = "mfg_keep_on_failure"
_READ_ONLY_KEY = "mfg_read_only"
_OPTIONS_KEY = "_mfg_option_engines"


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_reading(session: Session, flush_context: Any, instances: Any) -> None:
    """An autocommit lookup never writes: without a transaction, a stray write would commit on
    its own, outside any unit of work."""
    if session.info.get(_READ_ONLY_KEY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only unit of work cannot write; use a writing one")


def make_engine(
    url: str, *, echo: bool = False, threads: int = 40, busy_timeout: float = 10.0
) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings this application relies on.

    The pool holds a connection for each thread that may do database work at once
    (``threads``, the size of the request thread pool), plus a few for the command line and
    the error pages, so that a request never waits for a connection while another thread holds
    one idle; a checkout that still waits ``busy_timeout`` seconds fails (answered 503).
    """
    url = normalise_database_url(url)
    parsed = make_url(url)
    pool = {
        "pool_size": threads,
        "max_overflow": 5,
        "pool_timeout": busy_timeout,
        # The connection used last is handed out first: under a light load a few hot
        # connections serve every request (their caches and, on PostgreSQL, their server
        # processes warm) while the rest idle, instead of round-robin over all forty.
        "pool_use_lifo": True,
    }
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo=echo, busy_timeout=busy_timeout, **pool)
    # A lock another transaction holds is waited for at most busy_timeout: then 503, not a hang.
    options = f"-c lock_timeout={int(busy_timeout * 1000)}"
    # No ping before each checkout: a round trip per checkout cost a third of the throughput
    # under load (tests/benchmarks/README.md). A connection the server dropped fails its first
    # statement instead; SQLAlchemy then discards every pooled connection of that time, and the
    # request is answered 503 busy, nothing saved (mfg.web.errors.busy_of): the next one
    # connects afresh. Connections older than half an hour are replaced at checkout (no round
    # trip), before a firewall forgets them.
    return create_engine(
        url, echo=echo, pool_recycle=1800, connect_args={"options": options}, **pool
    )


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(
        settings.effective_database_url,
        threads=settings.threads,
        busy_timeout=settings.busy_timeout_seconds,
    )


_HOLDS_WRITE_LOCK = "mfg_holds_write_lock"


def _sqlite_engine(
    url: str, database: str | None, *, echo: bool, busy_timeout: float, **pool: Any
) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
        **(pool if database and database != ":memory:" else {}),
    )
    # SQLite has one writer at a time. Writers of this process queue for it here, in order of
    # arrival, rather than in SQLite's busy handler, which polls with growing sleeps: under
    # contention that handler let some writers wait 15 s and then fail ("database is locked")
    # while others went through. The lock is taken before BEGIN IMMEDIATE and released when the
    # connection goes back to the pool, after its COMMIT or ROLLBACK. Other processes (the
    # command line) still meet SQLite's own lock, with its busy timeout.
    writers = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is lazy
        # and cannot be IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode == "IMMEDIATE" and not connection.info.get(_HOLDS_WRITE_LOCK):
            if not writers.acquire(timeout=busy_timeout):
                raise PoolTimeout(f"the write lock was not free within {busy_timeout:g} s")
            connection.info[_HOLDS_WRITE_LOCK] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(connection.info)
            raise

    def _release(info: dict) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            writers.release()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        _release(record.info)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        _release(record.info)

    return engine


def _with_options(engine: Engine, **options: str) -> Engine:
    """``engine.execution_options(**options)``, made once per engine and kept on it: making one
    copies the options and registers event listeners, a cost every request would pay again."""
    made: dict[tuple[tuple[str, str], ...], Engine] = engine.__dict__.setdefault(_OPTIONS_KEY, {})
    key = tuple(sorted(options.items()))
    if key not in made:
        made[key] = engine.execution_options(**options)
    return made[key]


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def unit_of_work(
    engine: Engine,
    *,
    settings: Settings | None = None,
    write: bool = True,
    autocommit_reads: bool = False,
) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any exception.

    Services never commit; only this function (used by the request dependency and the CLI) does.
    Records registered with ``keep_on_failure`` are written even when the work is rolled back.
    ``autocommit_reads``: a short read-only lookup on PostgreSQL runs without BEGIN/COMMIT (each
    statement is its own snapshot, as in READ COMMITTED anyway), two round trips less.
    """
    autocommit = autocommit_reads and not write and engine.dialect.name == "postgresql"
    if write:
        bind = _with_options(engine, **{_BEGIN_OPTION: "IMMEDIATE"})
    elif autocommit:
        bind = _with_options(engine, isolation_level="AUTOCOMMIT")
    else:
        bind = engine
    with Session(bind, expire_on_commit=False) as session:
        session.info[_SETTINGS_KEY] = settings
        session.info[_READ_ONLY_KEY] = autocommit
        try:
            yield session
            for record in session.info.pop(_KEEP_KEY, []):
                record(session)
            session.commit()
        except BaseException:
            session.rollback()
            kept = session.info.pop(_KEEP_KEY, [])
            if kept:
                _write_kept_records(engine, settings, kept)
            raise


def _write_kept_records(
    engine: Engine, settings: Settings | None, records: list[Callable[[Session], Any]]
) -> None:
    try:
        with unit_of_work(engine, settings=settings) as session:
            for record in records:
                record(session)
    except Exception:  # the original error is what the caller must see
        log.exception("could not write records that must survive a rolled-back unit of work")


def keep_on_failure(session: Session, record: Callable[[Session], Any]) -> None:
    """Write ``record(session)`` with this unit of work, or in a new one if this one rolls back.

    For facts that must be kept whatever happens next, such as a failed login attempt.
    """
    session.info.setdefault(_KEEP_KEY, []).append(record)


def settings_of(session: Session) -> Settings:
    """The settings of the unit of work this session belongs to."""
    settings = session.info.get(_SETTINGS_KEY)
    if settings is None:
        raise RuntimeError("this session was not opened by unit_of_work(settings=...)")
    return settings


def bind_settings(session: Session, settings: Settings) -> Session:
    """Attach settings to a session opened outside ``unit_of_work`` (tests, scripts)."""
    session.info[_SETTINGS_KEY] = settings
    return session


def newest_page(
    session: Session, model: Any, *conditions: Any, limit: int = 100, offset: int = 0
) -> tuple[list[Any], int]:
    """Rows of ``model`` matching every condition, newest first, and how many match in all:
    the list half of the list/read contract (docs/architecture.md#list-and-read)."""
    rows = session.exec(
        select(model).where(*conditions).order_by(col(model.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), count_where(session, model, *conditions)


def lock_row(session: Session, model: Any, row_id: int) -> Any:
    """Hold ``model`` row ``row_id`` for the rest of the transaction, read afresh: the parent
    whose "only one" rule is checked next (one active order per patient, one final result per
    test of a sample…), so that two people checking it at once cannot both pass. PostgreSQL:
    ``SELECT … FOR UPDATE`` (the other waits, then reads what the first committed). SQLite: a
    writing unit of work holds the database's write lock from its start already."""
    query = (
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).one()


def count_where(session: Session, model: Any, *conditions: Any) -> int:
    """How many rows of ``model`` match every condition."""
    return session.exec(select(func.count()).select_from(model).where(*conditions)).one()


def database_reachable(engine: Engine) -> tuple[bool, str]:
    """Liveness of the database: (True, "ok") or (False, the reason)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return False, str(exc.orig or exc).splitlines()[0]
    return True, "ok"


def describe_database(url: str) -> str:
    """Where the database is, for people: a file path or a server, never a password."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database}"
    return f"PostgreSQL {parsed.render_as_string(hide_password=True)}"


def alembic_config() -> Config:
    if not ALEMBIC_INI.exists():
        raise RuntimeError(
            f"{ALEMBIC_INI} is missing: install mfg from its source tree (pip install -e .)"
        )
    return Config(str(ALEMBIC_INI))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade_database(engine: Engine) -> tuple[str | None, str | None]:
    """Apply every pending migration in one transaction; returns (revision before, after)."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, current_revision(engine)
