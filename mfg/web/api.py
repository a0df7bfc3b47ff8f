"""The installation's own JSON endpoints: what it serves, and what waits for the caller."""

from fastapi import Request
from pydantic import BaseModel

from mfg import __version__
from mfg.db import current_revision
from mfg.system.service import database_state
from mfg.web.deps import Router, SessionDep
from mfg.web.security import CurrentUser
from mfg.web.worklist import Waiting

router = Router(prefix="/api", tags=["system"])


class SystemInfo(BaseModel):
    product: str
    version: str
    facility_name: str
    facility_fin: str
    test_facility: bool
    timezone: str
    schema_revision: str | None
    database_state: str


@router.get("/system", response_model=SystemInfo)
def system_info(request: Request, user: CurrentUser, session: SessionDep) -> SystemInfo:
    """Which facility, schema and data this installation serves."""
    settings = request.app.state.settings
    return SystemInfo(
        product=settings.product_name,
        version=__version__,
        facility_name=settings.facility_name,
        facility_fin=settings.facility_fin,
        test_facility=settings.is_test_facility,
        timezone=settings.timezone,
        schema_revision=current_revision(request.app.state.engine),
        database_state=database_state(session).value,
    )


class WorklistPublic(BaseModel):
    items: list[Waiting]  # what, how many, and the page that lists them


@router.get("/worklist", response_model=WorklistPublic, tags=["worklist"])
def worklist(request: Request, user: CurrentUser, session: SessionDep) -> WorklistPublic:
    """What waits for the caller's roles, as the home page lists it: only what has something
    waiting; a colleague's entries to verify, never the caller's own."""
    return WorklistPublic(items=request.app.state.worklist.for_user(session, user))
