"""Every text of a label fits its box by the font's metrics, or the label is not printed.

The rule (labels/README.md, "How a text fits its box"): a text's box is ``max_width_mm`` wide
where the layout gives it, otherwise the room left to the label's right edge less
``EDGE_MARGIN_MM``. A value too wide for its box at the layout's size is set smaller, in
``SIZE_STEP_PT`` steps, down to ``MIN_FONT_PT``. Still too wide there, it wraps at its spaces onto
up to ``max_lines`` lines (at the largest size at which it then fits). A list that still does not
fit prints the element's ``overflow_text`` with the number of its items, where the layout has one.
Anything else refuses the label (``LabelTextDoesNotFit``): a text is never cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.labeling.fields import LabelData, label_text, printed
from mfg.labeling.fonts import font_for, width_mm

if TYPE_CHECKING:
    from mfg.labeling.layout import Layout, TextElement

# 4 pt: capitals about 1 mm tall, 12 dots high at the label printers' 300 dpi — the smallest size
# still read without a loupe on a tube. No text is ever set smaller.
MIN_FONT_PT = 4.0
SIZE_STEP_PT = 0.25
# Label printers place the print within about ±0.5 mm of the label's edge.
EDGE_MARGIN_MM = 1.0
LINE_PITCH = 1.2  # baseline to baseline, as a multiple of the font size
BOX_PAD = 0.15  # a boxed text's padding on each side, as a multiple of the font size
ASCENT = 0.8  # the first baseline below a text's top, as a multiple of the font size
POINT_MM = 25.4 / 72
LIST_SEPARATOR = ", "


class LabelTextDoesNotFit(MfgError):
    code = "label_text_does_not_fit"
    status_code = 422
    default_message = N_("A text does not fit its box on the label; nothing was printed.")


@dataclass(frozen=True)
class FittedText:
    """A text as it is printed: its value (or its count), font, size and lines."""

    element: TextElement
    value: str
    font: str
    size_pt: float
    lines: tuple[str, ...]

    @property
    def width_mm(self) -> float:
        return max(
            needed_mm(line, self.font, self.size_pt, self.element.boxed) for line in self.lines
        )

    def baselines_mm(self) -> list[tuple[str, float]]:
        """Each line with its baseline, in millimetres from the label's top edge."""
        size_mm = self.size_pt * POINT_MM
        top = self.element.y_mm + ASCENT * size_mm
        return [(line, top + index * LINE_PITCH * size_mm) for index, line in enumerate(self.lines)]


def needed_mm(text: str, font: str, size_pt: float, boxed: bool = False) -> float:
    """The width a text takes on the label, its box's padding included."""
    pad = 2 * BOX_PAD * size_pt * POINT_MM if boxed else 0.0
    return width_mm(text, font, size_pt) + pad


def box_width_mm(layout: Layout, element: TextElement) -> float:
    """``max_width_mm`` where the layout gives it, else the room to the right edge less a margin."""
    room = layout.width_mm - EDGE_MARGIN_MM - element.x_mm
    return min(element.max_width_mm, room) if element.max_width_mm else room


def reserved_height_mm(element: TextElement) -> float:
    """The height a text may take: ``max_lines`` lines at the layout's size."""
    return ((element.max_lines - 1) * LINE_PITCH + 1) * element.size_pt * POINT_MM


def value_of(element: TextElement, data: LabelData) -> str:
    """What a text prints, in the current language: a fixed word of the layout in the labels'
    words, a field's value as ``fields.printed`` gives it."""
    if element.text is not None:
        return label_text(element.text)
    return printed(element.field, data[element.field])


def overflow_of(element: TextElement) -> str | None:
    """The text a list prints instead when it cannot fit, in the current language."""
    return label_text(element.overflow_text) if element.overflow_text is not None else None


def wrap(
    value: str, *, font: str, size_pt: float, box_mm: float, max_lines: int, boxed: bool = False
) -> tuple[str, ...] | None:
    """The value broken at its spaces into the fewest lines that fit the box (greedy filling is
    optimal for the count), or None when a word alone is too wide or more lines are needed.
    The lines joined by single spaces are the value again, exactly."""
    lines: list[str] = []
    for word in value.split(" "):
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and needed_mm(joined, font, size_pt, boxed) <= box_mm:
            lines[-1] = joined
        elif needed_mm(word, font, size_pt, boxed) <= box_mm:
            lines.append(word)
        else:
            return None
    return tuple(lines) if len(lines) <= max_lines else None


