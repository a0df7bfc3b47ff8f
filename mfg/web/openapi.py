"""The OpenAPI document as the server behaves: every refusal has the one error shape of
docs/architecture.md#error-shape (``{"error": {"code", "message", "details"}}``), never FastAPI's
default ``{"detail": [...]}``, and each document that is not JSON (PDF, CSV, ZPL, FHIR) declares its
own media type. Served at ``/api/openapi.json``, browsable at ``/api/docs``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_SCHEMA = "Error"
REFUSALS = {
    "400": "Malformed request.",
    "401": "Not logged in, or the session or token ended.",
    "403": "The caller's role does not allow it (or a password change is due).",
    "404": "No such record.",
    "409": "The record's state refuses it (code names the rule), or someone changed it first.",
    "422": "Malformed or implausible input (validation_error, out_of_range…), or a rule refuses "
    "what was sent (code names the rule).",
}


class ErrorBody(BaseModel):
    code: str = Field(description="stable: the refusing rule's code, e.g. order_limit_reached")
    message: str = Field(description="the sentence a person reads")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="field (the one at fault), fields (each malformed field), rules (every "
        "refusing rule with its code), reasons (their sentences)",
    )


class ErrorResponse(BaseModel):
    error: ErrorBody


def binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that answers a document of ``media_type``."""
    schema = {"type": "string", "format": "binary"}
    if "json" in media_type:
        schema = {"type": "object"}
    elif media_type.startswith("text/"):
        schema = {"type": "string"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}


PDF = "application/pdf"
CSV = "text/csv"
ZPL = "application/zpl"  # what a Zebra printer takes; sent as text/plain would be mangled
FHIR_JSON = "application/fhir+json"


def _declare_errors(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, model in (("ErrorBody", ErrorBody), (ERROR_SCHEMA, ErrorResponse)):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[name] = schema
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/api"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in REFUSALS.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                }


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the real error shape (the media types come from each
    route's ``responses=binary(...)``)."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            # The JSON API and the health check; the HTML pages are not part of the API.
            schema["paths"] = {
                path: item
                for path, item in schema["paths"].items()
                if path.startswith("/api") or path == "/healthz"
            }
            _declare_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
