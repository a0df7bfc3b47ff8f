"""Label layouts as data: one TOML file per label kind in ``labels/`` (keys: labels/README.md).

A layout is refused, with a message naming the problem, when it uses a field its kind does not
have, puts a bar code (or text) off the label, or asks for a module below 0.17 mm.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mfg.db import PROJECT_ROOT
from mfg.errors import MfgError
from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import KIND_FIELDS, sample_data

LAYOUT_DIR = PROJECT_ROOT / "labels"
MIN_MODULE_MM = 0.17
FONTS = ("sans", "sans-bold", "mono", "mono-bold")


class LayoutError(MfgError):
    code = "invalid_layout"
    status_code = 422
    default_message = "The label layout is invalid."


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x_mm: float = Field(ge=0)
    y_mm: float = Field(ge=0)  # from the top edge


class TextElement(_Element):
    field: str | None = None
    text: str | None = None
    font: Literal["sans", "sans-bold", "mono", "mono-bold"] = "sans"
    size_pt: float = Field(default=8, gt=2, le=72)
    boxed: bool = False  # the ISBT 128 check character is printed in a box
    max_width_mm: float | None = Field(default=None, gt=0)  # shrink the font to fit

    @model_validator(mode="after")
    def _one_source(self) -> TextElement:
        if (self.field is None) == (self.text is None):
            raise ValueError("a text has either 'field' or 'text'")
        return self


class BarcodeElement(_Element):
    field: str
    symbology: Literal["code128", "datamatrix"]
    module_mm: float = Field(gt=0)
    height_mm: float = Field(default=8, gt=0)  # Code 128 only


class LineElement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x1_mm: float
    y1_mm: float
    x2_mm: float
    y2_mm: float
    width_mm: float = Field(default=0.3, gt=0)


class Layout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    title: str
    width_mm: float = Field(gt=5, le=300)
    height_mm: float = Field(gt=5, le=300)
    texts: list[TextElement] = Field(default_factory=list)
    barcodes: list[BarcodeElement] = Field(default_factory=list)
    lines: list[LineElement] = Field(default_factory=list)


def barcode_size_mm(element: BarcodeElement, data: str) -> tuple[float, float]:
    """Width and height on the label, quiet zones included (Code 128: 10 modules each side)."""
    if element.symbology == "code128":
        modules = len(code128_modules(data)) + 2 * CODE128_QUIET_MODULES
        return modules * element.module_mm, element.height_mm
    rows = datamatrix_modules(data)
    return (len(rows[0]) + 2) * element.module_mm, (len(rows) + 2) * element.module_mm


def check_layout(layout: Layout) -> Layout:
    """Every problem of a layout, checked against its kind's fields and longest sample data."""
    if layout.kind not in KIND_FIELDS:
        raise LayoutError(f"Unknown label kind {layout.kind!r}; kinds: {', '.join(KIND_FIELDS)}.")
    fields, sample = KIND_FIELDS[layout.kind], sample_data(layout.kind)
    problems = []
    for element in [*layout.texts, *layout.barcodes]:
        if element.field is not None and element.field not in fields:
            problems.append(
                f"unknown field {element.field!r} (a {layout.kind} label has: "
                f"{', '.join(sorted(fields))})"
            )
    for index, barcode in enumerate(layout.barcodes, 1):
        where = f"bar code {index} ({barcode.field})"
        if barcode.module_mm < MIN_MODULE_MM:
            problems.append(f"{where}: module {barcode.module_mm} mm is below {MIN_MODULE_MM} mm")
        if barcode.field not in fields:
            continue
        width, height = barcode_size_mm(barcode, sample[barcode.field])
        if barcode.x_mm + width > layout.width_mm or barcode.y_mm + height > layout.height_mm:
            problems.append(
                f"{where} is off the label: it needs {width:.1f} × {height:.1f} mm at "
                f"({barcode.x_mm}, {barcode.y_mm}) on a {layout.width_mm} × "
                f"{layout.height_mm} mm label"
            )
    for index, text in enumerate(layout.texts, 1):
        if text.x_mm >= layout.width_mm or text.y_mm >= layout.height_mm:
            problems.append(f"text {index} ({text.field or text.text!r}) starts off the label")
    if problems:
        raise LayoutError(
            f"The {layout.kind} label layout is invalid: " + "; ".join(problems),
            details={"problems": problems},
        )
    return layout


def parse_layout(source: str, *, name: str = "layout") -> Layout:
    try:
        raw = tomllib.loads(source)
        layout = Layout.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(f"{name} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise LayoutError(
            f"{name}: " + "; ".join(problems), details={"problems": problems}
        ) from exc
    return check_layout(layout)


def layout_path(kind: str) -> Path:
    return LAYOUT_DIR / f"{kind}.toml"


@lru_cache(maxsize=32)
def _load(kind: str, mtime_ns: int) -> Layout:
    path = layout_path(kind)
    layout = parse_layout(path.read_text(encoding="utf-8"), name=path.name)
    if layout.kind != kind:
        raise LayoutError(f"{path.name} says kind = {layout.kind!r}; it must be {kind!r}.")
    return layout


def load_layout(kind: str) -> Layout:
    """The validated layout of a label kind; re-read when its file changes."""
    path = layout_path(kind)
    if kind not in KIND_FIELDS or not path.exists():
        raise LayoutError(f"There is no label layout for {kind!r}.")
    return _load(kind, path.stat().st_mtime_ns)
