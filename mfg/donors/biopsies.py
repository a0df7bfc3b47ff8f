"""Biopsies: registered with a new DIN, received at the lab, guarded before culture."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import BIOPSY
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.deviations import service as deviations
from mfg.donors.rules import culture_start_problems, receipt_problems
from mfg.donors.schemas import BiopsyIn, ReceiptIn
from mfg.errors import InvalidInput, NotFound, RuleViolation
from mfg.identifiers.allocate import allocate_din
from mfg.identifiers.errors import ScanError
from mfg.identifiers.scan import TokenKind, parse_scan
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, User, utcnow


def get_biopsy(session: Session, din_or_scan: str) -> Biopsy:
    """A biopsy by its DIN, or by anything a scan of its tube label yields."""
    din = din_or_scan.strip().upper()
    if len(din) != 13:
        try:
            token = parse_scan(din_or_scan).first(TokenKind.DIN)
        except ScanError as error:
            raise NotFound(
                "No biopsy %(scan)s: %(error)s",
                params={"scan": repr(din_or_scan), "error": error.message},
            ) from error
        if token is None:
            raise NotFound("%(scan)s is not a biopsy DIN.", params={"scan": repr(din_or_scan)})
        din = token.value
    biopsy = session.exec(select(Biopsy).where(Biopsy.din == din)).first()
    if biopsy is None:
        raise NotFound("No biopsy with DIN %(din)s.", params={"din": din})
    return biopsy


def list_biopsies(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    donor: Donor | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Biopsy], int]:
    authorize(actor, Action.VIEW_DONORS)
    conditions = [Biopsy.status == status] if status else []
    if donor is not None:
        conditions.append(Biopsy.donor_id == donor.id)
    return newest_page(session, Biopsy, *conditions, limit=limit, offset=offset)


def register_biopsy(session: Session, *, actor: User, donor: Donor, command: BiopsyIn) -> Biopsy:
    """A new DIN for the tube, allocated in this transaction; quarantined until donor eligible.
    The collection happened: not in the future, not before 2000."""
    authorize(actor, Action.REGISTER_BIOPSIES)
    if donor.status == DonorStatus.INELIGIBLE:
        raise RuleViolation.state(
            "donor_ineligible",
            "Donor %(donor)s is ineligible: no biopsy may be registered.",
            params={"donor": donor.code},
        )
    tz = settings_of(session).tz
    collected_at = quantities.in_zone(command.collected_at, tz)
    quantities.check_event_time(
        "collected_at", collected_at, now=utcnow(), what="collection time", tz=tz
    )
    site, collected_by = command.site, command.collected_by
    if not site.strip() or not collected_by.strip():
        raise InvalidInput(
            "The site and who collected the biopsy are required.",
            details={"field": "site" if not site.strip() else "collected_by"},
        )
    din = allocate_din(session, kind="biopsy")
    biopsy = Biopsy(
        din=str(din),
        donor_id=donor.id,
        collected_at=collected_at,
        site=site.strip(),
        collected_by=collected_by.strip(),
        registered_by_id=actor.id,
    )
    session.add(biopsy)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="biopsy.registered",
        entity_type="biopsy",
        entity_id=biopsy.din,
        changes={
            "donor": [None, donor.code],
            "collected_at": [None, collected_at],
            "site": [None, biopsy.site],
            "collected_by": [None, biopsy.collected_by],
        },
    )
    return biopsy


def _check_receipt_figures(session: Session, biopsy: Biopsy, command: ReceiptIn) -> datetime:
    """A plausible transport temperature, and a receipt that happened after the collection; the
    receipt time, on the facility's clock when typed without an offset."""
    tz = settings_of(session).tz
    received_at = quantities.in_zone(command.received_at, tz)
    quantities.check(
        {
            "transport_temperature_c": (
                command.transport_temperature_c,
                quantities.BIOPSY_TRANSPORT_TEMP_C,
            )
        }
    )
    quantities.check_event_time(
        "received_at",
        received_at,
        now=utcnow(),
        after=biopsy.collected_at,
        what="receipt time",
        tz=tz,
    )
    return received_at


