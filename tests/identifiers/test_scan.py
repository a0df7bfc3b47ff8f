"""Scan parsing: concatenated structures, AIM prefixes, GS1, layouts, local codes, errors."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfg.identifiers.errors import BadCheckCharacter, BadLength, ScanError, UnknownStructure
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.keyboard import RU_TO_US, recover_latin
from mfg.identifiers.local import PREFIXES, LocalId, parse_local
from mfg.identifiers.scan import TokenKind, parse_scan

US_TO_RU = {v: k for k, v in RU_TO_US.items()}


def typed_in_russian_layout(text: str) -> str:
    """What a keyboard-wedge scanner produces while the Russian ЙЦУКЕН layout is active."""
    return "".join(chr(US_TO_RU.get(ord(ch), ord(ch))) for ch in text)


def test_a_din_barcode_parses_with_its_flags() -> None:
    [token] = parse_scan("=A99992600000100").tokens
    assert (token.kind, token.value, token.flags) == (TokenKind.DIN, "A999926000001", "00")


def test_several_structures_concatenated_in_one_scan_are_split() -> None:
    scan = parse_scan("=A99992600000100=<S1234VA0&>0263332359")
    assert scan.kinds() == (TokenKind.DIN, TokenKind.PRODUCT_CODE, TokenKind.EXPIRY)
    assert [t.value for t in scan.tokens] == ["A999926000001", "S1234VA0", "0263332359"]


@pytest.mark.parametrize("prefix", ["]C0", "]d1"])
def test_aim_symbology_prefixes_are_stripped_and_kept(prefix: str) -> None:
    scan = parse_scan(prefix + "=A99992600000100")
    assert scan.symbology == prefix[1:] and scan.tokens[0].value == "A999926000001"


def test_matching_check_flags_are_accepted_and_wrong_ones_refused() -> None:
    din = Din.parse("A999921123456")
    assert parse_scan(din.barcode_data(din.check_flags())).tokens[0].flags == "63"
    with pytest.raises(BadCheckCharacter):
        parse_scan(din.barcode_data("64"))


def test_a_reprint_flag_is_read() -> None:
    assert parse_scan("=A99992600000105").tokens[0].flags == "05"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("=A9999260000", BadLength),
        ("=A99992600000100=<S1234V", BadLength),
        ("=O99992600000100", UnknownStructure),
        ("=A999926000001XX", UnknownStructure),
        ("=A99992600000100%%", UnknownStructure),
        ("hello world", UnknownStructure),
        ("", BadLength),
        ("x" * 501, BadLength),
    ],
)
def test_malformed_scans_get_specific_errors(raw: str, error: type) -> None:
    with pytest.raises(error):
        parse_scan(raw)


def test_error_codes_are_stable() -> None:
    codes = {}
    for raw in ("=A9999260000", "nonsense", "A9999 21 123456 4"):
        with pytest.raises(ScanError) as caught:
            parse_scan(raw)
        codes[raw] = caught.value.code
    assert codes == {
        "=A9999260000": "bad_length",
        "nonsense": "unknown_structure",
        "A9999 21 123456 4": "bad_check_character",
    }


def test_a_hand_typed_din_with_its_check_character_is_a_din_token() -> None:
    [token] = parse_scan("A9999 21 123456 3").tokens
    assert token.kind is TokenKind.DIN and token.hand_typed and token.value == "A999921123456"


# --- GS1 supplier bar codes -------------------------------------------------------------------

GS1_BODY = "0109501101020917" + "17270508" + "10ABCD1234" + "\x1d" + "21SN42"


@pytest.mark.parametrize("raw", ["]C1" + GS1_BODY, "]d2" + GS1_BODY, "\x1d" + GS1_BODY])
def test_gs1_element_strings_are_read_with_fnc1_as_ascii_29_or_an_aim_prefix(raw: str) -> None:
    [token] = parse_scan(raw).tokens
    assert token.kind is TokenKind.GS1
    assert dict(token.data) == {
        "01": "09501101020917",
        "17": "270508",
        "10": "ABCD1234",
        "21": "SN42",
    }


def test_a_gs1_code_with_a_wrong_gtin_check_digit_is_refused() -> None:
    with pytest.raises(BadCheckCharacter):
        parse_scan("]C10109501101020918")


def test_a_gs1_code_with_an_impossible_expiry_is_refused() -> None:
    with pytest.raises(UnknownStructure):
        parse_scan("]C1010950110102091717271340")


# --- keyboard layouts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_typed", "meant"),
    [
        ("=Ф99992600000100", "=A99992600000100"),  # the scanner's Shift+A arrives as Ф
        ("=БЫ1234МФ0", "=<S1234VA0"),  # =< arrives as =Б
        ("?Ю0263332359", "&>0263332359"),  # &> arrives as ?Ю
        ("ъС1010950110102091717270508", "]C1010950110102091717270508"),
        ("СМ000001Ф", "CV000001A"),
    ],
)
def test_a_scan_typed_with_a_russian_layout_is_mapped_back(as_typed: str, meant: str) -> None:
    assert recover_latin(as_typed) == (meant, True)


def test_a_russian_layout_concatenated_scan_parses_to_the_same_tokens() -> None:
    latin = "=A99992600000100=<S1234VA0&>0263332359"
    assert parse_scan(typed_in_russian_layout(latin)).tokens == parse_scan(latin).tokens
    assert parse_scan(typed_in_russian_layout(latin)).layout_recovered


# --- Caps Lock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_typed", "meant"),
    [
        ("=a99992600000100", "=A99992600000100"),
        ("=a99992600000100=<s1234va0&>0263332359", "=A99992600000100=<S1234VA0&>0263332359"),
        ("]c0=a99992600000100", "]C0=A99992600000100"),
        ("=<s1234vb0", "=<S1234VB0"),
    ],
)
def test_an_isbt_scan_made_with_caps_lock_on_is_read_upper_cased(as_typed, meant) -> None:
    scan, expected = parse_scan(as_typed), parse_scan(meant)
    assert (scan.tokens, scan.symbology) == (expected.tokens, expected.symbology)
    assert scan.caps_lock_recovered and not expected.caps_lock_recovered


def test_an_isbt_scan_with_caps_lock_and_a_russian_layout_is_read_back() -> None:
    latin = "=A99992600000100=<S1234VA0&>0263332359"
    scan = parse_scan(typed_in_russian_layout(latin).swapcase())  # "=ф9999…" for "=A9999…"
    assert scan.tokens == parse_scan(latin).tokens
    assert scan.layout_recovered and scan.caps_lock_recovered


@pytest.mark.parametrize("scanned", ["=a99992600000100=<S1234VA0", "=<S1234vA0"])
def test_an_isbt_scan_in_mixed_case_is_still_refused(scanned) -> None:
    with pytest.raises(ScanError):
        parse_scan(scanned)


def test_digits_alone_are_no_sign_of_caps_lock() -> None:
    assert not parse_scan("&>0263332359").caps_lock_recovered


@given(
    st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ"),
    st.integers(0, 9999),
    st.integers(0, 99),
    st.integers(1, 999_999),
    st.integers(0, 26 * 27 - 1),
)
def test_any_dose_label_scan_survives_caps_lock(fin, facility, year, sequence, division) -> None:
    din = Din.parse(f"{fin}{facility:04d}{year:02d}{sequence:06d}")
    product = ProductCode("S1234", "V", ProductCode.division_code(division))
    code = din.barcode_data(din.check_flags()) + product.barcode_data()
    assert parse_scan(code.lower()).tokens == parse_scan(code).tokens


def test_plain_punctuation_without_cyrillic_is_left_alone() -> None:
    assert recover_latin("?;:,") == ("?;:,", False)


scan_keys = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=<>&", min_size=1, max_size=40)


@given(scan_keys.filter(lambda s: any(c.isalpha() for c in s)))
def test_any_scan_with_letters_survives_the_russian_layout(text: str) -> None:
    assert recover_latin(typed_in_russian_layout(text)) == (text, True)


@given(scan_keys.filter(lambda s: any(c.isalpha() for c in s)))
def test_any_scan_with_letters_survives_the_belarusian_layout(text: str) -> None:
    # the Belarusian layout differs from the Russian only on the keys O (ў) and B (і)
    as_belarusian = typed_in_russian_layout(text).translate(str.maketrans("ЩИ", "ЎІ"))
    assert recover_latin(as_belarusian) == (text, True)


def test_a_dose_of_division_b_scanned_under_the_belarusian_layout_is_mapped_back() -> None:
    assert recover_latin("=БЫ1234МІ0") == ("=<S1234VB0", True)


# --- local identifiers ------------------------------------------------------------------------

locals_ = st.builds(LocalId, st.sampled_from(sorted(PREFIXES)), st.integers(1, 999_999))


@given(locals_)
def test_local_identifiers_round_trip_in_compact_and_eye_readable_forms(local: LocalId) -> None:
    assert parse_local(str(local)) == local
    assert parse_local(local.eye_readable) == local
    assert parse_local(local.eye_readable.lower()) == local
    [token] = parse_scan(str(local)).tokens
    assert token.kind is TokenKind.LOCAL and token.value == str(local)


@given(locals_, st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"))
def test_a_local_identifier_with_a_wrong_check_character_is_refused(local: LocalId, k: str) -> None:
    if k == local.check:
        return
    with pytest.raises(BadCheckCharacter):
        parse_local(local.body + k)


def test_a_local_code_of_the_wrong_length_is_refused_by_kind() -> None:
    with pytest.raises(BadLength, match="culture vessel"):
        parse_scan("CV-00012-K")


# --- round trips and robustness ---------------------------------------------------------------

dins = st.builds(
    Din, st.sampled_from(["A9999", "B1234", "W0000"]), st.integers(0, 99), st.integers(1, 999_999)
)
codes = st.builds(
    ProductCode,
    st.sampled_from(["S1234", "Y0001", "D9999"]),
    st.just("V"),
    st.sampled_from(["00", "A0", "B0", "ZZ"]),
)


@given(dins, st.sampled_from(["00", "05", "06", "07", "10", "25"]), codes)
def test_format_then_parse_round_trips_for_din_and_product_code(din, flags, code) -> None:
    scan = parse_scan(din.barcode_data(flags) + code.barcode_data())
    assert [(t.kind, t.value) for t in scan.tokens] == [
        (TokenKind.DIN, str(din)),
        (TokenKind.PRODUCT_CODE, str(code)),
    ]


@given(st.text(max_size=60))
def test_the_parser_raises_nothing_but_its_own_typed_errors(text: str) -> None:
    with contextlib.suppress(ScanError):
        parse_scan(text)


@given(st.text(alphabet="=<>&]Cd0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\x1d ", max_size=40))
def test_structure_like_noise_raises_nothing_but_typed_errors(text: str) -> None:
    with contextlib.suppress(ScanError):
        parse_scan(text)


@pytest.mark.parametrize(
    "typed",
    ["A9999 21 123456 3 S1234VA0", "a9999-21-123456-3 s1234 v a0", "A999921123456 3 S1234VA0"],
)
def test_a_dose_typed_by_hand_as_its_label_prints_it_is_a_din_and_a_product_code(typed) -> None:
    scan = parse_scan(typed)
    assert [(t.kind, t.value, t.hand_typed) for t in scan.tokens] == [
        (TokenKind.DIN, "A999921123456", True),
        (TokenKind.PRODUCT_CODE, "S1234VA0", True),
    ]


def test_a_dose_typed_with_a_wrong_check_character_is_refused_as_such() -> None:
    with pytest.raises(BadCheckCharacter, match="does not match"):
        parse_scan("A9999 21 123456 4 S1234VA0")
