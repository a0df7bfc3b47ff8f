"""The JSON API covers every use case a page offers: each form a page posts has its API
operation, so that an integration can do whatever a person does at a page."""

from mfg.main import ROUTERS

# A page's form -> the API operation that does the same (where the path is not simply /api + the
# page's path). None: a browser-session matter with no use to an API client, and why.
SAME_AS = {
    "/account": "PATCH /api/me",
    "/account/password": "POST /api/auth/password",
    "/admin/users": "POST /api/users",
    "/admin/users/{username}/roles": "POST /api/users/{username}/roles",
    "/admin/users/{username}/{action}": "POST /api/users/{username}/deactivate",
    "/bedside": "POST /api/bedside/checks",
    "/donors/{code}/biopsies": "POST /api/biopsies",
    "/donors/{code}/results/{result_id}/invalidate": (
        "POST /api/marker-results/{result_id}/invalidate"
    ),
    "/donors/{code}/results/{result_id}/verify": "POST /api/marker-results/{result_id}/verify",
    "/labels/{kind}/{identifier}/print": "GET /api/labels/{kind}/{identifier}.pdf",
    "/login": "POST /api/auth/token",
    "/logout": None,  # an API token is not a browser session: it expires by itself
    "/lookback/{kind}/{identifier}": "POST /api/lookback/{kind}/{identifier}/hold",
    "/lots/{din}/label-check": "POST /api/doses/{identifier}/label-check",
    "/patients/{code}/adverse-events/{event_id}/amend": (
        "POST /api/patients/{code}/adverse-events/{event_id}/amendments"
    ),
    "/patients/{code}/allocation": "POST /api/orders/{order_id}/allocation",
    "/patients/{code}/orders/{order_id}/cancellation": "POST /api/orders/{order_id}/cancellation",
    "/qc/results/{result_id}/invalidate": "POST /api/qc-results/{result_id}/invalidate",
    "/qc/results/{result_id}/verify": "POST /api/qc-results/{result_id}/verify",
    "/qc/samples": "POST /api/qc-samples",
    "/qc/samples/{code}/results": "POST /api/qc-samples/{code}/results",
}


def _operations() -> tuple[set[str], set[str]]:
    pages, api = set(), set()
    for route in (r for router in ROUTERS for r in router.routes):
        for method in getattr(route, "methods", None) or ():
            if route.path.startswith("/api"):
                api.add(f"{method} {route.path}")
            elif method == "POST":
                pages.add(route.path)
    return pages, api


def test_every_use_case_a_page_offers_has_its_api_operation() -> None:
    pages, api = _operations()
    missing = []
    for path in sorted(pages):
        operation = SAME_AS.get(path, f"POST /api{path}")
        if operation is not None and operation not in api:
            missing.append(f"{path} -> {operation}")
    assert missing == []
    assert set(SAME_AS) <= pages, "a mapping names a page form that no longer exists"
