"""What each label kind can print: its fields, its words, and sample data to design and test
layouts with.

Record kinds build their label data with these helpers (``din_fields`` for ISBT 128 containers,
``local_fields`` for local codes, ``record_text``, ``cells_text``, … for values with words in
them), so every label of the product encodes its codes and words the same way.

Labels print in the facility's language (``Settings.language``; docs/architecture.md#languages):
``mfg.labeling.service`` builds and renders a label in it, whoever prints it. A label's own words
are catalog messages in the context ``label`` (short: labels are small): the layouts' fixed words
(``LAYOUT_WORDS``), the notices, and the words composed into values when the data is built (the
builders run in the facility's language). Record statuses are printed as their badges read them
(context ``status``), roles and record kinds as the pages name them. Identifiers, bar codes, codes,
names and numbers are printed as they are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache

from mfg import i18n
from mfg.db import PROJECT_ROOT
from mfg.i18n import N_, pgettext_noop
from mfg.identifiers import isbt128
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.local import LocalId
from mfg.models import CultureStatus, DoseStatus, MaterialStatus
from mfg.models.auth import ROLE_LABELS, Role

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

# The layouts' fixed words (labels/*.toml: ``text``, ``overflow_text``), listed here so that
# ``mfg i18n extract`` finds them; each is printed in the facility's language. A fixed word that is
# not listed prints as written in every language (tests/labeling keep the shipped layouts listed).
# DIN and FIN are ISBT 128's own abbreviations: the same in every language.
LAYOUT_WORDS = (
    pgettext_noop("label", "DIN"),
    pgettext_noop("label", "FIN"),
    pgettext_noop("label", "Division"),
    pgettext_noop("label", "EXPIRES"),
    pgettext_noop("label", "Lot"),
    pgettext_noop("label", "Exp."),
    pgettext_noop("label", "ALLOCATED TO"),
    pgettext_noop("label", "{count} tests — see sample record"),
)
# What people call each label (the layouts' ``title``), as the pages show it.
LAYOUT_TITLES = (
    N_("Biopsy tube"),
    N_("Culture vessel"),
    N_("QC sample"),
    N_("Material lot"),
    N_("Dose bag — ISBT 128 container label"),
    N_("Patient wristband"),
    N_("Staff badge"),
    N_("Dose allocation tag"),
)
# The notices: TEST_NOTICE is also what pages and printouts say of a test facility; on a label it
# is printed in the labels' words (context "label"), which a tube's bottom row can hold.
TEST_NOTICE = N_("TEST FACILITY — NOT FOR CLINICAL USE")
TRIAL_NOTICE = pgettext_noop("label", "FOR CLINICAL TRIAL USE ONLY")
NOTICES = (pgettext_noop("label", "TEST FACILITY — NOT FOR CLINICAL USE"), TRIAL_NOTICE)
NOTICE_FIELDS = frozenset({"test_notice", "trial_notice"})
# Words composed into values when the label's data is built
EXPIRES = pgettext_noop("label", "Expires %(when)s")
CELLS = pgettext_noop("label", "%(cells)s x 10^6 cells")
VOLUME = pgettext_noop("label", "%(volume)s mL")
PRESCRIPTION = pgettext_noop("label", "%(per_kg)s cells/kg x %(weight)s kg = %(cells)s cells")
SEX_AGE = pgettext_noop("label", "%(sex)s, %(age)s y")
BIOPSY_PRODUCT = pgettext_noop("label", "Olfactory mucosa biopsy")
# A record named on another record's label ("Biopsy A9999 26 123456 T"), as the pages name it.
RECORD_WORDS = {
    "biopsy": N_("Biopsy"),
    "culture": N_("Culture"),
    "lot": N_("Lot"),
    "dose": N_("Dose"),
}


def status_text(status: str) -> str:
    """A record status as a label's data carries it: ``in_process`` -> ``IN PROCESS`` (printed as
    the status's badge reads it, in the facility's language: ``printed``)."""
    return str(status).replace("_", " ").upper()


# Every status_text each kind's label can carry: each must fit its layout in every language.
# The biopsy's are mfg.donors.scan_and_label.quarantine_text's words.
STATUS_TEXTS: dict[str, tuple[str, ...]] = {
    "biopsy": (N_("QUARANTINE"), N_("DONOR ELIGIBLE"), N_("DO NOT USE")),
    "culture": tuple(status_text(s) for s in CultureStatus),
    "material": tuple(status_text(s) for s in MaterialStatus),
    "dose": tuple(status_text(s) for s in DoseStatus),
}


def label_text(message: str, /, **params: object) -> str:
    """One of a label's own words (context ``label``) in the current language, its ``%(name)s``
    parameters filled in."""
    if not message:
        return message
    text = i18n.pgettext("label", message)
    return text % params if params else text


def status_word(text: str) -> str:
    """A label's status text in the current language: a record status as its badge reads it
    ("IN PROCESS" -> "В ПРОИЗВОДСТВЕ"), else as the catalog has it (the biopsy's donor words,
    "DONOR ELIGIBLE"); as it is when the catalog has neither."""
    word = text.lower()
    badge = i18n.pgettext("status", word)
    return badge.upper() if badge != word else i18n.gettext(text)


def printed(field: str, value: str) -> str:
    """A field's value as the label prints it, in the current language: a notice in the labels'
    words, a status as its badge reads it; every other value as it is (names, codes and numbers,
    and the values whose words were composed when the data was built)."""
    if not value:
        return value
    if field in NOTICE_FIELDS:
        return label_text(value)
    if field == "status_text":
        return status_word(value)
    return value


def record_text(kind: str, code: str) -> str:
    """A record named on a label, its kind's word then its code: ``Dose A9999 26 123456 T …``."""
    word = RECORD_WORDS.get(kind)
    return f"{i18n.gettext(word) if word else kind.capitalize()} {code}"


