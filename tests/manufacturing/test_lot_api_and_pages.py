"""The lot's steps from pooling to stored doses over the JSON API and on the bench pages."""

from datetime import timedelta

from mfg.models import utcnow
from tests.factories import PASSWORD, bearer, csrf_from, log_in
from tests.manufacturing.factories import cryopreserve, filled_lot, harvest, pooled_lot


def _iso(hours_ago: float) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).isoformat()


def _local(lab, hours_ago: float) -> str:
    moment = utcnow() - timedelta(hours=hours_ago)
    return moment.astimezone(lab.settings.tz).strftime("%Y-%m-%dT%H:%M")


def test_a_lot_from_pool_to_stored_doses_over_the_api(client, lab) -> None:
    lot = pooled_lot(lab)
    tech = bearer(client, "technician")
    passage = client.post(
        f"/api/lots/{lot.din}/passages",
        headers=tech,
        json={
            "passage_number": 1,
            "started_at": _iso(101),
            "ended_at": _iso(100),
            "harvested_cells": 32_000_000,
            "viability_pct": 94,
            "reseeded_cells": 10_000_000,
            "vessels": 5,
            "vessel_type": "CellSTACK 5",
            "password": PASSWORD,
        },
    )
    assert passage.status_code == 201, passage.text
    assert passage.json()["population_doublings"] == 3.0
    # The same form sent twice: the lot is at passage 2 now.
    again = client.post(
        f"/api/lots/{lot.din}/passages",
        headers=tech,
        json={
            "passage_number": 1,
            "started_at": _iso(2),
            "ended_at": _iso(1),
            "harvested_cells": 30_000_000,
            "viability_pct": 90,
            "reseeded_cells": 10_000_000,
            "vessels": 5,
            "vessel_type": "CellSTACK 5",
            "password": PASSWORD,
        },
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "changed_meanwhile"
    harvested = client.post(
        f"/api/lots/{lot.din}/harvest",
        headers=tech,
        json={
            "started_at": _iso(2),
            "ended_at": _iso(1),
            "harvested_cells": 320_000_000,
            "viability_pct": 91.5,
            "final_volume_ml": 80,
            "password": PASSWORD,
        },
    )
    assert harvested.status_code == 201, harvested.text
    assert harvested.json()["concentration_per_ml"] == 4_000_000
    filled = client.post(
        f"/api/lots/{lot.din}/fill",
        headers=tech,
        json={
            "filled_at": _iso(0.5),
            "doses": 3,
            "volume_ml": 25,
            "container": "bag",
            "password": PASSWORD,
        },
    )
    assert filled.status_code == 201, filled.text
    identifiers = [d["identifier"] for d in filled.json()["items"]]
    assert all(i.startswith(lot.din) for i in identifiers)
    stored = client.post(
        f"/api/lots/{lot.din}/storage",
        headers=tech,
        json={
            "frozen_at": _iso(0.2),
            "freezing_programme": "P-1",
            "temperature_c": -185,
            "tank": "t1",
            "rack": "r2",
            "box": "b3",
            "first_position": 10,
            "password": PASSWORD,
        },
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["items"][2]["location"] == "tank T1 / rack R2 / box B3 / position 12"
    body = client.get(f"/api/lots/{lot.din}", headers=tech).json()
    assert body["status"] == "quarantine" and body["doses"] == identifiers
    assert body["harvest"]["passage_number"] == 2 and len(body["passages"]) == 1
    listed = client.get("/api/doses", params={"lot": lot.din}, headers=tech).json()
    assert listed["total"] == 3 and {d["status"] for d in listed["items"]} == {"quarantine"}
    one = client.get(f"/api/doses/{identifiers[1]}", headers=bearer(client, "clinician"))
    assert one.status_code == 200 and one.json()["division"] == "B0"


def test_the_harvest_beyond_the_limits_is_refused_over_the_api_with_the_reason(
    client, lab, settings
) -> None:
    settings.max_cumulative_pd = 5
    lot = pooled_lot(lab)
    response = client.post(
        f"/api/lots/{lot.din}/harvest",
        headers=bearer(client, "technician"),
        json={
            "started_at": _iso(2),
            "ended_at": _iso(1),
            "harvested_cells": 400_000_000,
            "viability_pct": 91.5,
            "final_volume_ml": 80,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 422, response.text
    assert "exceed the limit of 5" in response.text
    assert response.json()["error"]["code"] == "limit_exceeded"


def test_a_clinician_cannot_fill_or_store(client, lab) -> None:
    lot = pooled_lot(lab)
    harvest(lab, lot)
    doctor = bearer(client, "clinician")
    response = client.post(
        f"/api/lots/{lot.din}/fill",
        headers=doctor,
        json={
            "filled_at": _iso(0.1),
            "doses": 1,
            "volume_ml": 1,
            "container": "bag",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 403


def test_the_lot_page_walks_harvest_fill_and_storage(client, lab) -> None:
    lot = pooled_lot(lab)
    log_in(client, "technician")
    page = client.get(f"/lots/{lot.din}")
    assert 'id="lot-passage-form"' in page.text and 'id="harvest-form"' in page.text
    page = client.post(
        f"/lots/{lot.din}/harvest",
        data={
            "csrf_token": csrf_from(page.text),
            "started_at": _local(lab, 3),
            "ended_at": _local(lab, 2),
            "harvested_cells": "200000000",
            "viability_pct": "90",
            "final_volume_ml": "50",
            "password": PASSWORD,
        },
    )
    assert page.status_code == 200, page.text
    assert 'id="harvest-record"' in page.text and "4,000,000 cells/mL" in page.text
    assert 'id="fill-form"' in page.text
    page = client.post(
        f"/lots/{lot.din}/fill",
        data={
            "csrf_token": csrf_from(page.text),
            "filled_at": _local(lab, 1),
            "doses": "2",
            "volume_ml": "20",
            "container": "bag",
            "password": PASSWORD,
        },
    )
    assert page.status_code == 200, page.text
    assert 'id="lot-doses"' in page.text and "80,000,000" in page.text
    page = client.post(
        f"/lots/{lot.din}/storage",
        data={
            "csrf_token": csrf_from(page.text),
            "frozen_at": _local(lab, 0.5),
            "freezing_programme": "P-1",
            "temperature_c": "-180",
            "tank": "T1",
            "rack": "R1",
            "box": "B1",
            "first_position": "1",
            "password": PASSWORD,
        },
    )
    assert page.status_code == 200, page.text
    assert "tank T1 / rack R1 / box B1 / position 2" in page.text
    assert 'id="storage-form"' not in page.text


def test_the_dose_page_shows_storage_and_offers_no_thaw_in_quarantine(client, lab) -> None:
    lot, filled = filled_lot(lab, count=1)
    cryopreserve(lab, lot)
    log_in(client, "clinician")
    page = client.get(f"/doses/{filled[0].identifier}")
    assert page.status_code == 200
    assert "box B1 / position 1" in page.text
    assert 'id="thaw-form"' not in page.text  # a quarantined dose is not thawed
    listing = client.get("/doses")
    assert filled[0].identifier in listing.text
