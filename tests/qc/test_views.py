"""The actions the deviation and specification pages offer: from the row's transition table and
the permission table (pure: no database)."""

import pytest

from mfg.models import Deviation, DeviationStatus, SpecStatus, SpecVersion, User
from mfg.qc.views import deviation_offers, specification_offers


def _user(role: str) -> User:
    return User(username=role, full_name=role, roles=role, password_hash="")


@pytest.mark.parametrize(
    ("status", "role", "offered"),
    [
        (DeviationStatus.OPEN, "qc", {"investigate"}),
        (DeviationStatus.OPEN, "qa", {"investigate"}),
        (DeviationStatus.INVESTIGATED, "qa", {"close"}),
        (DeviationStatus.INVESTIGATED, "qc", set()),
        (DeviationStatus.CLOSED, "qa", set()),
        (DeviationStatus.OPEN, "clinician", set()),
    ],
)
def test_deviation_offers_the_step_its_status_allows_to_those_who_take_it(
    status: DeviationStatus, role: str, offered: set[str]
) -> None:
    deviation = Deviation(code="DV0000011", status=status)
    assert deviation_offers(deviation, _user(role)) == offered


@pytest.mark.parametrize(
    ("status", "role", "offered"),
    [
        (SpecStatus.DRAFT, "qa", {"draft", "approve"}),
        (SpecStatus.APPROVED, "qa", {"draft"}),
        (SpecStatus.SUPERSEDED, "qa", {"draft"}),
        (SpecStatus.DRAFT, "qc", set()),
    ],
)
def test_specification_offers_approval_of_a_draft_only(
    status: SpecStatus, role: str, offered: set[str]
) -> None:
    spec = SpecVersion(version=2, title="t", status=status)
    assert specification_offers(spec, _user(role)) == offered