def expiry_text(when: str) -> str:
    """``Expires 2027-02-02 23:59 UTC+03:00``, ``when`` as the facility reads the time."""
    return label_text(EXPIRES, when=when)


def cells_text(cells: int) -> str:
    return label_text(CELLS, cells=f"{cells / 1e6:.4g}")


def volume_text(volume_ml: float) -> str:
    return label_text(VOLUME, volume=f"{volume_ml:g}")


def prescription_text(cells_per_kg: float, weight_kg: float, cells: int) -> str:
    return label_text(
        PRESCRIPTION, per_kg=f"{cells_per_kg:g}", weight=f"{weight_kg:g}", cells=f"{cells:,}"
    )


def sex_age(sex: str, age: int) -> str:
    """``F, 54 y``: the sex as its code (as the pages show it), the age in years."""
    return label_text(SEX_AGE, sex=sex, age=age)


def roles_text(roles: Iterable[str]) -> str:
    """A person's roles as the pages name them, in alphabetical order."""
    return ", ".join(sorted(i18n.gettext(ROLE_LABELS[Role(role)]) for role in roles))


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


def _sample_fields(kind: str) -> LabelData:
    """Representative (longest-case) fields of a kind, beside the facility's own
    (_sample_common); their words composed in the current language, as the builders compose
    them."""
    samples: dict[str, LabelData] = {
        "biopsy": {
            **din_fields(_SAMPLE_DIN),
            "donor_code": "DN-000042-X",
            "collected_at": "2026-11-24 09:30",
            "site": "Olfactory mucosa, left",
            "status_text": "QUARANTINE",
            "product_text": label_text(BIOPSY_PRODUCT),
        },
        "culture": {
            **local_fields("vessel", LocalId("CV", 123)),
            "source_text": record_text("biopsy", "A9999 26 123456 T"),
            "passage": "P3",
            "vessel_type": "T175 flask",
            "seeded_on": "2026-11-24",
            "status_text": "IN PROCESS",
        },
        "qc-sample": {
            **local_fields("sample", LocalId("QS", 77)),
            "source_text": record_text("lot", "A9999 26 123456 T"),
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
            "cells_text": cells_text(70_000_000),
            "volume_text": volume_text(50),
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
            "sex_age": sex_age("F", 54),
        },
        "allocation": {
            **local_fields("subject", LocalId("PT", 7)),
            "trial": "NCT04382547",
            "arm": "mesenchymal stem cells",
            "dose_text": record_text("dose", "A9999 26 123456 T S1234VA0"),
            "prescription_text": prescription_text(1e6, 70.5, 70_500_000),
            "expiry_text": expiry_text("2027-02-02 23:59 UTC+03:00"),
        },
        "badge": {
            **local_fields("badge", LocalId("ST", 12)),
            "full_name": "Katsiaryna Aliaksandrauna Verkhovskaya",
            "roles_text": roles_text([Role.TECHNICIAN, Role.QC]),
        },
    }
    return samples[kind]


