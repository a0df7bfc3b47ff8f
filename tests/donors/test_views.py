"""The actions the donor and biopsy pages offer: from the row's transition table, the permission
table and the eligibility check (pure: no database)."""

import pytest

from mfg.donors.views import biopsy_offers, donor_offers
from mfg.errors import Reason
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, User

BLOCKED = [Reason("consent_missing", "No consent.")]


def _user(role: str) -> User:
    return User(username=role, full_name=role, roles=role, password_hash="")


@pytest.mark.parametrize(
    ("status", "blocking", "offered"),
    [
        (DonorStatus.REGISTERED, [], {"sign_eligible", "sign_ineligible"}),
        (DonorStatus.REGISTERED, BLOCKED, {"sign_ineligible"}),  # the check blocks eligibility
        (DonorStatus.ELIGIBLE, [], set()),  # determined: a look-back makes it ineligible
        (DonorStatus.INELIGIBLE, [], set()),
    ],
)
def test_donor_offers_the_determination_while_registered_and_eligible_when_nothing_blocks(
    status: DonorStatus, blocking: list[Reason], offered: set[str]
) -> None:
    donor = Donor(code="DN0000011", status=status)
    offers = donor_offers(donor, _user("qa"), blocking=blocking)
    assert offers & {"sign_eligible", "sign_ineligible"} == offered


@pytest.mark.parametrize(
    ("status", "role", "offered"),
    [
        (DonorStatus.REGISTERED, "technician", {"screen", "enter_result", "register_biopsy"}),
        (DonorStatus.ELIGIBLE, "technician", {"enter_result", "register_biopsy"}),
        (DonorStatus.INELIGIBLE, "technician", set()),
        (DonorStatus.REGISTERED, "qc", {"enter_result"}),
        (DonorStatus.INELIGIBLE, "qc", set()),
    ],
)
def test_donor_offers_no_step_on_an_ineligible_donor(
    status: DonorStatus, role: str, offered: set[str]
) -> None:
    donor = Donor(code="DN0000011", status=status)
    steps = {"screen", "enter_result", "register_biopsy"}
    assert donor_offers(donor, _user(role), blocking=[]) & steps == offered


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (BiopsyStatus.COLLECTED, True),
        (BiopsyStatus.RECEIVED, False),
        (BiopsyStatus.DISCARDED, False),
    ],
)
def test_biopsy_offers_its_receipt_only_while_collected(
    status: BiopsyStatus, offered: bool
) -> None:
    biopsy = Biopsy(din="A999926000001", status=status)
    assert ("receive" in biopsy_offers(biopsy, _user("technician"))) is offered
