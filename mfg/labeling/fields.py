"""What each label kind can print: its fields, and sample data to design and test layouts with.

Record kinds build their label data with these helpers (``din_fields`` for ISBT 128 containers,
``local_fields`` for local codes), so every label of the product encodes its codes the same way.
"""

from __future__ import annotations

import tomllib
from functools import cache

from mfg.db import PROJECT_ROOT
from mfg.i18n import N_
from mfg.identifiers import isbt128
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.local import LocalId

LabelData = dict[str, str]

COMMON = {"facility_name", "facility_fin", "test_notice"}
DIN_FIELDS = {"din_barcode", "din_eye_readable", "din_check"}
KIND_FIELDS: dict[str, frozenset[str]] = {
    "biopsy": frozenset(
        COMMON | DIN_FIELDS | {"donor_code", "collected_at", "site", "status_text", "product_text"}
    ),
    "culture": frozenset(
        COMMON
        | {
            "vessel_barcode",
            "vessel_code",
            "source_text",
            "passage",
            "vessel_type",
            "seeded_on",
            "status_text",
        }
    ),
    "qc-sample": frozenset(
        COMMON | {"sample_barcode", "sample_code", "source_text", "tests", "taken_at"}
    ),
    "material": frozenset(
        COMMON
        | {
            "material_barcode",
            "material_code",
            "name",
            "supplier",
            "lot_number",
            "expiry_text",
            "status_text",
        }
    ),
    "dose": frozenset(
        COMMON
        | DIN_FIELDS
        | {
            "product_code_barcode",
            "product_code_text",
            "product_text",
            "division",
            "cells_text",
            "volume_text",
            "expiry_text",
            "expiry_barcode",
            "status_text",
            "trial_notice",
            "datamatrix",
        }
    ),
    "wristband": frozenset(COMMON | {"subject_barcode", "subject_code", "trial", "arm", "sex_age"}),
    "badge": frozenset(COMMON | {"badge_barcode", "badge_code", "full_name", "roles_text"}),
    "allocation": frozenset(
        COMMON
        | {
            "subject_barcode",
            "subject_code",
            "trial",
            "arm",
            "dose_text",
            "prescription_text",
            "expiry_text",
        }
    ),
}
LABEL_KINDS = tuple(KIND_FIELDS)
TEST_NOTICE = N_("TEST FACILITY — NOT FOR CLINICAL USE")
TRIAL_NOTICE = N_("FOR CLINICAL TRIAL USE ONLY")


def common_fields(*, facility_name: str, facility_fin: str, test_facility: bool) -> LabelData:
    return {
        "facility_name": facility_name,
        "facility_fin": facility_fin,
        "test_notice": TEST_NOTICE if test_facility else "",
    }


def din_fields(din: Din, *, flags: str = isbt128.FLAG_NONE) -> LabelData:
    """The DIN as bar code data (``=`` + DIN + flags) and eye-readable, with its boxed K."""
    return {
        "din_barcode": din.barcode_data(flags),
        "din_eye_readable": din.eye_readable,
        "din_check": din.check,
    }


def local_fields(prefix_name: str, local: LocalId) -> LabelData:
    return {f"{prefix_name}_barcode": str(local), f"{prefix_name}_code": local.eye_readable}


def _sample_common() -> LabelData:
    return common_fields(
        facility_name="Demonstration cell-therapy facility",
        facility_fin="A9999",
        test_facility=True,
    )


