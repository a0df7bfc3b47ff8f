"""The rendered label is read back before printing: every text whole, on the label, legible."""

import pytest

from mfg.labeling.fields import LABEL_KINDS, longest_data, sample_data
from mfg.labeling.fit import EDGE_MARGIN_MM, MIN_FONT_PT, box_width_mm
from mfg.labeling.layout import load_layout
from mfg.labeling.pdf import label_pdf
from mfg.labeling.readback import LabelTextMismatch, verify_text
from mfg.labeling.zpl import label_zpl
from tests.labeling.helpers import decoded, drawn_texts, page_width_mm, read_text, zpl_texts


def printed_values(kind: str) -> list[str]:
    """Every non-empty text the kind's layout prints of its longest data."""
    layout, data = load_layout(kind), longest_data(kind)
    values = [t.text if t.text is not None else data[t.field] for t in layout.texts]
    return [value for value in values if value]


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_every_shipped_label_prints_its_longest_sample_whole(kind: str) -> None:
    """Read back: every value whole, every text inside the label, none below 4 pt; codes scan."""
    layout, data = load_layout(kind), longest_data(kind)
    pdf = label_pdf(layout, [data], title=kind)
    text = read_text(pdf)
    for value in printed_values(kind):
        assert value in text, value
    width = page_width_mm(pdf)
    for drawn in drawn_texts(pdf)[0]:
        assert drawn.left_mm >= 0 and drawn.right_mm <= width - EDGE_MARGIN_MM + 1e-6, drawn
        assert drawn.size_pt >= MIN_FONT_PT, drawn
    assert decoded(pdf) == [sorted(data[b.field] for b in layout.barcodes)]
    verify_text(pdf, layout, data)  # the check made before every print agrees


def test_a_text_that_does_not_read_back_whole_stops_the_print() -> None:
    """A PDF whose test notice is cut ("…CLINICAL US") does not pass for the label's data."""
    layout, data = load_layout("biopsy"), sample_data("biopsy")
    cut = label_pdf(layout, [{**data, "test_notice": data["test_notice"][:-1]}], title="cut")
    with pytest.raises(LabelTextMismatch) as refused:
        verify_text(cut, layout, data)
    assert refused.value.code == "label_text_mismatch" and refused.value.status_code == 500
    assert refused.value.details["field"] == "test_notice"
    assert refused.value.details["read"] == ["TEST FACILITY — NOT FOR CLINICAL US"]


def test_a_label_whose_lines_were_moved_does_not_read_back() -> None:
    """The text must be where it was fitted: the same text drawn elsewhere is refused."""
    layout, data = load_layout("qc-sample"), sample_data("qc-sample")
    moved = layout.model_copy(
        update={"texts": [t.model_copy(update={"x_mm": t.x_mm + 1}) for t in layout.texts]}
    )
    with pytest.raises(LabelTextMismatch):
        verify_text(label_pdf(moved, [data], title="moved"), layout, data)


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_zpl_prints_the_fitted_lines_in_field_blocks_as_wide_as_their_boxes(kind: str) -> None:
    layout, data = load_layout(kind), longest_data(kind)
    blocks = zpl_texts(label_zpl(layout, [data]))
    elements = [t for t in layout.texts if (t.text if t.text is not None else data[t.field])]
    assert len(blocks) == len(elements)
    for (_, width, lines, parts), element in zip(blocks, elements, strict=True):
        value = element.text if element.text is not None else data[element.field]
        assert " ".join(parts) == value and len(parts) <= lines == element.max_lines
        assert width <= box_width_mm(layout, element) * 8


def test_the_qc_tests_wrap_over_three_lines_in_the_pdf_and_the_zpl() -> None:
    layout, data = load_layout("qc-sample"), longest_data("qc-sample")
    pdf_lines = [t.text for t in drawn_texts(label_pdf(layout, [data], title="q"))[0]]
    [(_, _, _, zpl_lines)] = [b for b in zpl_texts(label_zpl(layout, [data])) if b[2] == 3]
    assert len(zpl_lines) == 3 and all(line in pdf_lines for line in zpl_lines)
    assert " ".join(zpl_lines) == data["tests"]
