"""Label layouts as data: one TOML file per label kind in ``labels/`` (keys: labels/README.md).

A layout is refused, with a message naming the problem, when it uses a field its kind does not
have, puts a bar code (or text) off the label, asks for a module below 0.17 mm or a font below
``MIN_FONT_PT``, or cannot fit its kind's longest data (``fields.longest_data``, with each status
text the kind can carry) by the fitting rule of ``mfg.labeling.fit`` — in every language a label
may be printed in (``label_languages``): a word is often longer in Russian than in English.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mfg import i18n
from mfg.db import PROJECT_ROOT
from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.labeling.barcodes import CODE128_QUIET_MODULES, code128_modules, datamatrix_modules
from mfg.labeling.fields import KIND_FIELDS, LabelData, longest_data, longest_variants
from mfg.labeling.fit import (
    EDGE_MARGIN_MM,
    MIN_FONT_PT,
    LabelTextDoesNotFit,
    box_width_mm,
    fit_text,
    reserved_height_mm,
    value_of,
)
from mfg.quantities import counted

LAYOUT_DIR = PROJECT_ROOT / "labels"
MIN_MODULE_MM = 0.17
FONTS = ("sans", "sans-bold", "mono", "mono-bold")


class LayoutError(MfgError):
    code = "invalid_layout"
    status_code = 422
    default_message = N_("The label layout is invalid.")


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x_mm: float = Field(ge=0)
    y_mm: float = Field(ge=0)  # from the top edge


class TextElement(_Element):
    field: str | None = None
    text: str | None = None
    font: Literal["sans", "sans-bold", "mono", "mono-bold"] = "sans"
    size_pt: float = Field(default=8, ge=MIN_FONT_PT, le=72)
    boxed: bool = False  # the ISBT 128 check character is printed in a box
    max_width_mm: float | None = Field(default=None, gt=0)  # the box; else to the right edge
    max_lines: int = Field(default=1, ge=1, le=4)  # lines it may wrap onto at the minimum size
    # For a list ("VIAB, CD73, …") that cannot fit: printed instead, {count} = number of items.
    overflow_text: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> TextElement:
        if (self.field is None) == (self.text is None):
            raise ValueError("a text has either 'field' or 'text'")
        if self.overflow_text is not None and (
            self.field is None or "{count}" not in self.overflow_text
        ):
            raise ValueError("'overflow_text' is for a field, and says {count}")
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


def _unknown_fields(layout: Layout) -> list[str]:
    fields = KIND_FIELDS[layout.kind]
    return [
        f"unknown field {element.field!r} (a {layout.kind} label has: {', '.join(sorted(fields))})"
        for element in [*layout.texts, *layout.barcodes]
        if element.field is not None and element.field not in fields
    ]


def _barcode_problems(layout: Layout, data: LabelData) -> list[str]:
    """Every bar code has a module of at least MIN_MODULE_MM and stays on the label."""
    problems = []
    for index, barcode in enumerate(layout.barcodes, 1):
        where = f"bar code {index} ({barcode.field})"
        if barcode.module_mm < MIN_MODULE_MM:
            problems.append(f"{where}: module {barcode.module_mm} mm is below {MIN_MODULE_MM} mm")
        if barcode.field not in data:
            continue
        width, height = barcode_size_mm(barcode, data[barcode.field])
        if barcode.x_mm + width > layout.width_mm or barcode.y_mm + height > layout.height_mm:
            problems.append(
                f"{where} is off the label: it needs {width:.1f} × {height:.1f} mm at "
                f"({barcode.x_mm}, {barcode.y_mm}) on a {layout.width_mm} × "
                f"{layout.height_mm} mm label"
            )
    return problems


def _text_box_problem(layout: Layout, text: TextElement) -> str | None:
    """A text's box and its lines stay on the label, EDGE_MARGIN_MM inside its edges."""
    if text.x_mm >= layout.width_mm or text.y_mm >= layout.height_mm:
        return "starts off the label"
    if box_width_mm(layout, text) < (text.max_width_mm or 0) or box_width_mm(layout, text) <= 0:
        return f"its box runs past the label's right edge (less its {EDGE_MARGIN_MM} mm margin)"
    bottom = text.y_mm + reserved_height_mm(text)
    if bottom > layout.height_mm - EDGE_MARGIN_MM:
        return (
            f"its text on {counted(text.max_lines, 'line')} at {text.size_pt} pt reaches "
            f"{bottom:.1f} mm, past the label's bottom edge (less its {EDGE_MARGIN_MM} mm margin)"
        )
    return None


def _text_problems(layout: Layout, data: LabelData) -> list[str]:
    """Every text stays on the label and fits the kind's longest data (mfg.labeling.fit)."""
    problems = []
    for index, text in enumerate(layout.texts, 1):
        where = f"text {index} ({text.field or repr(text.text)})"
        problem = _text_box_problem(layout, text)
        if problem is not None:
            problems.append(f"{where} {problem}")
        elif text.field is None or text.field in data:
            try:
                fit_text(layout, text, value_of(text, data))
            except LabelTextDoesNotFit as error:
                d = error.details
                problems.append(
                    f"{where} does not fit its {d['box_mm']} mm box even at {MIN_FONT_PT:g} pt "
                    f"on {counted(d['max_lines'], 'line')} with the longest sample {d['text']!r}"
                )
    return problems


