"""One display spelling per kind of code (mfg.identifiers.display), and the scan reads back every
way a person may type what a page shows: grouped with spaces or dashes, in either case, under a
Russian layout; a wrong check character is refused as such."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfg.identifiers.display import code_html, display_code
from mfg.identifiers.errors import BadCheckCharacter, BadLength
from mfg.identifiers.isbt128 import ALPHABET, Din, ProductCode
from mfg.identifiers.local import PREFIXES, LocalId
from mfg.identifiers.scan import TokenKind, parse_scan
from tests.identifiers.test_scan import typed_in_russian_layout

dins = st.builds(
    Din,
    st.sampled_from(["A9999", "B1234", "W0000", "91234", "Z0001"]),
    st.integers(0, 99),
    st.integers(1, 999_999),
)
product_codes = st.builds(
    ProductCode,
    st.sampled_from(["S1234", "Y0001", "D9999"]),
    st.just("V"),
    st.integers(0, 26 * 27 - 1).map(ProductCode.division_code),
)
locals_ = st.builds(LocalId, st.sampled_from(sorted(PREFIXES)), st.integers(1, 999_999))
separators = st.sampled_from([" ", "-", "", "  ", "\u00a0", " - "])


def test_each_kind_of_code_has_one_display_spelling() -> None:
    assert display_code(str(LocalId("CV", 1))) == "CV-000001-Q"
    assert display_code("A999921123456") == "A9999 21 123456 3"
    assert display_code("A999921123456S1234VA0") == "A9999 21 123456 3 S1234VA0"
    assert display_code("INC-02") == "INC-02"  # not a code of ours: shown as it is
    assert display_code("A999921000000") == "A999921000000"


def test_the_code_filter_boxes_the_check_character_and_names_the_identifier() -> None:
    assert str(code_html("A999921123456S1234VA0")) == (
        '<span class="code mono" data-code="A999921123456S1234VA0">'
        'A9999 21 123456 <span class="boxed">3</span> S1234VA0</span>'
    )
    assert code_html("A999921123456", plain=True) == "A9999 21 123456 3"
    assert str(code_html("<b>")) == "&lt;b&gt;"


def regroup(shown: str, data: st.DataObject) -> str:
    """The shown code as a person may type it: its groups joined by spaces, dashes or nothing,
    the product code maybe split as ``S1234 V A0``, in either case."""
    groups = []
    for group in shown.replace("-", " ").split():
        if len(group) == 8 and group[0].isalpha() and data.draw(st.booleans()):
            groups += [group[:5], group[5], group[6:]]  # a product code read field by field
        else:
            groups.append(group)
    typed = groups[0]
    for group in groups[1:]:
        typed += data.draw(separators) + group
    return typed.lower() if data.draw(st.booleans()) else typed


def another_check(check: str, data: st.DataObject) -> str:
    return data.draw(st.sampled_from(ALPHABET).filter(lambda k: k != check))


@given(dins, st.data())
def test_a_din_as_a_page_shows_it_scans_back_however_it_is_typed(din: Din, data) -> None:
    typed = regroup(display_code(str(din)), data)
    for text in (typed, typed_in_russian_layout(typed)):
        assert [(t.kind, t.value) for t in parse_scan(text).tokens] == [(TokenKind.DIN, str(din))]
    with pytest.raises(BadCheckCharacter):
        parse_scan(f"{din.eye_readable} {another_check(din.check, data)}")


@given(dins, product_codes, st.data())
def test_a_dose_as_a_page_shows_it_scans_back_however_it_is_typed(din, product_code, data) -> None:
    identifier = f"{din}{product_code}"
    typed = regroup(display_code(identifier), data)
    for text in (typed, typed_in_russian_layout(typed)):
        assert [(t.kind, t.value) for t in parse_scan(text).tokens] == [
            (TokenKind.DIN, str(din)),
            (TokenKind.PRODUCT_CODE, str(product_code)),
        ]
    with pytest.raises(BadCheckCharacter):
        parse_scan(f"{din.eye_readable} {another_check(din.check, data)} {product_code}")


@given(locals_, st.data())
def test_a_local_code_as_a_page_shows_it_scans_back_however_it_is_typed(local, data) -> None:
    typed = regroup(display_code(str(local)), data)
    for text in (typed, typed_in_russian_layout(typed)):
        assert [(t.kind, t.value) for t in parse_scan(text).tokens] == [
            (TokenKind.LOCAL, str(local))
        ]
    with pytest.raises(BadCheckCharacter):
        parse_scan(f"{local.prefix}-{local.number:06d}-{another_check(local.check, data)}")


def test_a_dose_typed_without_its_check_character_is_refused_asking_for_it() -> None:
    with pytest.raises(BadLength, match="check character"):
        parse_scan("A9999 21 123456 S1234VA0")
