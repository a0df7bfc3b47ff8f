"""QC rules as pure functions: how a result is read, converted and judged against its test."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mfg.errors import InvalidInput, Reason, reason
from mfg.i18n import N_
from mfg.models import SpecTest
from mfg.models.qc import FINAL, TestKind

PASS, FAIL = "pass", "fail"


def options(text: str) -> list[str]:
    return [part.strip() for part in text.split("|") if part.strip()]


def _number(value: float) -> str:
    return f"{value:g}"


def limit_text(test: SpecTest) -> str:
    """The acceptance criterion in words: ``≥ 70 %``, ``< 0.5 EU/mL``, ``90–110 % of label``."""
    if test.kind == TestKind.CATEGORICAL:
        return " or ".join(options(test.accepted))
    unit = f" {test.unit}" if test.unit else ""
    low, high = test.min_value, test.max_value
    if low is None and high is None:
        return "reported (no limit)"
    if low is not None and high is not None and test.min_inclusive and test.max_inclusive:
        return f"{_number(low)}–{_number(high)}{unit}"
    parts = []
    if low is not None:
        parts.append(f"{'≥' if test.min_inclusive else '>'} {_number(low)}")
    if high is not None:
        parts.append(f"{'≤' if test.max_inclusive else '<'} {_number(high)}")
    return " and ".join(parts) + unit


def same_unit(a: str, b: str) -> bool:
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


@dataclass(frozen=True)
class Reading:
    """A result ready to store: the value in the test's unit, and how it was obtained."""

    number: float | None
    text: str
    unit: str
    computation: str = ""


def read_value(
    test: SpecTest,
    value: str,
    unit: str,
    *,
    dose_volume_ml: float | None = None,
    weight_kg: float | None = None,
) -> Reading:
    """The entered value as the test reads it; a unit other than the test's is refused, except
    the conversion the specification names (e.g. EU/mL to EU/kg for a dose volume and weight)."""
    value = value.strip()
    if test.kind == TestKind.CATEGORICAL:
        allowed = options(test.choices)
        match = next((c for c in allowed if c.casefold() == value.casefold()), None)
        if match is None:
            raise InvalidInput(
                "%(test)s: %(value)s is not a result of this test; one of: %(allowed)s.",
                params={"test": test.code, "value": repr(value), "allowed": ", ".join(allowed)},
                details={"field": "value"},
            )
        return Reading(None, match, test.unit)
    try:
        number = float(value.replace(",", "."))
    except ValueError as error:
        raise InvalidInput(
            "%(test)s: %(value)s is not a number.",
            params={"test": test.code, "value": repr(value)},
            details={"field": "value"},
        ) from error
    if not math.isfinite(number):
        raise InvalidInput(
            "%(test)s: %(value)s is not a number.",
            params={"test": test.code, "value": repr(value)},
            details={"field": "value"},
        )
    unit = unit.strip() or test.unit
    if same_unit(unit, test.unit):
        return Reading(number, "", test.unit)
    if test.per_kg_from and same_unit(unit, test.per_kg_from):
        if not dose_volume_ml or not weight_kg or dose_volume_ml <= 0 or weight_kg <= 0:
            raise InvalidInput(
                "%(test)s in %(unit)s is computed from %(from_unit)s: give the dose volume (mL) "
                "and the recipient's weight (kg).",
                params={"test": test.code, "unit": test.unit, "from_unit": test.per_kg_from},
                details={"field": "dose_volume_ml"},
            )
        per_kg = number * dose_volume_ml / weight_kg
        computation = (
            f"{_number(number)} {test.per_kg_from} × {_number(dose_volume_ml)} mL ÷ "
            f"{_number(weight_kg)} kg = {per_kg:.4g} {test.unit}"
        )
        return Reading(per_kg, "", test.unit, computation)
    raise InvalidInput(
        "%(test)s is measured in %(unit)s, not %(given)s: enter it in %(unit)s (nothing is "
        "converted silently).",
        params={"test": test.code, "unit": test.unit or N_("no unit"), "given": unit},
        code="unit_mismatch",
        details={"field": "unit"},
    )


def judge(test: SpecTest, reading: Reading) -> str:
    """Pass or fail against the test's criterion: bounds inclusive or exclusive, either missing."""
    if test.kind == TestKind.CATEGORICAL:
        accepted = {a.casefold() for a in options(test.accepted)}
        return PASS if reading.text.casefold() in accepted else FAIL
    number = reading.number
    if number is None:
        return FAIL
    if test.min_value is not None and (
        number < test.min_value or (number == test.min_value and not test.min_inclusive)
    ):
        return FAIL
    if test.max_value is not None and (
        number > test.max_value or (number == test.max_value and not test.max_inclusive)
    ):
        return FAIL
    return PASS


