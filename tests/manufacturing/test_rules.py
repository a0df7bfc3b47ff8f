"""The manufacturing guards one by one, on both sides of each bound: the in-process viability
minimum, the passage and cumulative-PD limits, a material lot's release and expiry, re-seeding,
fill and storage. Pure functions: no database (the steps through the services are in
test_cultures.py, test_lots.py, test_materials.py)."""

from __future__ import annotations

import sys
from datetime import date

import pytest

from mfg.manufacturing.rules import (
    below_viability_specification,
    fill_problems,
    harvest_limit_problems,
    label_is_of_lot,
    low_viability_problems,
    material_use_problems,
    pooling_problems,
    reseeding_problems,
    storage_problems,
)
from mfg.models import (
    Biopsy,
    Culture,
    CultureStatus,
    Donor,
    DonorStatus,
    MaterialLot,
    MaterialStatus,
)

MINIMUM = 70.0  # the in-process viability specification (≥ 70 %)
MAX_PASSAGE, MAX_PD = 5, 20.0


def codes(found) -> list[str]:
    return [reason.code for reason in found]


# --- the in-process viability minimum ---------------------------------------------------------


@pytest.mark.parametrize(
    ("viability", "below"), [(69.9, True), (70.0, False), (70.1, False), (0.0, True), (100, False)]
)
def test_below_viability_specification_at_below_and_above_the_minimum(viability, below) -> None:
    assert below_viability_specification(viability, MINIMUM) is below


@pytest.mark.parametrize(
    ("viability", "note", "expected"),
    [
        (70.1, "", []),
        (70.0, "", []),  # the minimum itself meets the specification
        (69.9, "", ["deviation_note_required"]),
        (69.9, "   ", ["deviation_note_required"]),  # blank is no note
        (69.9, "Counted twice; QA informed.", []),
        (12.0, "Contamination suspected.", []),
    ],
)
def test_low_viability_problems_at_below_and_above_the_minimum(viability, note, expected) -> None:
    found = low_viability_problems(
        viability_pct=viability, minimum_pct=MINIMUM, deviation_note=note
    )
    assert codes(found) == expected


def test_low_viability_problems_names_the_viability_and_the_specification() -> None:
    (reason,) = low_viability_problems(viability_pct=64.5, minimum_pct=70, deviation_note="")
    assert "64.5 %" in reason.message and "≥ 70 %" in reason.message


# --- the passage and cumulative-PD limits at harvest ------------------------------------------


@pytest.mark.parametrize(
    ("passage", "cumulative", "expected"),
    [
        (MAX_PASSAGE - 1, MAX_PD - 0.01, []),
        (MAX_PASSAGE, MAX_PD, []),  # at the limits: allowed
        (MAX_PASSAGE + 1, MAX_PD, ["limit_exceeded"]),
        (MAX_PASSAGE, MAX_PD + 0.01, ["limit_exceeded"]),
        (MAX_PASSAGE, None, []),  # an explant's PD is not known
        (MAX_PASSAGE + 1, MAX_PD + 0.01, ["limit_exceeded", "limit_exceeded"]),
    ],
)
def test_harvest_limit_problems_at_below_and_above_the_limits(
    passage, cumulative, expected
) -> None:
    found = harvest_limit_problems(
        passage_number=passage,
        cumulative=cumulative,
        max_passage=MAX_PASSAGE,
        max_cumulative_pd=MAX_PD,
    )
    assert codes(found) == expected


def test_harvest_limit_problems_the_passage_is_the_lots_state_the_pd_what_was_typed() -> None:
    passage, pd = harvest_limit_problems(
        passage_number=MAX_PASSAGE + 1,
        cumulative=MAX_PD + 1,
        max_passage=MAX_PASSAGE,
        max_cumulative_pd=MAX_PD,
    )
    assert (passage.conflict, pd.conflict) == (True, False)


# --- material lots ----------------------------------------------------------------------------


def material(status: str = MaterialStatus.RELEASED) -> MaterialLot:
    return MaterialLot(
        code="ML0000001", name="Trypsin", lot_number="T1", expiry=date(2030, 1, 1), status=status
    )


