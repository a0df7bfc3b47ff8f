"""Keyboard-layout recovery (docs/isbt128.md#keyboard-layouts).

A keyboard-wedge scanner types key positions. With the Russian ЙЦУКЕН layout active, the keys of
``=A9999`` arrive as ``=Ф9999``, ``=<`` as ``=Б`` and ``&>`` as ``?Ю``. This maps such text back to
the US-layout characters of the same keys. Hand-written: no library carries this table.
"""

from __future__ import annotations

import re

# Unshifted and shifted characters of the Russian (ЙЦУКЕН) layout, key by key, against the US
# layout of the same keys. Digits and "-=" are the same on both and need no entry.
_RU_UNSHIFTED = "ёйцукенгшщзхъфывапролджэячсмитьбю."
_US_UNSHIFTED = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./"
_RU_SHIFTED = 'Ё"№;:?ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,'
_US_SHIFTED = '~@#$^&QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>?'

RU_TO_US = str.maketrans(_RU_UNSHIFTED + _RU_SHIFTED, _US_UNSHIFTED + _US_SHIFTED)
# The Belarusian layout is the Russian one but for the keys O (ў for щ) and B (і for и); its
# apostrophe on "]" is left alone: it is a US character too.
_BY_ONLY, _US_OF_BY_ONLY = "ўЎіІ", "oObB"
CYRILLIC_TO_US = {**RU_TO_US, **str.maketrans(_BY_ONLY, _US_OF_BY_ONLY)}
_CYRILLIC_MARKERS = frozenset(_RU_UNSHIFTED[:-1] + _RU_SHIFTED + _BY_ONLY) - frozenset('"?;:,')
_MARKER_SEARCH = re.compile("[" + re.escape("".join(sorted(_CYRILLIC_MARKERS))) + "]").search


def typed_in_russian_layout(text: str) -> bool:
    """True when the text carries characters only the Russian or Belarusian layout produces."""
    return _MARKER_SEARCH(text) is not None


def recover_latin(text: str) -> tuple[str, bool]:
    """The text as typed on a US layout, and whether a Russian (or Belarusian) layout was
    detected and undone.

    Punctuation is only remapped when Cyrillic letters prove the Russian layout was active: a
    plain ``?`` or ``;`` on its own means what it says.
    """
    if not typed_in_russian_layout(text):
        return text, False
    return text.translate(CYRILLIC_TO_US), True
