"""What people type into the donor and biopsy forms and the API body, read alike and checked
alike: a decimal comma is a decimal point, implausible values and times are refused with the
bounds or the rule in words, whichever way they come in (docs/architecture.md#tests)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from mfg.models import utcnow
from tests.factories import bearer, log_in, page_csrf

INLINE = {"X-MFG-Form": "1"}  # how the page's script sends a form: a refusal answers as JSON


def _local(settings, moment: datetime) -> str:
    """``moment`` as a datetime-local field sends it: the facility's clock, to the minute."""
    return moment.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")


def _error(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def _donor(client: TestClient, headers: dict) -> str:
    created = client.post("/api/donors", json={"sex": "F", "birth_year": 1985}, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["identifier"]


def _biopsy(client: TestClient, headers: dict, *, hours_ago: float = 5) -> str:
    body = {
        "donor": _donor(client, headers),
        "collected_at": (utcnow() - timedelta(hours=hours_ago)).isoformat(),
        "site": "Olfactory mucosa",
        "collected_by": "Dr. ENT",
    }
    created = client.post("/api/biopsies", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["identifier"]


def _page_post(client: TestClient, page: str, action: str, data: dict):
    """Post a page's form as its script does, with the page's CSRF token."""
    return client.post(action, data={"csrf_token": page_csrf(client, page), **data}, headers=INLINE)


# --- the decimal comma -------------------------------------------------------------------------


def test_a_decimal_comma_is_read_as_the_decimal_point_through_the_page_form(
    client: TestClient, users, settings
) -> None:
    din = _biopsy(client, bearer(client, "technician"))
    log_in(client, "technician")
    received = _page_post(
        client,
        f"/biopsies/{din}",
        f"/biopsies/{din}/receive",
        {
            "received_at": _local(settings, utcnow() - timedelta(hours=1)),
            "transport_temperature_c": "4,5",
            "container_intact": "yes",
        },
    )
    assert received.status_code == 200, received.text
    assert client.get(f"/api/biopsies/{din}").json()["transport_temperature_c"] == 4.5
    assert "4.5 °C" in client.get(f"/biopsies/{din}").text


def test_a_decimal_comma_is_read_as_the_decimal_point_through_the_api(
    client: TestClient, users
) -> None:
    tech = bearer(client, "technician")
    din = _biopsy(client, tech)
    received = client.post(
        f"/api/biopsies/{din}/receive",
        headers=tech,
        json={
            "received_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "transport_temperature_c": "4,5",
            "container_intact": True,
        },
    )
    assert received.status_code == 200, received.text
    assert received.json()["transport_temperature_c"] == 4.5


# --- plausible bounds --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["55", "-25,5"])
def test_a_transport_temperature_outside_minus_20_to_40_is_refused_stating_the_bounds(
    client: TestClient, users, settings, typed: str
) -> None:
    tech = bearer(client, "technician")
    din = _biopsy(client, tech)
    body = {
        "received_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "transport_temperature_c": typed,
        "container_intact": True,
    }
    api = _error(client.post(f"/api/biopsies/{din}/receive", headers=tech, json=body))
    log_in(client, "technician")
    page = _error(
        _page_post(
            client,
            f"/biopsies/{din}",
            f"/biopsies/{din}/receive",
            {**body, "received_at": _local(settings, utcnow()), "container_intact": "yes"},
        )
    )
    for error in (api, page):
        assert error["code"] == "out_of_range"
        assert error["details"]["field"] == "transport_temperature_c"
        assert "plausible range -20–40 °C" in error["message"]
    assert client.get(f"/api/biopsies/{din}").json()["status"] == "collected"


def test_a_year_of_birth_outside_16_to_100_years_of_age_is_refused_stating_the_bounds(
    client: TestClient, users
) -> None:
    this_year = utcnow().year
    tech = bearer(client, "technician")
    too_young = {"sex": "F", "birth_year": this_year - 10}
    api = _error(client.post("/api/donors", json=too_young, headers=tech))
    log_in(client, "technician")
    page = _error(_page_post(client, "/donors", "/donors", {"sex": "M", "birth_year": "1850"}))
    for error in (api, page):
        assert error["code"] == "out_of_range"
        assert error["details"]["field"] == "birth_year"
        assert f"plausible range {this_year - 100}–{this_year - 16}" in error["message"]
    assert client.get("/api/donors", headers=tech).json()["total"] == 0


# --- times that record what happened -----------------------------------------------------------


def test_a_biopsy_collected_in_year_1_is_refused(client: TestClient, users) -> None:
    tech = bearer(client, "technician")
    code = _donor(client, tech)
    body = {"collected_at": "0001-06-01T10:00", "site": "x", "collected_by": "y"}
    api = _error(client.post("/api/biopsies", json={**body, "donor": code}, headers=tech))
    log_in(client, "technician")
    page = _error(_page_post(client, f"/donors/{code}", f"/donors/{code}/biopsies", body))
    for error in (api, page):
        assert error["code"] == "time_implausible"
        assert error["details"]["field"] == "collected_at"
        assert "year must lie between 1900 and 2200" in error["message"]  # refused at the edge


def test_a_biopsy_collected_in_the_future_is_refused(client: TestClient, users, settings) -> None:
    tech = bearer(client, "technician")
    code = _donor(client, tech)
    tomorrow = _local(settings, utcnow() + timedelta(days=1))
    log_in(client, "technician")
    page = _error(
        _page_post(
            client,
            f"/donors/{code}",
            f"/donors/{code}/biopsies",
            {"collected_at": tomorrow, "site": "x", "collected_by": "y"},
        )
    )
    assert page["code"] == "time_in_future" and page["details"]["field"] == "collected_at"


def test_a_receipt_before_the_collection_is_refused_as_a_time_before_the_step_it_follows(
    client: TestClient, users, settings
) -> None:
    tech = bearer(client, "technician")
    din = _biopsy(client, tech, hours_ago=5)
    body = {
        "received_at": (utcnow() - timedelta(hours=8)).isoformat(),
        "transport_temperature_c": "4",
        "container_intact": True,
    }
    api = _error(client.post(f"/api/biopsies/{din}/receive", headers=tech, json=body))
    log_in(client, "technician")
    before = _local(settings, utcnow() - timedelta(hours=8))
    page = _error(
        _page_post(
            client,
            f"/biopsies/{din}",
            f"/biopsies/{din}/receive",
            {**body, "received_at": before, "container_intact": "yes"},
        )
    )
    for error in (api, page):
        assert error["code"] == "time_before_previous_step"
        assert error["details"]["field"] == "received_at"
        assert error["message"].startswith("The receipt time is before the step it follows")


def test_a_test_date_before_the_sample_date_is_refused(client: TestClient, users) -> None:
    tech, qc = bearer(client, "technician"), bearer(client, "qc")
    code = _donor(client, tech)
    today = utcnow().date() - timedelta(days=1)
    body = {
        "marker_code": "HIV-AB",
        "outcome": "negative",
        "sample_date": str(today),
        "test_date": str(today - timedelta(days=2)),
    }
    api = _error(client.post(f"/api/donors/{code}/results", json=body, headers=qc))
    log_in(client, "qc")
    page = _error(_page_post(client, f"/donors/{code}", f"/donors/{code}/results", body))
    for error in (api, page):
        assert error["code"] == "time_before_previous_step"
        assert error["details"]["field"] == "test_date"


def test_a_consent_date_before_2000_or_in_the_future_is_refused(client: TestClient, users) -> None:
    tech = bearer(client, "technician")
    code = _donor(client, tech)
    url = f"/api/donors/{code}/consent"
    old = _error(client.post(url, json={"consent_date": "1999-12-31"}, headers=tech))
    assert old["code"] == "time_implausible" and old["details"]["field"] == "consent_date"
    log_in(client, "technician")
    future = str(utcnow().date() + timedelta(days=3))
    page = _error(
        _page_post(client, f"/donors/{code}", f"/donors/{code}/consent", {"consent_date": future})
    )
    assert page["code"] == "time_in_future" and page["details"]["field"] == "consent_date"


# --- one model for the API body and the page form ----------------------------------------------


def test_the_eligibility_page_form_sends_the_api_field_eligible(client: TestClient, users) -> None:
    """The dialog's field is the model's (``eligible``), not a page-only ``decision``."""
    tech = bearer(client, "technician")
    code = _donor(client, tech)
    log_in(client, "qa")
    page = client.get(f"/donors/{code}").text
    assert 'name="eligible" value="false"' in page and 'name="decision"' not in page
    signed = _page_post(
        client,
        f"/donors/{code}",
        f"/donors/{code}/eligibility",
        {"eligible": "false", "password": "Correct-Horse-Battery-9", "comment": "HBc reactive"},
    )
    assert signed.status_code == 200, signed.text
    assert client.get(f"/api/donors/{code}").json()["status"] == "ineligible"
