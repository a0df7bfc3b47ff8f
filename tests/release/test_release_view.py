"""The decisions the release page offers: from the lot's transition table, the permission table
and the release check (pure: no database)."""

import pytest

from mfg.models import Lot, LotStatus, User
from mfg.release.service import ReleaseCheck
from mfg.release.views import release_offers

READY = ReleaseCheck(True, [], False, [])
CONDITIONAL = ReleaseCheck(False, ["sterility pending"], True, [])  # type: ignore[list-item]
BLOCKED = ReleaseCheck(False, ["test missing"], False, [])  # type: ignore[list-item]


def _lot(status: LotStatus) -> Lot:
    return Lot(din="A999926000001", status=status, total_cells=1, created_by_id=1)


QA = User(username="qa", full_name="QA", roles="qa", password_hash="")


@pytest.mark.parametrize(
    ("status", "check", "offered"),
    [
        (LotStatus.IN_PROCESS, BLOCKED, {"reject"}),
        (LotStatus.HARVESTED, BLOCKED, {"reject"}),
        (LotStatus.QUARANTINE, READY, {"release", "reject"}),
        (LotStatus.QUARANTINE, CONDITIONAL, {"release_conditionally", "reject"}),
        (LotStatus.QUARANTINE, BLOCKED, {"reject"}),
        (LotStatus.CONDITIONALLY_RELEASED, BLOCKED, {"complete_release", "hold"}),
        (LotStatus.RELEASED, READY, {"hold"}),
        (LotStatus.ON_HOLD, READY, {"lift_hold", "recall"}),
        (LotStatus.REJECTED, READY, set()),
        (LotStatus.RECALLED, READY, set()),
    ],
)
def test_release_offers_follow_the_transition_table_and_the_release_check(
    status: LotStatus, check: ReleaseCheck, offered: set[str]
) -> None:
    assert release_offers(_lot(status), QA, check) == offered


@pytest.mark.parametrize("role", ["technician", "qc", "clinician", "admin"])
def test_release_offers_nothing_to_a_role_that_does_not_release(role: str) -> None:
    user = User(username=role, full_name=role, roles=role, password_hash="")
    assert release_offers(_lot(LotStatus.QUARANTINE), user, READY) == frozenset()
