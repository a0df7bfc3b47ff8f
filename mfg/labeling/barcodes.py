"""Bar code modules: Code 128 (python-barcode) and Data Matrix (zxing-cpp), and scan-back.

Renderers draw these modules as vector rectangles, so the printed code is exactly what was
verified by decoding it here.
"""

from __future__ import annotations

from functools import lru_cache

import zxingcpp
from barcode.codex import Code128
from PIL import Image

from mfg.errors import MfgError
from mfg.i18n import N_

CODE128_QUIET_MODULES = 10
_CODE_C_SWITCH = 99


class LabelBarcodeMismatch(MfgError):
    code = "barcode_mismatch"
    status_code = 500
    default_message = N_("A bar code did not decode to its data; the label was not printed.")


class _GuardedCode128(Code128):
    """python-barcode 0.16.1 drops a leading "99" (its issue 251): starting in set C, the
    value 99 (the digits "99") is taken for a switch to set C and folded into the start code.
    A switch can never be the first value of a symbol that starts in set C, so 99 stays data.
    """

    def _try_to_optimize(self, encoded: list[int]) -> list[int]:
        if encoded[1] == _CODE_C_SWITCH:
            return encoded
        return super()._try_to_optimize(encoded)


@lru_cache(maxsize=4096)
def code128_modules(data: str) -> str:
    """The symbol's modules as ``"1"`` (bar) and ``"0"`` (space), without quiet zones."""
    return _GuardedCode128(data).build()[0]


@lru_cache(maxsize=4096)
def datamatrix_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    """The ECC 200 symbol as rows of dark (True) modules, without quiet zone."""
    image = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.DataMatrix).to_image(
        scale=1, add_quiet_zones=False
    )
    return tuple(tuple(value < 128 for value in row) for row in memoryview(image).tolist())


def code128_image(data: str, *, scale: int = 2, height: int = 8) -> Image.Image:
    modules = code128_modules(data)
    quiet = CODE128_QUIET_MODULES
    image = Image.new("L", ((len(modules) + 2 * quiet) * scale, height), 255)
    for index, module in enumerate(modules):
        if module == "1":
            left = (quiet + index) * scale
            image.paste(0, (left, 0, left + scale, height))
    return image


def datamatrix_image(data: str, *, scale: int = 3) -> Image.Image:
    rows = datamatrix_modules(data)  # ECC 200, square or rectangular as the data needs
    image = Image.new("L", ((len(rows[0]) + 4) * scale, (len(rows) + 4) * scale), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, ((x + 2) * scale, (y + 2) * scale, (x + 3) * scale, (y + 3) * scale))
    return image


_FORMATS = {
    "code128": zxingcpp.BarcodeFormat.Code128,
    "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
}


def decode(image: Image.Image, symbology: str | None = None) -> list[str]:
    if symbology is None:
        return [result.text for result in zxingcpp.read_barcodes(image)]
    results = zxingcpp.read_barcodes(
        image, formats=_FORMATS[symbology], try_rotate=False, try_downscale=False
    )
    return [result.text for result in results]


def scan_back(symbology: str, data: str) -> None:
    """Render the bar code to an image and decode it; refuse the label on any mismatch."""
    image = code128_image(data) if symbology == "code128" else datamatrix_image(data)
    decoded = decode(image, symbology)
    if decoded != [data]:
        raise LabelBarcodeMismatch(
            "The %(symbology)s bar code for %(data)s decoded as %(decoded)s; nothing was printed.",
            params={"symbology": symbology, "data": repr(data), "decoded": repr(decoded)},
            details={"symbology": symbology, "expected": data, "decoded": decoded},
        )
