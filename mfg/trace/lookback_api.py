"""Look-back through the JSON API (docs/regulation.md#look-back): what a donor or a material lot
reached, the patients to notify, QA's signed hold of every unused affected dose, and the
notification list."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from mfg.auth.permissions import Action
from mfg.manufacturing.storage import location_text
from mfg.models import User
from mfg.signatures import service as signatures
from mfg.trace import lookback, notifications
from mfg.trace.lookback import LookBack
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.openapi import CSV, PDF, binary
from mfg.web.security import Allow

router = Router(prefix="/api/lookback", tags=["look-back"])
Source = Literal["donor", "material"]
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]


class AffectedLot(BaseModel):
    din: str
    status: str


class AffectedDose(BaseModel):
    identifier: str
    status: str
    location: str
    unused: bool = Field(description="not yet used: a look-back hold stops it")


class ToNotify(BaseModel):
    patient: str
    dose: str
    infused_at: datetime
    clinician: str = Field(description="the treating clinician's printed name")
    clinician_username: str


class HoldPublic(BaseModel):
    id: int
    reason: str
    doses: list[str]
    patients: list[str]
    held_by: str
    held_at: datetime
    signature_valid: bool


class LookBackPublic(BaseModel):
    kind: str
    identifier: str
    lots: list[AffectedLot]
    doses: list[AffectedDose]
    notify: list[ToNotify]
    held: list[str] = Field(description="the doses this request put on hold (POST only)")
    holds: list[HoldPublic] = Field(description="every signed look-back hold from this source")


class HoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    password: str = Field(min_length=1, max_length=1024)


def _holds(session: Session, kind: str, identifier: str) -> list[HoldPublic]:
    found = []
    for hold in lookback.holds_of(session, kind=kind, identifier=identifier):
        found.append(
            HoldPublic(
                id=hold.id,
                reason=hold.reason,
                doses=lookback.held_doses(hold),
                patients=lookback.held_patients(hold),
                held_by=session.get(User, hold.held_by_id).username,
                held_at=hold.held_at,
                signature_valid=signatures.signed_and_matching(
                    session, entity_type="lookback_hold", entity_id=hold.id
                ),
            )
        )
    return found


def lookback_public(session: Session, result: LookBack) -> LookBackPublic:
    unused = {d.id for d in result.unused}
    return LookBackPublic(
        kind=result.kind,
        identifier=result.identifier,
        lots=[AffectedLot(din=lot.din, status=lot.status) for lot in result.lots],
        doses=[
            AffectedDose(
                identifier=d.identifier,
                status=d.status,
                location=location_text(d),
                unused=d.id in unused,
            )
            for d in result.doses
        ],
        notify=[
            ToNotify(
                patient=n.patient.code,
                dose=n.dose.identifier,
                infused_at=n.infusion.started_at,
                clinician=n.clinician.full_name,
                clinician_username=n.clinician.username,
            )
            for n in result.notifications
        ],
        held=[d.identifier for d in result.held],
        holds=_holds(session, result.kind, result.identifier),
    )


@router.get("/{kind}/{identifier}", response_model=LookBackPublic)
def lookback_read(
    kind: Source, identifier: str, actor: Viewer, session: SessionDep
) -> LookBackPublic:
    """Every lot and dose a donor's (or a material lot's) cells reached, and every infused
    patient with the treating clinician to notify."""
    result = lookback.look_back(session, actor=actor, kind=kind, identifier=identifier)
    return lookback_public(session, result)


@router.post("/{kind}/{identifier}/hold", response_model=LookBackPublic, status_code=201)
def lookback_hold(
    kind: Source,
    identifier: str,
    body: HoldIn,
    actor: Annotated[User, Depends(Allow(Action.RELEASE_LOTS))],
    session: SessionDep,
) -> LookBackPublic:
    """QA's one signed action ("Placed on hold"): every unused affected dose goes on hold."""
    result = lookback.hold_affected(
        session,
        actor=actor,
        kind=kind,
        identifier=identifier,
        reason=body.reason,
        password=body.password,
    )
    return lookback_public(session, result)


@router.get(
    "/{kind}/{identifier}/notifications.csv",
    response_class=Response,
    responses=binary(CSV, "The notification list; each copy issued is audited."),
)
def notifications_csv(
    kind: Source, identifier: str, actor: Viewer, session: WriteSessionDep
) -> Response:
    result = lookback.look_back(session, actor=actor, kind=kind, identifier=identifier)
    content = notifications.notification_csv(session, actor=actor, result=result)
    disposition = f'attachment; filename="lookback-{kind}-{identifier}.csv"'
    return Response(content, media_type=CSV, headers={"content-disposition": disposition})


@router.get(
    "/{kind}/{identifier}/notifications.pdf",
    response_class=Response,
    responses=binary(PDF, "The notification list; each copy issued is audited."),
)
def notifications_pdf(
    kind: Source, identifier: str, actor: Viewer, session: WriteSessionDep
) -> Response:
    result = lookback.look_back(session, actor=actor, kind=kind, identifier=identifier)
    content = notifications.notification_pdf(session, actor=actor, result=result)
    disposition = f'inline; filename="lookback-{kind}-{identifier}.pdf"'
    return Response(content, media_type=PDF, headers={"content-disposition": disposition})
