"""The trace page: the graph (SVG, printable) and the same chain as a table."""

from typing import Annotated, Literal

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.auth.permissions import Action
from mfg.models import User
from mfg.trace import lookback, notifications, views
from mfg.trace.lookup import resolve_code
from mfg.trace.service import collector_paused, trace
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()


@router.get("/trace/{code:path}", response_class=HTMLResponse, name="trace")
def trace_page(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))],
    session: SessionDep,
) -> Response:
    kind, identifier = resolve_code(request.app.state.resolver, session, code)
    # As the API's: the page of a donor's trace has 11,500 rows. The collector resumes once the
    # trace and the rendered template's context are freed: only the page's text is left.
    with collector_paused():
        result = trace(session, actor=actor, kind=kind, identifier=identifier)
        context = views.trace_view(actor, result, kind, identifier)
        del result
        body = render(request, "trace/trace.html", context).body
        del context
    return HTMLResponse(body)


@router.get("/lookback/{kind}/{identifier}", response_class=HTMLResponse, name="lookback")
def lookback_page(
    kind: str,
    identifier: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))],
    session: SessionDep,
) -> Response:
    context = views.lookback_view(session, actor=actor, kind=kind, identifier=identifier)
    return render(request, "trace/lookback.html", context)


@router.post("/lookback/{kind}/{identifier}")
def lookback_hold(
    kind: str,
    identifier: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.RELEASE_LOTS))],
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    result = lookback.hold_affected(
        session, actor=actor, kind=kind, identifier=identifier, reason=reason, password=password
    )
    held = format(len(result.held), ",")
    flash(request, "Unused doses put on hold by the look-back: %(count)s.", "ok", count=held)
    return RedirectResponse(f"/lookback/{kind}/{identifier}", status_code=303)


@router.get("/lookback/{kind}/{identifier}/notifications.{form}", name="lookback_notifications")
def lookback_notifications(
    kind: str,
    identifier: str,
    form: Literal["csv", "pdf"],
    actor: Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))],
    session: WriteSessionDep,
) -> Response:
    """The notification list to send out; each copy issued is audited."""
    result = lookback.look_back(session, actor=actor, kind=kind, identifier=identifier)
    filename = f"lookback-{kind}-{identifier}.{form}"
    if form == "csv":
        content: str | bytes = notifications.notification_csv(session, actor=actor, result=result)
        headers = {"content-disposition": f'attachment; filename="{filename}"'}
        return Response(content, media_type="text/csv", headers=headers)
    content = notifications.notification_pdf(session, actor=actor, result=result)
    headers = {"content-disposition": f'inline; filename="{filename}"'}
    return Response(content, media_type="application/pdf", headers=headers)
