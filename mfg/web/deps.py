"""Request dependencies: the unit of work and the settings of the running application."""

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from mfg.config import Settings
from mfg.db import unit_of_work

T = TypeVar("T")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WORK_KEY = "mfg_unit_of_work"

# Nothing that may wait runs on the event loop: no query, no connection checkout, no lock wait
# (one waiting request would stop every other, the commit that would end the wait included).
# Database work runs in the thread pool, whose size the engine's pool matches
# (``mfg.db.DB_THREADS``), so that a thread never waits for a connection.


async def run_db(session: Session, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, which uses ``session``, in the thread pool."""
    return await run_in_threadpool(fn, *args)


async def run_lookup(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``fn(session, *args)`` in a read-only unit of work of its own, in one thread-pool hop: a
    one-shot lookup (scan resolution), the request's only unit of work.

    On PostgreSQL its reads run without BEGIN/COMMIT, two round trips less (each statement is its
    own snapshot, as in READ COMMITTED anyway). Not for anything that must read several rows
    consistently. Opened here rather than by a session dependency: the scan pays for no
    dependency machinery.
    """
    state = request.app.state

    def work() -> T:
        with unit_of_work(
            state.engine, settings=state.settings, write=False, autocommit_reads=True
        ) as session:
            return fn(session, *args)

    return await run_in_threadpool(work)


def finish_unit_of_work(session: Session, error: BaseException | None = None) -> None:
    """End the request's unit of work now, in the calling thread: commit (or roll back when
    ``error`` is given). The endpoint's own thread does it (``UnitOfWorkRoute``), so a
    transaction holding SQLite's write lock never waits for the event loop to end it."""
    work = session.info.pop(_WORK_KEY, None)
    if work is None:
        return
    if error is None:
        work.__exit__(None, None, None)
    else:
        work.__exit__(type(error), error, error.__traceback__)


async def run_work(session: Session, fn: Callable[..., T], *args: Any) -> T:
    """For an asynchronous endpoint (one that awaits its form first): ``fn(*args)``, which uses
    the request's ``session``, in the thread pool, and the unit of work ended in that thread."""

    def work() -> T:
        try:
            result = fn(*args)
        except BaseException as error:
            finish_unit_of_work(session, error)
            raise
        finish_unit_of_work(session)
        return result

    return await run_in_threadpool(work)


def _finishing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [v for v in kwargs.values() if isinstance(v, Session) and _WORK_KEY in v.info]
        try:
            result = endpoint(*args, **kwargs)
        except BaseException as error:
            for session in sessions:
                finish_unit_of_work(session, error)
            raise
        for session in sessions:
            finish_unit_of_work(session)
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """A route whose synchronous endpoint ends the request's unit of work in its own thread,
    right after it returns (the session dependency's exit then has nothing left to do).
    ``writes_on_read``: the route takes the write session even for a GET (a print, an audited
    export), so that admission (``mfg.web.admission``) counts it among the writers."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _finishing(endpoint)
        super().__init__(path, endpoint, **kwargs)
        self.writes_on_read = _takes_write_session(self.dependant)


def _takes_write_session(dependant: Any) -> bool:
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is get_write_session:
            return True
        pending.extend(current.dependencies)
    return False


def Router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` of ``UnitOfWorkRoute``s: every router of the application is one."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)


class _UnitOfWork:
    """The request's unit of work as a dependency.

    Opening a session does no I/O, so it happens on the event loop; the end (commit, or rollback
    and kept records) happens in the endpoint's thread (``UnitOfWorkRoute``), or, for an
    asynchronous endpoint or a failure before the endpoint ran, here in the thread pool.
    """

    def __init__(self, *, always_write: bool) -> None:
        self.always_write = always_write

    async def __call__(self, request: Request) -> AsyncIterator[Session]:
        state = request.app.state
        write = self.always_write or request.method not in READ_ONLY_METHODS
        work = unit_of_work(state.engine, settings=state.settings, write=write)
        session = work.__enter__()
        session.info[_WORK_KEY] = work
        try:
            yield session
        except BaseException as exc:
            if _WORK_KEY in session.info:
                await run_in_threadpool(finish_unit_of_work, session, exc)
            raise
        if _WORK_KEY in session.info:
            await run_in_threadpool(finish_unit_of_work, session)


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
