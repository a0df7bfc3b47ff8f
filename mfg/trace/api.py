"""``GET /api/trace/{code}``: the chain of identity of any scanned or typed code (DESIGN.md §7)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from mfg.auth.permissions import Action
from mfg.models import User
from mfg.trace.graph import Trace
from mfg.trace.lookup import resolve_code
from mfg.trace.service import collector_paused, trace
from mfg.web.deps import SessionDep
from mfg.web.security import Allow

router = APIRouter(prefix="/api", tags=["trace"])


class NodePublic(BaseModel):
    kind: str
    identifier: str
    status: str
    detail: str
    url: str


class TracePublic(BaseModel):
    root: NodePublic
    donors: list[NodePublic]
    patients: list[NodePublic]
    nodes: list[NodePublic]
    edges: list[tuple[str, str]]
    doses_total: int
    doses_summarised: bool  # true: only doses given to a patient are nodes; see dose_counts
    dose_counts: dict[str, dict[str, int]]  # lot DIN -> dose status -> count


def _node(node) -> NodePublic:
    return NodePublic(
        kind=node.kind,
        identifier=node.identifier,
        status=node.status,
        detail=node.detail,
        url=node.url,
    )


def trace_public(result: Trace) -> TracePublic:
    return TracePublic(
        root=_node(result.root),
        donors=[_node(n) for n in result.of_kind("donor")],
        patients=[_node(n) for n in result.of_kind("patient")],
        nodes=[_node(n) for n in sorted(result.nodes.values(), key=lambda n: n.key)],
        edges=sorted(result.edges),
        doses_total=result.doses_total,
        doses_summarised=result.doses_summarised,
        dose_counts=result.dose_counts,
    )


@router.get("/trace/{code:path}", response_model=TracePublic)
def trace_read(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))],
    session: SessionDep,
) -> TracePublic:
    """Up to every donor (with eligibility) and down to every dose and patient, with the
    material lots used; ``code`` is anything the scan field accepts."""
    kind, identifier = resolve_code(request.app.state.resolver, session, code)
    with collector_paused():  # a full collection midway took longer than the rest
        return trace_public(trace(session, actor=actor, kind=kind, identifier=identifier))