def sample_data(kind: str) -> LabelData:
    """Representative (longest-case) data of a kind, for designing, validating and testing."""
    return {**_sample_common(), **_sample_fields(kind)}


# The longest values a label is expected to print, proven to fit every layout when it is loaded.
# A longer value is not cut: its print is refused, naming it (mfg.labeling.fit).
LONGEST_FACILITY_NAME = "Republican Centre for Cell Therapy and Regenerative Medicine, Minsk"
DEFAULT_SPECIFICATION = PROJECT_ROOT / "mfg" / "defaults" / "specification.toml"


def _longest_fields(kind: str) -> LabelData:
    longest: dict[str, LabelData] = {
        "biopsy": {
            "status_text": "DONOR ELIGIBLE",  # the longest in English; STATUS_TEXTS has them all
            "site": "Olfactory mucosa, superior turbinate, left nasal cavity",
        },
        "culture": {
            "passage": "P12",
            "vessel_type": "CellSTACK 10-chamber culture vessel",
            "status_text": "IN PROCESS",
        },
        # a dose, as people read it
        "qc-sample": {"source_text": record_text("dose", "A9999 26 123456 T S1234VA0")},
        "material": {
            "name": "Human platelet lysate, pathogen-reduced, fibrinogen-depleted, GMP grade",
            "supplier": "Macopharma Biotherapy Cell Culture Media and Supplements GmbH",
            "lot_number": "HPL-2026-0457-B12-RELEASE",
            "status_text": "QUARANTINED",
        },
        "dose": {
            "product_text": "Allogeneic pooled olfactory-mucosa MSCs",  # the default product name
            "cells_text": cells_text(123_500_000),
            "volume_text": volume_text(100.5),
            "expiry_text": "2027-12-31 23:59 UTC-03:30",
        },
        "wristband": {
            "trial": "2024-512345-11-00",  # an EU CT number, longer than an NCT number
            "arm": "Allogeneic pooled olfactory-mucosa MSCs, 2 infusions",
            "sex_age": sex_age("M", 104),
        },
        "allocation": {
            "trial": "2024-512345-11-00",
            "arm": "Allogeneic pooled olfactory-mucosa MSCs, 2 infusions",
            "prescription_text": prescription_text(1.25e6, 150.5, 188_125_000),
            "expiry_text": expiry_text("2027-12-31 23:59 UTC-03:30"),
        },
        "badge": {
            "full_name": "Katsiaryna Aliaksandrauna Verkhovskaya-Kaliasnikava",
            "roles_text": roles_text(Role),  # every role
        },
    }
    return longest[kind]


@cache
def every_default_test() -> str:
    """The tests field of a sample taken for every test of the default specification."""
    specification = tomllib.loads(DEFAULT_SPECIFICATION.read_text(encoding="utf-8"))
    return ", ".join(test["code"] for test in specification["tests"])


def longest_data(kind: str) -> LabelData:
    """The longest plausible data of a kind, its words in the current language: every layout
    must fit it (checked when loaded, in every language a label may print in)."""
    longest = {**sample_data(kind), "facility_name": LONGEST_FACILITY_NAME, **_longest_fields(kind)}
    if kind == "qc-sample":
        longest["tests"] = every_default_test()
    return longest


def longest_variants(kind: str) -> list[LabelData]:
    """The kind's longest data with each status text it can carry (which is longest depends on
    the language), or alone for a kind without one."""
    longest = longest_data(kind)
    return [{**longest, "status_text": s} for s in STATUS_TEXTS.get(kind, ())] or [longest]
