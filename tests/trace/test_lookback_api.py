"""Look-back and its signed hold through the JSON API, as an integration would use them."""

from sqlmodel import Session, select

from mfg.models import Donor, PoolMember, Signature
from tests.factories import PASSWORD, bearer


def _donor_of(engine, lot) -> str:
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        return session.get(Donor, member.donor_id).code


def test_look_back_and_its_signed_hold_are_in_the_api(client, engine, history) -> None:
    lot_b, infused, patient = history["b"]
    donor = _donor_of(engine, lot_b)
    qa = bearer(client, "qa")
    found = client.get(f"/api/lookback/donor/{donor}", headers=qa)
    assert found.status_code == 200, found.text
    body = found.json()
    assert [lot["din"] for lot in body["lots"]] == [lot_b.din]
    assert [n["patient"] for n in body["notify"]] == [patient.code]
    unused = [d["identifier"] for d in body["doses"] if d["unused"]]
    assert unused and infused.identifier not in unused and body["holds"] == []

    held = client.post(
        f"/api/lookback/donor/{donor}/hold",
        json={"reason": "donor HIV NAT reactive", "password": PASSWORD},
        headers=qa,
    )
    assert held.status_code == 201, held.text
    body = held.json()
    assert sorted(body["held"]) == sorted(unused)
    [hold] = body["holds"]
    assert hold["doses"] == sorted(unused) and hold["patients"] == [patient.code]
    assert hold["held_by"] == "qa" and hold["signature_valid"] is True
    with Session(engine) as session:
        signature = session.exec(
            select(Signature).where(Signature.entity_type == "lookback_hold")
        ).one()
        assert signature.meaning == "Placed on hold"

    again = client.post(
        f"/api/lookback/donor/{donor}/hold",
        json={"reason": "again", "password": PASSWORD},
        headers=qa,
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_dose_to_hold"
    csv = client.get(f"/api/lookback/donor/{donor}/notifications.csv", headers=qa)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert patient.code in csv.text


def test_a_look_back_hold_with_a_wrong_password_holds_nothing(client, engine, history) -> None:
    donor = _donor_of(engine, history["b"][0])
    qa = bearer(client, "qa")
    refused = client.post(
        f"/api/lookback/donor/{donor}/hold",
        json={"reason": "donor HIV NAT reactive", "password": "not my password"},
        headers=qa,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "signature_refused"
    body = client.get(f"/api/lookback/donor/{donor}", headers=qa).json()
    assert body["holds"] == [] and any(d["unused"] for d in body["doses"])


def test_only_qa_holds_through_the_look_back(client, engine, history) -> None:
    donor = _donor_of(engine, history["b"][0])
    refused = client.post(
        f"/api/lookback/donor/{donor}/hold",
        json={"reason": "r", "password": PASSWORD},
        headers=bearer(client, "technician"),
    )
    assert refused.status_code == 403
