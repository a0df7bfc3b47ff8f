"""``GET /api/scan?code=RAW``: resolve any scanned or typed code (DESIGN.md §7)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from mfg.identifiers.schemas import ScanResult
from mfg.web.deps import SessionDep
from mfg.web.security import CurrentUser

router = APIRouter(prefix="/api", tags=["scanning"])


@router.get("/scan", response_model=ScanResult)
def scan(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    code: Annotated[str, Query(max_length=500)],
) -> ScanResult:
    """The record a code names, with its page; specific errors for codes that name none."""
    parsed, found = request.app.state.resolver.resolve(session, code)
    return ScanResult.of(parsed, found)
