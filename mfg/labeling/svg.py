"""A label as SVG for the screen: the same layout and bar code modules as the PDF."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import LabelData
from mfg.labeling.layout import Layout

POINT_MM = 0.3528
_FAMILY = {"sans": "DejaVu Sans, sans-serif", "mono": "DejaVu Sans Mono, monospace"}


def label_svg(layout: Layout, data: LabelData) -> str:
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
    for text in layout.texts:
        value = text.text if text.text is not None else data[text.field]
        if not value:
            continue
        size = text.size_pt * POINT_MM
        family = _FAMILY["mono" if text.font.startswith("mono") else "sans"]
        weight = "bold" if text.font.endswith("bold") else "normal"
        fit = (
            f' textLength="{text.max_width_mm}" lengthAdjust="spacingAndGlyphs"'
            if (text.max_width_mm and len(value) * size * 0.6 > text.max_width_mm)
            else ""
        )
        out.append(
            f'<text x="{text.x_mm}" y="{text.y_mm + size * 0.8:.2f}" font-size="{size:.2f}" '
            f'font-family={quoteattr(family)} font-weight="{weight}"{fit}>{escape(value)}</text>'
        )
        if text.boxed:
            width = len(value) * size * 0.62 + size * 0.3
            out.append(
                f'<rect x="{text.x_mm - size * 0.15:.2f}" y="{text.y_mm - size * 0.05:.2f}" '
                f'width="{width:.2f}" height="{size * 1.05:.2f}" fill="none" stroke="#000" '
                'stroke-width="0.2"/>'
            )
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
