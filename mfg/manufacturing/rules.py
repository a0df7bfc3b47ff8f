"""Manufacturing rules as pure functions: every reason that blocks, in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from mfg.models import (
    Biopsy,
    Culture,
    CultureStatus,
    Donor,
    DonorStatus,
    MaterialLot,
    MaterialStatus,
)


def material_use_problems(lot: MaterialLot, *, on: date) -> list[str]:
    """A step may only use a released lot that has not expired (REFERENCE.md §4)."""
    problems = []
    label = f"{lot.name} lot {lot.lot_number} ({lot.code})"
    if lot.status == MaterialStatus.QUARANTINED:
        problems.append(f"{label} is quarantined: QA has not released it.")
    elif lot.status == MaterialStatus.REJECTED:
        problems.append(f"{label} is rejected: {lot.decision_reason or 'no reason recorded'}.")
    if lot.expiry < on:
        problems.append(f"{label} expired on {lot.expiry}.")
    return problems


def population_doublings(harvested: int, seeded: int | None) -> float | None:
    """PD = log2(N_harvested / N_seeded) (REFERENCE.md §4); unknown for an explant culture."""
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


def passage_problems(
    *,
    harvested: int,
    viability_pct: float,
    reseeded: int,
    new_vessels: int,
    started_at: datetime,
    ended_at: datetime,
    now: datetime,
) -> list[str]:
    problems = []
    if harvested <= 0:
        problems.append("The harvested cell count must be positive.")
    if not 0 <= viability_pct <= 100:
        problems.append("Viability is a percentage between 0 and 100.")
    if reseeded < 0 or reseeded > harvested:
        problems.append("Cells re-seeded cannot exceed the cells harvested.")
    if new_vessels < 1:
        problems.append("At least one new vessel is seeded.")
    if ended_at < started_at:
        problems.append("The passage ends before it starts.")
    if ended_at > now:
        problems.append("The passage end time is in the future.")
    return problems


def pooling_problems(members: Sequence[tuple[Culture, Biopsy, Donor, int]]) -> list[str]:
    """A pool takes in-process cultures of at least two different eligible donors, each once."""
    problems = []
    donors = {donor.id for _, _, donor, _ in members}
    if len(donors) < 2:
        problems.append("A pool needs cultures of at least two different donors.")
    seen = set()
    for culture, biopsy, donor, cells in members:
        if culture.id in seen:
            problems.append(f"Culture {culture.code} is listed twice.")
        seen.add(culture.id)
        if culture.status == CultureStatus.POOLED:
            problems.append(f"Culture {culture.code} is already pooled.")
        elif culture.status != CultureStatus.IN_PROCESS:
            problems.append(
                f"Culture {culture.code} is {culture.status}: only a culture in process can be "
                "pooled."
            )
        if donor.status != DonorStatus.ELIGIBLE:
            problems.append(
                f"Donor {donor.code} of culture {culture.code} is {donor.status}, not eligible."
            )
        if biopsy.on_hold:
            problems.append(
                f"Biopsy {biopsy.din} of culture {culture.code} is on hold: {biopsy.hold_reason}"
            )
        if cells <= 0:
            problems.append(f"The cells contributed by culture {culture.code} must be positive.")
    return problems
