"""The installation's own JSON endpoint."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from mfg import __version__
from mfg.db import current_revision
from mfg.system.service import database_state
from mfg.web.deps import SessionDep
from mfg.web.security import CurrentUser

router = APIRouter(prefix="/api", tags=["system"])


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
