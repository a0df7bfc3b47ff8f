"""``GET /api/scan?code=RAW``: resolve any scanned or typed code (DESIGN.md §7)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from mfg.identifiers.schemas import ScanResult
from mfg.web.deps import SessionDep, run_db
from mfg.web.security import CurrentUser

router = APIRouter(prefix="/api", tags=["scanning"])


@router.get("/scan", response_model=ScanResult)
async def scan(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    code: Annotated[str, Query(max_length=500)],
) -> ScanResult:
    """The record a code names, with its page; specific errors for codes that name none."""
    # async + run_db: every bench scan lands here, so it avoids a thread-pool hop where it can.
    parsed, found = await run_db(session, request.app.state.resolver.resolve, session, code)
    return ScanResult.of(parsed, found)
