"""A label as SVG for the screen: the same layout and bar code modules as the PDF."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import LabelData
from mfg.labeling.fit import BOX_PAD, POINT_MM, FittedText, fit_label, needed_mm
from mfg.labeling.layout import Layout

_FAMILY = {"sans": "DejaVu Sans, sans-serif", "mono": "DejaVu Sans Mono, monospace"}


def _text(text: FittedText) -> list[str]:
    """A fitted text as the PDF prints it: its size, its lines, its box."""
    element, size = text.element, text.size_pt * POINT_MM
    family = _FAMILY["mono" if element.font.startswith("mono") else "sans"]
    weight = "bold" if element.font.endswith("bold") else "normal"
    # a field's value is the record's data (a material's name, the facility's): shown as it is
    as_is = ' data-as-is=""' if element.field else ""
    out = [
        f'<text x="{element.x_mm}" y="{baseline:.2f}" font-size="{size:.2f}" '
        f'font-family={quoteattr(family)} font-weight="{weight}"{as_is}>{escape(line)}</text>'
        for line, baseline in text.baselines_mm()
    ]
    if element.boxed:
        width = needed_mm(text.lines[0], text.font, text.size_pt, boxed=True)
        out.append(
            f'<rect x="{element.x_mm - size * BOX_PAD:.2f}" y="{element.y_mm - size * 0.05:.2f}" '
            f'width="{width:.2f}" height="{size * 1.05:.2f}" fill="none" stroke="#000" '
            'stroke-width="0.2"/>'
        )
    return out


def label_svg(layout: Layout, data: LabelData) -> str:
    """The label as the PDF draws it, for the screen (or LabelTextDoesNotFit)."""
    w, h = layout.width_mm, layout.height_mm
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        f'width="{w}mm" height="{h}mm" class="label-preview">',
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#fff" stroke="#999" '
        'stroke-width="0.2"/>',
    ]
    for line in layout.lines:
        out.append(
            f'<line x1="{line.x1_mm}" y1="{line.y1_mm}" x2="{line.x2_mm}" y2="{line.y2_mm}" '
            f'stroke="#000" stroke-width="{line.width_mm}"/>'
        )
    for text in fit_label(layout, data):
        out.extend(_text(text))
    for barcode in layout.barcodes:
        value, m = data[barcode.field], barcode.module_mm
        if barcode.symbology == "code128":
            x0 = barcode.x_mm + CODE128_QUIET_MODULES * m
            for index, bit in enumerate(code128_modules(value)):
                if bit == "1":
                    out.append(
                        f'<rect x="{x0 + index * m:.3f}" y="{barcode.y_mm}" width="{m}" '
                        f'height="{barcode.height_mm}"/>'
                    )
        else:
            for y, row in enumerate(datamatrix_modules(value)):
                for x, dark in enumerate(row):
                    if dark:
                        out.append(
                            f'<rect x="{barcode.x_mm + (x + 1) * m:.3f}" '
                            f'y="{barcode.y_mm + (y + 1) * m:.3f}" width="{m}" height="{m}"/>'
                        )
    out.append("</svg>")
    return "".join(out)
