"""When an eligible donor is found ineligible (a late positive): record it and hold their material.

This is the look-back hook: here it puts the donor's biopsies on hold; the chain-of-identity
issue extends it to every lot and dose containing the donor's cells and the patients infused.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg import i18n
from mfg.audit import service as audit
from mfg.audit.machines import DONOR
from mfg.db import settings_of
from mfg.i18n import N_
from mfg.models import Biopsy, Donor, DonorStatus, User


def donor_found_ineligible(
    session: Session, *, donor: Donor, actor: User | None, reason: str
) -> list[Biopsy]:
    """eligible → ineligible, and every biopsy of the donor on hold, in one transaction."""
    DONOR.move(
        session,
        donor,
        to=DonorStatus.INELIGIBLE,
        actor=actor,
        verb="found_ineligible",
        reason=f"Look-back: {reason}",
        require_reason=True,
    )
    held = i18n.in_language(
        settings_of(session).language,
        N_("donor %(donor)s ineligible: %(reason)s"),
        donor=donor.code,
        reason=reason,
    )
    return hold_donor_material(session, donor=donor, actor=actor, reason=held)


def hold_donor_material(
    session: Session, *, donor: Donor, actor: User | None, reason: str
) -> list[Biopsy]:
    biopsies = list(
        session.exec(
            select(Biopsy).where(Biopsy.donor_id == donor.id, col(Biopsy.on_hold).is_(False))
        ).all()
    )
    for biopsy in biopsies:
        session.execute(
            update(Biopsy)
            .where(col(Biopsy.id) == biopsy.id)
            .values(on_hold=True, hold_reason=reason[:1000])
        )
        session.refresh(biopsy)
        audit.record(
            session,
            actor=actor,
            action="biopsy.put_on_hold",
            entity_type="biopsy",
            entity_id=biopsy.din,
            changes={"on_hold": [False, True]},
            reason=reason,
        )
    return biopsies
