"""Fuzzing the JSON API from its OpenAPI document (schemathesis), as an administrator, a
technician and QA: no server error, and every answer has a status code, media type and body the
document declares for it.

Bounded (a few generated requests per operation and role) so that it runs in CI in minutes; for
a deeper run, raise MFG_FUZZ_EXAMPLES. Driven from a plain test (schemathesis's pytest plugin
does not load under this pytest); every operation is tried and every failure reported.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import PASSWORD

EXAMPLES = int(os.environ.get("MFG_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz_every_operation(app, client, role: str) -> list[str]:  # type: ignore[no-untyped-def]
    token = client.post("/api/auth/token", json={"username": role, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    for operation in operations:
        if operation.path == "/api/auth/logout":
            continue  # would end the session the other operations are tried with

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as failure:  # every operation's failure is reported
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}"[:1500])
    return failures


@pytest.mark.parametrize("role", ["admin", "technician", "qa"])
def test_no_operation_answers_a_server_error_or_an_undeclared_answer(
    app, client, users, role: str
) -> None:
    failures = _fuzz_every_operation(app, client, role)
    assert not failures, "\n\n".join(failures)
