"""The web shell and its error handling, through the real app."""

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from mfg.config import Settings
from mfg.main import create_app


def test_healthz_reports_the_database_reachable(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_every_page_has_the_global_scan_field_with_autofocus(admin_client: TestClient) -> None:
    for path in ("/", "/scan?code=X", "/no-such-page", "/admin/users", "/audit"):
        html = admin_client.get(path).text
        assert 'id="scan-input"' in html and "autofocus" in html, path


def test_the_test_facility_banner_shows_for_a_test_fin(client: TestClient) -> None:
    assert "TEST FACILITY — NOT FOR CLINICAL USE" in client.get("/login").text


def test_no_test_facility_banner_for_a_real_fin(settings: Settings, engine) -> None:
    real = settings.model_copy(update={"facility_fin": "B1234"})
    with TestClient(create_app(real, engine=engine)) as client:
        html = client.get("/login").text
    assert "TEST FACILITY" not in html and "B1234" in html


def test_the_status_bar_shows_facility_and_timezone(client: TestClient) -> None:
    html = client.get("/login").text
    assert "Europe/Minsk" in html and "A9999" in html


def test_the_scan_page_shows_exactly_what_was_received(admin_client: TestClient) -> None:
    html = admin_client.get("/scan", params={"code": "=A999926000001<b>"}).text
    assert "unknown_structure" in html or "bad_length" in html
    assert "=A999926000001&lt;b&gt;" in html  # escaped, never interpreted
    assert "U+003D" in html


def test_api_system_describes_the_installation(admin_client: TestClient) -> None:
    body = admin_client.get("/api/system").json()
    assert body["facility_fin"] == "A9999" and body["test_facility"] is True
    assert body["schema_revision"] and body["database_state"] == "real"


def test_an_unknown_api_path_gets_the_json_error_shape(client: TestClient) -> None:
    response = client.get("/api/does-not-exist")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "/api/does-not-exist" in error["message"]
    assert error["details"] == {}


def test_a_wrong_method_on_the_api_gets_the_json_error_shape(client: TestClient) -> None:
    response = client.put("/api/system")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_page_gets_an_error_page_not_json(admin_client: TestClient) -> None:
    response = admin_client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing is at this address" in response.text


class _Probe(BaseModel):
    count: int


@pytest.fixture
def probe_client(app: FastAPI) -> TestClient:
    """The app with one extra API route that takes a body and a query, to malform."""
    router = APIRouter(prefix="/api")

    @router.post("/probe")
    def probe(body: _Probe, limit: int = 10) -> dict[str, int]:
        return {"count": body.count, "limit": limit}

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_validation_errors_under_api_get_the_json_error_shape(probe_client: TestClient) -> None:
    response = probe_client.post("/api/probe?limit=many", json={"count": "lots"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {f["field"] for f in error["details"]["fields"]}
    assert fields == {"count", "query.limit"}


def test_a_body_that_is_not_json_gets_the_json_error_shape(probe_client: TestClient) -> None:
    response = probe_client.post(
        "/api/probe", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == "validation_error"


def test_an_unexpected_error_under_api_is_json_without_a_stack_trace(
    probe_client: TestClient,
) -> None:
    response = probe_client.get("/api/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "Traceback" not in response.text and "RuntimeError" not in response.text


def test_an_unexpected_error_answer_carries_the_security_headers(
    probe_client: TestClient,
) -> None:
    """Starlette answers an unhandled error outside the middleware that adds them."""
    response = probe_client.get("/api/boom")
    assert response.status_code == 500
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_local_times_show_the_offset_when_the_zone_has_no_abbreviation() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from mfg.web.templating import format_local

    moment = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    assert format_local(moment, ZoneInfo("Europe/Minsk")) == "2026-11-25 00:30 UTC+03:00"
    assert format_local(moment, ZoneInfo("Europe/Berlin")) == "2026-11-24 22:30 CET"


def test_a_count_reads_with_its_noun_in_the_singular_or_the_plural() -> None:
    from mfg.web.templating import counted

    assert counted(1, "donor") == "1 donor" and counted(2, "donor") == "2 donors"
    assert counted(0, "patient") == "0 patients" and counted(12_000, "dose") == "12,000 doses"
    assert counted(3, "biopsy", "biopsies") == "3 biopsies" and counted(1, "unused dose") == (
        "1 unused dose"
    )


def test_a_signature_names_the_kind_of_record_it_signs() -> None:
    from mfg.web.templating import signed_record

    assert signed_record("harvest") == "Harvest and formulation"
    assert signed_record("storage") == "Cryopreservation" and signed_record("lot") == "Pooling"
    assert signed_record("adverse_event") == "Adverse event"  # any other kind, in words


def test_a_refused_form_offers_the_way_back_to_the_page_it_was_sent_from(
    admin_client: TestClient,
) -> None:
    from tests.factories import csrf_from

    token = csrf_from(admin_client.get("/admin/users").text)
    form = {"csrf_token": token, "username": "", "full_name": "", "roles": "technician"}

    def refused(referer: str | None) -> str:
        headers = {"Referer": referer} if referer else {}
        response = admin_client.post("/admin/users", data=form, headers=headers)
        assert response.status_code == 422
        return response.text

    back = '<a class="btn" id="back-to-form" href="/admin/users?tab=new"'
    assert back in refused("http://testserver/admin/users?tab=new")
    # never a link to another site, and none where the browser did not say where it came from
    assert 'id="back-to-form"' not in refused("http://elsewhere.example/admin/users")
    assert 'id="back-to-form"' not in refused(None)
    assert 'id="back-to-form"' not in admin_client.get("/no-such-page").text


def test_a_count_of_one_reads_in_the_singular_on_pages_and_in_refusals(
    client: TestClient, engine, settings: Settings, users
) -> None:
    """ "1 failed attempt", "1 unused entry", "1 dose expired": never "1 … s"."""
    from datetime import timedelta

    from mfg.models import utcnow
    from tests.audit.tamper import execute
    from tests.clinical.factories import laboratory_and_ward
    from tests.factories import bearer, log_in
    from tests.release.factories import releasable_lot

    settings.max_failed_logins = 1
    assert "Accounts lock after 1 failed attempt;" in client.get("/login").text

    lab = laboratory_and_ward(engine, settings, users)
    loaded = client.post(
        "/api/trials/NCT04382547/allocation-list",
        headers=bearer(client, "qa"),
        json={"arms": ["MSC"]},
    )
    assert loaded.status_code == 201, loaded.text
    log_in(client, "qa")
    assert "1 unused entry." in client.get("/patients").text
    client.cookies.clear()
    log_in(client, "clinician")
    assert "(1 entry left)" in client.get("/patients").text

    lot = releasable_lot(lab, count=1)
    past = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" ")
    execute(engine, f"UPDATE dose SET expires_at = '{past}' WHERE lot_id = {lot.id}")
    client.cookies.clear()
    log_in(client, "qa")
    assert "1 dose expired (first on" in client.get(f"/lots/{lot.din}/release").text
