"""Fill a harvested lot into doses, and check a dose's label against the dose (cryopreserving
and thawing them is ``storage``).

A dose is its lot's DIN plus the product code with a division (``A0``, ``B0``, …): the
identifier ``A999926000012S1234VA0`` reads as DIN ``A999926000012``, product ``S1234``,
collection type ``V``, division ``A0``.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import LOT
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, Reason, RuleViolation, reason
from mfg.i18n import N_
from mfg.identifiers.display import display_code
from mfg.identifiers.errors import ScanError
from mfg.identifiers.isbt128 import ProductCode, format_expiry
from mfg.identifiers.scan import ParsedScan, TokenKind, parse_scan
from mfg.manufacturing.lots import harvest_of
from mfg.manufacturing.rules import dose_expiry, fill_problems, label_is_of_lot
from mfg.manufacturing.schemas import FillIn, LabelCheckIn
from mfg.models import Dose, Harvest, Lot, LotStatus, Meaning, User, utcnow
from mfg.signatures import service as signatures

COLLECTION_TYPE = "V"
_IDENTIFIER = re.compile(r"[A-NP-Z1-9][0-9]{12}[A-Z][0-9A-Z]{4}[0-9A-Z]{3}").fullmatch


def dose_identifier(din: str, product_code: ProductCode) -> str:
    return f"{din}{product_code}"


def canonical_dose_identifier(text: str) -> str:
    """The identifier of the dose a text names: the identifier itself (lot DIN and product code,
    as URLs and the API carry it), a scan of its label (``=DIN…=<product…``), or the dose as its
    label and page print it, typed by hand (DIN, check character, product code; spaces, dashes).

    A malformed code, or a wrong check character, is refused as the scan's own error
    (``bad_check_character``…), never as an unknown dose.
    """
    identifier = text.strip().upper()
    if _IDENTIFIER(identifier):
        return identifier
    scan = parse_scan(text)
    din, code = scan.first(TokenKind.DIN), scan.first(TokenKind.PRODUCT_CODE)
    if din is None or code is None:
        raise NotFound("A dose is named by its DIN and its product code; scan both.")
    return f"{din.value}{code.value}"


def get_dose(session: Session, identifier: str) -> Dose:
    """The dose a scan, a typed code or its identifier names (``canonical_dose_identifier``)."""
    code = canonical_dose_identifier(identifier)
    dose = session.exec(select(Dose).where(Dose.identifier == code)).first()
    if dose is None:
        raise NotFound("No dose %(dose)s.", params={"dose": display_code(code)})
    return dose


def list_doses(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    lot: Lot | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Dose], int]:
    authorize(actor, Action.VIEW_DOSES)
    conditions = []
    if status:
        conditions.append(Dose.status == status)
    if lot is not None:
        conditions.append(Dose.lot_id == lot.id)
    return newest_page(session, Dose, *conditions, limit=limit, offset=offset)


def doses_of(session: Session, lot: Lot) -> list[Dose]:
    query = select(Dose).where(Dose.lot_id == lot.id).order_by(col(Dose.id))
    return list(session.exec(query).all())


@signatures.signs("fill")
def fill_content(session: Session, din: str) -> dict:
    """What the fill signs: each dose of the lot with its cells, volume, container and expiry."""
    lot = session.exec(select(Lot).where(Lot.din == din)).one()
    doses = doses_of(session, lot)
    return {
        "lot": lot.din,
        "doses": [
            [d.identifier, d.cells, d.volume_ml, d.container, d.filled_at, d.expires_at]
            for d in doses
        ],
    }


def fill_preview(harvest: Harvest, volume_ml: float) -> int:
    """The cells in a dose of ``volume_ml``: the formulated concentration times the volume."""
    return round(harvest.concentration_per_ml * volume_ml)


def _check_fill(session: Session, harvest: Harvest, command: FillIn) -> datetime:
    """A container named; a plausible number and volume of doses that fit in the formulated
    volume, each holding cells; filled after the harvest ended and not in the future. The fill
    time, on the facility's clock when typed without an offset."""
    if not command.container.strip():
        raise InvalidInput("Name the container (bag or vial type).", details={"field": "container"})
    quantities.check(
        {
            "doses": (command.doses, quantities.DOSES),
            "volume_ml": (command.volume_ml, quantities.DOSE_VOLUME_ML),
        }
    )
    tz = settings_of(session).tz
    filled_at = quantities.in_zone(command.filled_at, tz)
    quantities.check_event_time(
        "filled_at", filled_at, now=utcnow(), after=harvest.ended_at, what=N_("fill time"), tz=tz
    )
    problems = fill_problems(
        doses=command.doses,
        volume_ml=command.volume_ml,
        final_volume_ml=harvest.final_volume_ml,
        cells_per_dose=fill_preview(harvest, command.volume_ml),
    )
    if problems:
        raise RuleViolation.of(problems, several="fill_refused")
    return filled_at


