"""The actions the lot, material, culture and dose pages offer: from the row's transition table,
the permission table and what each step rests on (pure: no database)."""

import pytest

from mfg.manufacturing.views import culture_offers, dose_offers, lot_offers, material_offers
from mfg.models import (
    Culture,
    CultureStatus,
    Dose,
    DoseStatus,
    Harvest,
    Lot,
    LotStatus,
    MaterialLot,
    MaterialStatus,
    User,
    utcnow,
)


def _user(role: str) -> User:
    return User(username=role, full_name=role, roles=role, password_hash="")


def _lot(status: LotStatus) -> Lot:
    return Lot(din="A999926000001", status=status, total_cells=1, created_by_id=1)


def _dose(*, frozen: bool, checked: bool) -> Dose:
    now = utcnow()
    return Dose(frozen_at=now if frozen else None, label_verified_at=now if checked else None)


HARVEST = Harvest(lot_id=1, performed_by_id=1)


@pytest.mark.parametrize(
    ("status", "harvest", "offered"),
    [
        (LotStatus.IN_PROCESS, None, {"passage", "harvest"}),
        (LotStatus.HARVESTED, HARVEST, {"fill"}),
        (LotStatus.HARVESTED, None, set()),  # a fill rests on its harvest record
        (LotStatus.QUARANTINE, HARVEST, set()),
        (LotStatus.RELEASED, HARVEST, set()),
        (LotStatus.REJECTED, None, set()),
    ],
)
def test_lot_offers_the_bench_steps_the_lot_status_allows(
    status: LotStatus, harvest: Harvest | None, offered: set[str]
) -> None:
    steps = {"passage", "harvest", "fill"}
    offers = lot_offers(_lot(status), _user("technician"), harvest=harvest, filled=[])
    assert offers & steps == offered


@pytest.mark.parametrize(
    ("role", "steps"),
    [("technician", {"passage", "harvest"}), ("qc", set()), ("qa", set()), ("clinician", set())],
)
def test_lot_offers_the_bench_steps_only_to_the_roles_that_perform_them(
    role: str, steps: set[str]
) -> None:
    offers = lot_offers(_lot(LotStatus.IN_PROCESS), _user(role), harvest=None, filled=[])
    assert offers & {"passage", "harvest", "fill"} == steps


def test_lot_offers_the_label_check_and_storage_while_a_dose_awaits_them() -> None:
    tech = _user("technician")
    lot = _lot(LotStatus.QUARANTINE)
    waiting = [_dose(frozen=False, checked=False), _dose(frozen=True, checked=True)]
    assert {"check_labels", "store"} <= lot_offers(lot, tech, harvest=HARVEST, filled=waiting)
    done = [_dose(frozen=True, checked=True)]
    assert not {"check_labels", "store"} & lot_offers(lot, tech, harvest=HARVEST, filled=done)


@pytest.mark.parametrize(
    ("status", "linked"),
    [
        (LotStatus.IN_PROCESS, False),
        (LotStatus.HARVESTED, False),
        (LotStatus.QUARANTINE, True),
        (LotStatus.ON_HOLD, True),
    ],
)
def test_lot_offers_the_release_page_once_the_lot_is_filled(
    status: LotStatus, linked: bool
) -> None:
    offers = lot_offers(_lot(status), _user("qa"), harvest=HARVEST, filled=[])
    assert ("view_release" in offers) is linked


@pytest.mark.parametrize(
    ("status", "role", "decisions"),
    [
        (MaterialStatus.QUARANTINED, "qa", {"release", "reject"}),
        (MaterialStatus.RELEASED, "qa", {"reject"}),  # a supplier recall
        (MaterialStatus.REJECTED, "qa", set()),
        (MaterialStatus.QUARANTINED, "technician", set()),
    ],
)
def test_material_offers_the_decisions_its_status_and_the_role_allow(
    status: MaterialStatus, role: str, decisions: set[str]
) -> None:
    lot = MaterialLot(code="ML0000011", status=status)
    assert material_offers(lot, _user(role)) & {"release", "reject"} == decisions


@pytest.mark.parametrize(
    ("status", "role", "offered"),
    [
        (CultureStatus.IN_PROCESS, "technician", True),
        (CultureStatus.PASSAGED, "technician", False),
        (CultureStatus.POOLED, "technician", False),
        (CultureStatus.IN_PROCESS, "qa", False),
    ],
)
def test_culture_offers_a_passage_only_in_process_and_to_the_bench(
    status: CultureStatus, role: str, offered: bool
) -> None:
    culture = Culture(code="CV0000011", status=status)
    assert ("passage" in culture_offers(culture, _user(role))) is offered


@pytest.mark.parametrize(
    ("status", "frozen", "thawed", "role", "offered"),
    [
        (DoseStatus.ALLOCATED, True, False, "technician", True),
        (DoseStatus.ISSUED, True, False, "clinician", True),
        (DoseStatus.QUARANTINE, True, False, "technician", False),
        (DoseStatus.AVAILABLE, True, False, "technician", False),
        (DoseStatus.ALLOCATED, False, False, "technician", False),  # never stored
        (DoseStatus.ISSUED, True, True, "clinician", False),  # thawed already
        (DoseStatus.ALLOCATED, True, False, "qa", False),
    ],
)
def test_dose_offers_the_thaw_of_a_stored_allocated_or_issued_dose(
    status: DoseStatus, frozen: bool, thawed: bool, role: str, offered: bool
) -> None:
    now = utcnow()
    dose = Dose(status=status, frozen_at=now if frozen else None, thawed_at=now if thawed else None)
    assert ("thaw" in dose_offers(dose, _user(role))) is offered
