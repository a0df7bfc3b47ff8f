"""JSON API of material lots: the list/read contract of docs/architecture.md#list-and-read,
registration on receipt (from the supplier's GS1 code) and QA's signed release or rejection."""

from typing import Annotated

from fastapi import Depends, Query

from mfg.auth.permissions import Action
from mfg.manufacturing import materials
from mfg.manufacturing.schemas import MaterialCreate, MaterialDecision, MaterialList, MaterialPublic
from mfg.models import User
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["manufacturing"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]


@router.get("/materials", response_model=MaterialList)
def material_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MaterialList:
    items, total = materials.list_materials(
        session, actor=actor, status=status, limit=limit, offset=offset
    )
    return MaterialList(items=[MaterialPublic.of(m) for m in items], total=total)


@router.get("/materials/{code}", response_model=MaterialPublic)
def material_read(code: str, actor: Viewer, session: SessionDep) -> MaterialPublic:
    return MaterialPublic.of(materials.get_material(session, code))


@router.post("/materials", response_model=MaterialPublic, status_code=201)
def material_register(
    body: MaterialCreate,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_MATERIALS))],
    session: SessionDep,
) -> MaterialPublic:
    """Register a received lot; ``scan`` (the supplier's GS1 code) fills GTIN, lot, expiry…"""
    return MaterialPublic.of(materials.register_material(session, actor=actor, command=body))


@router.post("/materials/{code}/decision", response_model=MaterialPublic)
def material_decide(
    code: str,
    body: MaterialDecision,
    actor: Annotated[User, Depends(Allow(Action.DECIDE_MATERIALS))],
    session: SessionDep,
) -> MaterialPublic:
    lot = materials.get_material(session, code)
    return MaterialPublic.of(materials.decide_material(session, actor=actor, lot=lot, command=body))