def fill_lot(session: Session, *, actor: User, lot: Lot, command: FillIn) -> list[Dose]:
    """Fill the formulated lot into ``doses`` bags; the lot and its doses go to quarantine."""
    authorize(actor, Action.HARVEST_AND_FILL)
    if lot.status != LotStatus.HARVESTED:
        raise RuleViolation.state(
            "lot_not_harvested",
            "Lot %(lot)s is %(status)s: only a harvested lot is filled.",
            params={"lot": lot.din, "status": lot.status},
        )
    harvest = harvest_of(session, lot)
    if harvest is None:  # a harvested lot always has its harvest record
        raise RuleViolation.state(
            "lot_not_harvested", "Lot %(lot)s has no harvest record.", params={"lot": lot.din}
        )
    filled_at = _check_fill(session, harvest, command)
    doses, volume_ml = command.doses, command.volume_ml
    cells = fill_preview(harvest, volume_ml)
    # Compare-and-set first: of two technicians filling the same lot at once, one wins.
    LOT.move(
        session,
        lot,
        to=LotStatus.QUARANTINE,
        actor=actor,
        verb="filled",
        reason=f"{doses} doses of {volume_ml:g} mL",
    )
    rows = _dose_rows(session, actor, lot, command, filled_at=filled_at, cells=cells)
    session.add_all(rows)
    session.flush()
    _doses_filled(session, actor, lot, rows, password=command.password)
    return rows


def _dose_rows(
    session: Session, actor: User, lot: Lot, command: FillIn, *, filled_at: datetime, cells: int
) -> list[Dose]:
    """One dose per division (A0, B0, …), each expiring at the end of the shelf life."""
    settings = settings_of(session)
    expires_at = dose_expiry(
        filled_at, shelf_life_days=settings.dose_shelf_life_days, tz=settings.tz
    )
    rows = []
    for index in range(command.doses):
        code = ProductCode(settings.product_code, COLLECTION_TYPE, ProductCode.division_code(index))
        rows.append(
            Dose(
                identifier=dose_identifier(lot.din, code),
                lot_id=lot.id,
                product_code=str(code),
                division=code.division,
                cells=cells,
                volume_ml=command.volume_ml,
                container=command.container.strip(),
                filled_at=filled_at,
                expires_at=expires_at,
                created_by_id=actor.id,
            )
        )
    return rows


def _doses_filled(
    session: Session, actor: User, lot: Lot, rows: list[Dose], *, password: str
) -> None:
    """Each dose in the audit trail; the fill signed "Performed"."""
    for dose in rows:
        audit.record(
            session,
            actor=actor,
            action="dose.filled",
            entity_type="dose",
            entity_id=dose.identifier,
            changes={
                "cells": [None, dose.cells],
                "volume_ml": [None, dose.volume_ml],
                "expires_at": [None, dose.expires_at],
                "status": [None, dose.status],
            },
        )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.PERFORMED,
        entity_type="fill",
        entity_id=lot.din,
    )


def label_problems(dose: Dose, scanned: ParsedScan, *, expiry_code: str) -> list[Reason]:
    """Does the scanned label carry this dose's DIN, product code and expiry?"""
    din = scanned.first(TokenKind.DIN)
    code = scanned.first(TokenKind.PRODUCT_CODE)
    expiry = scanned.first(TokenKind.EXPIRY)
    problems = []
    if din is None or code is None:
        problems.append(
            Reason(
                "label_code_missing",
                "Scan the label's 2-D code: it carries the DIN and the product code.",
            )
        )
    elif din.hand_typed:  # the eye-readable code says nothing of what the bar codes carry
        problems.append(
            Reason(
                "label_typed_by_hand",
                "Scan the label's bar code: a code typed by hand does not check the print.",
            )
        )
    elif f"{din.value}{code.value}" != dose.identifier:
        problems.append(
            reason(
                "label_mismatch",
                "The label is for %(din)s %(product)s, not for dose %(dose)s.",
                din=din.value,
                product=code.value,
                dose=dose.identifier,
            )
        )
    if expiry is not None and f"&>{expiry.value}" != expiry_code:
        problems.append(
            Reason(
                "label_expiry_differs",
                "The expiry on the label differs from the dose's expiry: reprint it.",
            )
        )
    return problems


def verify_label(session: Session, *, actor: User, dose: Dose, command: LabelCheckIn) -> Dose:
    """The printed label, scanned back, matches its dose: the check release waits for."""
    authorize(actor, Action.VERIFY_LABELS)
    try:
        parsed = parse_scan(command.scanned)
    except ScanError as error:
        raise RuleViolation.one(
            "label_unreadable",
            "The label does not scan: %(problem)s",
            params={"problem": error.message},
            scan_code=error.code,
        ) from error
    expiry_code = format_expiry(dose.expires_at, settings_of(session).tz)
    problems = label_problems(dose, parsed, expiry_code=expiry_code)
    if problems:
        raise RuleViolation.of(problems, several="label_check_refused")
    checked = session.execute(
        update(Dose)
        .where(col(Dose.id) == dose.id, col(Dose.label_verified_at).is_(None))
        .values(label_verified_at=utcnow(), label_verified_by_id=actor.id)
    )
    if checked.rowcount != 1:
        raise Conflict(
            "The label of dose %(dose)s was checked already.",
            params={"dose": dose.identifier},
            code="already_checked",
        )
    session.refresh(dose)
    audit.record(
        session,
        actor=actor,
        action="dose.label_verified",
        entity_type="dose",
        entity_id=dose.identifier,
        changes={"label_verified_at": [None, dose.label_verified_at]},
    )
    return dose


def verify_label_of_lot(session: Session, *, actor: User, lot: Lot, command: LabelCheckIn) -> Dose:
    """A dose label scanned at ``lot``'s bench: it must be the label of a dose of this lot, and
    match that dose (``verify_label``)."""
    dose = get_dose(session, command.scanned)
    refused = label_is_of_lot(
        dose_identifier=dose.identifier, dose_lot_id=dose.lot_id, lot_id=lot.id, lot_din=lot.din
    )
    if refused is not None:
        raise RuleViolation.of([refused], several=refused.code, field="scanned")
    return verify_label(session, actor=actor, dose=dose, command=command)