def _one_line_size(value: str, font: str, element: TextElement, box_mm: float) -> float | None:
    """The largest size, from the layout's down to MIN_FONT_PT, at which the value fits one line.
    A text's width grows in proportion to its size, so the size is computed, not searched."""
    needed = needed_mm(value, font, element.size_pt, element.boxed)
    if needed <= box_mm:
        return element.size_pt
    size = math.floor(element.size_pt * box_mm / needed / SIZE_STEP_PT) * SIZE_STEP_PT
    while size >= MIN_FONT_PT and needed_mm(value, font, size, element.boxed) > box_mm:
        size -= SIZE_STEP_PT  # floating-point rounding at the very edge of the box
    return size if size >= MIN_FONT_PT else None


def _sizes(nominal: float) -> list[float]:
    """The sizes a text may take, largest first: its layout's size down to MIN_FONT_PT."""
    steps = math.floor((nominal - MIN_FONT_PT) / SIZE_STEP_PT + 1e-9)
    return [nominal - step * SIZE_STEP_PT for step in range(steps + 1)]


def _set(layout: Layout, element: TextElement, value: str) -> FittedText | None:
    """The value on one line if it fits at MIN_FONT_PT or larger, else wrapped over max_lines."""
    font, box = font_for(element.font, value), box_width_mm(layout, element)
    size = _one_line_size(value, font, element, box)
    if size is not None:
        return FittedText(element, value, font, size, (value,))
    if element.max_lines == 1:
        return None
    for size in _sizes(element.size_pt):
        lines = wrap(
            value,
            font=font,
            size_pt=size,
            box_mm=box,
            max_lines=element.max_lines,
            boxed=element.boxed,
        )
        if lines is not None:
            return FittedText(element, value, font, size, lines)
    return None


def counted(overflow_text: str, value: str) -> str:
    """The overflow text of a list, ``{count}`` replaced by the number of its items."""
    return overflow_text.replace("{count}", str(len(value.split(LIST_SEPARATOR))))


# The refusal, by whether the text is a field's or the layout's own, on one line or several
_DOES_NOT_FIT = {
    (True, True): N_(
        "The %(field)s text of the %(kind)s label does not fit its %(box)s mm box even at "
        "%(min_pt)s pt on one line: %(text)s. Nothing was printed: shorten the text or change "
        "the layout (%(file)s)."
    ),
    (True, False): N_(
        "The %(field)s text of the %(kind)s label does not fit its %(box)s mm box even at "
        "%(min_pt)s pt on %(lines)s lines: %(text)s. Nothing was printed: shorten the text or "
        "change the layout (%(file)s)."
    ),
    (False, True): N_(
        "The fixed text of the %(kind)s label does not fit its %(box)s mm box even at "
        "%(min_pt)s pt on one line: %(text)s. Nothing was printed: shorten the text or change "
        "the layout (%(file)s)."
    ),
    (False, False): N_(
        "The fixed text of the %(kind)s label does not fit its %(box)s mm box even at "
        "%(min_pt)s pt on %(lines)s lines: %(text)s. Nothing was printed: shorten the text or "
        "change the layout (%(file)s)."
    ),
}


def _does_not_fit(layout: Layout, element: TextElement, value: str) -> LabelTextDoesNotFit:
    box = box_width_mm(layout, element)
    template = _DOES_NOT_FIT[(element.field is not None, element.max_lines == 1)]
    params = {
        "field": element.field,
        "kind": layout.kind,
        "box": f"{box:.1f}",
        "min_pt": f"{MIN_FONT_PT:g}",
        "lines": element.max_lines,
        "text": repr(value),
        "file": f"labels/{layout.kind}.toml",
    }
    return LabelTextDoesNotFit(
        template,
        params=params,
        details={
            "kind": layout.kind,
            "field": element.field,
            "text": value,
            "box_mm": round(box, 2),
            "max_lines": element.max_lines,
            "min_font_pt": MIN_FONT_PT,
        },
    )


def fit_text(layout: Layout, element: TextElement, value: str) -> FittedText | None:
    """A text set to fit its box (module docstring), None when empty; refused, never cut."""
    if not value:
        return None
    fitted = _set(layout, element, value)
    overflow = overflow_of(element)
    if fitted is None and overflow is not None:
        fitted = _set(layout, element, counted(overflow, value))
    if fitted is None:
        raise _does_not_fit(layout, element, value)
    return fitted


def fit_label(layout: Layout, data: LabelData) -> list[FittedText]:
    """Every non-empty text of a label set to fit its box, or LabelTextDoesNotFit."""
    fitted = (fit_text(layout, element, value_of(element, data)) for element in layout.texts)
    return [text for text in fitted if text is not None]
