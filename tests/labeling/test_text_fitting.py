"""Every text fits its box by the font's metrics: shrunk, wrapped where allowed, else refused."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mfg.errors import MfgError
from mfg.labeling.fields import TEST_NOTICE, sample_data
from mfg.labeling.layout import LayoutError, load_layout, parse_layout
from mfg.labeling.pdf import label_pdf
from mfg.labeling.zpl import label_zpl
from mfg.models import LabelPrint
from mfg.users.scan import staff_code
from tests.factories import add_user, bearer
from tests.labeling.helpers import drawn_texts, page_width_mm, read_text

LONG_NAME = (
    "Anna-Maria Konstantinovna Alexandrovskaya-Voskresenskaya-Rimskaya-Korsakova "
    "von Hohenzollern-Sigmaringen und Wurttemberg-Teck"
)
QC_LAYOUT = load_layout("qc-sample").model_dump(exclude_none=True)


def qc_layout(**tests_element) -> str:
    """The shipped QC-sample layout with its tests text changed, as TOML."""
    lines = ['kind = "qc-sample"', 'title = "QC sample"', "width_mm = 50", "height_mm = 25"]
    for text in QC_LAYOUT["texts"]:
        if text.get("field") == "tests":
            text = {k: v for k, v in text.items() if k not in ("max_lines", "overflow_text")}
            text |= tests_element
        lines.append("[[texts]]")
        lines += [
            f"{key} = {value!r}".replace("True", "true").replace("False", "false")
            for key, value in text.items()
        ]
    for barcode in QC_LAYOUT["barcodes"]:
        lines.append("[[barcodes]]")
        lines += [f"{key} = {value!r}" for key, value in barcode.items()]
    return "\n".join(lines).replace("'", '"') + "\n"


def texts_stay_on_the_page(pdf: bytes) -> bool:
    width = page_width_mm(pdf)
    return all(t.left_mm >= 0 and t.right_mm <= width for page in drawn_texts(pdf) for t in page)


def test_a_text_that_cannot_fit_refuses_the_print(
    client: TestClient, engine, settings, users
) -> None:
    """A badge for a name too long even at the minimum size is refused, naming it; none logged."""
    user = add_user(engine, settings, "longname", "qc", full_name=LONG_NAME)
    response = client.get(
        f"/api/labels/badge/{staff_code(user)}.pdf", headers=bearer(client, "technician")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "label_text_does_not_fit"
    assert error["details"]["field"] == "full_name" and error["details"]["kind"] == "badge"
    assert error["details"]["text"] == LONG_NAME and "full_name" in error["message"]
    with Session(engine) as session:
        assert session.exec(select(LabelPrint)).all() == []


@pytest.mark.parametrize("render", [label_pdf, label_zpl])
def test_a_text_that_cannot_fit_is_refused_by_every_renderer(render) -> None:
    data = {**sample_data("badge"), "full_name": LONG_NAME}
    with pytest.raises(MfgError) as refused:
        render(load_layout("badge"), [data], **({"title": "b"} if render is label_pdf else {}))
    assert refused.value.code == "label_text_does_not_fit" and refused.value.status_code == 422


def test_a_text_that_is_too_wide_is_shrunk_to_fit_its_box_but_never_below_4_pt() -> None:
    name = "Katsiaryna Aliaksandrauna Verkhovskaya-Kaliasnikava"
    pdf = label_pdf(load_layout("badge"), [{**sample_data("badge"), "full_name": name}], title="b")
    [drawn] = [t for t in drawn_texts(pdf)[0] if t.text == name]
    assert 4 <= drawn.size_pt < 13  # the layout's 13 pt would not fit
    assert drawn.right_mm <= 5 + 76  # its box: x_mm + max_width_mm


def test_a_layout_that_cannot_fit_its_longest_sample_is_refused_when_loaded() -> None:
    """The QC tests on one 30 mm line cannot hold every test of the default specification."""
    with pytest.raises(LayoutError, match=r"text 4 \(tests\) does not fit its 30.0 mm box"):
        parse_layout(qc_layout(max_width_mm=30))


def test_a_text_box_past_the_label_edge_is_refused_when_loaded() -> None:
    with pytest.raises(LayoutError, match=r"text 4 \(tests\) its box runs past the label"):
        parse_layout(qc_layout(max_width_mm=49, max_lines=3, overflow_text="{count} tests"))


def test_a_text_that_would_print_over_another_is_refused_when_loaded() -> None:
    """Three lines of tests from 18 mm down would print over the test notice."""
    with pytest.raises(LayoutError, match=r"text 4 \(tests\) and text 5 \(test_notice\) print"):
        parse_layout(qc_layout(y_mm=17, max_lines=3, overflow_text="{count} tests"))


def test_a_text_that_cannot_fit_one_line_at_4_pt_wraps_where_the_layout_allows_it() -> None:
    layout = parse_layout(qc_layout(max_lines=3, overflow_text="{count} tests"))
    tests = "VIAB, COUNT, CD73, CD90, CD105, CD34, CD45, CD14, CD19, HLA-DR, STER-AER, STER-ANA"
    data = {**sample_data("qc-sample"), "tests": tests}
    pdf = label_pdf(layout, [data], title="qc")
    others = {value for field, value in data.items() if field != "tests"}
    lines = [t for t in drawn_texts(pdf)[0] if t.text not in others]
    assert len(lines) == 2 and " ".join(t.text for t in lines) == tests
    assert all(line.size_pt >= 4 and line.right_mm <= 2 + 47 for line in lines)


@pytest.mark.parametrize(
    "tests",
    [
        "STER-AER, STER-ANA, MYCO, ENDO",
        "VIAB-IP, VIAB, COUNT, CD73, CD90, CD105, CD34, CD45, CD14, CD19, HLA-DR, STER-AER, "
        "STER-ANA, GRAM, MYCO, ENDO, ENDO-KG, KARYO",  # every test of the default specification
        ", ".join(f"CUSTOM-TEST-{n:02}" for n in range(1, 41)),
    ],
    ids=["four", "every default test", "forty"],
)
def test_qc_label_lists_every_test_or_counts_them(tests: str) -> None:
    """Every test code is printed, whole and on the label, or the label says how many there are."""
    data = {**sample_data("qc-sample"), "tests": tests}
    pdf = label_pdf(load_layout("qc-sample"), [data], title="qc")
    text, count = read_text(pdf), len(tests.split(", "))
    assert tests in text or f"{count} tests — see sample record" in text
    assert tests in text or count == 40  # the default specification's tests are listed
    assert texts_stay_on_the_page(pdf)


@pytest.mark.parametrize("kind", ["biopsy", "qc-sample"])
def test_the_biopsy_and_qc_labels_show_the_whole_test_notice(kind: str) -> None:
    pdf = label_pdf(load_layout(kind), [sample_data(kind)], title=kind)
    assert TEST_NOTICE in [t.text for t in drawn_texts(pdf)[0]]
    assert texts_stay_on_the_page(pdf)
