"""Labels as PDF (reportlab): one label per page at the layout's exact size, or a sheet of many.

Bar codes are drawn as vector rectangles from the same modules that scan-back decoded. The mono
fonts are DejaVu Sans Mono (Debian's fonts-dejavu-core), which separates 0/O and 1/I — the DIN
and its check character are printed with them. Sans text uses the PDF base font Helvetica when it
fits its WinAnsi encoding (nothing to embed, which keeps a label PDF fast to make) and DejaVu Sans
otherwise (Cyrillic). Without DejaVu installed, the base fonts serve.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import LabelData
from mfg.labeling.layout import BarcodeElement, Layout, TextElement

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


def _font_for(style: str, value: str) -> str:
    if style.startswith("sans"):
        try:
            value.encode("cp1252")  # the base fonts' WinAnsi encoding
        except UnicodeEncodeError:
            return FONTS[style]
        return _BASE[style]
    return FONTS[style]


def _draw_text(canvas: Canvas, layout: Layout, element: TextElement, value: str, oy: float) -> None:
    if not value:
        return
    font, size = _font_for(element.font, value), element.size_pt
    if element.max_width_mm:
        while size > 4 and pdfmetrics.stringWidth(value, font, size) > element.max_width_mm * mm:
            size -= 0.5
    x = element.x_mm * mm
    baseline = oy + (layout.height_mm - element.y_mm) * mm - size * 0.8
    canvas.setFont(font, size)
    canvas.drawString(x, baseline, value)
    if element.boxed:
        width = pdfmetrics.stringWidth(value, font, size)
        pad = size * 0.15
        canvas.setLineWidth(0.6)
        canvas.rect(x - pad, baseline - size * 0.22, width + 2 * pad, size * 1.05)


def _draw_barcode(
    canvas: Canvas, layout: Layout, element: BarcodeElement, data: str, oy: float
) -> None:
    module = element.module_mm * mm
    left = element.x_mm * mm
    top = oy + (layout.height_mm - element.y_mm) * mm
    if element.symbology == "code128":
        height = element.height_mm * mm
        x = left + CODE128_QUIET_MODULES * module
        run = 0
        modules = code128_modules(data) + "0"
        for index, bit in enumerate(modules):  # merge adjacent bars into one rectangle
            if bit == "1":
                run += 1
            elif run:
                canvas.rect(
                    x + (index - run) * module, top - height, run * module, height, stroke=0, fill=1
                )
                run = 0
        return
    rows = datamatrix_modules(data)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                canvas.rect(
                    left + (x + 1) * module,
                    top - (y + 2) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )


def draw_label(
    canvas: Canvas, layout: Layout, data: LabelData, *, origin_y: float = 0.0, origin_x: float = 0.0
) -> None:
    canvas.saveState()
    canvas.translate(origin_x, 0)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setStrokeColorRGB(0, 0, 0)
    for line in layout.lines:
        canvas.setLineWidth(line.width_mm * mm)
        top = origin_y + layout.height_mm * mm
        canvas.line(line.x1_mm * mm, top - line.y1_mm * mm, line.x2_mm * mm, top - line.y2_mm * mm)
    for text in layout.texts:
        _draw_text(
            canvas, layout, text, text.text if text.text is not None else data[text.field], origin_y
        )
    for barcode in layout.barcodes:
        _draw_barcode(canvas, layout, barcode, data[barcode.field], origin_y)
    canvas.restoreState()


def label_pdf(layout: Layout, labels: Sequence[LabelData], *, title: str) -> bytes:
    """One label per page, each page exactly the label's size."""
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer, pagesize=(layout.width_mm * mm, layout.height_mm * mm), pageCompression=1
    )
    canvas.setTitle(title)
    canvas.setAuthor("mfg")
    for data in labels:
        draw_label(canvas, layout, data)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sheet_pdf(
    layout: Layout, labels: Sequence[LabelData], *, title: str, gap_mm: float = 4
) -> bytes:
    """Many labels tiled on A4 pages (for sheet printers), in rows from the top left."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    page_w, page_h = A4
    margin, gap = 10 * mm, gap_mm * mm
    w, h = layout.width_mm * mm, layout.height_mm * mm
    columns = max(1, int((page_w - 2 * margin + gap) // (w + gap)))
    rows = max(1, int((page_h - 2 * margin + gap) // (h + gap)))
    for index, data in enumerate(labels):
        slot = index % (columns * rows)
        if index and slot == 0:
            canvas.showPage()
        row, column = divmod(slot, columns)
        x = margin + column * (w + gap)
        y = page_h - margin - (row + 1) * h - row * gap
        draw_label(canvas, layout, data, origin_x=x, origin_y=y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
