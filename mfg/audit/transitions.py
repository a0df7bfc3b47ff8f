"""The one way a status changes (docs/architecture.md#state-machines): transition table,
compare-and-set, audit event, all in the caller's transaction. Guards are checked by the caller
before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel

from mfg.audit import service as audit
from mfg.errors import Conflict, RuleViolation
from mfg.models import User


def transition(
    session: Session,
    row: SQLModel,
    *,
    to: str,
    table: Mapping[str, frozenset[str]],
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str,
    reason: str | None = None,
    require_reason: bool = False,
    also: dict[str, Any] | None = None,
    noun: str | None = None,
) -> None:
    """Move ``row.status`` to ``to`` if the table allows it and nobody changed it meanwhile.

    ``UPDATE … WHERE id = ? AND status = <the status we read>``: of two concurrent requests,
    exactly one succeeds; the other gets a conflict. ``also`` sets more columns in the same update.
    ``noun`` names the row in a refusal when it is not the audited entity (a marker result is
    audited under its donor).
    """
    noun = noun or entity_type.replace("_", " ")
    model = type(row)
    current = row.status  # type: ignore[attr-defined]
    if to not in table.get(current, frozenset()):
        raise RuleViolation.state(
            "transition_not_allowed",
            f"A {noun} that is {current} cannot become {to}.",
        )
    values = {"status": to, **(also or {})}
    old = {k: getattr(row, k, None) for k in (also or {})}
    result = session.execute(
        update(model)
        .where(model.id == row.id, model.status == current)  # type: ignore[attr-defined]
        .values(**values)
    )
    if result.rowcount != 1:
        session.expire(row)
        raise Conflict(
            f"This {noun} was changed by someone else meanwhile.",
            code="changed_meanwhile",
        )
    session.refresh(row)
    changes = {"status": [current, to], **{k: [old[k], v] for k, v in (also or {}).items()}}
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
        reason=reason,
        require_reason=require_reason,
    )
