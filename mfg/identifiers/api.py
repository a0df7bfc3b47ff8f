"""``GET /api/scan?code=RAW``: resolve any scanned or typed code
(docs/architecture.md#http-endpoints)."""

from functools import partial
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from mfg.auth.tokens import CREDENTIALS
from mfg.errors import NotAuthenticated
from mfg.identifiers.resolve import Resolution, Rider
from mfg.identifiers.scan import ParsedScan
from mfg.identifiers.schemas import ScanResult
from mfg.web.deps import Router, run_lookup
from mfg.web.security import confirm_login, login_checked_in_endpoint, login_claim

router = Router(prefix="/api", tags=["scanning"])


@router.get("/scan", response_model=ScanResult, dependencies=[Depends(login_checked_in_endpoint)])
async def scan(request: Request, code: Annotated[str, Query(max_length=500)]) -> Response:
    """The record a code names, with its page; specific errors for codes that name none.

    Any logged-in user may scan. Every bench scan lands here, so the token (or session) is
    checked before any I/O, and the user's credential row is read in the lookup's own statement
    when the resolver can (``Rider``): one round trip, without a transaction (``run_lookup``)."""
    claim = login_claim(request)
    if claim is None:
        raise NotAuthenticated()
    login = Rider(CREDENTIALS, claim.params, partial(confirm_login, request, claim))
    parsed, found = await run_lookup(request, _resolve, request, code, login)
    # Serialised once, here (the model is already valid), rather than re-validated on the way out.
    return Response(ScanResult.of(parsed, found).model_dump_json(), media_type="application/json")


def _resolve(
    session: Session, request: Request, code: str, login: Rider
) -> tuple[ParsedScan, Resolution]:
    return request.app.state.resolver.resolve(session, code, rider=login)
