"""Read labels back as a scanner and a person would: rasterise the PDF, decode every bar code."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image


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
