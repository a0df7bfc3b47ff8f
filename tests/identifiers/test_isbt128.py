"""ISBT 128 structures: check character, DIN, flags, product code, expiry (docs/isbt128.md)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfg.identifiers import isbt128
from mfg.identifiers.errors import BadCheckCharacter, BadLength, UnknownStructure
from mfg.identifiers.isbt128 import ALPHABET, Din, ProductCode, check_character

MINSK = ZoneInfo("Europe/Minsk")
fins = st.builds(
    lambda first, digits: first + digits,
    st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)
dins = st.builds(Din, fins, st.integers(0, 99), st.integers(1, 999_999))


@pytest.mark.parametrize(
    ("din13", "expected"),
    [
        ("G123417654321", "A"),
        ("A999921123456", "3"),
        ("W000009123456", "G"),
        ("A999917345628", "*"),
    ],
)
def test_check_character_matches_the_worked_examples(din13: str, expected: str) -> None:
    assert check_character(din13) == expected


def _weighted_sum_check(din13: str) -> str:
    """ISO 7064 Mod 37-2 as a weighted sum: Σ value·2^(n−i) mod 37, then (38 − s) mod 37.

    A second formulation, written independently of the product's code.
    """
    n = len(din13)
    total = sum(ALPHABET.index(ch) * pow(2, n - i, 37) for i, ch in enumerate(din13))
    return ALPHABET[(38 - total % 37) % 37]


@given(dins)
def test_check_character_agrees_with_an_independent_weighted_sum(din: Din) -> None:
    assert check_character(str(din)) == _weighted_sum_check(str(din))


@given(dins)
def test_din_format_parse_round_trip(din: Din) -> None:
    assert Din.parse(str(din)) == din
    assert len(str(din)) == 13


def test_the_eye_readable_din_is_grouped() -> None:
    din = Din.parse("A999921123456")
    assert din.eye_readable == "A9999 21 123456" and din.check == "3"


@pytest.mark.parametrize("fin", ["O1234", "01234", "A12B4"])
def test_a_fin_starting_with_o_or_0_or_not_digits_is_refused(fin: str) -> None:
    with pytest.raises(UnknownStructure):
        Din(fin, 26, 1)


def test_the_check_flags_carry_sixty_plus_the_check_value() -> None:
    din = Din.parse("A999921123456")  # check character "3" → value 3 → flags 63
    assert din.check_flags() == "63"
    assert Din.parse("A999917345628").check_flags() == "96"  # "*" is 36


def test_the_barcode_data_of_a_din_is_equals_din_and_flags() -> None:
    din = Din.parse("A999926000001")
    assert din.barcode_data() == "=A99992600000100"
    assert din.barcode_data(isbt128.FLAG_REPRINT) == "=A99992600000105"


@pytest.mark.parametrize(
    ("flags", "meaning"),
    [
        ("00", "no flag"),
        ("05", "repeated (reprinted) label"),
        ("25", "locally defined flag"),
        ("63", "check flag"),
    ],
)
def test_flags_are_described(flags: str, meaning: str) -> None:
    assert isbt128.describe_flags(flags) == meaning


@given(st.integers(0, 26 * 27 - 1))
def test_division_codes_are_unique_and_well_formed(index: int) -> None:
    code = ProductCode.division_code(index)
    assert len(code) == 2 and code != "00"
    assert ProductCode.parse(f"S1234V{code}").division == code


def test_the_first_divisions_are_a0_b0_c0() -> None:
    assert [ProductCode.division_code(i) for i in range(3)] == ["A0", "B0", "C0"]


def test_product_code_round_trip() -> None:
    code = ProductCode("S1234", "V", "A0")
    assert code.barcode_data() == "=<S1234VA0"
    assert ProductCode.parse("S1234VA0") == code


def test_a_product_code_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(BadLength):
        ProductCode.parse("S1234V0")


# From 2012: Minsk has kept UTC+3 all year since 2011, so every local minute exists once.
@given(st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2099, 12, 31)))  # noqa: DTZ001
def test_expiry_format_parse_round_trip_to_the_minute(moment: datetime) -> None:
    aware = moment.replace(second=0, microsecond=0, tzinfo=MINSK)
    data = isbt128.format_expiry(aware, MINSK)
    assert data.startswith("&>") and len(data) == 12
    assert isbt128.parse_expiry(data[2:], MINSK) == aware.astimezone(UTC)


def test_expiry_uses_the_century_digit_and_day_of_year() -> None:
    moment = datetime(2026, 11, 29, 23, 59, tzinfo=MINSK)
    assert isbt128.format_expiry(moment, MINSK) == "&>0263332359"


def test_an_impossible_expiry_is_refused() -> None:
    with pytest.raises(UnknownStructure):
        isbt128.parse_expiry("0263672359", MINSK)  # day 367


def test_a_din_typed_by_hand_with_its_check_character_is_accepted_with_spaces() -> None:
    assert str(isbt128.verify_typed_din("a9999 21 123456 3")) == "A999921123456"


def test_a_din_typed_by_hand_with_a_wrong_check_character_is_refused() -> None:
    with pytest.raises(BadCheckCharacter, match="check character"):
        isbt128.verify_typed_din("A9999 21 123456 4")


def test_a_din_typed_without_its_check_character_is_refused_with_a_hint() -> None:
    with pytest.raises(BadLength, match="check character"):
        isbt128.verify_typed_din("A9999 21 123456")
