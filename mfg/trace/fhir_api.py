"""``GET /api/fhir/{doses|lots|patients}/{identifier}``: a FHIR R5 Bundle (docs/fhir.md)."""

from typing import Annotated, Literal

from fastapi import Depends
from fastapi.responses import Response

from mfg.auth.permissions import Action
from mfg.models import User
from mfg.trace import fhir
from mfg.web.deps import Router, WriteSessionDep
from mfg.web.openapi import FHIR_JSON, binary
from mfg.web.security import Allow

router = Router(prefix="/api/fhir", tags=["fhir"])
KIND_OF = {"doses": "dose", "lots": "lot", "patients": "patient"}


@router.get(
    "/{kinds}/{identifier}",
    name="fhir_bundle",
    response_class=Response,
    responses=binary(FHIR_JSON, "A FHIR R5 Bundle of type collection."),
)
def fhir_bundle(
    kinds: Literal["doses", "lots", "patients"],
    identifier: str,
    actor: Annotated[User, Depends(Allow(Action.EXPORT_FHIR))],
    session: WriteSessionDep,
    download: bool = False,
) -> Response:
    """The Bundle of a dose (its identifier), a lot (its DIN) or a patient (its code): the
    product chain up to the biopsies and their pseudonymous donors, issues, infusions and the
    pseudonymous recipients. Each copy issued is audited with its SHA-256."""
    export = fhir.export(session, actor=actor, kind=KIND_OF[kinds], identifier=identifier)
    headers = {"x-content-sha256": export.sha256}
    if download:
        headers["content-disposition"] = f'attachment; filename="{export.filename}"'
    return Response(export.content, media_type=fhir.MEDIA_TYPE, headers=headers)
