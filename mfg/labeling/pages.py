"""Pages: the label layouts with previews, and a record's label with print form and history."""

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from mfg.auth.permissions import Action
from mfg.errors import MfgError
from mfg.i18n import use_language
from mfg.labeling import service
from mfg.labeling.fields import LABEL_KINDS, sample_data
from mfg.labeling.fit import LabelTextDoesNotFit
from mfg.labeling.layout import load_layout
from mfg.labeling.schemas import PrintIn
from mfg.labeling.svg import label_svg
from mfg.models import User
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow
from mfg.web.templating import render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_LABEL_LAYOUTS))]
Printer = Annotated[User, Depends(Allow(Action.PRINT_LABELS))]


@router.get("/labels", response_class=HTMLResponse, name="label_layouts")
def layouts(request: Request, actor: Viewer) -> Response:
    """Every label kind's layout drawn with sample data, or the reason it is refused."""
    previews = []
    for kind in LABEL_KINDS:
        try:
            layout = load_layout(kind)
            with use_language(request.app.state.settings.language):  # as the labels print
                svg = label_svg(layout, sample_data(kind))
            previews.append({"kind": kind, "layout": layout, "svg": svg})
        except MfgError as error:
            previews.append({"kind": kind, "error": error.localized()})
    return render(request, "labeling/layouts.html", {"previews": previews})


def _page(
    request: Request,
    session,
    kind: str,
    identifier: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    layout = load_layout(kind)
    history = service.print_history(session, kind=kind, identifier=identifier)
    try:
        with use_language(request.app.state.settings.language):  # as the label prints
            data = request.app.state.label_sources.build(session, kind, identifier, "00")
            svg = label_svg(layout, data)
    except LabelTextDoesNotFit as refused:  # shown, as printing it would be refused
        svg, error = "", error or refused.localized()
    context = {
        "kind": kind,
        "identifier": identifier,
        "layout": layout,
        "svg": svg,
        "history": history,
        "error": error,
    }
    return render(request, "labeling/label.html", context, status_code=status_code)


@router.get("/labels/{kind}/{identifier}", response_class=HTMLResponse, name="label")
def label_page(
    kind: str, identifier: str, request: Request, actor: Printer, session: SessionDep
) -> Response:
    return _page(request, session, kind, identifier)


@router.post("/labels/{kind}/{identifier}/print")
def label_print(
    kind: str,
    identifier: str,
    request: Request,
    actor: Printer,
    session: SessionDep,
    command: Annotated[PrintIn, Form()],
) -> Response:
    try:
        printed = service.print_label(
            session,
            actor=actor,
            sources=request.app.state.label_sources,
            kind=kind,
            identifier=identifier,
            command=command,
        )
    except service.ReprintReasonRequired as error:
        return _page(request, session, kind, identifier, error=error.localized(), status_code=422)
    disposition = "inline" if command.output == "pdf" else "attachment"
    return Response(
        printed.content,
        media_type=printed.media_type,
        headers={"content-disposition": f'{disposition}; filename="{printed.filename}"'},
    )
