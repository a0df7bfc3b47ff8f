"""A client of the JSON API alone: log in, call, and say what went wrong in the terms of the
answer (its status and its error code), for the walks from an empty database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

MINSK = timezone(timedelta(hours=3))  # a client in the facility sends its own offset
STRONG = "Walk-the-whole-path-2026"


def at(days: float = 0, hours: float = 0) -> str:
    """A time ``days`` (and ``hours``) from now, as a client in Minsk writes it."""
    moment = datetime.now(UTC) + timedelta(days=days, hours=hours)
    return moment.astimezone(MINSK).replace(microsecond=0).isoformat()


def on(days: int) -> str:
    """The facility's date ``days`` from today."""
    return (datetime.now(MINSK).date() + timedelta(days=days)).isoformat()


def today() -> date:
    return datetime.now(MINSK).date()


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def login(self, username: str, password: str = STRONG) -> None:
        answer = self.client.post(
            "/api/auth/token", json={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        self.tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, who: str, method: str, path: str, body: Any = None, *, status: int = 200):
        answer = self.client.request(method, path, json=body, headers=self.tokens[who])
        assert answer.status_code == status, f"{method} {path} as {who}: {answer.text}"
        content = answer.headers.get("content-type", "")
        return answer.json() if content.startswith("application/json") else answer

    def get(self, who: str, path: str, **kw: Any):
        return self.call(who, "GET", path, **kw)

    def post(self, who: str, path: str, body: Any = None, **kw: Any):
        kw.setdefault("status", 201)
        return self.call(who, "POST", path, body if body is not None else {}, **kw)

    def refused(
        self, who: str, method: str, path: str, body: Any, *, code: str, status: int
    ) -> dict[str, Any]:
        """The call is refused with this status and this rule's code (its own, or among the
        several rules that refused it together), and says why."""
        answer = self.client.request(method, path, json=body, headers=self.tokens[who])
        assert answer.status_code == status, f"{method} {path}: {answer.text}"
        error = answer.json()["error"]
        rules = [r["code"] for r in error.get("details", {}).get("rules", [])]
        assert code == error["code"] or code in rules, error
        assert error["message"], error
        return error
