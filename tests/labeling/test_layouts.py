"""Layouts are data: every kind's layout is valid; an invalid one is refused by name."""

import pytest

from mfg.labeling.fields import KIND_FIELDS, LABEL_KINDS, sample_data
from mfg.labeling.layout import LayoutError, load_layout, parse_layout

VALID = """
kind = "culture"
title = "Culture vessel"
width_mm = 60
height_mm = 30

[[barcodes]]
field = "vessel_barcode"
symbology = "code128"
x_mm = 1
y_mm = 1
module_mm = 0.25
height_mm = 8
"""


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_every_kind_has_a_valid_layout_in_the_labels_folder(kind: str) -> None:
    layout = load_layout(kind)
    assert layout.kind == kind and layout.barcodes
    assert set(sample_data(kind)) == set(KIND_FIELDS[kind])


def test_the_dose_label_is_100_by_100_mm() -> None:
    layout = load_layout("dose")
    assert (layout.width_mm, layout.height_mm) == (100, 100)


def test_a_valid_layout_parses() -> None:
    assert parse_layout(VALID).title == "Culture vessel"


def test_a_layout_with_an_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(LayoutError, match="unknown field 'donor_name'"):
        parse_layout(VALID.replace('field = "vessel_barcode"', 'field = "donor_name"'))


def test_a_barcode_off_the_label_is_refused() -> None:
    with pytest.raises(LayoutError, match="off the label"):
        parse_layout(VALID.replace("x_mm = 1", "x_mm = 40"))


def test_a_module_below_0_17_mm_is_refused() -> None:
    with pytest.raises(LayoutError, match=r"below 0\.17 mm"):
        parse_layout(VALID.replace("module_mm = 0.25", "module_mm = 0.15"))


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(LayoutError, match="colour"):
        parse_layout(VALID + 'colour = "red"\n')


def test_text_that_is_not_toml_is_refused() -> None:
    with pytest.raises(LayoutError, match="not valid TOML"):
        parse_layout("kind = ")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(LayoutError, match="Unknown label kind"):
        parse_layout(VALID.replace('kind = "culture"', 'kind = "pizza"'))
