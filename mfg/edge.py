"""What any input may hold at all, whatever its field: the machine limits at the edge.

``mfg.quantities`` (its sibling) holds what a *measurement* may plausibly be; this module holds
what a *request* may carry before any rule reads it: no control characters (a NUL answered 500
on PostgreSQL and was stored silently on SQLite), no integer the database cannot hold, no time
that overflows when converted to UTC. It is a separate module because these limits belong to
every field of every entry point (bodies, query and path parameters, page forms), not to a
quantity; one web dependency (``mfg.web.edge``) applies them to every request.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from mfg.errors import InvalidInput
from mfg.i18n import N_

# Every integer column is BIGINT or INTEGER: an input beyond signed 64 bits cannot be stored
# (and overflowed into a 500). Counts are further bounded by mfg.quantities.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Its refusal, the field named first (a catalog message: mfg.quantities reads numbers with it too)
BEYOND_64_BITS = N_("%(field)s: is beyond what can be stored (a signed 64-bit integer)")

# Plausible years of any time the application reads: birth years (1900 on), collection,
# manufacturing and expiry dates (well before 2200). Year 1 with a positive UTC offset
# overflowed converting to UTC.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200

# Multi-line free text (comments, reasons) legitimately holds TAB, LF and CR.
MULTILINE = frozenset("\t\n\r")
# A bar-code scanner sends GS (ASCII 29, the GS1 FNC1 separator), and ISO/IEC 15434 envelopes
# (``[)>`` RS 06 GS … RS EOT) hold RS and EOT: scan fields keep accepting them, so the parser
# (mfg.identifiers.scan) sees what the scanner read.
SCANNER = frozenset("\x1d\x1e\x04")
# Fields that take what a scanner sends (the global scan box, the scan forms and APIs).
SCAN_FIELDS = frozenset(
    {
        "code",
        "scan",
        "scanned",
        "biopsy",
        "dose",
        "entity_id",
        "lot",
        "tube",
        "wristband",
        "source",
        "tests",
        "username",
        "receiver_username",
        "medium_lots",
        "reagent_lots",
        "formulation_lots",
    }
)

_ISO_TIME = re.compile(r"[+-]?\d{4,6}-\d{2}-\d{2}([T ].*)?").fullmatch


def _is_control(char: str) -> bool:
    """C0, DEL and C1 (Unicode category Cc)."""
    return unicodedata.category(char) == "Cc"


def control_character(text: str, *, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first control character of ``text`` that is not ``allowed``, or None."""
    for char in text:
        if _is_control(char) and char not in allowed:
            return char
    return None


def _field_name(field: str) -> str:
    """``tests.2`` is an item of the field ``tests``."""
    parts = [part for part in field.split(".") if not part.isdigit()]
    return parts[-1] if parts else ""


def refuse(field: str, message: str, *, code: str | None = None, **params: Any) -> InvalidInput:
    """The refusal of ``field``: ``message`` is a catalog message naming the field first
    (``%(field)s: …``) and its other ``params``; the field's entry in the details holds what
    follows the name."""
    values = {"field": field.replace("_", " ") or N_("request"), **params}
    problem = message.partition(": ")[2] % values
    return InvalidInput(
        message,
        params=values,
        details={"field": field, "fields": [{"field": field, "message": problem}]},
        code=code,
    )


# A time outside the plausible years answers the code the domain's own time checks answer.
TIME_IMPLAUSIBLE = "time_implausible"


def check_text(field: str, text: str, *, multiline: bool) -> None:
    """Rule: no text field holds a control character (NUL, C0, DEL, C1); free text keeps its
    TAB, LF and CR, and a scan field the separators a scanner sends."""
    allowed = MULTILINE if multiline else frozenset()
    if _field_name(field) in SCAN_FIELDS:
        allowed = allowed | SCANNER | MULTILINE
    char = control_character(text, allowed=allowed)
    if char is not None:
        raise refuse(
            field,
            N_("%(field)s: holds a control character (%(char)s), which is refused"),
            char=f"U+{ord(char):04X}",
        )
    _check_time_text(field, text)


def fits_64_bits(number: int) -> bool:
    return INT64_MIN <= number <= INT64_MAX


def check_integer(field: str, number: int) -> None:
    """Rule: every integer input fits a signed 64-bit column."""
    if not fits_64_bits(number):
        raise refuse(field, BEYOND_64_BITS)


def check_time(field: str, moment: date) -> None:
    """Rule: every date and time lies in the plausible years, so its conversion to UTC never
    overflows."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise refuse(
            field,
            N_("%(field)s: the year must lie between %(earliest)s and %(latest)s"),
            code=TIME_IMPLAUSIBLE,
            earliest=EARLIEST_YEAR,
            latest=LATEST_YEAR,
        )


def _check_time_text(field: str, text: str) -> None:
    """A value written as an ISO date or time is held to the plausible years."""
    if not _ISO_TIME(text.strip()):
        return
    try:
        moment: date = datetime.fromisoformat(text.strip())
    except ValueError:
        if re.fullmatch(r"[+-]?\d{4,6}-", text.strip()[:5]) is None:
            return
        year = text.strip().lstrip("+-")[:4]
        if year.isdigit() and not EARLIEST_YEAR <= int(year) <= LATEST_YEAR:
            raise refuse(
                field,
                N_("%(field)s: the year must lie between %(earliest)s and %(latest)s"),
                code=TIME_IMPLAUSIBLE,
                earliest=EARLIEST_YEAR,
                latest=LATEST_YEAR,
            ) from None
        return
    check_time(field, moment)


def _digits_fit(digits: str) -> bool:
    return len(digits) <= 20 and fits_64_bits(int(digits))


def check_parameter(field: str, text: str, *, integer: bool = False) -> None:
    """A query or path parameter: one line, and, where the parameter is an integer, within
    64 bits (a digit string in a text parameter, a GS1 scan say, is left to its reader)."""
    check_text(field, text, multiline=False)
    stripped = text.strip()
    if integer and stripped.lstrip("+-").isdigit() and not _digits_fit(stripped):
        raise refuse(field, BEYOND_64_BITS)


def check_form_field(field: str, text: str) -> None:
    """A page form's field: text areas keep their line breaks. Its numbers are read (and
    bounded) by the form helpers of ``mfg.web.forms`` through ``mfg.quantities``."""
    check_text(field, text, multiline=True)


def check_json(value: Any, field: str = "") -> None:
    """Every string, integer and time of a JSON body, at any depth, named by its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            check_text(name, str(key), multiline=False)
            check_json(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{field}.{index}" if field else str(index))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        check_integer(field, value)
    elif isinstance(value, str):
        check_text(field, value, multiline=True)
        # An integer field reads "123" as 123 too: digits beyond 64 bits are refused outside
        # scan fields (a GS1 scan is a long digit string, read by its parser).
        digits = value.strip()
        scan = _field_name(field) in SCAN_FIELDS
        if not scan and digits.lstrip("+-").isdigit() and not _digits_fit(digits):
            raise refuse(field, BEYOND_64_BITS)
