"""The actions the lot page offers: from the lot's transition table, the permission table and
what each step rests on (pure: no database)."""

import pytest

from mfg.manufacturing.views import lot_offers
from mfg.models import Dose, Harvest, Lot, LotStatus, User, utcnow


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
