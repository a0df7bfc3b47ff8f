"""The scan landing page: where the global scan field goes when JavaScript is not there to help."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from mfg.identifiers.errors import ScanError
from mfg.web.deps import Router, SessionDep
from mfg.web.security import CurrentUser
from mfg.web.templating import render

router = Router()


@router.get("/scan", name="scan")
def scan(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    code: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """Go to the record a code names, or say why no record was found and what was received."""
    if code.strip():
        try:
            _, found = request.app.state.resolver.resolve(session, code)
        except ScanError as error:
            return render(
                request,
                "identifiers/scan.html",
                _context(code, error),
                status_code=error.status_code,
            )
        return RedirectResponse(found.url, status_code=303)
    return render(request, "identifiers/scan.html", _context(code, None))


def _context(code: str, error: ScanError | None) -> dict:
    characters = [{"char": c, "codepoint": f"U+{ord(c):04X}"} for c in code]
    return {"code": code, "characters": characters, "error": error}
