"""The trace page: the graph (SVG, printable) and the same chain as a table."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from mfg.auth.permissions import Action
from mfg.models import User
from mfg.trace.lookup import resolve_code
from mfg.trace.render import trace_svg
from mfg.trace.service import KINDS, trace
from mfg.web.deps import SessionDep
from mfg.web.security import Allow
from mfg.web.templating import render

router = APIRouter()


@router.get("/trace/{code:path}", response_class=HTMLResponse, name="trace")
def trace_page(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))],
    session: SessionDep,
) -> Response:
    kind, identifier = resolve_code(request.app.state.resolver, session, code)
    result = trace(session, actor=actor, kind=kind, identifier=identifier)
    context = {
        "trace": result,
        "kinds": [k for k in KINDS if result.of_kind(k)],
        "svg": Markup(trace_svg(result)),  # noqa: S704 - built from escaped parts in render.py
    }
    return render(request, "trace/trace.html", context)
