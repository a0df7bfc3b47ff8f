"""Every route refuses who may not use it: 401 without login, 403 with the wrong role.

The test walks the application's routes, so a route added later is covered without being listed.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mfg.auth.permissions import PERMISSIONS
from mfg.main import ROUTERS
from mfg.web.security import Allow, current_user, login_checked_in_endpoint
from tests.factories import ROLES, bearer

# Routes anyone may reach: logging in, and the liveness check.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/api/auth/token"),
    ("GET", "/healthz"),
}


def _requirement(route: APIRoute) -> object:
    """The Allow(action) of a route, ``current_user`` for any logged-in user, or None."""
    stack = list(route.dependant.dependencies)
    found: object = None
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, Allow):
            return dependency.call
        if dependency.call in (current_user, login_checked_in_endpoint):
            found = current_user
        stack.extend(dependency.dependencies)
    return found


def _routes(app) -> list[tuple[str, str, object]]:
    found = []
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path, _requirement(route)))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_either_public_or_declares_who_may_use_it(app) -> None:
    routes = _routes(app)
    assert len(routes) >= 20
    unguarded = [(m, p) for m, p, req in routes if req is None and (m, p) not in PUBLIC]
    assert unguarded == []


def test_every_guarded_route_refuses_a_request_without_login(app, client: TestClient) -> None:
    for method, path, requirement in _routes(app):
        if requirement is None:
            continue
        response = client.request(method, _concrete(path), json={}, follow_redirects=False)
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            expected = 303 if method == "GET" else 401
            assert response.status_code == expected, (method, path, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_refuses_a_role_the_permission_table_does_not_name(
    app, client: TestClient, users, role: str
) -> None:
    headers = bearer(client, role)
    checked = 0
    for method, path, requirement in _routes(app):
        if not isinstance(requirement, Allow):
            continue
        allowed = {r.value for r in PERMISSIONS[requirement.action]}
        response = client.request(
            method, _concrete(path), json={}, headers=headers, follow_redirects=False
        )
        if role in allowed:
            assert response.status_code != 403, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert response.headers["content-type"].startswith(
                "application/json" if path.startswith("/api") else "text/html"
            )
        checked += 1
    assert checked >= 10
