"""Read labels back as a scanner and a person would: rasterise the PDF, decode every bar code,
read every text with where it is drawn."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import zxingcpp
from PIL import Image
from pypdf import PageObject, PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics


def rasterise(pdf: bytes, *, dpi: int = 600) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / "label.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source), str(Path(workdir) / "page")],
            check=True,
            capture_output=True,
        )
        return [Image.open(path).copy() for path in sorted(Path(workdir).glob("page*.png"))]


def decoded(pdf: bytes, *, dpi: int = 600) -> list[list[str]]:
    """Per page, the sorted texts of every bar code zxing-cpp finds."""
    return [
        sorted(r.text for r in zxingcpp.read_barcodes(page)) for page in rasterise(pdf, dpi=dpi)
    ]


_FIELD = re.compile(r"\^(BC|BX)[^\^]*(?:\^FH_)?\^FD(.*?)\^FS")


def zpl_barcode_data(zpl: str) -> list[str]:
    """The data each ZPL bar code field will encode: hex escapes undone, ``><`` read as ``>``."""
    found = []
    for symbology, raw in _FIELD.findall(zpl):
        text = re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), raw)
        found.append(text.replace("><", ">") if symbology == "BC" else text)
    return sorted(found)


# The fonts a label PDF names, and the registered reportlab font with the same metrics.
_METRICS = {
    "Helvetica": "Helvetica",
    "Helvetica-Bold": "Helvetica-Bold",
    "DejaVuSans": "mfg-sans",
    "DejaVuSans-Bold": "mfg-sans-bold",
    "DejaVuSansMono": "mfg-mono",
    "DejaVuSansMono-Bold": "mfg-mono-bold",
}


@dataclass(frozen=True)
class Drawn:
    """A text as a PDF draws it: where it starts and ends on the page, in millimetres."""

    text: str
    left_mm: float
    right_mm: float
    baseline_mm: float  # from the page's bottom edge
    size_pt: float


def _page_drawn(page: PageObject) -> list[Drawn]:
    found: list[Drawn] = []

    def visit(text, cm, tm, font, size) -> None:
        text = text.strip("\n")
        if not text:
            return
        name = _METRICS[str(font["/BaseFont"]).lstrip("/").split("+")[-1]]
        size = size * tm[0] * cm[0]
        left = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        width = pdfmetrics.stringWidth(text, name, size)
        baseline = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        found.append(Drawn(text, left / mm, (left + width) / mm, baseline / mm, size))

    page.extract_text(visitor_text=visit)
    return found


def drawn_texts(pdf: bytes) -> list[list[Drawn]]:
    """Per page, every text the PDF draws, measured with the metrics of the font it names."""
    return [_page_drawn(page) for page in PdfReader(io.BytesIO(pdf)).pages]


def page_width_mm(pdf: bytes) -> float:
    return float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width) / mm


def read_text(pdf: bytes) -> str:
    """The first page's texts, in the order drawn, joined by spaces (a wrapped text reads whole)."""
    return " ".join(drawn.text for drawn in drawn_texts(pdf)[0])


_ZPL_TEXT = re.compile(
    r"\^A([0D]N|@N),(\d+),\d+(?:,([A-Z]:[\w.]+))?\^FB(\d+),(\d+),-?\d+,L,0\^FH_\^FD(.*?)\^FS"
)


def zpl_text_fields(zpl: str) -> list[tuple[str, int, int, int, list[str]]]:
    """Each ZPL text field block: its font (``0``, ``D``, or the named font of ``^A@``), font
    height, block width (dots), lines allowed, and its lines (hex escapes undone as UTF-8)."""
    found = []
    for font, height, named, width, lines, raw in _ZPL_TEXT.findall(zpl):
        text = re.sub(r"_([0-9A-F]{2})", lambda m: f"%{m.group(1)}", raw)
        parts = [unquote(part) for part in text.split("\\&")]
        found.append((named or font[0], int(height), int(width), int(lines), parts))
    return found


def zpl_texts(zpl: str) -> list[tuple[int, int, int, list[str]]]:
    """Each ZPL text field block: font height, block width (dots), lines allowed, its lines."""
    return [field[1:] for field in zpl_text_fields(zpl)]
