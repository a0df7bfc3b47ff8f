"""Numbers and times at the edge: how a typed number is read (the decimal comma of a Russian
keyboard included) and the plausible bounds of every quantity the application records, in one
place. Schemas (API bodies, page forms) read numbers with ``Number`` and ``WholeNumber``; services
check the bounds with ``out_of_bounds``/``check``, so every entry point (API, page, demo, command
line) refuses the same values with the same sentence, which states the bounds.

The bounds are plausibility limits, not specifications: a value outside them cannot be a real
measurement (viability −5 %, a blood pressure of 1, a biopsy collected in year 1). Specifications
(viability ≥ 70 % in process, say) are settings and QC specifications, checked by their rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any

from pydantic import BeforeValidator

from mfg.edge import BEYOND_64_BITS, fits_64_bits
from mfg.errors import Reason, RuleViolation, reason
from mfg.i18n import N_

# Times that record what happened: not before this, and not after now (plus a little clock
# skew between the bench and the server).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)

_GROUPING = re.compile(r"[ \u00a0\u202f\u2009']")  # spaces a locale groups thousands with


class Unreadable(ValueError):
    """A typed number that cannot be read. ``template`` is the refusal of the field that holds
    it, a catalog message naming the field first (``%(field)s: …``) and its ``params``; the
    error's text is what follows the name, as a schema's validation reports it after the field."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template, self.params = template, params
        super().__init__(template.partition(": ")[2] % params)


NOT_A_NUMBER = N_("%(field)s: %(value)s is not a number")


def read_number(value: Any) -> Any:
    """A number as people type it: ``12,5`` (a decimal comma) or ``12.5``; thousands may be
    grouped with spaces (``1 250 000``). A comma is never dropped: ``1,234.5`` or ``1,2,3`` is
    refused rather than guessed (``12,5`` once became 125). Non-strings pass through."""
    if not isinstance(value, str):
        return value
    text = _GROUPING.sub("", value.strip())
    if text.count(",") > 1 or ("," in text and "." in text):
        raise Unreadable(
            N_("%(field)s: %(value)s is not a number: write it as 12,5 or 12.5"), value=repr(value)
        )
    text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise Unreadable(NOT_A_NUMBER, value=repr(value)) from None
    if not math.isfinite(number):
        raise Unreadable(NOT_A_NUMBER, value=repr(value))
    return number


def read_whole_number(value: Any) -> Any:
    """A count as people type it: digits, grouped or not (``250 000 000``), or in scientific
    notation (``2,5e8``); a fraction of a cell is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = _GROUPING.sub("", value.strip())
        if text.lstrip("+-").isdigit():
            value = int(text) if len(text) <= 20 else 2**64
        else:
            value = read_number(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise Unreadable(N_("%(field)s: %(value)s is not a whole number"), value=f"{value:g}")
        value = int(value)
    if isinstance(value, int) and not fits_64_bits(value):
        raise Unreadable(BEYOND_64_BITS)
    return value


def read_codes(value: Any) -> Any:
    """Codes (material lots, tests) as a list, or as typed or scanned into one field: separated
    by spaces, commas, semicolons or new lines."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return [code for item in value for code in re.split(r"[\s,;]+", str(item)) if code]
    return value


# A number field of an API body or a page form: 12,5 and 12.5 alike.
Number = Annotated[float, BeforeValidator(read_number)]
WholeNumber = Annotated[int, BeforeValidator(read_whole_number)]
# Codes: a JSON list, or one form field holding several.
Codes = Annotated[list[str], BeforeValidator(read_codes)]
# When something happened: with its offset (the API), or as a page's datetime-local field gives
# it, without one, which is read in the facility's zone by ``in_zone`` (never the browser's).
EventTime = datetime


