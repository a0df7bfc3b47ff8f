"""Rendered labels scan back: PDF rasterised and decoded, ZPL field data, SVG preview."""

import io
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from mfg.labeling import barcodes
from mfg.labeling.fields import LABEL_KINDS, sample_data
from mfg.labeling.layout import load_layout
from mfg.labeling.pdf import label_pdf, sheet_pdf
from mfg.labeling.svg import label_svg
from mfg.labeling.zpl import code128_field_data, label_zpl
from tests.labeling.helpers import decoded, zpl_barcode_data


def expected_barcodes(kind: str) -> list[str]:
    data = sample_data(kind)
    return sorted(data[b.field] for b in load_layout(kind).barcodes)


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_every_barcode_of_the_pdf_label_decodes_to_its_data(kind: str) -> None:
    pdf = label_pdf(load_layout(kind), [sample_data(kind)], title=kind)
    assert decoded(pdf) == [expected_barcodes(kind)]


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_the_pdf_page_is_exactly_the_label_size(kind: str) -> None:
    layout = load_layout(kind)
    box = (
        PdfReader(io.BytesIO(label_pdf(layout, [sample_data(kind)], title=kind))).pages[0].mediabox
    )
    assert float(box.width) == pytest.approx(layout.width_mm / 25.4 * 72, abs=0.01)
    assert float(box.height) == pytest.approx(layout.height_mm / 25.4 * 72, abs=0.01)


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_every_barcode_of_the_zpl_label_carries_its_data(kind: str) -> None:
    zpl = label_zpl(load_layout(kind), [sample_data(kind)])
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert zpl_barcode_data(zpl) == expected_barcodes(kind)


def test_a_greater_than_sign_in_code128_zpl_data_is_escaped() -> None:
    assert code128_field_data("&>0270332359") == "&><0270332359"
    assert code128_field_data("=<S1234VA0") == "=<S1234VA0"
    assert code128_field_data("a^b~c_d") == "a_5Eb_7Ec_5Fd"


def test_the_dose_label_shows_din_groups_check_character_and_quadrant_texts() -> None:
    pdf = label_pdf(load_layout("dose"), [sample_data("dose")], title="dose")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in (
        "A9999 26 123456",
        "QUARANTINE",
        "FOR CLINICAL TRIAL USE ONLY",
        "TEST FACILITY",
        "EXPIRES",
        "S1234VA0",
    ):
        assert expected in text, expected
    assert sample_data("dose")["din_check"] in text


def test_no_test_facility_notice_on_labels_of_a_real_fin() -> None:
    data = {**sample_data("dose"), "test_notice": ""}
    text = PdfReader(io.BytesIO(label_pdf(load_layout("dose"), [data], title="d"))).pages[0]
    assert "TEST FACILITY" not in text.extract_text()


def test_a_sheet_of_many_labels_tiles_them_on_a4_pages() -> None:
    labels = [sample_data("qc-sample")] * 30
    pdf = sheet_pdf(load_layout("qc-sample"), labels, title="sheet")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    assert sum(len(page) for page in decoded(pdf, dpi=600)) == 30


def test_the_svg_preview_is_well_formed_and_draws_the_barcodes() -> None:
    svg = label_svg(load_layout("dose"), sample_data("dose"))
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg") and len(root) > 100
    assert "A9999 26 123456" in svg


printable = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30
)


@settings(max_examples=60, deadline=None)
@given(st.one_of(printable, printable.map(lambda s: "99" + s), st.just("99")))
def test_code128_round_trips_any_printable_ascii_including_a_leading_99(data: str) -> None:
    assert barcodes.decode(barcodes.code128_image(data)) == [data]


def test_the_unguarded_library_drops_a_leading_99_and_the_guard_keeps_it() -> None:
    from barcode.codex import Code128

    modules = Code128("99123").build()[0]
    assert modules != barcodes.code128_modules("99123")
    assert barcodes.decode(barcodes.code128_image("99123")) == ["99123"]
