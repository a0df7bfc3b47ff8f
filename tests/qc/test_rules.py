"""How a result is read and judged: numeric bounds, categories, units
(docs/process.md#release-specification)."""

import pytest

from mfg.errors import InvalidInput
from mfg.models import SpecTest
from mfg.qc.rules import (
    FAIL,
    PASS,
    check_reading_name,
    judge,
    limit_text,
    read_value,
    spec_test_problems,
)


def numeric(**bounds) -> SpecTest:
    return SpecTest(code="T", name="T", unit="%", kind="numeric", stage="release", **bounds)


def verdict(test: SpecTest, value: str, unit: str = "") -> str:
    return judge(test, read_value(test, value, unit or test.unit))


def test_inclusive_minimum_accepts_the_bound_itself() -> None:
    viability = numeric(min_value=70, min_inclusive=True)
    assert [verdict(viability, v) for v in ("70", "69.9", "100")] == [PASS, FAIL, PASS]
    assert limit_text(viability) == "≥ 70 %"


def test_exclusive_maximum_refuses_the_bound_itself() -> None:
    endotoxin = SpecTest(
        code="ENDO",
        name="E",
        unit="EU/mL",
        kind="numeric",
        stage="release",
        max_value=0.5,
        max_inclusive=False,
    )
    assert [verdict(endotoxin, v) for v in ("0.49", "0.5", "0,2")] == [PASS, FAIL, PASS]
    assert limit_text(endotoxin) == "< 0.5 EU/mL"


def test_a_missing_bound_sets_no_limit_on_that_side() -> None:
    cd34 = numeric(max_value=2)
    assert [verdict(cd34, v) for v in ("0", "-0", "2", "2.01")] == [PASS, PASS, PASS, FAIL]
    both = numeric(min_value=90, max_value=110)
    assert limit_text(both) == "90–110 %"
    assert verdict(numeric(), "12345") == PASS and limit_text(numeric()) == "reported (no limit)"


def test_categorical_results_pass_only_when_accepted_and_unknown_values_are_refused() -> None:
    sterility = SpecTest(
        code="STER",
        name="S",
        kind="categorical",
        stage="release",
        choices="no growth|growth",
        accepted="no growth",
    )
    assert verdict(sterility, "No Growth") == PASS
    assert verdict(sterility, "growth") == FAIL
    with pytest.raises(InvalidInput, match="not a result of this test"):
        read_value(sterility, "no grwoth", "")


def test_a_result_in_another_unit_is_refused_not_converted_silently() -> None:
    endotoxin = SpecTest(
        code="ENDO", name="E", unit="EU/mL", kind="numeric", stage="release", max_value=0.5
    )
    with pytest.raises(InvalidInput, match="not EU/kg"):
        read_value(endotoxin, "0.2", "EU/kg")
    with pytest.raises(InvalidInput, match="not a number"):
        read_value(endotoxin, "low", "EU/mL")


def test_endotoxin_per_kg_is_computed_from_eu_per_ml_for_the_dose_volume_and_weight() -> None:
    per_kg = SpecTest(
        code="ENDO-KG",
        name="E",
        unit="EU/kg",
        kind="numeric",
        stage="release",
        max_value=5,
        per_kg_from="EU/mL",
    )
    reading = read_value(per_kg, "0.25", "EU/mL", dose_volume_ml=50, weight_kg=2.5)
    assert reading.number == pytest.approx(5.0) and judge(per_kg, reading) == PASS
    assert "0.25 EU/mL × 50 mL ÷ 2.5 kg" in reading.computation
    with pytest.raises(InvalidInput, match="give the dose volume"):
        read_value(per_kg, "0.25", "EU/mL")


def test_preliminary_readings_only_where_the_test_allows_them() -> None:
    sterility = SpecTest(
        code="STER",
        name="S",
        kind="categorical",
        stage="release",
        choices="no growth|growth",
        accepted="no growth",
        preliminary_readings="day 3|day 7",
    )
    assert check_reading_name(sterility, "Day 7") == "day 7"
    assert check_reading_name(sterility, "") == "final"
    with pytest.raises(InvalidInput, match="no 'day 7' reading"):
        check_reading_name(numeric(), "day 7")


# --- spec_test_problems: a draft specification's tests -----------------------------------------


def _draft(**changes) -> dict:
    return {"code": "VIAB", "kind": "numeric", "min": 70, "max": None} | changes


@pytest.mark.parametrize(
    ("tests", "expected"),
    [
        ([_draft()], []),
        ([], ["spec_without_tests"]),
        ([_draft(), _draft()], ["test_code_repeated"]),
        ([_draft(kind="textual")], ["test_kind_unknown"]),
        ([_draft(min=70, max=70)], []),  # a single accepted value: not reversed
        ([_draft(min=70.1, max=70)], ["limits_reversed"]),
        ([_draft(kind="categorical", choices="normal|abnormal", accepted="normal")], []),
        (
            [_draft(kind="categorical", choices="normal|abnormal", accepted="odd")],
            ["accepted_not_among_choices"],
        ),
        (
            [_draft(kind="categorical", choices="normal", accepted="")],
            ["accepted_not_among_choices"],
        ),
    ],
)
def test_spec_test_problems_on_each_side_of_each_rule(tests, expected) -> None:
    assert [reason.code for reason in spec_test_problems(tests)] == expected
