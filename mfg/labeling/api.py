"""``GET /api/labels/{kind}/{identifier}.pdf`` and ``.zpl``: a label ready to print
(docs/architecture.md#http-endpoints).

Each call is a print: logged and audited. A second one is a reprint and needs ``?reason=``.
"""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from mfg.auth.permissions import Action
from mfg.labeling import service
from mfg.labeling.schemas import PrintIn, PrintOptions
from mfg.models import User
from mfg.web.deps import Router, WriteSessionDep
from mfg.web.openapi import PDF, ZPL, binary
from mfg.web.security import Allow

router = Router(prefix="/api/labels", tags=["labels"])
Printer = Annotated[User, Depends(Allow(Action.PRINT_LABELS))]


def _printed(
    request: Request,
    session,
    actor: User,
    kind: str,
    identifier: str,
    command: PrintIn,
) -> Response:
    printed = service.print_label(
        session,
        actor=actor,
        sources=request.app.state.label_sources,
        kind=kind,
        identifier=identifier,
        command=command,
    )
    headers = {
        "content-disposition": f'inline; filename="{printed.filename}"',
        "x-label-print-id": str(printed.log.id),
        "x-label-reprint": "true" if printed.log.reprint else "false",
    }
    return Response(printed.content, media_type=printed.media_type, headers=headers)


@router.get(
    "/{kind}/{identifier}.pdf",
    response_class=Response,
    responses=binary(PDF, "The label as a PDF page of its size, ready to print."),
)
def label_pdf(
    kind: str,
    identifier: str,
    request: Request,
    actor: Printer,
    session: WriteSessionDep,
    options: Annotated[PrintOptions, Query()],
) -> Response:
    command = PrintIn(output="pdf", **options.model_dump())
    return _printed(request, session, actor, kind, identifier, command)


@router.get(
    "/{kind}/{identifier}.zpl",
    response_class=Response,
    responses=binary(ZPL, "The label in ZPL II, for a Zebra printer."),
)
def label_zpl(
    kind: str,
    identifier: str,
    request: Request,
    actor: Printer,
    session: WriteSessionDep,
    options: Annotated[PrintOptions, Query()],
) -> Response:
    command = PrintIn(output="zpl", **options.model_dump())
    return _printed(request, session, actor, kind, identifier, command)
