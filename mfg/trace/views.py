"""What the trace and look-back pages show and which of their actions they offer, built outside
the routers. The templates only ask whether an action is offered."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from mfg.auth.permissions import Action, may
from mfg.manufacturing.storage import location_text
from mfg.models import User
from mfg.trace import fhir, lookback
from mfg.trace.graph import Trace
from mfg.trace.render import DRAWN_NODES, drawable, table_rows, trace_svg


def trace_view(actor: User, result: Trace, kind: str, identifier: str) -> dict[str, Any]:
    """The chain of identity as a graph and a table, and the FHIR export where the record has
    one and ``actor`` may export it (``export_fhir`` in ``offers``)."""
    offers = frozenset(
        {"export_fhir"} if kind in fhir.KINDS and may(actor, Action.EXPORT_FHIR) else set()
    )
    return {
        "trace": result,
        "rows": table_rows(result),
        "drawn_nodes": DRAWN_NODES,
        # built from escaped parts in render.py
        "svg": Markup(trace_svg(result)) if drawable(result) else None,  # noqa: S704
        "offers": offers,
        "fhir_url": f"/api/fhir/{kind}s/{identifier}?download=true"
        if "export_fhir" in offers
        else None,
    }


def lookback_view(session: Session, *, actor: User, kind: str, identifier: str) -> dict[str, Any]:
    """What a source found faulty reaches, and ``hold`` in ``offers`` while unused doses remain
    and ``actor`` may put them on hold (those who release lots)."""
    result = lookback.look_back(session, actor=actor, kind=kind, identifier=identifier)
    hold = bool(result.unused) and may(actor, Action.RELEASE_LOTS)
    return {
        "result": result,
        "location": location_text,
        "offers": frozenset({"hold"} if hold else set()),
    }
