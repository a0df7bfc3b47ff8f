"""Local identifiers (docs/architecture.md#identifiers): a short prefix, a 6-digit number, a
Mod 37-2 check character.

Printed as ``CV-000123-K`` for people; scanned or typed with or without the hyphens and spaces. A
mistyped code fails its check character instead of landing on another record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.iso7064 import mod_37_2

from mfg.i18n import N_
from mfg.identifiers.errors import BadCheckCharacter, BadLength, UnknownStructure

# The kinds of record that carry a local identifier, by prefix. Two letters each.
# The kinds are catalog messages: a refusal that names one reads it in the reader's language.
PREFIXES: dict[str, str] = {
    "DN": N_("donor"),
    "CV": N_("culture vessel"),
    "QS": N_("QC sample"),
    "ML": N_("material lot"),
    "PT": N_("patient"),
    "ST": N_("staff member"),
    "DV": N_("deviation"),
}
NUMBER_DIGITS = 6
_COMPACT = re.compile(r"[A-Z]{2}[0-9]{6}[0-9A-Z*]").fullmatch


@dataclass(frozen=True, slots=True)
class LocalId:
    prefix: str
    number: int

    def __post_init__(self) -> None:
        if self.prefix not in PREFIXES:
            raise UnknownStructure(
                "%(prefix)s is not a known identifier prefix.", params={"prefix": repr(self.prefix)}
            )
        if not 0 < self.number < 10**NUMBER_DIGITS:
            raise BadLength(
                "A local identifier number has %(digits)s digits.", params={"digits": NUMBER_DIGITS}
            )

    @property
    def body(self) -> str:
        return f"{self.prefix}{self.number:0{NUMBER_DIGITS}d}"

    @property
    def check(self) -> str:
        return mod_37_2.calc_check_digit(self.body)

    def __str__(self) -> str:
        """The compact form, as encoded in bar codes and used in URLs: ``CV000123K``."""
        return f"{self.body}{self.check}"

    @property
    def eye_readable(self) -> str:
        return f"{self.prefix}-{self.number:0{NUMBER_DIGITS}d}-{self.check}"

    @property
    def kind(self) -> str:
        return PREFIXES[self.prefix]


def looks_local(compact: str) -> bool:
    return len(compact) == 9 and compact[:2] in PREFIXES


def canonical_local(text: str) -> str:
    """``CV000123K`` from ``CV000123K`` or ``cv-000123-k``; refuses a wrong check character."""
    compact = text.replace("-", "").replace(" ", "").upper()
    match = _COMPACT(compact)
    if match is None or compact[:2] not in PREFIXES or compact[2:8] == "000000":
        if compact[:2] in PREFIXES:
            raise BadLength(
                "A %(kind)s code is 2 letters, 6 digits and a check character.",
                params={"kind": PREFIXES[compact[:2]]},
            )
        raise UnknownStructure(
            "%(text)s is not a code the system knows.", params={"text": repr(text)}
        )
    if mod_37_2.calc_check_digit(compact[:8]) != compact[8]:
        body = f"{compact[:2]}-{compact[2:8]}"
        raise BadCheckCharacter(
            "The check character of %(code)s is not %(check)s: the code was mistyped or misread.",
            params={"code": body, "check": repr(compact[8])},
        )
    return compact


def parse_local(text: str) -> LocalId:
    """Parse ``CV000123K`` or ``CV-000123-K`` (case-insensitive); refuse a wrong check character."""
    compact = canonical_local(text)
    return LocalId(compact[:2], int(compact[2:8]))
