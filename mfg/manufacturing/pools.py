"""Pooling: cultures of several eligible donors become one lot with a new DIN
(docs/regulation.md#pooling).

The membership — which culture, biopsy and donor, and how many cells each contributed — is
written once; the database refuses to change or delete it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select
from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import BIOPSY, CULTURE
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.errors import NotFound, RuleViolation
from mfg.i18n import N_
from mfg.identifiers.allocate import allocate_din
from mfg.manufacturing.cultures import get_culture
from mfg.manufacturing.rules import pooled_growth, pooling_problems
from mfg.manufacturing.schemas import PoolIn
from mfg.models import (
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    Donor,
    DonorStatus,
    Lot,
    Meaning,
    PoolMember,
    SpecStatus,
    SpecVersion,
    User,
    utcnow,
)
from mfg.signatures import service as signatures


def get_lot(session: Session, din: str) -> Lot:
    lot = session.exec(select(Lot).where(Lot.din == din.strip().upper())).first()
    if lot is None:
        raise NotFound("No lot with DIN %(din)s.", params={"din": din})
    return lot


def list_lots(
    session: Session, *, actor: User, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Lot], int]:
    authorize(actor, Action.VIEW_MANUFACTURING)
    conditions = [Lot.status == status] if status else []
    return newest_page(session, Lot, *conditions, limit=limit, offset=offset)


def lots_of_ineligible_donors() -> Select:
    """The ids of the lots holding cells of a donor who is not (or no longer) eligible: a pool is
    only as eligible as its least eligible donor, and such material is blocked from any further
    use (docs/regulation.md#pooling), whether or not QA has run the look-back yet."""
    return (
        select(PoolMember.lot_id)
        .join(Donor, col(Donor.id) == PoolMember.donor_id)
        .where(Donor.status != DonorStatus.ELIGIBLE)
    )


def ineligible_donors_of(session: Session, lot_id: int) -> list[str]:
    """The codes of the lot's donors who are not eligible (none, for a usable lot)."""
    query = (
        select(Donor.code)
        .join(PoolMember, col(PoolMember.donor_id) == Donor.id)
        .where(PoolMember.lot_id == lot_id, Donor.status != DonorStatus.ELIGIBLE)
    )
    return sorted(session.exec(query).all())


def members_of(session: Session, lot: Lot) -> list[PoolMember]:
    query = select(PoolMember).where(PoolMember.lot_id == lot.id).order_by(col(PoolMember.id))
    return list(session.exec(query).all())


@signatures.signs("lot")
def lot_content(session: Session, din: str) -> dict:
    """What the pooling signature binds to: the lot, its time, cells, specification, members."""
    lot = get_lot(session, din)
    members = members_of(session, lot)
    return {
        "din": lot.din,
        "pooled_at": lot.pooled_at,
        "total_cells": lot.total_cells,
        "spec_version": lot.spec_version,
        "members": [[m.culture_id, m.biopsy_id, m.donor_id, m.cells_contributed] for m in members],
    }


def specification_in_force(session: Session) -> int | None:
    """The newest approved specification version: the one a lot started now is judged against.
    (Read from the table directly: the QC layer that manages specifications sits above this one.)
    """
    return session.exec(
        select(SpecVersion.version)
        .where(SpecVersion.status == SpecStatus.APPROVED)
        .order_by(col(SpecVersion.version).desc())
    ).first()


def _members(session: Session, command: PoolIn) -> list[tuple[Culture, Biopsy, Donor, int]]:
    """Each culture named, with its biopsy and donor, and a plausible count of the cells it
    gives."""
    quantities.check(
        {f"members.{i}.cells": (m.cells, quantities.CELLS) for i, m in enumerate(command.members)}
    )
    members = []
    for member in command.members:
        culture = get_culture(session, member.culture)
        biopsy = session.get(Biopsy, culture.biopsy_id)
        members.append((culture, biopsy, session.get(Donor, biopsy.donor_id), member.cells))
    return members


def _check_pooling_time(session: Session, command: PoolIn, cultures: list[Culture]) -> datetime:
    """Pooled after every vessel was seeded, and not in the future; on the facility's clock."""
    tz = settings_of(session).tz
    pooled_at = quantities.in_zone(command.pooled_at, tz)
    seeded = max((c.seeded_at for c in cultures), default=None)
    quantities.check_event_time(
        "pooled_at", pooled_at, now=utcnow(), after=seeded, what=N_("pooling time"), tz=tz
    )
    return pooled_at


Members = list[tuple[Culture, Biopsy, Donor, int]]


def pool_cultures(session: Session, *, actor: User, command: PoolIn) -> Lot:
    """Pool in-process cultures of ≥ 2 eligible donors into a new lot; signed "Performed"."""
    authorize(actor, Action.POOL_CULTURES)
    members = _members(session, command)
    pooled_at = _check_pooling_time(session, command, [c for c, *_ in members])
    problems = pooling_problems(members)
    if problems:
        raise RuleViolation.of(problems, several="pooling_refused")
    passage_number, cpd = pooled_growth([(c, n) for c, _, _, n in members])
    total = sum(c for *_, c in members)
    lot = Lot(
        din=str(allocate_din(session, kind="lot")),
        pooled_at=pooled_at,
        total_cells=total,
        passage_number=passage_number,
        cumulative_pd=cpd,
        seeded_cells=total,
        seeded_at=pooled_at,
        spec_version=specification_in_force(session),
        created_by_id=actor.id,
    )
    session.add(lot)
    session.flush()
    session.add_all(
        PoolMember(
            lot_id=lot.id, culture_id=c.id, biopsy_id=b.id, donor_id=d.id, cells_contributed=n
        )
        for c, b, d, n in members
    )
    session.flush()
    _members_pooled(session, actor, lot, members)
    _lot_pooled(session, actor, lot, members, password=command.password)
    return lot


def _members_pooled(session: Session, actor: User, lot: Lot, members: Members) -> None:
    """Each culture is pooled now, and its biopsy with it (once, for several vessels)."""
    for culture, biopsy, _, _ in members:
        CULTURE.move(
            session, culture, to=CultureStatus.POOLED, actor=actor, reason=f"lot {lot.din}"
        )
        if biopsy.status == BiopsyStatus.IN_CULTURE:
            BIOPSY.move(
                session, biopsy, to=BiopsyStatus.POOLED, actor=actor, reason=f"lot {lot.din}"
            )


def _lot_pooled(
    session: Session, actor: User, lot: Lot, members: Members, *, password: str
) -> None:
    """The pool in the audit trail, with its members, signed "Performed"."""
    audit.record(
        session,
        actor=actor,
        action="lot.pooled",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "members": [None, [[c.code, d.code, n] for c, _, d, n in members]],
            "total_cells": [None, lot.total_cells],
            "passage_number": [None, lot.passage_number],
            "cumulative_pd": [None, lot.cumulative_pd],
            "status": [None, lot.status],
            "spec_version": [None, lot.spec_version],
        },
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="lot",
        entity_id=lot.din,
    )


def member_rows(session: Session, lot: Lot) -> list[tuple[PoolMember, Culture, Biopsy, Donor]]:
    """Each member with its culture, biopsy and donor: the lot's way up to every donor."""
    return [
        (
            m,
            session.get(Culture, m.culture_id),
            session.get(Biopsy, m.biopsy_id),
            session.get(Donor, m.donor_id),
        )
        for m in members_of(session, lot)
    ]
