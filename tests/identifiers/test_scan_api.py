"""``GET /api/scan`` and the scan page: resolution to records, specific errors."""

from fastapi.testclient import TestClient

from mfg.users.scan import staff_code
from tests.factories import bearer, log_in
from tests.identifiers.test_scan import typed_in_russian_layout


def test_a_staff_badge_resolves_to_the_user_page(client: TestClient, users) -> None:
    code = str(staff_code(users["qc"]))
    body = client.get("/api/scan", params={"code": code}, headers=bearer(client, "admin")).json()
    assert body["kind"] == "staff" and body["identifier"] == code
    assert body["url"] == "/admin/users/qc" and "Qc Tester" in body["summary"]
    assert body["tokens"] == [
        {"kind": "local", "value": code, "flags": None, "hand_typed": False, "data": None}
    ]


def test_a_badge_scanned_with_a_russian_layout_resolves_the_same(client: TestClient, users) -> None:
    code = staff_code(users["qc"]).eye_readable
    headers = bearer(client, "admin")
    body = client.get("/api/scan", params={"code": typed_in_russian_layout(code)}, headers=headers)
    assert body.json()["url"] == "/admin/users/qc" and body.json()["layout_recovered"] is True


def test_an_unknown_but_well_formed_code_is_not_found(client: TestClient, users) -> None:
    response = client.get(
        "/api/scan", params={"code": "ST-999999-" + "X"}, headers=bearer(client, "admin")
    )
    assert response.status_code == 422  # X is not the check character of ST999999
    from mfg.identifiers.local import LocalId

    unknown = str(LocalId("ST", 999_999))
    response = client.get("/api/scan", params={"code": unknown}, headers=bearer(client, "admin"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert "staff member ST-999999" in response.json()["error"]["message"]


def test_a_kind_nothing_is_registered_for_yet_is_not_found(client: TestClient, users) -> None:
    response = client.get(
        "/api/scan", params={"code": "=A99992600000100"}, headers=bearer(client, "admin")
    )
    assert (
        response.status_code == 404 and "DIN A9999 26 000001" in response.json()["error"]["message"]
    )


def test_malformed_scans_get_the_specific_error_code(client: TestClient, users) -> None:
    headers = bearer(client, "technician")
    for raw, code in [
        ("=A9999", "bad_length"),
        ("nonsense", "unknown_structure"),
        ("A9999 21 123456 4", "bad_check_character"),
    ]:
        response = client.get("/api/scan", params={"code": raw}, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["code"] == code


def test_scanning_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/scan", params={"code": "x"}).status_code == 401


def test_the_scan_page_redirects_to_the_record(client: TestClient, users) -> None:
    log_in(client, "admin")
    response = client.get(
        "/scan", params={"code": str(staff_code(users["qa"]))}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/users/qa"


def test_the_scan_page_explains_a_refused_code(client: TestClient, users) -> None:
    log_in(client, "admin")
    response = client.get("/scan", params={"code": "A9999 21 123456 4"})
    assert response.status_code == 422
    assert "check character" in response.text and 'id="scan-received"' in response.text


def test_the_user_page_shows_the_badge_code(client: TestClient, users) -> None:
    log_in(client, "admin")
    assert staff_code(users["qc"]).eye_readable in client.get("/admin/users/qc").text
