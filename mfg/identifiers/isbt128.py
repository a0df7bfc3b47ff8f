"""ISBT 128 data structures (docs/isbt128.md): DIN, check character, flags, product code, expiry.

Pure functions and value objects; nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from stdnum.iso7064 import mod_37_2

from mfg.config import FIN_PATTERN
from mfg.identifiers.errors import BadCheckCharacter, BadLength, UnknownStructure

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
DIN_LENGTH = 13
DIN_PATTERN = re.compile(r"^[A-NP-Z1-9][0-9]{4}[0-9]{2}[0-9]{6}$")
PRODUCT_CODE_PATTERN = re.compile(r"^[A-Z][0-9A-Z]{4}[0-9A-Z][0-9A-Z]{2}$")

DIN_START = "="
PRODUCT_CODE_START = "=<"
EXPIRY_START = "&>"

FLAG_NONE = "00"
FLAG_REPRINT = "05"
FLAG_MEANINGS = {
    "00": "no flag",
    "05": "repeated (reprinted) label",
    "06": "pilot tube",
    "07": "test tube",
    "10": "bacterial-testing sample",
}


def check_character(din13: str) -> str:
    """The ISO/IEC 7064 Mod 37-2 check character of a 13-character DIN
    (docs/isbt128.md#check-character)."""
    return mod_37_2.calc_check_digit(din13)


def check_value(din13: str) -> int:
    """The check character as its value 0–36 (what the 60–96 check flags carry)."""
    return ALPHABET.index(check_character(din13))


def describe_flags(flags: str) -> str:
    if flags in FLAG_MEANINGS:
        return FLAG_MEANINGS[flags]
    number = int(flags)
    if 20 <= number <= 59:
        return "locally defined flag"
    if 60 <= number <= 96:
        return "check flag"
    return "reserved flag"


@dataclass(frozen=True, slots=True)
class Din:
    """A Donation Identification Number: FIN (5) + year (2) + sequence (6)."""

    fin: str
    year: int  # two digits, 0–99
    sequence: int

    def __post_init__(self) -> None:
        if not FIN_PATTERN.match(self.fin):
            raise UnknownStructure(
                "%(fin)s is not an ISBT 128 facility number (FIN).", params={"fin": repr(self.fin)}
            )
        if not 0 <= self.year <= 99 or not 0 < self.sequence <= 999_999:
            raise BadLength("A DIN has a 2-digit year and a 6-digit sequence number.")

    @classmethod
    def parse(cls, din13: str) -> Din:
        if len(din13) != DIN_LENGTH:
            raise BadLength(
                "A DIN has 13 characters; %(din)s has %(length)s.",
                params={"din": repr(din13), "length": len(din13)},
            )
        if not DIN_PATTERN.match(din13):
            raise UnknownStructure(
                "%(din)s is not a DIN (FIN, year, sequence).", params={"din": repr(din13)}
            )
        return cls(din13[:5], int(din13[5:7]), int(din13[7:]))

    def __str__(self) -> str:
        return f"{self.fin}{self.year:02d}{self.sequence:06d}"

    @property
    def check(self) -> str:
        return check_character(str(self))

    @property
    def eye_readable(self) -> str:
        """Grouped for people: FIN, year, sequence (the boxed check character is printed apart)."""
        return f"{self.fin} {self.year:02d} {self.sequence:06d}"

    def check_flags(self) -> str:
        """The 60–96 flag pair that carries the check value inside the bar code."""
        return f"{60 + check_value(str(self)):02d}"

    def barcode_data(self, flags: str = FLAG_NONE) -> str:
        """Data structure 001 as encoded in a bar code: ``=`` + DIN + two flag characters."""
        return f"{DIN_START}{self}{flags}"


@dataclass(frozen=True, slots=True)
class ProductCode:
    """Data structure 003: product description code (5), collection type (1), division (2)."""

    description: str
    collection_type: str = "V"
    division: str = "00"

    def __post_init__(self) -> None:
        if not PRODUCT_CODE_PATTERN.match(str(self)):
            raise UnknownStructure(
                "%(code)s is not an ISBT 128 product code.", params={"code": str(self)}
            )

    @classmethod
    def parse(cls, code8: str) -> ProductCode:
        if len(code8) != 8:
            raise BadLength(
                "A product code has 8 characters after '=<'; %(code)s has %(length)s.",
                params={"code": repr(code8), "length": len(code8)},
            )
        return cls(code8[:5], code8[5], code8[6:])

    def __str__(self) -> str:
        return f"{self.description}{self.collection_type}{self.division}"

    def barcode_data(self) -> str:
        return f"{PRODUCT_CODE_START}{self}"

    @staticmethod
    def division_code(index: int) -> str:
        """Division of a split product: 0 → ``A0``, 1 → ``B0``, … 25 → ``Z0``, 26 → ``AA``…"""
        if not 0 <= index < 26 * 27:
            raise ValueError("too many divisions")
        first, second = divmod(index, 26)
        if first == 0:
            return f"{chr(65 + second)}0"
        return f"{chr(64 + first)}{chr(65 + second)}"


def format_expiry(moment: datetime, tz: tzinfo) -> str:
    """Data structure 005 ``&>cyyjjjhhmm`` in local time (c is the century digit, 0 = 20xx)."""
    local = moment.astimezone(tz)
    century = local.year // 100 - 20
    if not 0 <= century <= 9:
        raise ValueError("year outside the range ISBT 128 can encode")
    return f"{EXPIRY_START}{century}{local:%y}{local.timetuple().tm_yday:03d}{local:%H%M}"


def parse_expiry(data10: str, tz: tzinfo) -> datetime:
    """The instant an ``&>`` expiry (10 digits after the identifier) names, as aware UTC."""
    if len(data10) != 10 or not data10.isdigit():
        raise BadLength("An expiry date-time has 10 digits after '&>' (cyyjjjhhmm).")
    year = 2000 + int(data10[0]) * 100 + int(data10[1:3])
    day, hour, minute = int(data10[3:6]), int(data10[6:8]), int(data10[8:10])
    days_in_year = 366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365
    if not 1 <= day <= days_in_year or hour > 23 or minute > 59:
        raise UnknownStructure(
            "&>%(data)s is not a valid expiry date and time.", params={"data": data10}
        )
    start = datetime(year, 1, 1, hour, minute, tzinfo=tz)
    return (start + timedelta(days=day - 1)).astimezone(UTC)


def typed_compact(text: str) -> str:
    """Typed text without the spaces and dashes people group a code with, upper-cased."""
    return "".join(text.replace("-", " ").split()).upper()


def canonical_typed_din(text: str) -> str:
    """The 13-character DIN of one typed by hand with its check character (spaces and dashes
    allowed, as the eye-readable DIN is grouped: ``A9999 26 000001 K``).

    Refused when the check character is wrong or missing.
    """
    compact = typed_compact(text)
    if len(compact) == DIN_LENGTH:
        raise BadLength(
            "Type the DIN with its check character (the boxed character printed after it)."
        )
    if len(compact) != DIN_LENGTH + 1:
        raise BadLength(
            "A DIN with its check character has 14 characters, not %(length)s.",
            params={"length": len(compact)},
        )
    din13 = compact[:DIN_LENGTH]
    if not DIN_PATTERN.match(din13) or din13.endswith("000000"):
        Din.parse(din13)  # raises the specific error
        raise UnknownStructure("A DIN's sequence number is never 000000.")
    if compact[-1] != check_character(din13):
        grouped = f"{din13[:5]} {din13[5:7]} {din13[7:]}"
        raise BadCheckCharacter(
            "The check character %(check)s does not match DIN %(din)s: the DIN was mistyped or "
            "misread.",
            params={"check": repr(compact[-1]), "din": grouped},
        )
    return din13


def verify_typed_din(text: str) -> Din:
    """A DIN typed by hand with its check character (spaces allowed): refused if K is wrong."""
    return Din.parse(canonical_typed_din(text))


TYPED_DOSE_LENGTH = DIN_LENGTH + 1 + 8  # the DIN, its check character, the product code


def split_typed_dose(text: str) -> tuple[str, str]:
    """The DIN and the product code of a dose typed by hand as its label and pages print it:
    the DIN with its check character, then the product code, in any grouping
    (``A9999 26 000001 K S1234VA0``, ``A9999-26-000001-K S1234 V A0``).

    Refused when the check character is wrong or missing, or the product code malformed.
    """
    compact = typed_compact(text)
    if len(compact) == TYPED_DOSE_LENGTH - 1:
        raise BadLength(
            "Type the dose's DIN with its check character (the boxed character printed after "
            "it), then its product code."
        )
    if len(compact) != TYPED_DOSE_LENGTH:
        raise BadLength(
            "A dose typed by hand is its DIN, check character and product code: "
            "%(expected)s characters, not %(length)s.",
            params={"expected": TYPED_DOSE_LENGTH, "length": len(compact)},
        )
    din13 = canonical_typed_din(compact[: DIN_LENGTH + 1])
    return din13, str(ProductCode.parse(compact[DIN_LENGTH + 1 :]))
