"""How scans find material lots and how their internal label is built (see mfg.record_kinds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from mfg.db import settings_of
from mfg.identifiers.display import display_code
from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from mfg.identifiers.local import LocalId
from mfg.identifiers.resolve import Resolution, RowLookup
from mfg.identifiers.scan import ParsedScan, TokenKind
from mfg.labeling import fields
from mfg.labeling.fields import TRIAL_NOTICE, LabelData, common_fields, din_fields, local_fields
from mfg.models import Biopsy, Culture, Dose, Lot, MaterialLot


def _resolution(lot: MaterialLot) -> Resolution:
    return Resolution(
        "material",
        lot.code,
        f"/materials/{lot.code}",
        f"{lot.name}, lot {lot.lot_number} ({lot.supplier}), expires {lot.expiry}: {lot.status}",
        lot.status,
    )


def lookup_material(session: Session, scan: ParsedScan) -> list[Resolution]:
    lot = session.exec(select(MaterialLot).where(MaterialLot.code == scan.tokens[0].value)).first()
    return [_resolution(lot)] if lot else []


def lookup_material_by_gs1(session: Session, scan: ParsedScan) -> list[Resolution]:
    """A supplier's bar code names the lot registered with the same GTIN and lot number."""
    data = scan.tokens[0].data or {}
    if "01" not in data or "10" not in data:
        return []
    lots = session.exec(
        select(MaterialLot).where(
            MaterialLot.gtin == data["01"], MaterialLot.lot_number == data["10"]
        )
    ).all()
    return [_resolution(lot) for lot in lots]


def material_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    lot = session.exec(
        select(MaterialLot).where(MaterialLot.code == identifier.strip().upper())
    ).first()
    if lot is None:
        return None
    settings = settings_of(session)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("material", LocalId("ML", int(lot.code[2:8]))),
        "name": lot.name,
        "supplier": lot.supplier,
        "lot_number": lot.lot_number,
        "expiry_text": lot.expiry.isoformat(),
        "status_text": lot.status.upper(),
    }


def lookup_culture(session: Session, scan: ParsedScan) -> list[Resolution]:
    culture = session.exec(select(Culture).where(Culture.code == scan.tokens[0].value)).first()
    if culture is None:
        return []
    return [
        Resolution(
            "culture",
            culture.code,
            f"/cultures/{culture.code}",
            f"Culture vessel {culture.code}, passage {culture.passage_number}, "
            f"{culture.vessel_type}: {culture.status}",
            culture.status,
        )
    ]


def culture_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    culture = session.exec(
        select(Culture).where(Culture.code == identifier.strip().upper())
    ).first()
    if culture is None:
        return None
    settings = settings_of(session)
    biopsy = session.get(Biopsy, culture.biopsy_id)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("vessel", LocalId("CV", int(culture.code[2:8]))),
        "source_text": fields.record_text("biopsy", display_code(biopsy.din)),
        "passage": f"P{culture.passage_number}",
        "vessel_type": culture.vessel_type,
        "seeded_on": culture.seeded_at.astimezone(settings.tz).strftime("%Y-%m-%d"),
        "status_text": culture.status.replace("_", " ").upper(),
    }


def lookup_lot(session: Session, scan: ParsedScan) -> list[Resolution]:
    """A DIN alone names a lot when a lot has it (a DIN with a product code will name a dose)."""
    if scan.kinds() != (TokenKind.DIN,):
        return []
    lot = session.exec(select(Lot).where(Lot.din == scan.tokens[0].value)).first()
    if lot is None:
        return []
    return [
        Resolution(
            "lot",
            lot.din,
            f"/lots/{lot.din}",
            f"Lot {Din.parse(lot.din).eye_readable} (pool), {lot.status}",
            lot.status,
        )
    ]


def _dose_params(scan: ParsedScan) -> dict[str, str] | None:
    """A DIN with a product code names a dose: the lot's DIN and the dose's division."""
    din, code = scan.first(TokenKind.DIN), scan.first(TokenKind.PRODUCT_CODE)
    if din is None or code is None:
        return None
    return {"dose_identifier": f"{din.value}{code.value}"}


def _dose_found(row: Sequence[Any], scan: ParsedScan) -> Resolution:
    identifier, division, cells, volume_ml, status = row
    lot_din = identifier[:13]  # a dose's identifier is its lot's DIN and its product code
    return Resolution(
        "dose",
        identifier,
        f"/doses/{identifier}",
        f"Dose {division} of lot {Din.parse(lot_din).eye_readable}, "
        f"{cells_text(cells)} in {volume_ml:g} mL: {status}",
        status,
    )


# Every bedside and bench scan comes here: the columns the answer needs, in one statement built
# once (the resolver can run the login check in it too).
lookup_dose = RowLookup(
    select(Dose.identifier, Dose.division, Dose.cells, Dose.volume_ml, Dose.status).where(
        Dose.identifier == bindparam("dose_identifier")
    ),
    _dose_params,
    _dose_found,
)


def cells_text(cells: int) -> str:
    return f"{cells / 1e6:.4g} x 10^6 cells"


def dose_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    """The ISBT 128 container label of a dose, with the DIN, product code and expiry codes."""
    dose = session.exec(
        select(Dose).where(Dose.identifier == "".join(identifier.split()).upper())
    ).first()
    if dose is None:
        return None
    settings = settings_of(session)
    lot = session.get(Lot, dose.lot_id)
    din = Din.parse(lot.din)
    code = ProductCode.parse(dose.product_code)
    expiry = format_expiry(dose.expires_at, settings.tz)
    local_expiry = dose.expires_at.astimezone(settings.tz)
    offset = f"{local_expiry:%z}"
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **din_fields(din, flags=flags),
        "product_code_barcode": code.barcode_data(),
        "product_code_text": str(code),
        "product_text": settings.product_name,
        "division": dose.division,
        "cells_text": fields.cells_text(dose.cells),
        "volume_text": fields.volume_text(dose.volume_ml),
        "expiry_text": f"{local_expiry:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}",
        "expiry_barcode": expiry,
        "status_text": dose.status.replace("_", " ").upper(),
        "trial_notice": TRIAL_NOTICE,
        "datamatrix": din.barcode_data(flags) + code.barcode_data() + expiry,
    }
