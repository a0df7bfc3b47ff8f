"""Request dependencies: the unit of work and the settings of the running application."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from mfg.config import Settings
from mfg.db import unit_of_work

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unit_of_work(request: Request, *, write: bool) -> Iterator[Session]:
    state = request.app.state
    with unit_of_work(state.engine, settings=state.settings, write=write) as session:
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises."""
    yield from _unit_of_work(request, write=request.method not in READ_ONLY_METHODS)


def get_write_session(request: Request) -> Iterator[Session]:
    """For a GET that records something (an export, a print): takes the write lock up front."""
    yield from _unit_of_work(request, write=True)


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success the database did not keep.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
