"""Every GMP record has the audit event of its creation.

A row written behind the services' back (by hand in the database, or by a restore that dropped
events) has no event that created it. Each rule below says which event creates a row of a table and
how the event names it: the row's own identifier (a donor's code) or its parent's (a QC result is
entered on its sample, so the event names the sample). ``counted`` rules compare numbers: a sample
with three results needs three ``qc_result.entered`` events; the others need one event per name.

One grouped anti-join per rule (never a query per row); the event side uses the index on
``audit_event(action)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, literal
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from mfg.models import (
    AdverseEvent,
    Allocation,
    AuditEvent,
    BedsideCheck,
    Biopsy,
    Culture,
    Decision,
    Deviation,
    Donor,
    Dose,
    DoseOrder,
    EligibilityDetermination,
    Harvest,
    Infusion,
    Lot,
    LotPassage,
    MarkerResult,
    MaterialLot,
    Outcome,
    Passage,
    Patient,
    QcResult,
    QcSample,
    ReleaseDecision,
    Signature,
    SpecVersion,
)

ParentCulture = aliased(Culture)


@dataclass(frozen=True)
class CreationRule:
    """Rows of ``model`` are created by an event in ``actions`` on (``entity_type``, ``key``)."""

    model: Any
    key: Any  # the column the event names the row by: the row's own, or a joined parent's
    entity_type: Any  # a fixed name, or a column when the row says what it is about
    actions: tuple[str, ...]
    join: tuple[Any, Any] | None = None  # (parent, on clause) when the key is the parent's
    where: Any = None  # which rows of the table the rule is about
    counted: bool = False  # one event per row (True) or at least one per name (False)

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)


CREATION_RULES: tuple[CreationRule, ...] = (
    CreationRule(Donor, Donor.code, "donor", ("donor.registered",)),
    CreationRule(
        MarkerResult,
        Donor.code,
        "donor",
        ("marker_result.entered",),
        join=(Donor, Donor.id == MarkerResult.donor_id),
        counted=True,
    ),
    CreationRule(
        EligibilityDetermination,
        Donor.code,
        "donor",
        ("donor.eligibility_determined",),
        join=(Donor, Donor.id == EligibilityDetermination.donor_id),
        counted=True,
    ),
    CreationRule(Biopsy, Biopsy.din, "biopsy", ("biopsy.registered",)),
    CreationRule(MaterialLot, MaterialLot.code, "material", ("material.registered",)),
    CreationRule(
        Culture,
        Culture.code,
        "culture",
        ("culture.started",),
        where=col(Culture.parent_id).is_(None),
    ),
    # the vessels seeded at a passage are named in the parent's passage.recorded event
    CreationRule(
        Culture,
        ParentCulture.code,
        "culture",
        ("passage.recorded",),
        join=(ParentCulture, ParentCulture.id == Culture.parent_id),
    ),
    CreationRule(
        Passage,
        Culture.code,
        "culture",
        ("passage.recorded",),
        join=(Culture, Culture.id == Passage.culture_id),
        counted=True,
    ),
    CreationRule(Lot, Lot.din, "lot", ("lot.pooled",)),
    CreationRule(
        LotPassage,
        Lot.din,
        "lot",
        ("lot.passaged",),
        join=(Lot, Lot.id == LotPassage.lot_id),
        counted=True,
    ),
    CreationRule(
        Harvest,
        Lot.din,
        "lot",
        ("lot.harvested",),
        join=(Lot, Lot.id == Harvest.lot_id),
        counted=True,
    ),
    CreationRule(
        ReleaseDecision,
        Lot.din,
        "lot",
        tuple(f"lot.decision.{d.value}" for d in Decision),
        join=(Lot, Lot.id == ReleaseDecision.lot_id),
        counted=True,
    ),
    # version 1 is installed by the migrations (no one drafted it); the later ones are drafted
    CreationRule(
        SpecVersion,
        cast(SpecVersion.version, String),
        "specification",
        ("specification.drafted",),
        where=col(SpecVersion.created_by_id).is_not(None),
    ),
    CreationRule(QcSample, QcSample.code, "qc_sample", ("qc_sample.taken",)),
    CreationRule(
        QcResult,
        QcSample.code,
        "qc_sample",
        ("qc_result.entered",),
        join=(QcSample, QcSample.id == QcResult.sample_id),
        counted=True,
    ),
    CreationRule(Deviation, Deviation.code, "deviation", ("deviation.opened",)),
    CreationRule(Dose, Dose.identifier, "dose", ("dose.filled",)),
    CreationRule(Patient, Patient.code, "patient", ("patient.enrolled",)),
    CreationRule(
        DoseOrder,
        Patient.code,
        "patient",
        ("order.created",),
        join=(Patient, Patient.id == DoseOrder.patient_id),
        counted=True,
    ),
    CreationRule(
        Allocation,
        Dose.identifier,
        "dose",
        ("dose.allocated",),
        join=(Dose, Dose.id == Allocation.dose_id),
        counted=True,
    ),
    CreationRule(
        BedsideCheck,
        Patient.code,
        "patient",
        ("bedside.checked",),
        join=(Patient, Patient.id == BedsideCheck.patient_id),
        counted=True,
    ),
    CreationRule(
        Infusion,
        Dose.identifier,
        "dose",
        ("dose.infused",),
        join=(Dose, Dose.id == Infusion.dose_id),
        counted=True,
    ),
    CreationRule(
        AdverseEvent, cast(AdverseEvent.id, String), "adverse_event", ("adverse_event.recorded",)
    ),
    CreationRule(
        Outcome,
        Patient.code,
        "outcome",
        ("outcome.recorded",),
        join=(Patient, Patient.id == Outcome.patient_id),
    ),
    CreationRule(
        Signature,
        Signature.entity_id,
        Signature.entity_type,
        ("signature.signed",),
        counted=True,
    ),
)


def _missing(session: Session, rule: CreationRule, limit: int) -> list[tuple[str, str]]:
    kind = rule.entity_type if not isinstance(rule.entity_type, str) else literal(rule.entity_type)
    rows = select(
        kind.label("kind"),
        rule.key.label("name"),
        (func.count() if rule.counted else literal(1)).label("n"),
    ).select_from(rule.model)
    if rule.join is not None:
        rows = rows.join(*rule.join)
    if rule.where is not None:
        rows = rows.where(rule.where)
    rows_q = rows.group_by(kind, rule.key).subquery()
    events_q = (
        select(
            AuditEvent.entity_type.label("kind"),
            AuditEvent.entity_id.label("name"),
            func.count().label("n"),
        )
        .where(col(AuditEvent.action).in_(rule.actions))
        .group_by(AuditEvent.entity_type, AuditEvent.entity_id)
        .subquery()
    )
    found = session.exec(
        select(rows_q.c.name)
        .outerjoin(
            events_q,
            and_(events_q.c.kind == rows_q.c.kind, events_q.c.name == rows_q.c.name),
        )
        .where(func.coalesce(events_q.c.n, 0) < rows_q.c.n)
        .order_by(rows_q.c.name)
        .limit(limit)
    ).all()
    return [(rule.table, str(name)) for name in found]


def records_without_creation_event(session: Session, *, limit: int = 10) -> list[tuple[str, str]]:
    """The first ``limit`` GMP rows without the audit event of their creation, as (table, the name
    the event would give: the row's identifier or its parent's)."""
    missing: list[tuple[str, str]] = []
    for rule in CREATION_RULES:
        if len(missing) >= limit:
            break
        missing.extend(_missing(session, rule, limit - len(missing)))
    return missing
