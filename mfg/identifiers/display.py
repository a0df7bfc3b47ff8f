"""How people read each kind of code (docs/architecture.md#identifiers): one spelling per kind, on
every page.

- A local identifier (donor, culture vessel, QC sample, material lot, patient, staff member,
  deviation): hyphenated, ``CV-000123-K``.
- A DIN (biopsy, lot): the ISBT 128 eye-readable DIN, grouped, then its check character (printed
  boxed, as on the label): ``A9999 26 000123 K``.
- A dose: its lot's DIN spelled so, then its product code as the label prints it:
  ``A9999 26 000123 K S1234VA0``.

Bar codes, URLs and the API keep the compact identifiers (``CV000123K``, ``A999926000123``,
``A999926000123S1234VA0``). The scan (``parse_scan``) reads every spelling made here back,
re-validating the check characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape
from stdnum.iso7064 import mod_37_2

from mfg.identifiers.local import PREFIXES

_LOCAL = re.compile(r"([A-Z]{2})([0-9]{6})([0-9A-Z*])").fullmatch
_DIN_OR_DOSE = re.compile(r"([A-NP-Z1-9][0-9]{4})([0-9]{2})([0-9]{6})([A-Z][0-9A-Z]{7})?").fullmatch


@lru_cache(maxsize=2**14)
def _check_character(body: str) -> str:
    """Mod 37-2 (docs/isbt128.md#check-character), cached: a trace shows each lot's DIN on every one
    of its doses, and a page of thousands of codes is rendered at once."""
    return mod_37_2.calc_check_digit(body)


@dataclass(frozen=True, slots=True)
class Spelled:
    """A code as people read it: its text, a DIN's check character (printed boxed after it) and
    a dose's product code (after the check character)."""

    text: str
    check: str = ""
    product_code: str = ""

    def __str__(self) -> str:
        return " ".join(part for part in (self.text, self.check, self.product_code) if part)


def spelled(identifier: str) -> Spelled:
    """The display spelling of a stored identifier (a local code whose check character holds, a
    DIN, a dose); anything else is shown as it is."""
    local = _LOCAL(identifier)
    if (
        local
        and local[1] in PREFIXES
        and local[2] != "000000"
        and _check_character(identifier[:8]) == local[3]
    ):
        return Spelled(f"{local[1]}-{local[2]}-{local[3]}")
    din = _DIN_OR_DOSE(identifier)
    if din and din[3] != "000000":
        check = _check_character(identifier[:13])
        return Spelled(f"{din[1]} {din[2]} {din[3]}", check, din[4] or "")
    return Spelled(identifier)


def display_code(identifier: str) -> str:
    """The display spelling as plain text: ``CV-000123-K``, ``A9999 26 000123 K S1234VA0``."""
    return str(spelled(identifier))


def code_html(identifier: object, *, plain: bool = False) -> Markup | str:
    """The ``code`` filter of the pages: the display spelling, the check character boxed, in a
    ``code`` span that names the identifier it shows; ``plain`` for text (titles, dialogs)."""
    value = str(identifier)
    shown = spelled(value)
    if plain:
        return str(shown)
    if not shown.check and shown.text == value:  # not a code of ours (an allocation's number…)
        return escape(value)
    inner = shown.text
    if shown.check:
        inner += f' <span class="boxed">{shown.check}</span>'
    if shown.product_code:
        inner += f" {shown.product_code}"
    # A code matched its pattern: letters, digits, "*" and the spaces and hyphens put in here,
    # nothing to escape; built without escaping, a trace of thousands of codes renders fast.
    return Markup(f'<span class="code mono" data-code="{value}">{inner}</span>')  # noqa: S704
