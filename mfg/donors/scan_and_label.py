"""How scans find donors and biopsies, and how a biopsy's tube label is built (see
mfg.record_kinds)."""

from __future__ import annotations

from sqlmodel import Session, select

from mfg.db import settings_of
from mfg.i18n import N_
from mfg.identifiers.isbt128 import Din
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan, TokenKind
from mfg.labeling.fields import BIOPSY_PRODUCT, LabelData, common_fields, din_fields, label_text
from mfg.models import Biopsy, Donor, DonorStatus


def lookup_donor(session: Session, scan: ParsedScan) -> list[Resolution]:
    donor = session.exec(select(Donor).where(Donor.code == scan.tokens[0].value)).first()
    if donor is None:
        return []
    return [
        Resolution(
            "donor",
            donor.code,
            f"/donors/{donor.code}",
            f"Donor {donor.code} ({donor.sex}, born {donor.birth_year}), {donor.status}",
            donor.status,
        )
    ]


def lookup_biopsy(session: Session, scan: ParsedScan) -> list[Resolution]:
    """A DIN alone names a biopsy when one has it (lots will register their own lookup)."""
    if scan.kinds() != (TokenKind.DIN,):
        return []
    biopsy = session.exec(select(Biopsy).where(Biopsy.din == scan.tokens[0].value)).first()
    if biopsy is None:
        return []
    donor = session.get(Donor, biopsy.donor_id)
    hold = ", ON HOLD" if biopsy.on_hold else ""
    return [
        Resolution(
            "biopsy",
            biopsy.din,
            f"/biopsies/{biopsy.din}",
            f"Biopsy {Din.parse(biopsy.din).eye_readable} of donor {donor.code}: "
            f"{biopsy.status}{hold}, {quarantine_text(donor, biopsy)}",
            biopsy.status,
        )
    ]


def quarantine_text(donor: Donor, biopsy: Biopsy) -> str:
    if biopsy.on_hold or donor.status == DonorStatus.INELIGIBLE:
        return N_("DO NOT USE")
    if donor.status == DonorStatus.REGISTERED:
        return N_("QUARANTINE")
    return N_("DONOR ELIGIBLE")


def biopsy_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    biopsy = session.exec(select(Biopsy).where(Biopsy.din == identifier.strip().upper())).first()
    if biopsy is None:
        return None
    donor = session.get(Donor, biopsy.donor_id)
    settings = settings_of(session)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **din_fields(Din.parse(biopsy.din), flags=flags),
        "donor_code": f"{donor.code[:2]}-{donor.code[2:8]}-{donor.code[8]}",
        "collected_at": biopsy.collected_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
        "site": biopsy.site,
        "status_text": quarantine_text(donor, biopsy),
        "product_text": label_text(BIOPSY_PRODUCT),
    }
