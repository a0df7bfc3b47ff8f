"""The one way a status changes (docs/architecture.md#state-machines): one state machine per
stateful table.

A machine knows what the row's type already determines — its transition table, the entity the
audit trail records the move under, the column that names the row there, the noun a refusal
uses — so that a move says only what is particular to it: the row, the new status, who, why.

``move()`` checks the table, changes the status with a compare-and-set
(``UPDATE … WHERE id = ? AND status = <the status we read>``: of two concurrent requests exactly
one succeeds, the other gets ``changed_meanwhile``) and writes the audit event, all in the
caller's transaction. Guards are checked by the caller before. ``allowed()`` and ``can_move()``
answer from the same table, so that a page can offer only the moves a row can make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import update
from sqlmodel import Session, SQLModel

from mfg.audit import service as audit
from mfg.errors import Conflict, RuleViolation
from mfg.i18n import N_
from mfg.models import (
    Biopsy,
    Culture,
    Deviation,
    Donor,
    Dose,
    DoseOrder,
    Lot,
    MarkerResult,
    MaterialLot,
    QcResult,
    QcSample,
    SpecVersion,
    User,
)
from mfg.models.clinical import ORDER_TRANSITIONS, OrderStatus
from mfg.models.donors import (
    BIOPSY_TRANSITIONS,
    DONOR_TRANSITIONS,
    RESULT_TRANSITIONS,
    BiopsyStatus,
    DonorStatus,
    ResultStatus,
)
from mfg.models.manufacturing import (
    CULTURE_TRANSITIONS,
    DOSE_TRANSITIONS,
    LOT_TRANSITIONS,
    MATERIAL_TRANSITIONS,
    CultureStatus,
    DoseStatus,
    LotStatus,
    MaterialStatus,
)
from mfg.models.qc import (
    DEVIATION_TRANSITIONS,
    QC_RESULT_TRANSITIONS,
    SAMPLE_TRANSITIONS,
    SPEC_TRANSITIONS,
    DeviationStatus,
    QcResultStatus,
    SampleStatus,
    SpecStatus,
)

Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True, eq=False)
class StateMachine(Generic[Row]):
    """The statuses of one table and the moves between them.

    ``entity_type`` and ``key`` name a moved row in the audit trail (``entity_id`` is the value
    of ``key``); a row audited under another one (a marker result under its donor) names that
    one through ``audited_under``: the foreign key column and the table it points to.
    The audit action of a move is ``<action_prefix>.<verb>``, the verb being the new status
    unless the move names another (``lot.filled`` for harvested → quarantine).
    """

    model: type[Row]
    statuses: type[StrEnum]
    table: Mapping[Any, frozenset[Any]]  # status → the statuses it may move to
    entity_type: str
    key: str
    noun: str  # a catalog message (N_): the refusals name it in the reader's language
    action_prefix: str
    audited_under: tuple[str, type[SQLModel]] | None = None

    def allowed(self, row: Row) -> frozenset[str]:
        """The statuses ``row`` may move to from the one it has."""
        return self.table.get(row.status, frozenset())  # type: ignore[attr-defined]

    def can_move(self, row: Row, to: str) -> bool:
        return to in self.allowed(row)

    def entity_id(self, session: Session, row: Row) -> str:
        """What names ``row`` in the audit trail (its code, DIN, identifier…)."""
        named: Any = row
        if self.audited_under is not None:
            column, parent = self.audited_under
            named = session.get(parent, getattr(row, column))
        return str(getattr(named, self.key))

    def move(
        self,
        session: Session,
        row: Row,
        *,
        to: str,
        actor: User | None,
        verb: str | None = None,
        reason: str | None = None,
        require_reason: bool = False,
        also: dict[str, Any] | None = None,
    ) -> None:
        """Move ``row.status`` to ``to`` if the table allows it and nobody changed it meanwhile.

        ``also`` sets more columns in the same update, audited with the status.
        """
        if not isinstance(row, self.model):
            raise TypeError(f"{self.model.__name__}'s machine cannot move a {type(row).__name__}")
        current = row.status  # type: ignore[attr-defined]
        if not self.can_move(row, to):
            raise RuleViolation.state(
                "transition_not_allowed",
                "A %(noun)s that is %(current)s cannot become %(to)s.",
                params={"noun": self.noun, "current": current, "to": to},
            )
        entity_id = self.entity_id(session, row)
        model: Any = self.model
        extra = also or {}
        old = {k: getattr(row, k, None) for k in extra}
        result = session.execute(
            update(model)
            .where(model.id == row.id, model.status == current)  # type: ignore[attr-defined]
            .values(status=to, **extra)
        )
        if result.rowcount != 1:
            session.expire(row)
            raise Conflict(
                "This %(noun)s was changed by someone else meanwhile.",
                params={"noun": self.noun},
                code="changed_meanwhile",
            )
        session.refresh(row)
        audit.record(
            session,
            actor=actor,
            action=f"{self.action_prefix}.{verb or to}",
            entity_type=self.entity_type,
            entity_id=entity_id,
            changes={"status": [current, to], **{k: [old[k], v] for k, v in extra.items()}},
            reason=reason,
            require_reason=require_reason,
        )


def _machine(
    model: type[Row],
    statuses: type[StrEnum],
    table: Mapping[Any, frozenset[Any]],
    *,
    entity_type: str,
    key: str,
    noun: str | None = None,
    action_prefix: str | None = None,
    audited_under: tuple[str, type[SQLModel]] | None = None,
) -> StateMachine[Row]:
    return StateMachine(
        model=model,
        statuses=statuses,
        table=table,
        entity_type=entity_type,
        key=key,
        noun=noun or entity_type.replace("_", " "),
        action_prefix=action_prefix or entity_type,
        audited_under=audited_under,
    )


DONOR = _machine(
    Donor, DonorStatus, DONOR_TRANSITIONS, entity_type="donor", key="code", noun=N_("donor")
)
MARKER_RESULT = _machine(
    MarkerResult,
    ResultStatus,
    RESULT_TRANSITIONS,
    entity_type="donor",
    key="code",
    noun=N_("marker result"),
    action_prefix="marker_result",
    audited_under=("donor_id", Donor),
)
BIOPSY = _machine(
    Biopsy, BiopsyStatus, BIOPSY_TRANSITIONS, entity_type="biopsy", key="din", noun=N_("biopsy")
)
MATERIAL_LOT = _machine(
    MaterialLot,
    MaterialStatus,
    MATERIAL_TRANSITIONS,
    entity_type="material",
    key="code",
    noun=N_("material"),
)
CULTURE = _machine(
    Culture,
    CultureStatus,
    CULTURE_TRANSITIONS,
    entity_type="culture",
    key="code",
    noun=N_("culture"),
)
LOT = _machine(Lot, LotStatus, LOT_TRANSITIONS, entity_type="lot", key="din", noun=N_("lot"))
DOSE = _machine(
    Dose, DoseStatus, DOSE_TRANSITIONS, entity_type="dose", key="identifier", noun=N_("dose")
)
SPEC_VERSION = _machine(
    SpecVersion,
    SpecStatus,
    SPEC_TRANSITIONS,
    entity_type="specification",
    key="version",
    noun=N_("specification"),
)
QC_SAMPLE = _machine(
    QcSample,
    SampleStatus,
    SAMPLE_TRANSITIONS,
    entity_type="qc_sample",
    key="code",
    noun=N_("qc sample"),
)
QC_RESULT = _machine(
    QcResult,
    QcResultStatus,
    QC_RESULT_TRANSITIONS,
    entity_type="qc_sample",
    key="code",
    noun=N_("QC result"),
    action_prefix="qc_result",
    audited_under=("sample_id", QcSample),
)
DEVIATION = _machine(
    Deviation,
    DeviationStatus,
    DEVIATION_TRANSITIONS,
    entity_type="deviation",
    key="code",
    noun=N_("deviation"),
)
DOSE_ORDER = _machine(
    DoseOrder,
    OrderStatus,
    ORDER_TRANSITIONS,
    entity_type="dose_order",
    key="id",
    noun=N_("dose order"),
    action_prefix="order",
)

MACHINES: tuple[StateMachine[Any], ...] = (
    DONOR,
    MARKER_RESULT,
    BIOPSY,
    MATERIAL_LOT,
    CULTURE,
    LOT,
    DOSE,
    SPEC_VERSION,
    QC_SAMPLE,
    QC_RESULT,
    DEVIATION,
    DOSE_ORDER,
)
"""Every state machine, one per stateful table: what a test walks."""


def machine_of(model: type[SQLModel]) -> StateMachine[Any]:
    """The machine of a table."""
    for machine in MACHINES:
        if machine.model is model:
            return machine
    raise LookupError(f"{model.__name__} has no state machine")
