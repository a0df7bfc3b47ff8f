r"""Labels as ZPL II for Zebra thermal printers (8 dots/mm = 203 dpi by default).

Texts follow the same fitting rule as the PDF (``mfg.labeling.fit``): the same size and the same
lines, measured with the PDF's fonts, or the label is refused. The printer's own fonts are not
the PDF's, so each text is also a ``^FB`` field block as wide as its box with the layout's
``max_lines`` lines: were the printer's font wider than measured, it wraps inside the box rather
than printing past it. The planned line breaks are ``\&``; a value's own ``\`` is ``\\``.

Every label format starts with ``^CI28``: field data is UTF-8. It is written with ``^FH`` hex
escapes for the characters ZPL reserves (``^``, ``~``, ``_``) and for every character beyond ASCII
(its UTF-8 bytes, ``Д`` = ``_D0_94``), so the ZPL itself is plain ASCII; inside ``^BC`` (Code 128)
data a literal ``>`` is written ``><``, because ``>`` starts the subset-switch escapes there.

A text within Windows-1252 (English, the notices' dash) is set in the printer's font 0 (sans) or D
(mono), as ever; any other (Cyrillic) in Zebra's resident Unicode font Swiss 721,
``E:TT0003M_.FNT`` (``^A@``), which holds Latin, Cyrillic and Greek (labels/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from mfg.labeling.barcodes import CODE128_QUIET_MODULES
from mfg.labeling.fields import LabelData
from mfg.labeling.fit import LINE_PITCH, FittedText, box_width_mm, fit_label
from mfg.labeling.layout import BarcodeElement, Layout

POINT_MM = 0.3528
# Zebra's resident Unicode TrueType font (Swiss 721, WGL4: Latin, Cyrillic, Greek)
UNICODE_FONT = "E:TT0003M_.FNT"


def _hex_escaped(value: str) -> str:
    out = []
    for ch in value:
        if ch in "^~_":
            out.append(f"_{ord(ch):02X}")
        elif ord(ch) > 127:  # UTF-8 bytes as hex, printed with ^CI28
            out.extend(f"_{byte:02X}" for byte in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def code128_field_data(data: str) -> str:
    """The ``^FD`` content of a ``^BC`` field whose symbol must carry exactly ``data``."""
    return _hex_escaped(data).replace(">", "><")


def _dots(mm_value: float, dpmm: int) -> int:
    return max(1, round(mm_value * dpmm))


def _font(text: FittedText, height: int) -> str:
    """The printer font of a text, ``height`` dots high: font 0 (sans) or D (mono) for text within
    Windows-1252, else the resident Unicode font."""
    try:
        text.value.encode("cp1252")
    except UnicodeEncodeError:
        return f"^A@N,{height},{height},{UNICODE_FONT}"
    font = "^A0N" if text.element.font.startswith("sans") else "^ADN"
    return f"{font},{height},{height}"


def _text(layout: Layout, text: FittedText, dpmm: int) -> str:
    """A fitted text as one field block: its box's width, its layout's lines, its planned breaks."""
    element = text.element
    height = _dots(text.size_pt * POINT_MM, dpmm)
    x, y = _dots(element.x_mm, dpmm), _dots(element.y_mm, dpmm)
    width = int(box_width_mm(layout, element) * dpmm)  # rounded down: inside the box
    spacing = round((LINE_PITCH - 1) * height)
    data = "\\&".join(_hex_escaped(line.replace("\\", "\\\\")) for line in text.lines)
    command = (
        f"^FO{x},{y}{_font(text, height)}^FB{width},{element.max_lines},{spacing},L,0"
        f"^FH_^FD{data}^FS"
    )
    if element.boxed:
        box = round(height * 0.75 * len(text.value)) + 8
        command += f"^FO{x - 4},{y - 4}^GB{box},{height + 8},2^FS"
    return command


def _barcode(element: BarcodeElement, data: str, dpmm: int) -> str:
    module = _dots(element.module_mm, dpmm)
    y = _dots(element.y_mm, dpmm)
    if element.symbology == "code128":
        x = _dots(element.x_mm, dpmm) + CODE128_QUIET_MODULES * module
        height = _dots(element.height_mm, dpmm)
        return (
            f"^FO{x},{y}^BY{module},3,{height}^BCN,{height},N,N,N,N"
            f"^FH_^FD{code128_field_data(data)}^FS"
        )
    x = _dots(element.x_mm, dpmm) + module
    return f"^FO{x},{y + module}^BXN,{module},200^FH_^FD{_hex_escaped(data)}^FS"


def label_zpl(
    layout: Layout, labels: Sequence[LabelData], *, dpmm: int = 8, copies: int = 1
) -> str:
    """One ``^XA…^XZ`` format per label, every text fitted (or LabelTextDoesNotFit)."""
    formats = []
    for data in labels:
        texts = fit_label(layout, data)
        parts = [
            "^XA",
            "^CI28",
            f"^PW{_dots(layout.width_mm, dpmm)}",
            f"^LL{_dots(layout.height_mm, dpmm)}",
            "^LH0,0",
        ]
        for line in layout.lines:
            x, y = (
                _dots(min(line.x1_mm, line.x2_mm), dpmm),
                _dots(min(line.y1_mm, line.y2_mm), dpmm),
            )
            thickness = _dots(line.width_mm, dpmm)
            width = max(thickness, _dots(abs(line.x2_mm - line.x1_mm), dpmm))
            height = max(thickness, _dots(abs(line.y2_mm - line.y1_mm), dpmm))
            parts.append(f"^FO{x},{y}^GB{width},{height},{thickness}^FS")
        parts.extend(_text(layout, text, dpmm) for text in texts)
        for barcode in layout.barcodes:
            parts.append(_barcode(barcode, data[barcode.field], dpmm))
        parts += [f"^PQ{copies}", "^XZ"]
        formats.append("\n".join(p for p in parts if p))
    return "\n".join(formats) + "\n"