Box = tuple[str, float, float, float, float]  # what, left, top, right, bottom (mm)


def _boxes(layout: Layout, data: LabelData) -> list[Box]:
    """Where each text (at its longest, over its lines) and bar code (quiet zones in) prints."""
    boxes = []
    for index, text in enumerate(layout.texts, 1):
        fitted = fit_text(layout, text, value_of(text, data))
        if fitted is not None:
            right, bottom = text.x_mm + fitted.width_mm, text.y_mm + reserved_height_mm(text)
            boxes.append(
                (
                    f"text {index} ({text.field or repr(text.text)})",
                    text.x_mm,
                    text.y_mm,
                    right,
                    bottom,
                )
            )
    for index, barcode in enumerate(layout.barcodes, 1):
        width, height = barcode_size_mm(barcode, data[barcode.field])
        boxes.append(
            (
                f"bar code {index} ({barcode.field})",
                barcode.x_mm,
                barcode.y_mm,
                barcode.x_mm + width,
                barcode.y_mm + height,
            )
        )
    return boxes


def _overlaps(layout: Layout, data: LabelData) -> list[str]:
    """No two texts or bar codes print over each other (a wrapped line over the next text)."""
    boxes = _boxes(layout, data)
    return [
        f"{a[0]} and {b[0]} print over each other"
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


def label_languages() -> list[str]:
    """The languages a label may be printed in: English and every language with a compiled
    catalog (mfg.i18n.LANGUAGES), which the facility may choose (``MFG_LANGUAGE``)."""
    return [
        language
        for language in i18n.LANGUAGES
        if language == i18n.SOURCE_LANGUAGE
        or (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").exists()
    ]


def _fit_in_every_language(layout: Layout, *, overlaps: bool) -> list[str]:
    """Every text fits the kind's longest data, with each status text it can carry, and (where
    ``overlaps``) no two elements print over each other: in every language a label may be
    printed in, each problem named once, with its language where English has not met it."""
    problems: dict[str, str] = {}  # each problem, as met first, with its language
    for language in label_languages():
        with i18n.use_language(language):
            for data in longest_variants(layout.kind):
                found = _text_problems(layout, data)
                if overlaps and not found:
                    found = _overlaps(layout, data)
                for problem in found:
                    if language != i18n.SOURCE_LANGUAGE:
                        named = f"{problem} (in {i18n.LANGUAGES[language]}, {language})"
                    else:
                        named = problem
                    problems.setdefault(problem, named)
    return list(problems.values())


def check_layout(layout: Layout) -> Layout:
    """Every problem of a layout, checked against its kind's fields and longest sample data, in
    every language a label may be printed in."""
    if layout.kind not in KIND_FIELDS:
        raise LayoutError(
            "Unknown label kind %(kind)s; kinds: %(kinds)s.",
            params={"kind": repr(layout.kind), "kinds": ", ".join(KIND_FIELDS)},
        )
    data = longest_data(layout.kind)
    problems = [*_unknown_fields(layout), *_barcode_problems(layout, data)]
    problems += _fit_in_every_language(layout, overlaps=not problems)
    if problems:
        raise LayoutError(
            "The %(kind)s label layout is invalid: %(problems)s",
            params={"kind": layout.kind, "problems": "; ".join(problems)},
            details={"problems": problems},
        )
    return layout


def parse_layout(source: str, *, name: str = "layout") -> Layout:
    try:
        raw = tomllib.loads(source)
        layout = Layout.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(
            "%(name)s is not valid TOML: %(error)s", params={"name": name, "error": str(exc)}
        ) from exc
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise LayoutError(
            "%(name)s: %(problems)s",
            params={"name": name, "problems": "; ".join(problems)},
            details={"problems": problems},
        ) from exc
    return check_layout(layout)


def layout_path(kind: str) -> Path:
    return LAYOUT_DIR / f"{kind}.toml"


@lru_cache(maxsize=32)
def _load(kind: str, mtime_ns: int) -> Layout:
    path = layout_path(kind)
    layout = parse_layout(path.read_text(encoding="utf-8"), name=path.name)
    if layout.kind != kind:
        raise LayoutError(
            "%(file)s says kind = %(found)s; it must be %(kind)s.",
            params={"file": path.name, "found": repr(layout.kind), "kind": repr(kind)},
        )
    return layout


def load_layout(kind: str) -> Layout:
    """The validated layout of a label kind; re-read when its file changes."""
    path = layout_path(kind)
    if kind not in KIND_FIELDS or not path.exists():
        raise LayoutError("There is no label layout for %(kind)s.", params={"kind": repr(kind)})
    return _load(kind, path.stat().st_mtime_ns)