def receive_biopsy(session: Session, *, actor: User, biopsy: Biopsy, command: ReceiptIn) -> Biopsy:
    """Receipt at the lab: transit time checked against the limit; a breach needs a note."""
    authorize(actor, Action.RECEIVE_BIOPSIES)
    settings = settings_of(session)
    now = utcnow()
    received_at = _check_receipt_figures(session, biopsy, command)
    deviation_note = command.deviation_note
    problems = receipt_problems(
        collected_at=biopsy.collected_at,
        received_at=received_at,
        limit_hours=settings.biopsy_transport_limit_hours,
        container_intact=command.container_intact,
        deviation_note=deviation_note,
    )
    if problems:
        raise RuleViolation.of(problems, several="receipt_refused")
    hours = round((received_at - biopsy.collected_at).total_seconds() / 3600, 2)
    BIOPSY.move(
        session,
        biopsy,
        to=BiopsyStatus.RECEIVED,
        actor=actor,
        reason=deviation_note.strip() or None,
        also={
            "received_at": received_at,
            "receipt_entered_at": now,
            "received_by_id": actor.id,
            "transport_temperature_c": command.transport_temperature_c,
            "container_intact": command.container_intact,
            "hours_in_transit": hours,
            "receipt_deviation_note": deviation_note.strip(),
        },
    )
    _open_receipt_deviation(
        session, actor=actor, biopsy=biopsy, limit_hours=settings.biopsy_transport_limit_hours
    )
    return biopsy


def _open_receipt_deviation(
    session: Session, *, actor: User, biopsy: Biopsy, limit_hours: float
) -> None:
    """A receipt out of limits opens its deviation itself; open, it blocks release downstream."""
    breaches = []
    if biopsy.hours_in_transit > limit_hours:
        breaches.append(f"{biopsy.hours_in_transit:g} h in transit (limit {limit_hours:g} h)")
    if not biopsy.container_intact:
        breaches.append("container not intact")
    if breaches:
        deviations.record_deviation(
            session,
            actor=actor,
            title=f"Biopsy received out of limits: {'; '.join(breaches)}",
            description=f"Biopsy {biopsy.din}: {'; '.join(breaches)}. "
            f"Noted at receipt: {biopsy.receipt_deviation_note}",
            entity_type="biopsy",
            entity_id=biopsy.din,
        )


def check_culture_start(session: Session, biopsy: Biopsy) -> None:
    """Refuse, with every reason, a biopsy that may not enter culture (quarantine, hold…)."""
    donor = session.get(Donor, biopsy.donor_id)
    problems = culture_start_problems(donor, biopsy)
    if problems:
        raise RuleViolation.of(problems, several="culture_start_refused")


def list_biopsies_of(session: Session, donor: Donor) -> tuple[list[Biopsy], int]:
    rows = session.exec(
        select(Biopsy).where(Biopsy.donor_id == donor.id).order_by(col(Biopsy.id))
    ).all()
    return list(rows), len(rows)


# The rule of ``culture_start_problems`` as queries, for counting what waits without loading it:
# every received biopsy is in exactly one of these three.
def _received_of_donors(*statuses: DonorStatus) -> list[ColumnElement[bool]]:
    donors = select(Donor.id).where(col(Donor.status).in_(statuses))
    return [col(Biopsy.status) == BiopsyStatus.RECEIVED, col(Biopsy.donor_id).in_(donors)]


def quarantine_of(biopsy: Biopsy, donor_status: str) -> str:
    """Where a biopsy stands for use, the same words as the worklist: ``on_hold`` (held, or its
    donor ineligible: never to be cultured), ``quarantine`` (its donor's eligibility not yet
    determined: it waits), ``released`` (its donor eligible: it may be cultured once received)."""
    if biopsy.on_hold or donor_status == DonorStatus.INELIGIBLE:
        return "on_hold"
    if donor_status == DonorStatus.REGISTERED:
        return "quarantine"
    return "released"


def ready_for_culture() -> list[ColumnElement[bool]]:
    """A culture can start from it now: received, not on hold, its donor eligible."""
    return [*_received_of_donors(DonorStatus.ELIGIBLE), col(Biopsy.on_hold).is_(False)]


def received_in_quarantine() -> list[ColumnElement[bool]]:
    """Received, not on hold, its donor's eligibility not yet determined: it waits for that."""
    return [*_received_of_donors(DonorStatus.REGISTERED), col(Biopsy.on_hold).is_(False)]


def received_on_hold() -> list[ColumnElement[bool]]:
    """Received but on hold, or of an ineligible donor: never to be cultured."""
    ineligible = select(Donor.id).where(Donor.status == DonorStatus.INELIGIBLE)
    return [
        col(Biopsy.status) == BiopsyStatus.RECEIVED,
        or_(col(Biopsy.on_hold).is_(True), col(Biopsy.donor_id).in_(ineligible)),
    ]
