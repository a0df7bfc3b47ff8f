"""Every page in Russian: with MFG_LANGUAGE=ru and the demonstration data, each role follows every
link its pages offer, and no page shows English the staff would have to read: no message of the
catalog left in English, no English phrase outside the codes, units and names that stay as
they are. What the demo's people typed (names, terms, notes) is data and stays as typed."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from mfg.config import Settings
from mfg.db import unit_of_work
from mfg.demo import demo_password, load_demo
from mfg.i18n import catalogs
from mfg.main import create_app
from tests.factories import csrf_from

ROLES = ("tech", "qc", "qa", "doctor", "admin")
MAX_PAGES_PER_ROLE = 160
# Links that are not pages to read: files, the API, leaving.
NOT_PAGES = re.compile(r"^/(api|static|logout|healthz)|\.(pdf|zpl|csv|json|svg|png)(\?|$)")
# Latin words that stay as they are on a Russian page: units, standards, product names.
KEPT = {
    "mL",
    "kg",
    "ISBT",
    "DIN",
    "FHIR",
    "GMP",
    "QC",
    "QA",
    "PDF",
    "ZPL",
    "CSV",
    "PCR",
    "CT",
    "GTIN",
}
PHRASE = re.compile(r"\b[a-z][a-z'’]+(?:[ -][a-z][a-z'’]+)+\b")


class _Text(HTMLParser):
    """The text a reader sees: outside code, scripts, styles and what people typed or configured
    (a cell or element marked ``data-as-is``), each text node apart."""

    SKIPPED: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "code", "pre", "textarea", "option"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.links: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in self.SKIPPED or "data-as-is" in attributes:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def _english_messages() -> set[str]:
    with catalogs.TEMPLATE.open("rb") as f:
        return {m.id for m in read_po(f) if isinstance(m.id, str) and len(m.id) > 3}


def _crawl(client: TestClient, username: str) -> dict[str, list[str]]:
    """Each page a user reaches by following links from the home page: its visible text."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": demo_password(username), "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    seen: dict[str, list[str]] = {}
    queue = deque(["/"])
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _Text()
        parser.feed(response.text)
        seen[path] = parser.nodes
        for link in parser.links:
            parts = urlsplit(link)
            if parts.netloc not in ("", "testserver") or NOT_PAGES.search(parts.path):
                continue
            if not parts.path.startswith("/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append(target)
    client.get("/logout")
    return seen


@pytest.fixture
def russian_client(engine, settings: Settings):
    settings = Settings(**{**settings.model_dump(), "language": "ru"})
    with unit_of_work(engine, settings=settings) as session:
        load_demo(session, settings=settings)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client


def _english_on(nodes: list[str], messages: set[str]) -> list[str]:
    found = []
    for node in nodes:
        words = " ".join(w for w in node.split() if w not in KEPT)
        if (node in messages and node not in KEPT) or PHRASE.search(words):
            found.append(node)
    return found


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_reads_in_russian(russian_client, username: str) -> None:
    pages = _crawl(russian_client, username)
    assert len(pages) > 5, sorted(pages)
    messages = _english_messages()
    english = {
        path: found for path, nodes in pages.items() if (found := _english_on(nodes, messages))
    }
    assert not english, "\n".join(f"{path}: {found[:5]}" for path, found in sorted(english.items()))
