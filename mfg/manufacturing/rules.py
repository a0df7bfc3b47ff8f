"""Manufacturing rules as pure functions: every reason that blocks, with its rule's code and in
words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from mfg.errors import Reason, conflict, reason
from mfg.i18n import N_
from mfg.models import (
    Biopsy,
    Culture,
    CultureStatus,
    Donor,
    DonorStatus,
    MaterialLot,
    MaterialStatus,
)


def material_use_problems(lot: MaterialLot, *, on: date) -> list[Reason]:
    """A step uses only a released material lot that has not expired (its expiry day
    included).

    Code: material_not_released, material_expired
    Clause: —
    """
    problems = []
    named = {"name": lot.name, "lot": lot.lot_number, "code": lot.code}
    if lot.status == MaterialStatus.QUARANTINED:
        problems.append(
            conflict(
                "material_not_released",
                "%(name)s lot %(lot)s (%(code)s) is quarantined: QA has not released it.",
                **named,
            )
        )
    elif lot.status == MaterialStatus.REJECTED:
        problems.append(
            conflict(
                "material_not_released",
                "%(name)s lot %(lot)s (%(code)s) is rejected: %(reason)s.",
                reason=lot.decision_reason or N_("no reason recorded"),
                **named,
            )
        )
    if lot.expiry < on:
        problems.append(
            conflict(
                "material_expired",
                "%(name)s lot %(lot)s (%(code)s) expired on %(expiry)s.",
                expiry=str(lot.expiry),
                **named,
            )
        )
    return problems


def population_doublings(harvested: int, seeded: int | None) -> float | None:
    """PD = log2(N_harvested / N_seeded) (docs/process.md#population-doublings); unknown for an
    explant culture."""
    if not seeded or seeded <= 0 or harvested <= 0:
        return None
    return math.log2(harvested / seeded)


def doubling_time_hours(hours: float, harvested: int, seeded: int | None) -> float | None:
    """Doubling time = culture hours × ln 2 / ln(N_harvested / N_seeded); none without growth."""
    if not seeded or seeded <= 0 or harvested <= seeded or hours <= 0:
        return None
    return hours * math.log(2) / math.log(harvested / seeded)


def cumulative_pd(previous: float | None, pd: float | None) -> float | None:
    """The sum over passages; the primary explant's unknown PD counts as zero."""
    if pd is None:
        return previous
    return (previous or 0.0) + pd


def reseeding_problems(*, harvested: int, reseeded: int) -> list[Reason]:
    """No more cells are re-seeded than were harvested. (Each count's plausible range,
    and the step's times, are checked where they are read: ``mfg.quantities``.)

    Code: reseeded_exceeds_harvested
    Clause: —
    """
    if reseeded > harvested:
        return [
            Reason(
                "reseeded_exceeds_harvested", "Cells re-seeded cannot exceed the cells harvested."
            )
        ]
    return []


def below_viability_specification(viability_pct: float, minimum_pct: float) -> bool:
    """The in-process viability specification is a minimum that itself passes (≥ 70 %)."""
    return viability_pct < minimum_pct


def low_viability_problems(
    *, viability_pct: float, minimum_pct: float, deviation_note: str
) -> list[Reason]:
    """A step below the in-process viability specification goes on only with a deviation note.

    Code: deviation_note_required
    Clause: —
    """
    if below_viability_specification(viability_pct, minimum_pct) and not deviation_note.strip():
        return [
            reason(
                "deviation_note_required",
                "Viability %(viability)s %% is below the in-process specification "
                "(≥ %(minimum)s %%): a deviation note is required.",
                viability=format(viability_pct, "g"),
                minimum=format(minimum_pct, "g"),
            )
        ]
    return []


def pooling_problems(members: Sequence[tuple[Culture, Biopsy, Donor, int]]) -> list[Reason]:
    """A pool takes in-process cultures of at least two different eligible donors, each
    once, none on hold. (The cells each gives are checked plausible where they are read:
    ``mfg.quantities``.)

    Code: pool_needs_two_donors, culture_listed_twice, culture_already_pooled,
    culture_not_in_process, donor_not_eligible, biopsy_on_hold
    Clause: EU 2004/23/EC, 2006/86/EC
    """
    problems = []
    donors = {donor.id for _, _, donor, _ in members}
    if len(donors) < 2:
        problems.append(
            Reason(
                "pool_needs_two_donors", "A pool needs cultures of at least two different donors."
            )
        )
    seen = set()
    for culture, biopsy, donor, _ in members:
        if culture.id in seen:
            problems.append(
                reason(
                    "culture_listed_twice",
                    "Culture %(culture)s is listed twice.",
                    culture=culture.code,
                )
            )
        seen.add(culture.id)
        if culture.status == CultureStatus.POOLED:
            problems.append(
                conflict(
                    "culture_already_pooled",
                    "Culture %(culture)s is already pooled.",
                    culture=culture.code,
                )
            )
        elif culture.status != CultureStatus.IN_PROCESS:
            problems.append(
                conflict(
                    "culture_not_in_process",
                    "Culture %(culture)s is %(status)s: only a culture in process can be pooled.",
                    culture=culture.code,
                    status=culture.status,
                )
            )
        if donor.status != DonorStatus.ELIGIBLE:
            problems.append(
                conflict(
                    "donor_not_eligible",
                    "Donor %(donor)s of culture %(culture)s is %(status)s, not eligible.",
                    donor=donor.code,
                    culture=culture.code,
                    status=donor.status,
                )
            )
        if biopsy.on_hold:
            problems.append(
                conflict(
                    "biopsy_on_hold",
                    "Biopsy %(biopsy)s of culture %(culture)s is on hold: %(reason)s",
                    biopsy=biopsy.din,
                    culture=culture.code,
                    reason=biopsy.hold_reason,
                )
            )
    return problems


def pooled_growth(members: Sequence[tuple[Culture, int]]) -> tuple[int, float | None]:
    """The passage number and cumulative PD at which a pool's cells start to grow.

    Pooling harvests each vessel (its cells counted as contributed) and seeds them together, so
    the pool grows at the next passage after the oldest member. The cumulative PD is the highest
    among members, counting each member's growth in its last vessel: the oldest cells set the limit.
    """
    passage = max(culture.passage_number for culture, _ in members) + 1
    figures = [
        cumulative_pd(culture.cumulative_pd, population_doublings(cells, culture.seeded_cells))
        for culture, cells in members
    ]
    known = [f for f in figures if f is not None]
    return passage, max(known) if known else None


def harvest_limit_problems(
    *, passage_number: int, cumulative: float | None, max_passage: int, max_cumulative_pd: float
) -> list[Reason]:
    """No clinical harvest beyond the passage limit or the cumulative-PD limit (the limits
    themselves allowed); release checks it again. The passage is the lot's state (409); the
    cumulative PD counts the cells this harvest reports (422).

    Code: limit_exceeded
    Clause: —
    """
    problems = []
    if passage_number > max_passage:
        problems.append(
            conflict(
                "limit_exceeded",
                "The cells are at passage %(passage)s: no clinical harvest beyond passage "
                "%(limit)s.",
                passage=passage_number,
                limit=max_passage,
            )
        )
    if cumulative is not None and cumulative > max_cumulative_pd:
        problems.append(
            reason(
                "limit_exceeded",
                "The cumulative population doublings (%(cumulative)s) exceed the limit of "
                "%(limit)s.",
                cumulative=format(cumulative, ".2f"),
                limit=format(max_cumulative_pd, "g"),
            )
        )
    return problems


def concentration_per_ml(cells: int, volume_ml: float) -> float:
    return cells / volume_ml


def fill_problems(
    *, doses: int, volume_ml: float, final_volume_ml: float, cells_per_dose: int
) -> list[Reason]:
    """The doses asked for fit in the formulated volume, and each holds cells. (The number
    and volume of doses are checked plausible where they are read: ``mfg.quantities``.)

    Code: volume_exceeds_formulated, dose_without_cells
    Clause: —
    """
    problems = []
    if doses * volume_ml > final_volume_ml + 1e-9:
        problems.append(
            reason(
                "volume_exceeds_formulated",
                "%(doses)s doses of %(volume)s mL need %(needed)s mL; the formulated "
                "volume is %(formulated)s mL.",
                doses=doses,
                volume=format(volume_ml, "g"),
                needed=format(doses * volume_ml, "g"),
                formulated=format(final_volume_ml, "g"),
            )
        )
    if volume_ml > 0 and cells_per_dose <= 0:
        problems.append(Reason("dose_without_cells", "Each dose must contain cells."))
    return problems


def storage_problems(*, temperature_c: float, max_temperature_c: float) -> list[Reason]:
    """Doses are stored in the liquid-nitrogen vapour phase at or below the configured
    temperature. (The freezing time is checked where it is read: ``mfg.quantities``.)

    Code: storage_too_warm
    Clause: —
    """
    if temperature_c > max_temperature_c:
        return [
            reason(
                "storage_too_warm",
                "Storage at %(temperature)s °C is warmer than the limit of %(limit)s °C.",
                temperature=format(temperature_c, "g"),
                limit=format(max_temperature_c, "g"),
            )
        ]
    return []


def label_is_of_lot(
    *, dose_identifier: str, dose_lot_id: int, lot_id: int, lot_din: str
) -> Reason | None:
    """A dose label checked at a lot's bench belongs to a dose of that lot: a label of another
    lot's dose is refused, however well it scans.

    Code: label_mismatch
    Clause: EU 2004/23/EC, 2006/86/EC
    """
    if dose_lot_id != lot_id:
        return reason(
            "label_mismatch",
            "This label is for dose %(dose)s, not a dose of lot %(lot)s.",
            dose=dose_identifier,
            lot=lot_din,
        )
    return None


def dose_expiry(filled_at: datetime, *, shelf_life_days: int, tz: tzinfo) -> datetime:
    """The end (23:59 local) of the last day of the shelf life, counted from the fill."""
    last_day = filled_at.astimezone(tz).date() + timedelta(days=shelf_life_days)
    return datetime.combine(last_day, time(23, 59), tzinfo=tz).astimezone(UTC)
