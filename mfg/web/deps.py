"""Request dependencies: the unit of work and the settings of the running application."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from mfg.config import Settings
from mfg.db import is_sqlite, unit_of_work

T = TypeVar("T")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_INLINE_KEY = "mfg_inline_ok"


def reads_inline(session: Session) -> bool:
    """May this unit of work's database calls run on the event loop?

    Only a read-only SQLite transaction: its calls are in-process and, in WAL mode, never wait
    for a lock or a network. Doing them inline saves a thread-pool hop per request, which is most
    of the cost of a page view on a small machine. Everything else goes to the thread pool.
    """
    return bool(session.info.get(_INLINE_KEY))


async def run_db(session: Session, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the event loop when ``reads_inline`` allows, else in the thread pool.

    For the hottest read paths (scan resolution), written as ``async def`` endpoints.
    """
    if reads_inline(session):
        return fn(*args)
    return await run_in_threadpool(fn, *args)


async def run_lookup(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``fn(session, *args)`` in a read-only unit of work of its own: a one-shot lookup (scan
    resolution), the request's only unit of work.

    On PostgreSQL its reads run without BEGIN/COMMIT, two round trips less (each statement is its
    own snapshot, as in READ COMMITTED anyway), in one thread-pool hop; on SQLite, on the event
    loop (``reads_inline``). Not for anything that must read several rows consistently. Opened
    here rather than by a session dependency: the scan pays for no dependency machinery.
    """
    state = request.app.state

    def work() -> T:
        with unit_of_work(
            state.engine, settings=state.settings, write=False, autocommit_reads=True
        ) as session:
            return fn(session, *args)

    if is_sqlite(state.engine):
        return work()
    return await run_in_threadpool(work)


class _UnitOfWork:
    """The request's unit of work as a dependency.

    Opening a session does no I/O, so it happens on the event loop; only the end (commit, or
    rollback and kept records) goes to the thread pool: one hop per request instead of two.
    """

    def __init__(self, *, always_write: bool) -> None:
        self.always_write = always_write

    async def __call__(self, request: Request) -> AsyncIterator[Session]:
        state = request.app.state
        write = self.always_write or request.method not in READ_ONLY_METHODS
        work = unit_of_work(state.engine, settings=state.settings, write=write)
        session = work.__enter__()
        inline = not write and is_sqlite(state.engine)
        session.info[_INLINE_KEY] = inline
        try:
            yield session
        except BaseException as exc:
            await run_in_threadpool(work.__exit__, type(exc), exc, exc.__traceback__)
            raise
        if inline:  # ending it does no I/O: SQLite is in-process
            work.__exit__(None, None, None)
        else:
            await run_in_threadpool(work.__exit__, None, None, None)


# Committed when the handler returns, rolled back if it raises.
get_session = _UnitOfWork(always_write=False)
# For a GET that records something (an export, a print): takes the write lock up front.
get_write_session = _UnitOfWork(always_write=True)


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success the database did not keep.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