def in_zone(moment: datetime, tz: tzinfo) -> datetime:
    """``moment`` made timezone-aware: a time without an offset is on the facility's clock."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Bounds:
    """The plausible range of a quantity, inclusive, in its unit."""

    what: str  # what people call it
    # the same where a sentence begins with it (a refusal's): a catalog message of its own, as
    # not every language capitalizes as English does
    subject: str
    unit: str
    low: float
    high: float

    def text(self) -> str:
        return f"{_n(self.low)}–{_n(self.high)}{_unit(self.unit)}"


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if abs(value) >= 10_000 else f"{value:g}"


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


# Every recorded quantity's plausible bounds (docs/process.md, and clinical sense).
VIABILITY_PCT = Bounds(N_("viability"), N_("Viability"), N_("%"), 0, 100)
PERCENT = Bounds(N_("percentage"), N_("Percentage"), N_("%"), 0, 100)
CELLS = Bounds(N_("cell count"), N_("Cell count"), N_("cells"), 1, 1e12)
CELLS_OR_NONE = Bounds(N_("cell count"), N_("Cell count"), N_("cells"), 0, 1e12)
SURFACE_CM2 = Bounds(N_("culture surface"), N_("Culture surface"), N_("cm²"), 0.1, 100_000)
VESSELS = Bounds(N_("number of vessels"), N_("Number of vessels"), "", 1, 100)
DOSE_VOLUME_ML = Bounds(N_("volume per dose"), N_("Volume per dose"), N_("mL"), 0.1, 1000)
FINAL_VOLUME_ML = Bounds(N_("final volume"), N_("Final volume"), N_("mL"), 0.1, 10_000)
INFUSED_VOLUME_ML = Bounds(N_("volume infused"), N_("Volume infused"), N_("mL"), 0.1, 1000)
STORAGE_TEMP_C = Bounds(N_("storage temperature"), N_("Storage temperature"), N_("°C"), -196, 0)
BIOPSY_TRANSPORT_TEMP_C = Bounds(
    N_("transport temperature"), N_("Transport temperature"), N_("°C"), -20, 40
)
DOSE_TRANSPORT_TEMP_C = Bounds(
    N_("transport temperature"), N_("Transport temperature"), N_("°C"), -196, 40
)
BODY_TEMP_C = Bounds(N_("body temperature"), N_("Body temperature"), N_("°C"), 30, 43)
HEART_RATE = Bounds(N_("heart rate"), N_("Heart rate"), N_("/min"), 20, 250)
SYSTOLIC_MMHG = Bounds(
    N_("systolic blood pressure"), N_("Systolic blood pressure"), N_("mmHg"), 50, 260
)
DIASTOLIC_MMHG = Bounds(
    N_("diastolic blood pressure"), N_("Diastolic blood pressure"), N_("mmHg"), 20, 160
)
RESPIRATORY_RATE = Bounds(N_("respiratory rate"), N_("Respiratory rate"), N_("/min"), 4, 80)
SPO2_PCT = Bounds(N_("SpO₂"), N_("SpO₂"), N_("%"), 50, 100)
WEIGHT_KG = Bounds(N_("weight"), N_("Weight"), N_("kg"), 20, 300)
AGE_YEARS = Bounds(N_("age"), N_("Age"), N_("years"), 0, 130)
BIRTH_YEAR = Bounds(N_("year of birth"), N_("Year of birth"), "", 1900, 2100)


def out_of_bounds(field: str, value: float | None, bounds: Bounds) -> Reason | None:
    """The refusal of ``value`` when it lies outside ``bounds``, naming them; None when within
    (or when there is no value)."""
    if value is None or bounds.low <= value <= bounds.high:
        return None
    figures = {
        "what": bounds.subject,
        "value": _n(value),
        "low": _n(bounds.low),
        "high": _n(bounds.high),
        "field": field,
    }
    if bounds.unit:
        return reason(
            "out_of_range",
            "%(what)s %(value)s %(unit)s is outside the plausible range %(low)s–%(high)s "
            "%(unit)s (%(field)s).",
            unit=bounds.unit,
            **figures,
        )
    return reason(
        "out_of_range",
        "%(what)s %(value)s is outside the plausible range %(low)s–%(high)s (%(field)s).",
        **figures,
    )


def check(values: Mapping[str, tuple[float | None, Bounds]]) -> None:
    """Refuse, naming every field out of its bounds: ``{field: (value, bounds)}``."""
    found = [(f, r) for f, (v, b) in values.items() if (r := out_of_bounds(f, v, b))]
    if found:
        raise RuleViolation.of([r for _, r in found], several="out_of_range", field=found[0][0])


def event_time_problems(
    field: str,
    when: datetime,
    *,
    now: datetime,
    after: datetime | None = None,
    what: str = "",
    tz: tzinfo = UTC,
) -> list[Reason]:
    """A time that records what happened: not in the future, not before 2000, and not before
    ``after`` (the record it follows), when given; ``tz`` is the zone the sentence shows."""
    name = what or field.replace("_", " ")
    if when > now + CLOCK_SKEW:
        return [reason("time_in_future", "The %(name)s is in the future.", name=name)]
    if when < EARLIEST:
        return [
            reason(
                "time_implausible",
                "The %(name)s is before %(year)s.",
                name=name,
                year=EARLIEST.year,
            )
        ]
    if after is not None and when < after:
        return [
            reason(
                "time_before_previous_step",
                "The %(name)s is before the step it follows (%(previous)s).",
                name=name,
                previous=_when(after, tz),
            )
        ]
    return []


def date_problems(field: str, day: date, *, today: date, what: str = "") -> list[Reason]:
    """A date that records what happened: not in the future, not before 2000."""
    name = what or field.replace("_", " ")
    if day > today:
        return [
            reason(
                "time_in_future",
                "The %(name)s %(day)s is in the future.",
                name=name,
                day=day.isoformat(),
            )
        ]
    if day < EARLIEST.date():
        return [
            reason(
                "time_implausible",
                "The %(name)s %(day)s is before %(year)s.",
                name=name,
                day=day.isoformat(),
                year=EARLIEST.year,
            )
        ]
    return []


def duration_problems(start: datetime, end: datetime, *, what: str = "step") -> list[Reason]:
    """A step that lasts: it ends after it starts (a 0-minute infusion is a form left as is)."""
    if end <= start:
        return [
            reason("duration_not_positive", "The %(what)s ends before or as it starts.", what=what)
        ]
    return []


def refuse(field: str, problems: list[Reason]) -> None:
    if problems:
        raise RuleViolation.of(problems, several="implausible", field=field)


def _when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


# --- donors and manufacturing (added with their command schemas) -------------------------------

# A lot's divisions: A0…Z0, then more letters.
DOSES = Bounds(N_("number of doses"), N_("Number of doses"), "", 1, 100)
# A cryostorage box: 81 (9 × 9) or 100 (10 × 10) positions; 169 (13 × 13) for small vials.
BOX_POSITION = Bounds(N_("box position"), N_("Box position"), "", 1, 169)
DONOR_AGE_YEARS = (16, 100)  # a donor's age at registration: adult consent, clinical sense


def birth_year_bounds(this_year: int) -> Bounds:
    """The plausible years of birth of a donor registered in ``this_year``."""
    youngest, oldest = DONOR_AGE_YEARS
    return Bounds(BIRTH_YEAR.what, BIRTH_YEAR.subject, "", this_year - oldest, this_year - youngest)


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def check_event_time(
    field: str,
    when: datetime,
    *,
    now: datetime,
    after: datetime | None = None,
    what: str = "",
    tz: tzinfo = UTC,
) -> None:
    """Refuse, naming ``field``, a time that records what happened and is in the future, before
    2000 or before ``after`` (the record it follows; to the minute, as people type times)."""
    follows = _to_minute(after) if after is not None else None
    refuse(field, event_time_problems(field, when, now=now, after=follows, what=what, tz=tz))


@dataclass(frozen=True)
class Step:
    """A step that lasts, as its refusals name it: the step, its start and its end (catalog
    messages each: a language need not say "passage start" as "passage" and "start")."""

    what: str
    start: str
    end: str


PASSAGE = Step(N_("passage"), N_("passage start"), N_("passage end"))
HARVEST = Step(N_("harvest"), N_("harvest start"), N_("harvest end"))


def check_step_times(
    started_at: datetime,
    ended_at: datetime,
    *,
    now: datetime,
    after: datetime | None,
    step: Step,
    tz: tzinfo = UTC,
) -> None:
    """A step that happened: it starts not before the step it follows, ends not in the future,
    and lasts (``started_at`` and ``ended_at`` are the fields named)."""
    check_event_time("started_at", started_at, now=now, after=after, what=step.start, tz=tz)
    check_event_time("ended_at", ended_at, now=now, what=step.end, tz=tz)
    refuse("ended_at", duration_problems(started_at, ended_at, what=step.what))


def check_date(field: str, day: date, *, today: date, what: str = "") -> None:
    """Refuse, naming ``field``, a date of what happened in the future or before 2000."""
    refuse(field, date_problems(field, day, today=today, what=what))


def counted(n: int, noun: str, plural: str = "") -> str:
    """A count with its noun, singular for one: "1 donor", "2 donors", "1,000 doses",
    "3 biopsies" (``plural`` for nouns not made plural with an "s"). Every text that counts
    (pages, messages, refusals) says it so: never "1 doses"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
