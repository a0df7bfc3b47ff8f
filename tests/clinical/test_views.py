"""The actions the patient page offers: from the order's transition table, the permission table
and the second-person guard on the weight (pure: no database)."""

import pytest

from mfg.clinical.views import patient_offers
from mfg.models import DoseOrder, OrderStatus, Patient, TrialArm, User, utcnow


def _user(role: str, user_id: int = 1) -> User:
    return User(id=user_id, username=role, full_name=role, roles=role, password_hash="")


def _patient(*, entered_by: int = 9, verified: bool = False) -> Patient:
    return Patient(
        code="PT0000011",
        weight_entered_by_id=entered_by,
        weight_verified_at=utcnow() if verified else None,
    )


PRODUCT, CONTROL = TrialArm(code="A", receives_product=True), TrialArm(code="C")


@pytest.mark.parametrize(
    ("arm", "order", "remaining", "offered"),
    [
        (PRODUCT, None, 2, {"order"}),
        (PRODUCT, None, 0, set()),  # every infusion given
        (CONTROL, None, 2, set()),  # the control arm receives no product
        (PRODUCT, DoseOrder(status=OrderStatus.ACTIVE), 2, {"cancel_order"}),
        (PRODUCT, DoseOrder(status=OrderStatus.COMPLETED), 2, set()),
    ],
)
def test_patient_offers_an_order_or_its_cancellation_as_the_order_allows(
    arm, order, remaining, offered
) -> None:
    offers = patient_offers(
        _patient(), _user("clinician"), arm=arm, order=order, remaining=remaining
    )
    assert offers & {"order", "cancel_order"} == offered


@pytest.mark.parametrize(
    ("entered_by", "verified", "offered"),
    [(9, False, True), (1, False, False), (9, True, False)],  # 1: the reader entered it
)
def test_patient_offers_the_weight_verification_to_a_second_person_only(
    entered_by: int, verified: bool, offered: bool
) -> None:
    patient = _patient(entered_by=entered_by, verified=verified)
    offers = patient_offers(patient, _user("clinician"), arm=CONTROL, order=None, remaining=0)
    assert ("verify_weight" in offers) is offered
