"""The shell's own pages: home and the health check."""

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from mfg.db import current_revision, database_reachable, describe_database
from mfg.system.service import database_state
from mfg.web.deps import Router, SessionDep
from mfg.web.security import CurrentUser
from mfg.web.templating import render

router = Router()


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    context = {
        "database": describe_database(request.app.state.settings.effective_database_url),
        "revision": current_revision(request.app.state.engine),
        "state": database_state(session),
        "waiting": request.app.state.worklist.for_user(session, user),
    }
    return render(request, "web/home.html", context)


@router.get("/healthz", name="healthz")
def healthz(request: Request) -> JSONResponse:
    ok, detail = database_reachable(request.app.state.engine)
    body = {"status": "ok" if ok else "unavailable", "database": detail}
    return JSONResponse(body, status_code=200 if ok else 503)
