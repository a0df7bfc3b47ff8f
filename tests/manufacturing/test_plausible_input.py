"""What people type into the bench forms and the API body, read alike and checked alike: a
decimal comma is a decimal point, counts may be grouped or in scientific notation, implausible
figures and times are refused with the bounds or the rule in words, whichever way they come in,
and a step's form never defaults both of its ends to now (docs/architecture.md#tests)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.demo import load_demo
from mfg.models import Biopsy, Dose, Passage, utcnow
from tests.factories import PASSWORD, bearer, log_in, page_csrf
from tests.manufacturing.factories import (
    culture_of_eligible_donor,
    filled_lot,
    harvest,
    pooled_lot,
    released_medium,
)

INLINE = {"X-MFG-Form": "1"}  # how the page's script sends a form: a refusal answers as JSON


def _local(lab, hours_ago: float) -> str:
    """A time as a datetime-local field sends it: the facility's clock, to the minute."""
    moment = utcnow() - timedelta(hours=hours_ago)
    return moment.astimezone(lab.settings.tz).strftime("%Y-%m-%dT%H:%M")


def _iso(hours_ago: float) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).isoformat()


def _error(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def _page_post(client: TestClient, page: str, action: str, data: dict):
    """Post a page's form as its script does, with the page's CSRF token."""
    return client.post(action, data={"csrf_token": page_csrf(client, page), **data}, headers=INLINE)


def _passage_body(lab, medium, **changes) -> dict:
    return {
        "started_at": _iso(2),
        "ended_at": _iso(1),
        "harvested_cells": "4 000 000",
        "viability_pct": "92,5",
        "reseeded_cells": "2e6",
        "new_vessels": "2",
        "vessel_type": "T175 flask",
        "surface_cm2": "175",
        "reagent_lots": medium.code,
        "password": PASSWORD,
        **changes,
    }


def _harvest_body(lab, **changes) -> dict:
    return {
        "started_at": _local(lab, 2),
        "ended_at": _local(lab, 1),
        "harvested_cells": "200 000 000",
        "viability_pct": "90",
        "final_volume_ml": "50",
        "password": PASSWORD,
        **changes,
    }


# --- the decimal comma and the typed count -----------------------------------------------------


def test_a_decimal_comma_is_read_as_the_decimal_point_through_the_page_form(
    client: TestClient, lab, engine
) -> None:
    culture, medium = culture_of_eligible_donor(lab), released_medium(lab)
    log_in(client, "technician")
    body = _passage_body(lab, medium, started_at=_local(lab, 2), ended_at=_local(lab, 1))
    response = _page_post(
        client, f"/cultures/{culture.code}", f"/cultures/{culture.code}/passage", body
    )
    assert response.status_code == 200, response.text
    with Session(engine) as session:
        passage = session.exec(select(Passage).where(Passage.culture_id == culture.id)).one()
    assert (passage.viability_pct, passage.harvested_cells) == (92.5, 4_000_000)
    assert passage.reseeded_cells == 2_000_000
    assert "92.5 %" in client.get(f"/cultures/{culture.code}").text


def test_a_decimal_comma_is_read_as_the_decimal_point_through_the_api(
    client: TestClient, lab
) -> None:
    lot = pooled_lot(lab)
    harvest(lab, lot, volume_ml=100)
    tech = bearer(client, "technician")
    filled = client.post(
        f"/api/lots/{lot.din}/fill",
        headers=tech,
        json={
            "filled_at": _iso(0.2),
            "doses": "4",
            "volume_ml": "12,5",
            "container": "bag",
            "password": PASSWORD,
        },
    )
    assert filled.status_code == 201, filled.text
    assert [d["volume_ml"] for d in filled.json()["items"]] == [12.5] * 4


def test_counts_are_read_grouped_or_in_scientific_notation_and_a_fraction_of_a_cell_is_refused(
    client: TestClient, lab
) -> None:
    lot = pooled_lot(lab)
    tech = bearer(client, "technician")
    body = {
        "passage_number": 1,
        "started_at": _iso(2),
        "ended_at": _iso(1),
        "harvested_cells": "2,5",
        "viability_pct": 92,
        "reseeded_cells": "8 000 000",
        "vessels": 4,
        "vessel_type": "CellSTACK 5",
        "password": PASSWORD,
    }
    fraction = _error(client.post(f"/api/lots/{lot.din}/passages", headers=tech, json=body))
    assert fraction["code"] == "validation_error"
    assert fraction["details"]["field"] == "harvested_cells"
    body["harvested_cells"] = "3,2e7"
    passed = client.post(f"/api/lots/{lot.din}/passages", headers=tech, json=body)
    assert passed.status_code == 201, passed.text
    assert (passed.json()["harvested_cells"], passed.json()["reseeded_cells"]) == (
        32_000_000,
        8_000_000,
    )


def test_a_number_with_a_comma_and_a_point_is_refused_never_guessed(
    client: TestClient, lab
) -> None:
    culture, medium = culture_of_eligible_donor(lab), released_medium(lab)
    tech = bearer(client, "technician")
    body = _passage_body(lab, medium, viability_pct="1,234.5")
    error = _error(client.post(f"/api/cultures/{culture.code}/passage", headers=tech, json=body))
    assert error["code"] == "validation_error" and error["details"]["field"] == "viability_pct"


# --- plausible bounds --------------------------------------------------------------------------


def test_viability_outside_0_to_100_is_refused_stating_the_bounds(client: TestClient, lab) -> None:
    culture, medium = culture_of_eligible_donor(lab), released_medium(lab)
    tech = bearer(client, "technician")
    url = f"/api/cultures/{culture.code}/passage"
    api = _error(client.post(url, headers=tech, json=_passage_body(lab, medium, viability_pct=-5)))
    lot = pooled_lot(lab)
    log_in(client, "technician")
    page = _error(
        _page_post(
            client,
            f"/lots/{lot.din}",
            f"/lots/{lot.din}/harvest",
            _harvest_body(lab, viability_pct="100,5"),
        )
    )
    for error in (api, page):
        assert error["code"] == "out_of_range"
        assert error["details"]["field"] == "viability_pct"
        assert "plausible range 0–100 %" in error["message"]
    assert (
        api["message"] == "Viability -5 % is outside the plausible range 0–100 % (viability_pct)."
    )


def test_a_dose_count_or_volume_outside_its_bounds_is_refused_stating_the_bounds(
    client: TestClient, lab
) -> None:
    lot = pooled_lot(lab)
    harvest(lab, lot)
    tech = bearer(client, "technician")
    body = {
        "filled_at": _iso(0.2),
        "doses": "0",
        "volume_ml": "20",
        "container": "bag",
        "password": PASSWORD,
    }
    count = _error(client.post(f"/api/lots/{lot.din}/fill", headers=tech, json=body))
    assert count["code"] == "out_of_range" and count["details"]["field"] == "doses"
    assert "plausible range 1–100" in count["message"]
    log_in(client, "technician")
    volume = _error(
        _page_post(
            client,
            f"/lots/{lot.din}",
            f"/lots/{lot.din}/fill",
            {**body, "filled_at": _local(lab, 0.2), "doses": "2", "volume_ml": "0,05"},
        )
    )
    assert volume["code"] == "out_of_range" and volume["details"]["field"] == "volume_ml"
    assert "plausible range 0.1–1000 mL" in volume["message"]


def test_a_storage_temperature_or_a_box_position_outside_its_bounds_is_refused(
    client: TestClient, lab
) -> None:
    lot, _ = filled_lot(lab, count=4)
    tech = bearer(client, "technician")
    body = {
        "frozen_at": _iso(0.05),
        "freezing_programme": "P-1",
        "temperature_c": "25",
        "tank": "T1",
        "rack": "R1",
        "box": "B1",
        "first_position": "1",
        "password": PASSWORD,
    }
    url = f"/api/lots/{lot.din}/storage"
    warm = _error(client.post(url, headers=tech, json=body))
    assert warm["code"] == "out_of_range" and warm["details"]["field"] == "temperature_c"
    assert "plausible range -196–0 °C" in warm["message"]
    beyond = {**body, "temperature_c": "-180,5", "first_position": "200"}
    position = _error(client.post(url, headers=tech, json=beyond))
    assert position["code"] == "out_of_range"
    assert position["details"]["field"] == "first_position"
    assert "plausible range 1–169" in position["message"]
    body.update(temperature_c="-180,5", first_position="168")  # 4 doses: 168…171
    last = _error(client.post(url, headers=tech, json=body))
    assert last["code"] == "position_out_of_range"
    assert "a box holds at most 169" in last["message"]


def test_a_vessel_type_holds_100_characters_through_the_api_and_the_page_alike(
    client: TestClient, lab
) -> None:
    culture, medium = culture_of_eligible_donor(lab), released_medium(lab)
    long = "T" * 101
    tech = bearer(client, "technician")
    url = f"/cultures/{culture.code}/passage"
    api = _error(
        client.post(f"/api{url}", headers=tech, json=_passage_body(lab, medium, vessel_type=long))
    )
    log_in(client, "technician")
    page = _error(
        _page_post(
            client,
            f"/cultures/{culture.code}",
            url,
            _passage_body(
                lab, medium, started_at=_local(lab, 2), ended_at=_local(lab, 1), vessel_type=long
            ),
        )
    )
    for error in (api, page):
        assert error["code"] == "validation_error" and error["details"]["field"] == "vessel_type"


# --- times that record what happened -----------------------------------------------------------


def test_a_step_that_ends_as_it_starts_is_refused(client: TestClient, lab) -> None:
    culture, medium = culture_of_eligible_donor(lab), released_medium(lab)
    tech = bearer(client, "technician")
    same = _iso(1)
    api = _error(
        client.post(
            f"/api/cultures/{culture.code}/passage",
            headers=tech,
            json=_passage_body(lab, medium, started_at=same, ended_at=same),
        )
    )
    lot = pooled_lot(lab)
    log_in(client, "technician")
    minute = _local(lab, 1)
    page = _error(
        _page_post(
            client,
            f"/lots/{lot.din}",
            f"/lots/{lot.din}/harvest",
            _harvest_body(lab, started_at=minute, ended_at=minute),
        )
    )
    for error in (api, page):
        assert error["code"] == "duration_not_positive"
        assert error["details"]["field"] == "ended_at"
    assert api["message"] == "The passage ends before or as it starts."
    assert page["message"] == "The harvest ends before or as it starts."


def test_a_time_before_the_step_it_follows_is_refused(client: TestClient, lab) -> None:
    lot = pooled_lot(lab, hours_ago=240)
    tech = bearer(client, "technician")
    body = {
        "passage_number": 1,
        "started_at": _iso(250),
        "ended_at": _iso(200),
        "harvested_cells": 32_000_000,
        "viability_pct": 92,
        "reseeded_cells": 8_000_000,
        "vessels": 4,
        "vessel_type": "CellSTACK 5",
        "password": PASSWORD,
    }
    api = _error(client.post(f"/api/lots/{lot.din}/passages", headers=tech, json=body))
    assert api["code"] == "time_before_previous_step"
    assert api["details"]["field"] == "started_at"
    assert api["message"].startswith("The passage start is before the step it follows (")
    harvest(lab, lot, hours_ago=0.5)
    log_in(client, "technician")
    page = _error(
        _page_post(
            client,
            f"/lots/{lot.din}",
            f"/lots/{lot.din}/fill",
            {
                "filled_at": _local(lab, 3),
                "doses": "2",
                "volume_ml": "20",
                "container": "bag",
                "password": PASSWORD,
            },
        )
    )
    assert page["code"] == "time_before_previous_step"
    assert page["details"]["field"] == "filled_at"


def test_a_time_in_the_future_or_before_2000_is_refused(client: TestClient, lab) -> None:
    lot, _ = filled_lot(lab, count=1)
    tech = bearer(client, "technician")
    body = {
        "frozen_at": (utcnow() + timedelta(hours=2)).isoformat(),
        "freezing_programme": "P-1",
        "temperature_c": "-180",
        "tank": "T1",
        "rack": "R1",
        "box": "B1",
        "first_position": "1",
        "password": PASSWORD,
    }
    future = _error(client.post(f"/api/lots/{lot.din}/storage", headers=tech, json=body))
    assert future["code"] == "time_in_future" and future["details"]["field"] == "frozen_at"
    log_in(client, "technician")
    old = _error(
        _page_post(
            client,
            f"/lots/{lot.din}",
            f"/lots/{lot.din}/storage",
            {**body, "frozen_at": "1999-12-31T23:00"},
        )
    )
    assert old["code"] == "time_implausible" and old["details"]["field"] == "frozen_at"


def test_a_step_form_never_defaults_both_of_its_ends_to_now(client: TestClient, lab) -> None:
    """A form left as it is must not record a 0-minute step: the start is typed."""
    culture = culture_of_eligible_donor(lab)
    lot = pooled_lot(lab)
    log_in(client, "technician")
    pages = [client.get(f"/cultures/{culture.code}").text, client.get(f"/lots/{lot.din}").text]
    starts = [
        i for page in pages for i in re.findall(r"<input[^>]*name=\"started_at\"[^>]*>", page)
    ]
    ends = [i for page in pages for i in re.findall(r"<input[^>]*name=\"ended_at\"[^>]*>", page)]
    assert len(starts) == 3 and len(ends) == 3  # a vessel passage, a lot passage, a harvest
    assert all("value=" not in start for start in starts)
    assert all('value="' in end for end in ends)


def test_quantity_fields_are_text_with_the_keyboards_decimal_and_their_bounds_in_a_hint(
    client: TestClient, lab
) -> None:
    """type="number" drops a typed 12,5 in Chromium; a text field keeps what was typed."""
    lot = pooled_lot(lab)
    harvest(lab, lot)
    log_in(client, "technician")
    page = client.get(f"/lots/{lot.din}").text
    assert 'type="number"' not in page
    volume = re.search(r"<input[^>]*name=\"volume_ml\"[^>]*>", page).group(0)
    assert 'inputmode="decimal"' in volume and 'title="0.1–1000 mL"' in volume
    count = re.search(r"<input[^>]*name=\"doses\"[^>]*>", page).group(0)
    assert 'inputmode="numeric"' in count and 'title="1–100"' in count


# --- materials ---------------------------------------------------------------------------------


def test_a_material_expiry_a_century_off_is_refused(client: TestClient, lab) -> None:
    tech = bearer(client, "technician")
    body = {
        "name": "Alpha-MEM",
        "supplier": "S",
        "catalogue_number": "A-1",
        "lot_number": "L-1",
        "expiry": "2205-01-31",
    }
    api = _error(client.post("/api/materials", headers=tech, json=body))
    log_in(client, "technician")
    page = _error(_page_post(client, "/materials", "/materials", body))
    for error in (api, page):
        assert error["code"] == "time_implausible" and error["details"]["field"] == "expiry"


def test_the_material_decision_page_form_sends_the_api_fields_release_and_reason(
    client: TestClient, lab
) -> None:
    medium = released_medium(lab)
    tech = bearer(client, "technician")
    body = {"name": "DMSO", "supplier": "S", "catalogue_number": "D", "lot_number": "D-1"}
    code = client.post(
        "/api/materials", headers=tech, json={**body, "expiry": "2030-01-01"}
    ).json()["identifier"]
    log_in(client, "qa")
    page = client.get(f"/materials/{code}").text
    assert 'name="release" value="false"' in page and 'name="decision"' not in page
    rejected = _page_post(
        client,
        f"/materials/{code}",
        f"/materials/{code}/decision",
        {"release": "false", "password": PASSWORD, "reason": "Certificate missing"},
    )
    assert rejected.status_code == 200, rejected.text
    read = client.get(f"/api/materials/{code}").json()
    assert (read["status"], read["decision_reason"]) == ("rejected", "Certificate missing")
    assert medium.status == "released"


# --- the demo ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("engine")
def test_the_demo_is_typed_through_the_forms_models_decimal_commas_included(
    engine, settings
) -> None:
    with unit_of_work(engine, settings=settings) as session:
        load_demo(session, settings=settings)
    with Session(engine) as session:
        volumes = {d.volume_ml for d in session.exec(select(Dose)).all()}
        temperatures = {b.transport_temperature_c for b in session.exec(select(Biopsy)).all()}
    assert volumes == {12.5}  # typed "12,5"
    assert 4.2 in temperatures  # typed "4,2"
