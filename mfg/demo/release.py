"""Demonstration release decisions: released, conditionally released, rejected (signed by QA)."""

from __future__ import annotations

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.db import settings_of
from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from mfg.manufacturing import doses, pools
from mfg.manufacturing.schemas import LabelCheckIn
from mfg.release import service


def _check_labels(session: Session, din: str) -> None:
    """Each printed dose label scanned back by a technician."""
    tech2, tz = require_user(session, "tech2"), settings_of(session).tz
    for dose in doses.doses_of(session, pools.get_lot(session, din)):
        scanned = (
            Din.parse(din).barcode_data()
            + ProductCode.parse(dose.product_code).barcode_data()
            + format_expiry(dose.expires_at, tz)
        )
        doses.verify_label(session, actor=tech2, dose=dose, command=LabelCheckIn(scanned=scanned))


def load_demo_release(session: Session, *, lots: dict[str, str], qa_password: str) -> list[str]:
    qa = require_user(session, "qa")
    for name in ("released", "conditional"):
        _check_labels(session, lots[name])
        service.release_lot(
            session,
            actor=qa,
            lot=pools.get_lot(session, lots[name]),
            password=qa_password,
            conditional=name == "conditional",
            audit_trail_reviewed=True,
        )
    service.reject_lot(
        session,
        actor=qa,
        lot=pools.get_lot(session, lots["rejected"]),
        password=qa_password,
        reason="Mycoplasma detected (PCR); lot not releasable",
    )
    return [
        f"lot {lots['released']} released by QA: its doses are available",
        f"lot {lots['conditional']} conditionally released (sterility pending)",
        f"lot {lots['rejected']} rejected: its doses discarded",
    ]
