"""Manufacturing rules as pure functions: every reason that blocks, in words."""

from __future__ import annotations

from datetime import date

from mfg.models import MaterialLot, MaterialStatus


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
