"""QC values and limits in the reader's words. A result stores its value and the limit it was
judged against as text in the specification's words (``98.5 % of label``, ``≥ 70 %``,
``no growth``): the record as entered, which stays as it is. Shown to a reader, the
specification's words (units, the choices of qualitative tests, the test names) are put in the
reader's language and the numbers written with the reader's decimal sign."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from mfg import i18n
from mfg.db import PROJECT_ROOT
from mfg.i18n import extract_defaults

SPECIFICATION = PROJECT_ROOT / "mfg" / "defaults" / "specification.toml"
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
# The words limit_text joins criteria with (mfg.qc.rules), as a limit reads them.
CONNECTIVES = (
    i18n.pgettext_noop("QC limit", "or"),
    i18n.pgettext_noop("QC limit", "and"),
)
NO_LIMIT = i18n.N_("reported (no limit)")


@cache
def specification_words() -> tuple[str, ...]:
    """The default specification's words the catalog holds, the longest first (so that ``no
    growth`` is put in other words before ``growth``)."""
    with SPECIFICATION.open("rb") as fileobj:
        words = {m for _, _, m, _ in extract_defaults.specification_words(fileobj, (), (), {})}
    return tuple(sorted(words | {NO_LIMIT}, key=len, reverse=True))


def qc_text(text: str | None) -> str:
    """A stored QC value or limit in the reader's words and number format."""
    if not text:
        return text or ""
    shown = DECIMAL.sub(lambda m: i18n.format_number(Decimal(m.group())), text)
    for word in specification_words():
        if word in shown:
            shown = shown.replace(word, i18n.raw_gettext(word))
    for connective in CONNECTIVES:
        shown = shown.replace(f" {connective} ", f" {i18n.pgettext('QC limit', connective)} ")
    return shown


@dataclass(frozen=True)
class QcText:
    """A stored QC value or limit as the parameter of a message: as stored by ``str()``, in the
    reader's words by :meth:`localized` (see mfg.i18n.localize)."""

    text: str

    def __str__(self) -> str:
        return self.text

    def localized(self) -> str:
        return qc_text(self.text)
