"""Pages of the audit trail: search with filters, CSV export, verification, signed reviews."""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from mfg.audit.service import EventFilter
from mfg.audit_review import service, views
from mfg.auth.permissions import Action
from mfg.models import User
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_AUDIT_TRAIL))]
PAGE_SIZE = 100


class Filters(BaseModel):
    """The filter form as the page submits it (dates are facility-local calendar days)."""

    entity_type: str = Field(default="", max_length=64)
    entity_id: str = Field(default="", max_length=128)
    username: str = Field(default="", max_length=64)
    action: str = Field(default="", max_length=64)
    since: date | None = None
    until: date | None = None

    def to_event_filter(self, request: Request) -> EventFilter:
        start, end = service.local_day_bounds(self.since, self.until, request.app.state.settings.tz)
        return EventFilter(
            self.entity_type.strip() or None,
            self.entity_id.strip() or None,
            self.username.strip().lower() or None,
            self.action.strip() or None,
            start,
            end,
        )

    def query(self) -> str:
        return urlencode({k: v for k, v in self.model_dump().items() if v not in (None, "")})


@router.get("/audit", response_class=HTMLResponse, name="audit_trail")
def audit_page(
    request: Request,
    actor: Viewer,
    session: SessionDep,
    filters: Annotated[Filters, Query()],
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    flt = filters.to_event_filter(request)
    context = views.events_view(session, actor=actor, flt=flt, page=page, page_size=PAGE_SIZE)
    context |= {"filters": filters, "query": filters.query()}
    return render(request, "audit_review/events.html", context)


@router.get("/audit/export.csv", name="audit_export")
def audit_export(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.EXPORT_AUDIT_TRAIL))],
    session: WriteSessionDep,
    filters: Annotated[Filters, Query()],
) -> Response:
    chunks = list(service.export_csv(session, actor=actor, flt=filters.to_event_filter(request)))
    headers = {"content-disposition": 'attachment; filename="audit-trail.csv"'}
    return StreamingResponse(iter(chunks), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/audit/verify", response_class=HTMLResponse, name="audit_verify")
def audit_verify(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_AUDIT_TRAIL))],
    session: SessionDep,
) -> Response:
    return render(
        request, "audit_review/verify.html", {"report": service.verify(session, actor=actor)}
    )


@router.get("/audit/reviews", response_class=HTMLResponse, name="audit_reviews")
def reviews_page(request: Request, actor: Viewer, session: SessionDep) -> Response:
    return render(
        request,
        "audit_review/reviews.html",
        {"reviews": service.list_reviews(session, actor=actor)},
    )


@router.post("/audit/reviews", response_class=HTMLResponse)
def reviews_sign(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.REVIEW_AUDIT_TRAIL))],
    session: SessionDep,
    filters: Annotated[Filters, Form()],
    password: Annotated[str, Form(max_length=1024)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    review = service.sign_review(
        session,
        actor=actor,
        password=password,
        flt=filters.to_event_filter(request),
        comment=comment,
    )
    flash(request, "Review #%(id)s signed.", "ok", id=review.id)
    return RedirectResponse(f"/audit/reviews/{review.id}", status_code=303)


@router.get("/audit/reviews/{review_id}", response_class=HTMLResponse, name="audit_review")
def review_page(review_id: int, request: Request, actor: Viewer, session: SessionDep) -> Response:
    review, shown = service.get_review(session, actor=actor, review_id=review_id)
    return render(request, "audit_review/review.html", {"review": review, "shown": shown})
