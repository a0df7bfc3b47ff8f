"""Input at the edge (issue #24): no field of any request carries a control character, an
integer beyond 64 bits or a time outside the plausible years; such a request is refused 422
naming the field, never answered 500 (PostgreSQL refuses NUL) nor stored silently (SQLite)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from mfg.edge import check_form_field, check_json, check_parameter
from mfg.errors import InvalidInput
from mfg.models import User
from mfg.models.audit import AuditEvent
from mfg.quantities import read_whole_number
from tests.factories import csrf_from

NUL = "x\x00y"
HUGE = 2**70
YEAR_ONE = "0001-01-01T00:00:00+05:00"


def _refused_field(response: Any, code: str = "validation_error") -> str:
    assert response.status_code == 422, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] == code
    return error["details"]["field"]


def _operations(client: TestClient) -> list[tuple[str, str, dict]]:
    document = client.get("/api/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _body_properties(client: TestClient, operation: dict) -> dict[str, dict]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = (
        content.get("application/json") or content.get("application/x-www-form-urlencoded") or {}
    ).get("schema", {})
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = client.get("/api/openapi.json").json()["components"]["schemas"][name]
    return schema.get("properties", {})


def _kind(schema: dict) -> str | None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "integer":
            return "integer"
        if option.get("type") == "string" and option.get("format") == "date-time":
            return "date-time"
        if option.get("type") == "string":
            return "string"
    return None


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "A1", path)


def test_every_text_field_of_every_operation_refuses_a_nul_naming_the_field(
    admin_client: TestClient,
) -> None:
    tried = 0
    for method, path, operation in _operations(admin_client):
        form = "application/x-www-form-urlencoded" in operation.get("requestBody", {}).get(
            "content", {}
        )
        for name, schema in _body_properties(admin_client, operation).items():
            if _kind(schema) != "string":
                continue
            if form:
                response = admin_client.request(method, _url(path), data={name: NUL})
            else:
                response = admin_client.request(method, _url(path), json={name: NUL})
            assert _refused_field(response) == name, (method, path)
            tried += 1
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and _kind(parameter["schema"]) == "string":
                response = admin_client.request(method, _url(path), params={parameter["name"]: NUL})
                assert _refused_field(response) == parameter["name"], (method, path)
                tried += 1
    assert tried > 50


def test_every_integer_field_of_every_operation_refuses_a_number_beyond_64_bits(
    admin_client: TestClient,
) -> None:
    tried = 0
    for method, path, operation in _operations(admin_client):
        for name, schema in _body_properties(admin_client, operation).items():
            if _kind(schema) == "integer":
                response = admin_client.request(method, _url(path), json={name: HUGE})
                assert _refused_field(response) == name, (method, path)
                tried += 1
        for parameter in operation.get("parameters", []):
            if _kind(parameter["schema"]) == "integer":
                url = _url(path)
                params = {}
                if parameter["in"] == "path":
                    url = path.replace("{" + parameter["name"] + "}", str(HUGE))
                    url = _url(url)
                else:
                    params = {parameter["name"]: str(HUGE)}
                response = admin_client.request(method, url, params=params)
                assert _refused_field(response) == parameter["name"], (method, path)
                tried += 1
    assert tried > 5


def test_every_time_field_of_every_operation_refuses_year_one(admin_client: TestClient) -> None:
    tried = 0
    for method, path, operation in _operations(admin_client):
        for name, schema in _body_properties(admin_client, operation).items():
            if _kind(schema) == "date-time":
                response = admin_client.request(method, _url(path), json={name: YEAR_ONE})
                assert _refused_field(response, "time_implausible") == name, (method, path)
                tried += 1
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and _kind(parameter["schema"]) == "date-time":
                response = admin_client.request(
                    method, _url(path), params={parameter["name"]: YEAR_ONE}
                )
                assert _refused_field(response, "time_implausible") == parameter["name"], (
                    method,
                    path,
                )
                tried += 1
    assert tried > 3


def test_token_endpoint_refuses_a_nul_in_username_or_password_without_audit(
    client: TestClient, users: dict[str, User], engine: Engine
) -> None:
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    for field in ("username", "password"):
        data = {"username": "admin", "password": "secret"} | {field: NUL}
        assert _refused_field(client.post("/api/auth/token", data=data)) == field
    with Session(engine) as session:
        after = session.exec(select(func.count()).select_from(AuditEvent)).one()
    # A malformed request never reached the password check: nothing to audit.
    assert after == before


def test_page_form_refuses_a_control_character_naming_the_field(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "ad\x7fmin", "password": "x", "csrf_token": token},
        headers={"accept": "application/json", "x-requested-with": "fetch"},
    )
    assert response.status_code == 422
    assert "username" in response.text


def test_query_parameter_beyond_64_bits_is_refused(admin_client: TestClient) -> None:
    response = admin_client.get("/api/audit/events", params={"offset": str(HUGE)})
    assert _refused_field(response) == "offset"


@pytest.mark.parametrize(
    "text", ["Иванов Пётр", "donor 🧬 ok", "12,5", "line one\nline two\r\n\tindented"]
)
def test_legitimate_text_is_accepted(text: str) -> None:
    check_json({"comment": text, "volume": 2**63 - 1, "at": "2024-05-01T10:00:00+05:00"})
    check_form_field("comment", text)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused_c0_del_and_c1(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_json({"comment": f"a{char}b"})
    assert refused.value.details["field"] == "comment"


def test_line_breaks_are_refused_in_a_parameter() -> None:
    with pytest.raises(InvalidInput):
        check_parameter("status", "released\nx")


def test_scan_fields_keep_the_scanners_group_separator() -> None:
    gs1 = "]d2010950600013435517250101\x1d10ABC123"
    envelope = "[)>\x1e06\x1d01095060001343\x1e\x04"
    check_parameter("code", gs1)
    check_form_field("scan", envelope)
    check_json({"scan": gs1, "tests": [gs1]})
    with pytest.raises(InvalidInput):
        check_json({"comment": gs1})
    with pytest.raises(InvalidInput):
        check_parameter("code", "A\x00")


def test_scan_api_accepts_a_gs1_code_with_group_separators(admin_client: TestClient) -> None:
    response = admin_client.get("/api/scan", params={"code": "]d2010950600013435517250101\x1d10A1"})
    assert response.status_code != 500
    if response.status_code == 422:
        assert "control character" not in response.text


def test_digit_strings_beyond_64_bits_are_refused_outside_scan_fields() -> None:
    with pytest.raises(InvalidInput):
        check_json({"harvested_cells": str(HUGE)})
    with pytest.raises(InvalidInput):
        check_parameter("offset", str(HUGE), integer=True)
    check_parameter("code", "0109506000134355172501011012345678")
    check_json({"scan": "0109506000134355172501011012345678"})


def test_whole_numbers_typed_beyond_64_bits_are_refused_by_the_reader() -> None:
    with pytest.raises(ValueError):
        read_whole_number(str(HUGE))
    with pytest.raises(ValueError):
        read_whole_number("1e30")
    assert read_whole_number("250 000 000") == 250_000_000


def test_times_outside_the_plausible_years_are_refused() -> None:
    for text in (YEAR_ONE, "1899-12-31", "2201-01-01T00:00:00Z"):
        with pytest.raises(InvalidInput):
            check_json({"collected_at": text})
    check_json({"born": "1900-01-01", "expires": "2199-12-31T23:59:59+14:00"})
