"""Labels as PDF (reportlab): one label per page at the layout's exact size, or a sheet of many.

Bar codes are drawn as vector rectangles from the same modules that scan-back decoded. Texts are
drawn as ``mfg.labeling.fit`` set them: the font, size and lines measured to fit their boxes
(fonts: ``mfg.labeling.fonts``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import LabelData
from mfg.labeling.fit import BOX_PAD, FittedText, fit_label, needed_mm
from mfg.labeling.fonts import FONTS as FONTS  # re-exported: other PDFs draw with these fonts
from mfg.labeling.layout import BarcodeElement, Layout


def drawn_lines(layout: Layout, text: FittedText, *, origin_y: float = 0.0) -> list[tuple]:
    """Each line of a fitted text with where it is drawn: (line, x, baseline) in PDF points."""
    top = origin_y + layout.height_mm * mm
    return [(line, text.element.x_mm * mm, top - y * mm) for line, y in text.baselines_mm()]


def _draw_text(canvas: Canvas, layout: Layout, text: FittedText, oy: float) -> None:
    canvas.setFont(text.font, text.size_pt)
    lines = drawn_lines(layout, text, origin_y=oy)
    for line, x, baseline in lines:
        canvas.drawString(x, baseline, line)
    if text.element.boxed:
        size, (_, x, baseline) = text.size_pt, lines[0]
        pad = size * BOX_PAD
        canvas.setLineWidth(0.6)
        width = needed_mm(text.lines[0], text.font, size, boxed=True) * mm
        canvas.rect(x - pad, baseline - size * 0.22, width, size * 1.05)


def _runs(bits: str) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules ("1") in a row of modules."""
    return [(m.start(), m.end() - m.start()) for m in re.finditer("1+", bits)]


def _draw_barcode(
    canvas: Canvas, layout: Layout, element: BarcodeElement, data: str, oy: float
) -> None:
    """One filled path per bar code, a rectangle per run of adjacent dark modules: a tenth of
    the operators of a rectangle per module, so the label is small and reads back fast."""
    module = element.module_mm * mm
    left = element.x_mm * mm
    top = oy + (layout.height_mm - element.y_mm) * mm
    path = canvas.beginPath()
    if element.symbology == "code128":
        height = element.height_mm * mm
        x = left + CODE128_QUIET_MODULES * module
        for start, length in _runs(code128_modules(data)):
            path.rect(x + start * module, top - height, length * module, height)
    else:
        for y, row in enumerate(datamatrix_modules(data)):
            bits = "".join("1" if dark else "0" for dark in row)
            for start, length in _runs(bits):
                path.rect(
                    left + (start + 1) * module, top - (y + 2) * module, length * module, module
                )
    canvas.drawPath(path, stroke=0, fill=1)


def draw_label(
    canvas: Canvas, layout: Layout, data: LabelData, *, origin_y: float = 0.0, origin_x: float = 0.0
) -> None:
    """A label drawn with every text fitted to its box (or LabelTextDoesNotFit: nothing drawn)."""
    texts = fit_label(layout, data)
    canvas.saveState()
    canvas.translate(origin_x, 0)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setStrokeColorRGB(0, 0, 0)
    for line in layout.lines:
        canvas.setLineWidth(line.width_mm * mm)
        top = origin_y + layout.height_mm * mm
        canvas.line(line.x1_mm * mm, top - line.y1_mm * mm, line.x2_mm * mm, top - line.y2_mm * mm)
    for text in texts:
        _draw_text(canvas, layout, text, origin_y)
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
