"""The OpenAPI document says what the server does: one error shape, the real media types."""

import json

from tests.factories import bearer


def test_the_openapi_document_declares_the_error_shape_the_server_answers(client) -> None:
    document = client.get("/api/openapi.json").json()
    text = json.dumps(document)
    assert (
        "HTTPValidationError" not in text
        and "ValidationError" not in document["components"]["schemas"]
    )
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for path, operations in document["paths"].items():
        if not path.startswith("/api"):
            continue
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "422"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    # the server answers that shape, a malformed field and a business refusal alike
    answer = client.post("/api/auth/token", json={"username": 5})
    assert answer.status_code == 422 and set(answer.json()) == {"error"}


def test_documents_that_are_not_json_declare_their_own_media_type(client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    def declared(path: str) -> list[str]:
        return list(paths[path]["get"]["responses"]["200"]["content"])

    assert declared("/api/lots/{din}/certificate.pdf") == ["application/pdf"]
    assert declared("/api/lots/{din}/batch-record.pdf") == ["application/pdf"]
    assert declared("/api/labels/{kind}/{identifier}.pdf") == ["application/pdf"]
    assert declared("/api/labels/{kind}/{identifier}.zpl") == ["application/zpl"]
    assert declared("/api/trials/{code}/report.csv") == ["text/csv"]
    assert declared("/api/fhir/{kinds}/{identifier}") == ["application/fhir+json"]
    assert declared("/api/lookback/{kind}/{identifier}/notifications.pdf") == ["application/pdf"]
    assert declared("/api/orders/{order_id}") == ["application/json"]


def test_the_pages_are_not_in_the_api_document(client, users) -> None:
    paths = client.get("/api/openapi.json", headers=bearer(client, "admin")).json()["paths"]
    assert all(p.startswith("/api") or p == "/healthz" for p in paths)
    assert "/api/orders" in paths and "/api/allocations" in paths and "/api/bedside/checks" in paths
