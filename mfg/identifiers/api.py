"""``GET /api/scan?code=RAW``: resolve any scanned or typed code (DESIGN.md §7)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan
from mfg.identifiers.schemas import ScanResult
from mfg.web.deps import SessionDep, lookup, run_db
from mfg.web.security import authenticated, login_checked_in_endpoint

router = APIRouter(prefix="/api", tags=["scanning"])


@router.get("/scan", response_model=ScanResult, dependencies=[Depends(login_checked_in_endpoint)])
@lookup
async def scan(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(max_length=500)],
) -> Response:
    """The record a code names, with its page; specific errors for codes that name none.

    Any logged-in user may scan. Every bench scan lands here, so the login check and the lookup
    share one trip to the database (on the event loop with SQLite; on PostgreSQL one thread-pool
    hop, without a transaction: ``lookup``)."""
    parsed, found = await run_db(session, _resolve, request, session, code)
    # Serialised once, here (the model is already valid), rather than re-validated on the way out.
    return Response(ScanResult.of(parsed, found).model_dump_json(), media_type="application/json")


def _resolve(request: Request, session: Session, code: str) -> tuple[ParsedScan, Resolution]:
    authenticated(request, session)
    return request.app.state.resolver.resolve(session, code)
