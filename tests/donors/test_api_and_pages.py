"""The donors and biopsies API (list/read contract) and pages, through the real app."""

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from mfg.models import utcnow
from tests.factories import PASSWORD, bearer, csrf_from, log_in


def test_register_a_donor_and_read_it_back(client: TestClient, users) -> None:
    headers = bearer(client, "technician")
    created = client.post("/api/donors", json={"sex": "M", "birth_year": 1979}, headers=headers)
    assert created.status_code == 201
    code = created.json()["identifier"]
    assert code.startswith("DN") and len(code) == 9
    body = client.get(f"/api/donors/{code}", headers=headers).json()
    assert (
        body["status"] == "registered"
        and "Consent is not recorded." in body["eligibility_blocking"]
    )
    listed = client.get("/api/donors", params={"status": "registered"}, headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["identifier"] == code


def test_the_full_donor_flow_over_the_api(client: TestClient, users) -> None:
    tech, qc, qa = bearer(client, "technician"), bearer(client, "qc"), bearer(client, "qa")
    code = client.post("/api/donors", json={"sex": "F", "birth_year": 1990}, headers=tech).json()[
        "code"
    ]
    today = utcnow().astimezone().date()
    client.post(
        f"/api/donors/{code}/consent",
        json={"consent_date": str(today - timedelta(days=1))},
        headers=tech,
    )
    client.post(f"/api/donors/{code}/screening", json={"outcome": "passed"}, headers=tech)
    collected = (utcnow() - timedelta(hours=2)).isoformat()
    biopsy = client.post(
        "/api/biopsies",
        json={"donor": code, "collected_at": collected, "site": "left", "collected_by": "Dr. X"},
        headers=tech,
    ).json()
    markers = ["HIV-AB", "HIV-NAT", "HBSAG", "HBC-AB", "HCV-AB", "HCV-NAT", "TP"]
    sample = (utcnow() - timedelta(hours=2)).astimezone().date()
    for marker in markers:
        result = client.post(
            f"/api/donors/{code}/results",
            headers=qc,
            json={
                "marker_code": marker,
                "outcome": "negative",
                "sample_date": str(sample),
                "test_date": str(sample),
                "method": "CLIA",
                "kit_lot": "K1",
            },
        ).json()
        assert (
            client.post(f"/api/marker-results/{result['id']}/verify", headers=tech).status_code
            == 200
        )
    signed = client.post(
        f"/api/donors/{code}/eligibility", headers=qa, json={"eligible": True, "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "eligible"
    received = client.post(
        f"/api/biopsies/{biopsy['din']}/receive",
        headers=tech,
        json={
            "received_at": utcnow().isoformat(),
            "transport_temperature_c": 4,
            "container_intact": True,
        },
    )
    assert received.json()["status"] == "received"
    assert (
        client.get("/api/biopsies", params={"status": "received"}, headers=tech).json()["total"]
        == 1
    )


def test_eligibility_refusal_over_the_api_lists_every_reason(client: TestClient, users) -> None:
    tech, qa = bearer(client, "technician"), bearer(client, "qa")
    code = client.post("/api/donors", json={"sex": "F", "birth_year": 1990}, headers=tech).json()[
        "code"
    ]
    refused = client.post(
        f"/api/donors/{code}/eligibility", headers=qa, json={"eligible": True, "password": PASSWORD}
    )
    assert refused.status_code == 409  # the donor's record is not yet complete
    assert refused.json()["error"]["code"] == "eligibility_not_met"
    reasons = refused.json()["error"]["details"]["reasons"]
    assert "Consent is not recorded." in reasons and len(reasons) >= 9


def test_a_collection_time_without_an_offset_is_read_on_the_facilitys_clock(
    client: TestClient, users, settings
) -> None:
    """What a page's datetime-local field sends, the API reads alike: the facility's time zone,
    never the sender's or the server's."""
    tech = bearer(client, "technician")
    code = client.post("/api/donors", json={"sex": "F", "birth_year": 1990}, headers=tech).json()[
        "code"
    ]
    collected = (utcnow() - timedelta(hours=3)).astimezone(settings.tz).replace(second=0)
    response = client.post(
        "/api/biopsies",
        headers=tech,
        json={
            "donor": code,
            "collected_at": collected.replace(tzinfo=None).isoformat(timespec="minutes"),
            "site": "x",
            "collected_by": "y",
        },
    )
    assert response.status_code == 201, response.text
    stored = datetime.fromisoformat(response.json()["collected_at"])
    assert stored == collected.replace(microsecond=0)


def test_the_donor_page_shows_what_blocks_eligibility(client: TestClient, users) -> None:
    log_in(client, "technician")
    token = csrf_from(client.get("/donors").text)
    response = client.post("/donors", data={"sex": "F", "birth_year": 1988, "csrf_token": token})
    assert response.status_code == 200 and "Consent is not recorded." in response.text
    assert 'id="register-biopsy"' in response.text and 'id="enter-result"' in response.text


def test_a_donor_and_a_biopsy_resolve_from_a_scan(client: TestClient, users) -> None:
    tech = bearer(client, "technician")
    code = client.post("/api/donors", json={"sex": "F", "birth_year": 1990}, headers=tech).json()[
        "code"
    ]
    din = client.post(
        "/api/biopsies",
        headers=tech,
        json={
            "donor": code,
            "collected_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "site": "left",
            "collected_by": "Dr. X",
        },
    ).json()["din"]
    donor = client.get("/api/scan", params={"code": code}, headers=tech).json()
    assert donor["kind"] == "donor" and donor["url"] == f"/donors/{code}"
    biopsy = client.get("/api/scan", params={"code": f"={din}00"}, headers=tech).json()
    assert biopsy["kind"] == "biopsy" and "QUARANTINE" in biopsy["summary"]


def test_the_biopsy_tube_label_says_quarantine_and_carries_the_din(
    client: TestClient, users
) -> None:
    from tests.labeling.helpers import decoded

    tech = bearer(client, "technician")
    code = client.post("/api/donors", json={"sex": "F", "birth_year": 1990}, headers=tech).json()[
        "code"
    ]
    din = client.post(
        "/api/biopsies",
        headers=tech,
        json={
            "donor": code,
            "collected_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "site": "left",
            "collected_by": "Dr. X",
        },
    ).json()["din"]
    label = client.get(f"/api/labels/biopsy/{din}.pdf", headers=tech)
    assert label.status_code == 200 and decoded(label.content) == [[f"={din}00"]]
    from io import BytesIO

    from pypdf import PdfReader

    assert "QUARANTINE" in PdfReader(BytesIO(label.content)).pages[0].extract_text()


def test_qa_changes_the_marker_set_as_a_new_version_over_the_api(client: TestClient, users) -> None:
    qa, tech = bearer(client, "qa"), bearer(client, "technician")
    assert client.get("/api/marker-set", headers=tech).json()["version"] == 1
    markers = [
        {"code": "HIV-AB", "name": "anti-HIV-1/2", "required": True},
        {"code": "HTLV", "name": "anti-HTLV-I/II", "required": True},
    ]
    created = client.post(
        "/api/marker-set", headers=qa, json={"markers": markers, "note": "SOP-042 rev 3"}
    )
    assert created.status_code == 201 and created.json()["version"] == 2
    refused = client.post("/api/marker-set", headers=tech, json={"markers": markers, "note": "x"})
    assert refused.status_code == 403


def test_a_biopsy_in_quarantine_says_so_through_the_api(client: TestClient, lab) -> None:
    """``status: collected, on_hold: false`` said nothing of quarantine: the API now says where
    a biopsy stands for use, as the worklist and its label do."""
    tech = bearer(client, "technician")
    waiting = lab.biopsy(lab.donor())
    assert client.get(f"/api/biopsies/{waiting.din}", headers=tech).json()["quarantine"] == (
        "quarantine"
    )
    _, usable = lab.eligible_donor()
    assert client.get(f"/api/biopsies/{usable.din}", headers=tech).json()["quarantine"] == (
        "released"
    )
    held = lab.donor()
    held_biopsy = lab.biopsy(held)
    lab.consent_and_screening(held, outcome="failed")
    lab.sign_eligible(held, eligible=False, comment="screening failed")
    body = client.get(f"/api/biopsies/{held_biopsy.din}", headers=tech).json()
    assert body["quarantine"] == "on_hold"
