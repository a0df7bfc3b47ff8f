"""Material lots: GS1 registration, QA release, and the rule that steps use only usable lots."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.errors import Conflict, InvalidInput, RuleViolation, SignatureRefused
from mfg.manufacturing import materials
from mfg.manufacturing.rules import material_use_problems
from mfg.manufacturing.schemas import MaterialCreate, MaterialDecision
from mfg.models import MaterialLot, MaterialStatus, Signature, User
from tests.factories import PASSWORD, bearer, csrf_from, log_in

GS1 = "]C1" + "0109501101020917" + "17281231" + "10HPL-2026-0457" + "\x1d" + "21SN42"


def as_user(engine, settings, users, role, fn):
    with unit_of_work(engine, settings=settings) as session:
        return fn(session, session.get(User, users[role].id))


def register(engine, settings, users, *, lot_number="L1", expiry=date(2030, 1, 1)) -> MaterialLot:
    return as_user(
        engine,
        settings,
        users,
        "technician",
        lambda s, a: materials.register_material(
            s,
            actor=a,
            command=MaterialCreate(
                name="Human platelet lysate",
                supplier="Example Bio",
                catalogue_number="HPL-500",
                lot_number=lot_number,
                expiry=expiry,
            ),
        ),
    )


def decide(engine, settings, users, lot, release=True, password=PASSWORD, reason=""):
    return as_user(
        engine,
        settings,
        users,
        "qa",
        lambda s, a: materials.decide_material(
            s,
            actor=a,
            lot=materials.get_material(s, lot.code),
            command=MaterialDecision(release=release, password=password, reason=reason),
        ),
    )


def test_the_gs1_code_gives_gtin_lot_expiry_and_serial() -> None:
    assert materials.gs1_fields(GS1) == {
        "gtin": "09501101020917",
        "lot_number": "HPL-2026-0457",
        "serial": "SN42",
        "expiry": "2028-12-31",
    }


def test_a_scan_that_is_not_gs1_is_refused_for_registration() -> None:
    with pytest.raises(InvalidInput, match="GS1"):
        materials.gs1_fields("=A99992600000100")


def test_a_registered_lot_is_quarantined_with_an_internal_code(engine, settings, users) -> None:
    lot = register(engine, settings, users)
    assert lot.status == MaterialStatus.QUARANTINED and lot.code.startswith("ML")


def test_the_same_lot_cannot_be_registered_twice(engine, settings, users) -> None:
    register(engine, settings, users)
    with pytest.raises(Conflict, match="already registered"):
        register(engine, settings, users)


def test_qa_releases_a_lot_with_a_signature(engine, settings, users) -> None:
    lot = decide(engine, settings, users, register(engine, settings, users))
    assert lot.status == MaterialStatus.RELEASED
    with Session(engine) as session:
        signature = session.exec(select(Signature).where(Signature.entity_type == "material")).one()
    assert signature.meaning == "Released"


def test_a_wrong_password_leaves_the_lot_quarantined(engine, settings, users) -> None:
    lot = register(engine, settings, users)
    with pytest.raises(SignatureRefused):
        decide(engine, settings, users, lot, password="wrong")
    with Session(engine) as session:
        assert session.get(MaterialLot, lot.id).status == MaterialStatus.QUARANTINED


def test_a_rejection_needs_a_reason(engine, settings, users) -> None:
    lot = register(engine, settings, users)
    with pytest.raises(InvalidInput):
        decide(engine, settings, users, lot, release=False)
    assert (
        decide(engine, settings, users, lot, release=False, reason="CoA missing").status
        == "rejected"
    )


def test_an_expired_lot_cannot_be_released(engine, settings, users) -> None:
    lot = register(engine, settings, users, expiry=date(2020, 1, 1))
    with pytest.raises(RuleViolation, match="expired"):
        decide(engine, settings, users, lot)


def test_an_expired_or_unreleased_material_lot_cannot_be_used(engine, settings, users) -> None:
    quarantined = register(engine, settings, users, lot_number="Q")
    released = decide(engine, settings, users, register(engine, settings, users, lot_number="R"))
    rejected = decide(
        engine,
        settings,
        users,
        register(engine, settings, users, lot_number="X"),
        release=False,
        reason="damaged",
    )
    today = date(2029, 6, 1)
    assert material_use_problems(released, on=today) == []
    (held,) = material_use_problems(quarantined, on=today)
    assert held.code == "material_not_released" and "quarantined" in held.message
    (refused_lot,) = material_use_problems(rejected, on=today)
    assert (
        refused_lot.code == "material_not_released" and "rejected: damaged" in refused_lot.message
    )
    (expired,) = material_use_problems(released, on=date(2030, 1, 2))
    assert expired.code == "material_expired" and "expired on 2030-01-01" in expired.message
    with pytest.raises(RuleViolation) as refused:
        as_user(
            engine,
            settings,
            users,
            "technician",
            lambda s, a: materials.check_materials_usable(
                s,
                [
                    materials.get_material(s, quarantined.code),
                    materials.get_material(s, rejected.code),
                ],
            ),
        )
    assert len(refused.value.reasons) == 2
    assert refused.value.code == "material_not_released" and refused.value.status_code == 409


def test_registering_from_a_scan_over_the_api(client: TestClient, users) -> None:
    headers = bearer(client, "technician")
    created = client.post(
        "/api/materials",
        headers=headers,
        json={
            "scan": GS1,
            "name": "Human platelet lysate",
            "supplier": "Example Bio",
            "catalogue_number": "HPL-500",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["lot_number"], body["expiry"], body["gtin"]) == (
        "HPL-2026-0457",
        "2028-12-31",
        "09501101020917",
    )
    found = client.get("/api/scan", params={"code": GS1}, headers=headers).json()
    assert found["kind"] == "material" and found["identifier"] == body["code"]
    assert (
        client.get("/api/materials", params={"status": "quarantined"}, headers=headers).json()[
            "total"
        ]
        == 1
    )
    label = client.get(f"/api/labels/material/{body['code']}.pdf", headers=headers)
    assert label.status_code == 200


def test_a_scan_prefills_the_registration_from_the_last_lot_of_the_same_product(
    client: TestClient, engine, settings, users
) -> None:
    as_user(
        engine,
        settings,
        users,
        "technician",
        lambda s, a: materials.register_material(
            s,
            actor=a,
            command=MaterialCreate(
                name="Human platelet lysate",
                supplier="Example Bio",
                catalogue_number="HPL-500",
                lot_number="OLD-1",
                expiry=date(2029, 1, 1),
                gtin="09501101020917",
            ),
        ),
    )
    log_in(client, "technician")
    html = client.get("/materials", params={"scan": GS1}).text
    assert (
        'value="HPL-2026-0457"' in html
        and 'value="Example Bio"' in html
        and 'value="2028-12-31"' in html
    )
    token = csrf_from(html)
    response = client.post(
        "/materials",
        data={
            "csrf_token": token,
            "name": "Human platelet lysate",
            "supplier": "Example Bio",
            "catalogue_number": "HPL-500",
            "lot_number": "HPL-2026-0457",
            "expiry": "2028-12-31",
            "gtin": "09501101020917",
        },
    )
    assert response.status_code == 200 and "in quarantine" in response.text


def test_a_second_lot_of_a_gtin_is_registered_by_its_scan_alone_over_the_api(
    client: TestClient, users
) -> None:
    """Name, supplier and catalogue number are remembered per GTIN through the API as on the
    page; the first lot of a product still needs them."""
    headers = bearer(client, "technician")
    first = client.post("/api/materials", headers=headers, json={"scan": GS1})
    assert first.status_code == 422 and first.json()["error"]["details"]["field"] == "name"
    names = {
        "name": "Human platelet lysate",
        "supplier": "Example Bio",
        "catalogue_number": "HPL-5",
    }
    client.post("/api/materials", headers=headers, json={"scan": GS1, **names}).raise_for_status()
    second = client.post(
        "/api/materials", headers=headers, json={"scan": GS1.replace("HPL-2026-0457", "HPL-0458")}
    )
    assert second.status_code == 201, second.text
    body = second.json()
    assert {k: body[k] for k in names} == names and body["lot_number"] == "HPL-0458"
