"""Browser sessions and API tokens: CSRF, idle timeout, expiry, cookie flags."""

import time

from fastapi.testclient import TestClient

from mfg.auth.tokens import issue_token
from tests.factories import bearer, csrf_from, log_in


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient, users) -> None:
    log_in(client, "admin")
    response = client.post(
        "/admin/users", data={"username": "eve", "full_name": "Eve", "roles": "qa"}
    )
    assert response.status_code == 403 and "did not come from this site" in response.text


def test_a_form_post_with_a_wrong_csrf_token_is_refused(client: TestClient, users) -> None:
    log_in(client, "admin")
    response = client.post(
        "/admin/users",
        data={"username": "eve", "full_name": "Eve", "roles": "qa", "csrf_token": "forged"},
    )
    assert response.status_code == 403


def test_the_login_form_itself_needs_the_csrf_token(client: TestClient, users) -> None:
    response = client.post("/login", data={"username": "qa", "password": "x"})
    assert response.status_code == 403


def test_a_form_post_with_the_csrf_token_is_accepted(client: TestClient, users) -> None:
    log_in(client, "admin")
    token = csrf_from(client.get("/admin/users").text)
    response = client.post(
        "/admin/users",
        data={"username": "eve", "full_name": "Eve Example", "roles": "qa", "csrf_token": token},
    )
    assert response.status_code == 200 and 'id="one-time-password"' in response.text


def test_the_session_cookie_is_signed_httponly_and_samesite(client: TestClient, users) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "qa", "password": "Correct-Horse-Battery-9", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_session_idle_longer_than_the_timeout_ends(
    client: TestClient, users, monkeypatch
) -> None:
    log_in(client, "qa")
    assert client.get("/", follow_redirects=False).status_code == 200
    later = time.time() + 16 * 60
    monkeypatch.setattr("mfg.web.security.time.time", lambda: later)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "session_expired" in response.headers["location"]
    assert client.get("/", follow_redirects=False).status_code == 303  # stays logged out


def test_activity_within_the_timeout_keeps_the_session(
    client: TestClient, users, monkeypatch
) -> None:
    log_in(client, "qa")
    start = time.time()
    for minutes in (10, 20, 30):
        monkeypatch.setattr("mfg.web.security.time.time", lambda m=minutes: start + m * 60)
        assert client.get("/", follow_redirects=False).status_code == 200


def test_api_tokens_expire(client: TestClient, settings, users, monkeypatch) -> None:
    headers = bearer(client, "qa")
    assert client.get("/api/me", headers=headers).status_code == 200
    later = time.time() + settings.token_lifetime_minutes * 60 + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


def test_a_token_signed_with_another_key_is_refused(client: TestClient, settings, users) -> None:
    other = settings.model_copy(update={"secret_key": "another-secret-of-sufficient-length-xyz"})
    forged = issue_token(users["admin"], "some-session-id", settings=other)
    response = client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_the_api_accepts_the_browser_session_too(client: TestClient, users) -> None:
    log_in(client, "qa")
    assert client.get("/api/me").json()["username"] == "qa"
