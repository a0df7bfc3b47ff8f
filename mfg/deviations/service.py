"""Deviations: opened by hand on any record or automatically by a failing verified result,
investigated (impact, root cause, corrective action), closed by a QA signature."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.machines import DEVIATION
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page
from mfg.deviations.schemas import DeviationIn
from mfg.errors import InvalidInput, RuleViolation
from mfg.i18n import N_
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.local_lookup import by_local_code
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan
from mfg.models import (
    Biopsy,
    Culture,
    Deviation,
    DeviationStatus,
    Lot,
    Meaning,
    PoolMember,
    User,
    utcnow,
)
from mfg.signatures import service as signatures

OPEN_STATES = (DeviationStatus.OPEN, DeviationStatus.INVESTIGATED)


def get_deviation(session: Session, code: str) -> Deviation:
    return by_local_code(session, Deviation, code, noun="deviation")


def list_deviations(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    lot: Lot | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Deviation], int]:
    authorize(actor, Action.VIEW_QC)
    conditions = []
    if status:
        conditions.append(Deviation.status == status)
    if lot is not None:
        conditions.append(Deviation.lot_id == lot.id)
    return newest_page(session, Deviation, *conditions, limit=limit, offset=offset)


def _lineage(session: Session, lot: Lot) -> tuple[list[str], list[str]]:
    """The codes of the lot's member vessels and of every vessel they were passaged from, and
    the DINs of their biopsies: a deviation on any of them is a deviation of the lot's cells."""
    members = session.exec(
        select(PoolMember.culture_id, Biopsy.din)
        .join(Biopsy, col(Biopsy.id) == PoolMember.biopsy_id)
        .where(PoolMember.lot_id == lot.id)
    ).all()
    codes: list[str] = []
    frontier = {culture_id for culture_id, _ in members}
    seen: set[int] = set()
    while frontier:  # one query per passage level, a handful at most
        seen |= frontier
        rows = session.exec(
            select(Culture.code, Culture.parent_id).where(col(Culture.id).in_(frontier))
        ).all()
        codes += [code for code, _ in rows]
        frontier = {parent for _, parent in rows if parent is not None} - seen
    return codes, sorted({din for _, din in members})


def _of_lot(session: Session, lot: Lot, *conditions) -> list[Deviation]:
    cultures, biopsies = _lineage(session, lot)
    about = [Deviation.lot_id == lot.id]
    for kind, identifiers in (("culture", cultures), ("biopsy", biopsies)):
        if identifiers:
            about.append(
                and_(Deviation.entity_type == kind, col(Deviation.entity_id).in_(identifiers))
            )
    query = select(Deviation).where(or_(*about), *conditions)
    return list(session.exec(query.order_by(col(Deviation.id))).all())


def open_deviations_of_lot(session: Session, lot: Lot) -> list[Deviation]:
    """Open deviations of the lot, or of any biopsy or culture vessel its cells came through."""
    return _of_lot(session, lot, col(Deviation.status).in_(OPEN_STATES))


def record_deviation(
    session: Session,
    *,
    actor: User | None,
    title: str,
    description: str,
    entity_type: str,
    entity_id: str,
    lot: Lot | None = None,
    result_id: int | None = None,
) -> Deviation:
    """Write a deviation (the caller has authorized it, or it is opened automatically)."""
    deviation = Deviation(
        code=str(allocate_local(session, "DV")),
        title=title.strip()[:200],
        description=description.strip(),
        entity_type=entity_type,
        entity_id=entity_id,
        lot_id=lot.id if lot else None,
        result_id=result_id,
        opened_by_id=actor.id if actor else None,
    )
    session.add(deviation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="deviation.opened",
        entity_type="deviation",
        entity_id=deviation.code,
        changes={
            "title": [None, deviation.title],
            "about": [None, f"{entity_type} {entity_id}"],
            "lot": [None, lot.din if lot else None],
            "status": [None, deviation.status],
        },
        reason=None if actor else "opened automatically",
    )
    return deviation


