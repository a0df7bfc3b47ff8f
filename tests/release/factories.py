"""A lot ready for release, made through the services: filled, stored, tested, labels checked."""

from __future__ import annotations

from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from mfg.manufacturing import doses, pools
from mfg.manufacturing.schemas import LabelCheckIn
from mfg.models import Dose, Lot
from mfg.release import service
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import cryopreserve, filled_lot
from tests.qc.factories import enter, sample_of, verify

IN_SPECIFICATION = {
    "VIAB": "92",
    "COUNT": "99",
    "CD73": "99",
    "CD90": "98",
    "CD105": "97",
    "CD34": "0.5",
    "CD45": "0.5",
    "CD14": "0.5",
    "CD19": "0.5",
    "HLA-DR": "1",
    "STER-AER": "no growth",
    "STER-ANA": "no growth",
    "GRAM": "no organisms seen",
    "MYCO": "not detected",
    "ENDO": "0.1",
    "KARYO": "normal",
}


def label_scan(lab: Lab, dose: Dose) -> str:
    """What a scanner reads from the dose label's DataMatrix."""
    return (
        Din.parse(dose.identifier[:13]).barcode_data()
        + ProductCode.parse(dose.product_code).barcode_data()
        + format_expiry(dose.expires_at, lab.settings.tz)
    )


def check_labels(lab: Lab, lot: Lot, role: str = "technician") -> None:
    def work(s, a):
        for dose in doses.doses_of(s, pools.get_lot(s, lot.din)):
            scanned = LabelCheckIn(scanned=label_scan(lab, dose))
            doses.verify_label(s, actor=a, dose=dose, command=scanned)

    lab.run(role, work)


def record_results(lab: Lab, lot: Lot, values: dict[str, str]) -> None:
    sample = sample_of(lab, lot.din, *values)
    for code, value in values.items():
        verify(lab, enter(lab, sample, code, value))


def releasable_lot(lab: Lab, *, count: int = 2, skip: tuple[str, ...] = ()) -> Lot:
    """Filled, stored, every required test verified in specification (but ``skip``), labels
    checked: nothing blocks its release by QA."""
    lot, _ = filled_lot(lab, count=count)
    cryopreserve(lab, lot)
    record_results(lab, lot, {k: v for k, v in IN_SPECIFICATION.items() if k not in skip})
    check_labels(lab, lot)
    return lot


def conditionally_releasable_lot(lab: Lab) -> Lot:
    """As ``releasable_lot``, with only the day-3 readings of the sterility cultures (no
    growth) and no final result: it may be released conditionally."""
    lot = releasable_lot(lab, skip=("STER-AER", "STER-ANA"))
    sample = sample_of(lab, lot.din, "STER-AER", "STER-ANA")
    for code in ("STER-AER", "STER-ANA"):
        verify(lab, enter(lab, sample, code, "no growth", reading="day 3"))
    return lot


def release(lab: Lab, lot: Lot, *, role: str = "qa", conditional: bool = False):
    return lab.run(
        role,
        lambda s, a: service.release_lot(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            password=PASSWORD,
            conditional=conditional,
            audit_trail_reviewed=True,
        ),
    )


def blocking_codes(lab: Lab, lot: Lot, role: str = "qa") -> list[str]:
    check = lab.run(
        role, lambda s, a: service.release_check(s, actor=a, lot=pools.get_lot(s, lot.din))
    )
    return [b.code for b in check.blocking]
