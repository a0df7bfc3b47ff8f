"""Read a label PDF back before it is printed: every text whole, where it was set.

As scan-back decodes every bar code, this reads the rendered PDF's text with pypdf and refuses the
label unless every line of every text is drawn whole at the origin it was set at (which
``mfg.labeling.fit`` proved inside its box), and the lines of each text, joined, are the field's
whole value (or, for a list printed as its count, that count's text).
"""

from __future__ import annotations

import io

from pypdf import PageObject, PdfReader

from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.labeling.fields import LabelData
from mfg.labeling.fit import FittedText, counted, fit_label, overflow_of, value_of
from mfg.labeling.layout import Layout
from mfg.labeling.pdf import drawn_lines

TOLERANCE_PT = 0.05
Drawn = tuple[str, float, float]  # text, x, baseline (PDF points)


class LabelTextMismatch(MfgError):
    code = "label_text_mismatch"
    status_code = 500
    default_message = N_("A text of the label did not read back whole; the label was not printed.")


# The refusal, by whether the text is a field's or the layout's own
_MISMATCH = {
    True: N_(
        "The %(field)s of the %(kind)s label read back as %(read)s, not %(expected)s; nothing "
        "was printed."
    ),
    False: N_(
        "The fixed text of the %(kind)s label read back as %(read)s, not %(expected)s; nothing "
        "was printed."
    ),
}


def _page_texts(page: PageObject) -> list[Drawn]:
    found: list[Drawn] = []

    def visit(text: str, cm: list, tm: list, font: object, size: float) -> None:
        text = text.strip("\n")
        if text:
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            found.append((text, x, y))

    page.extract_text(visitor_text=visit)
    return found


def drawn_texts(pdf: bytes) -> list[list[Drawn]]:
    """Per page, every text the PDF draws, with its origin."""
    return [_page_texts(page) for page in PdfReader(io.BytesIO(pdf)).pages]


def _read_at(drawn: list[Drawn], x: float, y: float) -> str | None:
    for text, tx, ty in drawn:
        if abs(tx - x) <= TOLERANCE_PT and abs(ty - y) <= TOLERANCE_PT:
            return text
    return None


def _whole(text: FittedText, data: LabelData) -> str:
    """What the text must read as: the field's value, or its list's count where it is counted."""
    value = value_of(text.element, data)
    overflow = overflow_of(text.element)
    return counted(overflow, value) if overflow and text.value != value else value


def _check(layout: Layout, text: FittedText, data: LabelData, drawn: list[Drawn]) -> None:
    expected = drawn_lines(layout, text)
    read = [_read_at(drawn, x, y) for _, x, y in expected]
    whole = _whole(text, data)
    if read != [line for line, _, _ in expected] or " ".join(read) != whole:
        raise LabelTextMismatch(
            _MISMATCH[text.element.field is not None],
            params={
                "field": text.element.field,
                "kind": layout.kind,
                "read": repr(read),
                "expected": repr(whole),
            },
            details={
                "kind": layout.kind,
                "field": text.element.field,
                "expected": whole,
                "read": read,
            },
        )


def verify_text(pdf: bytes, layout: Layout, data: LabelData) -> None:
    """Every page of a label PDF shows every non-empty text whole where it was set, or nothing
    is printed (LabelTextMismatch)."""
    texts = fit_label(layout, data)
    for drawn in drawn_texts(pdf):
        for text in texts:
            _check(layout, text, data, drawn)