def open_deviation(
    session: Session, *, actor: User, command: DeviationIn, lot: Lot | None = None
) -> Deviation:
    """A deviation a person opens about a record (``lot``: the lot it concerns, found by the
    caller from ``command.lot``)."""
    authorize(actor, Action.OPEN_DEVIATIONS)
    title, description = command.title.strip(), command.description.strip()
    if not title or not description:
        raise InvalidInput(
            "A deviation needs a title and a description of what happened.",
            details={"field": "title" if not title else "description"},
        )
    return record_deviation(
        session,
        actor=actor,
        title=title,
        description=description,
        entity_type=command.entity_type,
        entity_id=command.entity_id.strip(),
        lot=lot,
    )


# The parts of an investigation as a refusal names them (one missing part is translated whole).
INVESTIGATION_PARTS = {
    "impact_assessment": N_("impact assessment"),
    "root_cause": N_("root cause"),
    "corrective_action": N_("corrective action"),
}


def investigate(
    session: Session,
    *,
    actor: User,
    deviation: Deviation,
    impact_assessment: str,
    root_cause: str,
    corrective_action: str,
) -> Deviation:
    """Record the investigation: all three parts are required."""
    authorize(actor, Action.OPEN_DEVIATIONS)
    fields = {
        "impact_assessment": impact_assessment.strip(),
        "root_cause": root_cause.strip(),
        "corrective_action": corrective_action.strip(),
    }
    missing = [INVESTIGATION_PARTS[name] for name, value in fields.items() if not value]
    if missing:
        raise RuleViolation.one(
            "investigation_incomplete",
            "The investigation needs: %(missing)s.",
            params={"missing": ", ".join(missing)},
        )
    DEVIATION.move(
        session,
        deviation,
        to=DeviationStatus.INVESTIGATED,
        actor=actor,
        also={**fields, "investigated_at": utcnow(), "investigated_by_id": actor.id},
    )
    return deviation


@signatures.signs("deviation")
def deviation_content(session: Session, code: str) -> dict:
    """What QA's closure signs: the deviation, what it is about, and its investigation."""
    deviation = get_deviation(session, code)
    return {
        "code": deviation.code,
        "title": deviation.title,
        "description": deviation.description,
        "about": [deviation.entity_type, deviation.entity_id],
        "impact": deviation.impact_assessment,
        "root_cause": deviation.root_cause,
        "corrective_action": deviation.corrective_action,
    }


def close(session: Session, *, actor: User, deviation: Deviation, password: str) -> Deviation:
    """QA closes an investigated deviation with the signature "Closed"."""
    authorize(actor, Action.CLOSE_DEVIATIONS)
    DEVIATION.move(
        session,
        deviation,
        to=DeviationStatus.CLOSED,
        actor=actor,
        also={"closed_at": utcnow(), "closed_by_id": actor.id},
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.CLOSED,
        entity_type="deviation",
        entity_id=deviation.code,
    )
    return deviation


def lookup_deviation(session: Session, scan: ParsedScan) -> list[Resolution]:
    deviation = session.exec(
        select(Deviation).where(Deviation.code == scan.tokens[0].value)
    ).first()
    if deviation is None:
        return []
    return [
        Resolution(
            "deviation",
            deviation.code,
            f"/deviations/{deviation.code}",
            f"Deviation {deviation.code}: {deviation.title} ({deviation.status})",
            deviation.status,
        )
    ]


def list_all_of_lot(session: Session, lot: Lot) -> list[Deviation]:
    """Every deviation of the lot or of the biopsies and vessels its cells came through."""
    return _of_lot(session, lot)


def viability_excursion(
    session: Session,
    *,
    actor: User,
    step: str,
    entity_type: str,
    entity_id: str,
    viability_pct: float,
    minimum_pct: float,
    note: str,
    lot: Lot | None = None,
) -> Deviation:
    """A deviation opened by the step itself when it records viability below the in-process
    specification; the note written at the bench starts its investigation, and, open, it
    blocks the release of every lot the cells reach."""
    return record_deviation(
        session,
        actor=actor,
        title=f"In-process viability below specification: {step}",
        description=f"{step}: viability {viability_pct:g} % is below the in-process "
        f"specification (≥ {minimum_pct:g} %). Noted at the bench: {note.strip()}",
        entity_type=entity_type,
        entity_id=entity_id,
        lot=lot,
    )
