"""Security headers and the strict Content-Security-Policy (mfg.web.headers)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mfg.config import Settings
from mfg.main import create_app
from mfg.users.scan import staff_code
from mfg.web.headers import CONTENT_SECURITY_POLICY
from tests.factories import bearer, csrf_from

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ALWAYS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secured(response, *, cached: bool = False) -> None:  # type: ignore[no-untyped-def]
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    for directive in (
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "default-src 'self'",
    ):
        assert directive in policy.split("; ")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for name, value in ALWAYS.items():
        assert response.headers[name] == value, name
    if cached:
        assert "no-store" not in response.headers.get("cache-control", "")
    else:
        assert response.headers.get_list("cache-control") == ["no-store"]
    assert "strict-transport-security" not in response.headers


class InlineCode(HTMLParser):
    """Collects every inline script and inline event handler of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        self.found += [f"<{tag} {n}=…>" for n in names if n.startswith("on")]
        self.found += [f"<{tag} style=…>" for n in names if n == "style"]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_a_page_carries_the_security_headers_and_is_not_cached(admin_client: TestClient) -> None:
    response = admin_client.get("/donors")
    assert response.status_code == 200
    assert_secured(response)


def test_an_api_answer_carries_the_security_headers_and_is_not_cached(
    client: TestClient, users
) -> None:
    response = client.get("/api/donors", headers=bearer(client, "admin"))
    assert response.status_code == 200 and response.json()["items"] == []
    assert_secured(response)


def test_a_401_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/donors")
    assert response.status_code == 401
    assert_secured(response)


def test_an_error_page_carries_the_security_headers(admin_client: TestClient) -> None:
    response = admin_client.get("/no-such-page")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    assert_secured(response)


def test_a_redirect_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert_secured(response)


def test_a_pdf_carries_the_security_headers_and_is_not_cached(client: TestClient, users) -> None:
    url = f"/api/labels/badge/{staff_code(users['qc'])}.pdf"
    response = client.get(url, headers=bearer(client, "technician"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert_secured(response)


def test_a_streamed_csv_carries_the_security_headers_and_is_not_cached(
    admin_client: TestClient,
) -> None:
    response = admin_client.get("/audit/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert_secured(response)


def test_an_inline_form_answer_carries_the_security_headers(client: TestClient, users) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "admin", "password": "wrong", "csrf_token": token},
        headers={"X-MFG-Form": "1"},
    )
    assert response.status_code >= 400
    assert_secured(response)


def test_static_files_carry_the_security_headers_and_may_be_cached(client: TestClient) -> None:
    response = client.get("/static/pages.js")
    assert response.status_code == 200
    assert_secured(response, cached=True)


def test_hsts_only_when_cookies_are_secure(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    secure = settings.model_copy(update={"cookie_secure": True})
    with TestClient(create_app(secure, engine=engine), base_url="https://testserver") as client:
        for path in ("/login", "/static/app.css", "/api/donors"):
            hsts = client.get(path).headers.get("strict-transport-security")
            assert hsts == "max-age=31536000", path
    with TestClient(create_app(settings, engine=engine)) as client:
        assert "strict-transport-security" not in client.get("/login").headers


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_has_inline_script_event_handler_or_style(template: str) -> None:
    assert inline_code((TEMPLATES / template).read_text(encoding="utf-8")) == []


def test_rendered_pages_have_no_inline_script_event_handler_or_style(
    admin_client: TestClient,
) -> None:
    for path in ("/", "/donors", "/doses", "/deviations", "/lots", "/cultures", "/no-such-page"):
        response = admin_client.get(path)
        assert response.status_code in (200, 404), path
        assert inline_code(response.text) == [], path
    token = csrf_from(admin_client.get("/admin/users").text)
    form = {"csrf_token": token, "username": "", "full_name": "", "roles": "technician"}
    referer = {"Referer": "http://testserver/admin/users?tab=new"}
    refused = admin_client.post("/admin/users", data=form, headers=referer)
    assert refused.status_code == 422 and 'id="back-to-form"' in refused.text
    assert inline_code(refused.text) == []


def test_only_the_api_docs_page_gets_the_looser_policy_for_swagger_ui(
    admin_client: TestClient,
) -> None:
    from mfg.web.headers import DOCS_CONTENT_SECURITY_POLICY

    docs = admin_client.get("/api/docs")
    assert docs.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in DOCS_CONTENT_SECURITY_POLICY
    assert docs.headers.get_list("cache-control") == ["no-store"]
    for path in ("/api/docs/oauth2-redirect", "/api/openapi.json"):
        assert admin_client.get(path).headers["content-security-policy"] == CONTENT_SECURITY_POLICY