_SAMPLE_DIN = Din("A9999", 26, 123456)
_SAMPLE_CODE = ProductCode("S1234", "V", "A0")
_SAMPLE_EXPIRY = "&>0270332359"
# Representative (longest-case) fields of each kind, beside the facility's own (_sample_common)
_SAMPLE_FIELDS: dict[str, LabelData] = {
    "biopsy": {
        **din_fields(_SAMPLE_DIN),
        "donor_code": "DN-000042-X",
        "collected_at": "2026-11-24 09:30",
        "site": "Olfactory mucosa, left",
        "status_text": "QUARANTINE",
        "product_text": "Olfactory mucosa biopsy",
    },
    "culture": {
        **local_fields("vessel", LocalId("CV", 123)),
        "source_text": "Biopsy A9999 26 123456 T",
        "passage": "P3",
        "vessel_type": "T175 flask",
        "seeded_on": "2026-11-24",
        "status_text": "IN PROCESS",
    },
    "qc-sample": {
        **local_fields("sample", LocalId("QS", 77)),
        "source_text": "Lot A9999 26 123456 T",
        "tests": "STER-AER, STER-ANA, MYCO, ENDO",
        "taken_at": "2026-11-24 10:15",
    },
    "material": {
        **local_fields("material", LocalId("ML", 12)),
        "name": "Human platelet lysate",
        "supplier": "Example Biologicals",
        "lot_number": "HPL-2026-0457",
        "expiry_text": "2027-05-08",
        "status_text": "RELEASED",
    },
    "dose": {
        **din_fields(_SAMPLE_DIN),
        "product_code_barcode": _SAMPLE_CODE.barcode_data(),
        "product_code_text": str(_SAMPLE_CODE),
        "product_text": "Pooled OM-MSC suspension",
        "division": "A0",
        "cells_text": "70 x 10^6 cells",
        "volume_text": "50 mL",
        "expiry_text": "2027-02-02 23:59 UTC+03:00",
        "expiry_barcode": _SAMPLE_EXPIRY,
        "status_text": "QUARANTINE",
        "trial_notice": TRIAL_NOTICE,
        "datamatrix": _SAMPLE_DIN.barcode_data() + _SAMPLE_CODE.barcode_data() + _SAMPLE_EXPIRY,
    },
    "wristband": {
        **local_fields("subject", LocalId("PT", 7)),
        "trial": "NCT04382547",
        "arm": "mesenchymal stem cells",
        "sex_age": "F, 54 y",
    },
    "allocation": {
        **local_fields("subject", LocalId("PT", 7)),
        "trial": "NCT04382547",
        "arm": "mesenchymal stem cells",
        "dose_text": "Dose A9999 26 123456 T S1234VA0",
        "prescription_text": "1 x 10^6 cells/kg x 70.5 kg = 70,500,000 cells, infusion 1 of 2",
        "expiry_text": "Expires 2027-02-02 23:59 UTC+03:00",
    },
    "badge": {
        **local_fields("badge", LocalId("ST", 12)),
        "full_name": "Katsiaryna Aliaksandrauna Verkhovskaya",
        "roles_text": "Manufacturing technician, QC analyst",
    },
}


def sample_data(kind: str) -> LabelData:
    """Representative (longest-case) data of a kind, for designing, validating and testing."""
    return {**_sample_common(), **_SAMPLE_FIELDS[kind]}


# The longest values a label is expected to print, proven to fit every layout when it is loaded.
# A longer value is not cut: its print is refused, naming it (mfg.labeling.fit).
LONGEST_FACILITY_NAME = "Republican Centre for Cell Therapy and Regenerative Medicine, Minsk"
DEFAULT_SPECIFICATION = PROJECT_ROOT / "mfg" / "defaults" / "specification.toml"
_LONGEST: dict[str, LabelData] = {
    "biopsy": {
        "status_text": "DONOR ELIGIBLE",  # the longest of mfg.donors.scan_and_label.quarantine_text
        "site": "Olfactory mucosa, superior turbinate, left nasal cavity",
    },
    "culture": {
        "passage": "P12",
        "vessel_type": "CellSTACK 10-chamber culture vessel",
        "status_text": "IN PROCESS",
    },
    "qc-sample": {"source_text": "Dose A9999 26 123456 T S1234VA0"},  # a dose, as people read it
    "material": {
        "name": "Human platelet lysate, pathogen-reduced, fibrinogen-depleted, GMP grade",
        "supplier": "Macopharma Biotherapy Cell Culture Media and Supplements GmbH",
        "lot_number": "HPL-2026-0457-B12-RELEASE",
        "status_text": "QUARANTINED",
    },
    "dose": {
        "product_text": "Allogeneic pooled olfactory-mucosa MSCs",  # the default product name
        "cells_text": "123.5 x 10^6 cells",
        "volume_text": "100.5 mL",
        "expiry_text": "2027-12-31 23:59 UTC-03:30",
    },
    "wristband": {
        "trial": "2024-512345-11-00",  # an EU CT number, longer than an NCT number
        "arm": "Allogeneic pooled olfactory-mucosa MSCs, 2 infusions",
        "sex_age": "M, 104 y",
    },
    "allocation": {
        "trial": "2024-512345-11-00",
        "arm": "Allogeneic pooled olfactory-mucosa MSCs, 2 infusions",
        "prescription_text": "1.25e+06 cells/kg x 150.5 kg = 188,125,000 cells",
        "expiry_text": "Expires 2027-12-31 23:59 UTC-03:30",
    },
    "badge": {
        "full_name": "Katsiaryna Aliaksandrauna Verkhovskaya-Kaliasnikava",
        "roles_text": "Administrator, Clinician, Manufacturing technician, QC analyst, "
        "Quality assurance (may release)",  # every role
    },
}


@cache
def every_default_test() -> str:
    """The tests field of a sample taken for every test of the default specification."""
    specification = tomllib.loads(DEFAULT_SPECIFICATION.read_text(encoding="utf-8"))
    return ", ".join(test["code"] for test in specification["tests"])


def longest_data(kind: str) -> LabelData:
    """The longest plausible data of a kind: every layout must fit it (checked when loaded)."""
    longest = {**sample_data(kind), "facility_name": LONGEST_FACILITY_NAME, **_LONGEST[kind]}
    if kind == "qc-sample":
        longest["tests"] = every_default_test()
    return longest