@pytest.mark.parametrize(
    ("status", "on", "expected"),
    [
        (MaterialStatus.RELEASED, date(2029, 12, 31), []),
        (MaterialStatus.RELEASED, date(2030, 1, 1), []),  # its expiry day: still usable
        (MaterialStatus.RELEASED, date(2030, 1, 2), ["material_expired"]),
        (MaterialStatus.QUARANTINED, date(2029, 12, 31), ["material_not_released"]),
        (MaterialStatus.REJECTED, date(2029, 12, 31), ["material_not_released"]),
        (
            MaterialStatus.QUARANTINED,
            date(2030, 1, 2),
            ["material_not_released", "material_expired"],
        ),
    ],
)
def test_material_use_problems_on_both_sides_of_the_expiry(status, on, expected) -> None:
    assert codes(material_use_problems(material(status), on=on)) == expected


# --- re-seeding, fill, storage ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("harvested", "reseeded", "expected"),
    [(1000, 999, []), (1000, 1000, []), (1000, 1001, ["reseeded_exceeds_harvested"])],
)
def test_reseeding_problems_at_below_and_above_the_harvest(harvested, reseeded, expected) -> None:
    assert codes(reseeding_problems(harvested=harvested, reseeded=reseeded)) == expected


@pytest.mark.parametrize(
    ("doses", "volume", "cells", "expected"),
    [
        (4, 5.0, 10**7, []),
        (5, 5.0, 10**7, []),  # exactly the formulated 25 mL
        (6, 5.0, 10**7, ["volume_exceeds_formulated"]),
        (3, 8.4, 10**7, ["volume_exceeds_formulated"]),  # 25.2 mL
        (4, 5.0, 0, ["dose_without_cells"]),
    ],
)
def test_fill_problems_on_both_sides_of_the_formulated_volume(
    doses, volume, cells, expected
) -> None:
    found = fill_problems(doses=doses, volume_ml=volume, final_volume_ml=25.0, cells_per_dose=cells)
    assert codes(found) == expected


@pytest.mark.parametrize(
    ("temperature", "expected"),
    [(-196.0, []), (-150.0, []), (-149.9, ["storage_too_warm"])],
)
def test_storage_problems_at_below_and_above_the_limit(temperature, expected) -> None:
    found = storage_problems(temperature_c=temperature, max_temperature_c=-150.0)
    assert codes(found) == expected


# --- a label checked at a lot's bench -------------------------------------------------------


@pytest.mark.parametrize(
    ("dose_lot_id", "expected"), [(6, "label_mismatch"), (7, None), (8, "label_mismatch")]
)
def test_label_is_of_lot_refuses_a_dose_of_another_lot(dose_lot_id, expected) -> None:
    found = label_is_of_lot(
        dose_identifier="A999926000012S1234VA0", dose_lot_id=dose_lot_id, lot_id=7, lot_din="X"
    )
    assert (found.code if found else None) == expected
    if found:
        assert not found.conflict  # the scan is at fault (422), not the lot
        assert "A999926000012S1234VA0" in found.message


def test_every_manufacturing_guard_here_has_a_test_named_after_it() -> None:
    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    guards = (
        below_viability_specification,
        low_viability_problems,
        harvest_limit_problems,
        material_use_problems,
        reseeding_problems,
        fill_problems,
        storage_problems,
        label_is_of_lot,
    )
    for guard in guards:
        assert any(guard.__name__ in name for name in tests), guard.__name__


def _member(donor_id: int, culture_id: int, *, eligible: bool = True, status=None, hold=False):
    culture = Culture(
        id=culture_id, code=f"CV{culture_id:07d}", status=status or CultureStatus.IN_PROCESS
    )
    donor = Donor(
        id=donor_id,
        code=f"DN{donor_id:07d}",
        status=DonorStatus.ELIGIBLE if eligible else DonorStatus.INELIGIBLE,
    )
    return culture, Biopsy(din=f"B{culture_id}", on_hold=hold), donor, 1_000_000


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([(1, 1), (2, 2)], []),
        ([(1, 1), (1, 2)], ["pool_needs_two_donors"]),
        ([(1, 1), (2, 1)], ["culture_listed_twice"]),
    ],
)
def test_pooling_problems_needs_two_donors_each_culture_once(members, expected) -> None:
    found = pooling_problems([_member(d, c) for d, c in members])
    assert [p.code for p in found] == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": CultureStatus.POOLED}, "culture_already_pooled"),
        ({"status": CultureStatus.DISCARDED}, "culture_not_in_process"),
        ({"eligible": False}, "donor_not_eligible"),
        ({"hold": True}, "biopsy_on_hold"),
    ],
)
def test_pooling_problems_refuses_a_member_that_cannot_be_pooled(kwargs, expected) -> None:
    found = pooling_problems([_member(1, 1, **kwargs), _member(2, 2)])
    assert [p.code for p in found] == [expected]