def check_reading_name(test: SpecTest, reading: str) -> str:
    """``final``, or one of the preliminary readings the test allows (e.g. sterility day 3)."""
    reading = reading.strip().lower() or FINAL
    if reading == FINAL or reading in options(test.preliminary_readings):
        return reading
    allowed = [FINAL, *options(test.preliminary_readings)]
    raise InvalidInput(
        "%(test)s has no %(reading)s reading; allowed: %(allowed)s.",
        params={"test": test.code, "reading": repr(reading), "allowed": ", ".join(allowed)},
        details={"field": "reading"},
    )


_DAY = re.compile(r"^day (\d{1,3})$")


def readings_of(test: SpecTest) -> list[str]:
    """A test's readings in the order they fall due: the preliminary ones, then ``final``."""
    return [*options(test.preliminary_readings), FINAL]


def incubation_of(test: SpecTest, reading: str) -> int | None:
    """Days a reading waits after the sample is taken: ``day 7`` after 7 days; the final
    reading after the test's incubation (14 days for sterility), or, where the specification
    gives none, after its last preliminary reading. None: the test is read when done."""
    if reading == FINAL:
        if test.incubation_days:
            return test.incubation_days
        days = [incubation_of(test, r) for r in options(test.preliminary_readings)]
        return max((d for d in days if d), default=None)
    match = _DAY.match(reading)
    return int(match.group(1)) if match else None


def reading_due(test: SpecTest, reading: str, taken_at: datetime) -> datetime | None:
    """When a reading of a sample taken at ``taken_at`` may be read; None: at once."""
    days = incubation_of(test, reading)
    return taken_at + timedelta(days=days) if days else None


def reading_not_due(
    test: SpecTest, reading: str, *, taken_at: datetime, tested_at: datetime
) -> Reason | None:
    """A culture is not read before its incubation ends (a final 14-day sterility "no
    growth" one day after sampling cannot be true); at the due moment it may be.

    Code: reading_not_due
    Clause: —
    """
    due = reading_due(test, reading, taken_at)
    if due is None or tested_at >= due:
        return None
    return reason(
        "reading_not_due",
        "The %(reading)s reading of %(test)s is due %(days)s days after the sample was taken "
        "(%(due)s UTC); this one is dated earlier.",
        reading=reading,
        test=test.code,
        days=incubation_of(test, reading),
        due=format(due, "%Y-%m-%d %H:%M"),
    )


def next_reading(test: SpecTest, entered: Iterable[str]) -> str:
    """The reading the result form proposes: the first, in order of falling due, that has no
    standing result (``final`` once all are in)."""
    done = set(entered)
    return next((r for r in readings_of(test) if r not in done), FINAL)


def spec_test_problems(tests: list[dict]) -> list[Reason]:
    """A draft specification lists at least one test, each code once, each with a known
    kind and coherent limits (accepted values among the choices, minimum not above maximum).

    Code: spec_without_tests, test_code_repeated, test_kind_unknown, accepted_not_among_choices,
    limits_reversed
    Clause: —
    """
    problems = []
    codes = [t.get("code", "") for t in tests]
    if not tests:
        problems.append(Reason("spec_without_tests", "A specification lists at least one test."))
    if len(set(codes)) != len(codes):
        problems.append(Reason("test_code_repeated", "Each test code appears once."))
    for t in tests:
        code = t.get("code") or "?"
        if t.get("kind") not in set(TestKind):
            problems.append(
                reason(
                    "test_kind_unknown", "%(test)s: the kind is numeric or categorical.", test=code
                )
            )
        elif t["kind"] == TestKind.CATEGORICAL:
            choices, accepted = options(t.get("choices", "")), options(t.get("accepted", ""))
            if not accepted or not set(accepted) <= set(choices):
                problems.append(
                    reason(
                        "accepted_not_among_choices",
                        "%(test)s: the accepted values are some of the possible values.",
                        test=code,
                    )
                )
        else:
            low, high = t.get("min"), t.get("max")
            if low is not None and high is not None and low > high:
                problems.append(
                    reason(
                        "limits_reversed", "%(test)s: the minimum is above the maximum.", test=code
                    )
                )
    return problems


__all__ = [
    "FAIL",
    "FINAL",
    "PASS",
    "Reading",
    "check_reading_name",
    "judge",
    "limit_text",
    "options",
    "read_value",
    "spec_test_problems",
]
