"""The fonts labels are drawn with, and their metrics: what a text is measured with is what the
PDF draws it with.

The mono fonts are DejaVu Sans Mono (Debian's fonts-dejavu-core), which separates 0/O and 1/I —
the DIN and its check character are printed with them. Sans text uses the PDF base font Helvetica
when it fits its WinAnsi encoding (nothing to embed, which keeps a label PDF fast to make) and
DejaVu Sans otherwise (Cyrillic). Without DejaVu installed, the base fonts serve.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_TTF = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
}
_BASE = {
    "sans": "Helvetica",
    "sans-bold": "Helvetica-Bold",
    "mono": "Courier",
    "mono-bold": "Courier-Bold",
}


def _register_fonts() -> dict[str, str]:
    names = {}
    for key, filename in _TTF.items():
        path = _DEJAVU / filename
        if path.exists():
            name = f"mfg-{key}"
            pdfmetrics.registerFont(TTFont(name, str(path)))
            names[key] = name
        else:
            names[key] = _BASE[key]
    return names


FONTS = _register_fonts()


def font_for(style: str, value: str) -> str:
    """The registered font a value of a style is drawn with (Helvetica only for WinAnsi text)."""
    if style.startswith("sans"):
        try:
            value.encode("cp1252")  # the base fonts' WinAnsi encoding
        except UnicodeEncodeError:
            return FONTS[style]
        return _BASE[style]
    return FONTS[style]


def width_mm(text: str, font: str, size_pt: float) -> float:
    """The advance width of a text in a registered font, by the font's own metrics."""
    return pdfmetrics.stringWidth(text, font, size_pt) / mm
