"""Which language the application speaks (docs/architecture.md#languages): the facility's
default, each user's own choice (account page, PATCH /api/me), the browser's before login; API
error messages in the caller's language with unchanged codes; numbers in the reader's locale."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mfg import i18n
from mfg.audit.service import history
from mfg.config import Settings
from mfg.main import create_app
from mfg.models import User
from tests.factories import bearer, csrf_from, log_in


def test_the_facility_language_is_english_unless_mfg_language_says_otherwise(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    assert Settings().language == "en"
    assert ">Log in</h1>" in client.get("/login").text
    russian = Settings(**{**settings.model_dump(), "language": "ru"})
    with TestClient(create_app(russian, engine=engine)) as ru_client:
        page = ru_client.get("/login").text
    assert '<html lang="ru">' in page and ">Войти</h1>" in page


def test_before_login_a_page_follows_the_browsers_accept_language(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}).text
    assert ">Войти</h1>" in page and "Имя пользователя" in page
    # a language the application does not speak falls back to the facility's
    assert ">Log in</h1>" in client.get("/login", headers={"Accept-Language": "de-DE"}).text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE,be;q=0.5", "be"),
        ("fr, ru;q=0", None),
        ("", None),
        ("ru;q=abc", None),
    ],
)
def test_accept_language_is_negotiated_by_quality_then_order(
    header: str, language: str | None
) -> None:
    assert i18n.negotiate(header) == language


def test_a_user_chooses_their_language_on_their_account_page(
    client: TestClient, users: dict[str, User], engine: Engine
) -> None:
    log_in(client, "technician")
    page = client.get("/account").text
    assert 'id="language-form"' in page
    answer = client.post(
        "/account", data={"language": "ru", "csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert answer.status_code == 200
    assert "Язык сохранён." in answer.text and ">Выйти</button>" in answer.text
    # the browser's language no longer decides once the user chose theirs
    home = client.get("/", headers={"Accept-Language": "en"}).text
    assert "Ожидает вас" in home or "Для вас ничего не ожидает." in home


def test_a_users_language_change_is_audited(
    client: TestClient, users: dict[str, User], engine: Engine
) -> None:
    headers = bearer(client, "qa")
    assert (
        client.patch("/api/me", json={"language": "ru"}, headers=headers).json()["language"] == "ru"
    )
    assert (
        client.patch("/api/me", json={"language": None}, headers=headers).json()["language"] is None
    )
    from sqlmodel import Session

    with Session(engine) as session:
        events = [
            e
            for e in history(session, entity_type="user", entity_id="qa")
            if e.action == "user.language_chosen"
        ]
    assert [json.loads(e.changes) for e in events] == [
        {"language": [None, "ru"]},
        {"language": ["ru", None]},
    ]


def test_an_unknown_language_is_refused_with_nothing_changed(
    client: TestClient, users: dict[str, User]
) -> None:
    headers = bearer(client, "qa")
    refused = client.patch("/api/me", json={"language": "de"}, headers=headers)
    assert refused.status_code == 422
    assert client.get("/api/me", headers=headers).json()["language"] is None


def test_api_error_messages_follow_the_callers_language_and_keep_their_codes(
    client: TestClient, users: dict[str, User]
) -> None:
    headers = bearer(client, "technician")
    english = client.get("/api/users", headers=headers).json()["error"]
    client.patch("/api/me", json={"language": "ru"}, headers=headers)
    russian = client.get("/api/users", headers=headers).json()["error"]
    assert russian["code"] == english["code"] == "forbidden"
    assert english["message"] == "Your role does not allow you to manage users (allowed: admin)."
    assert russian["message"] == (
        "Ваша роль не позволяет вам управлять пользователями (разрешено: admin)."
    )
    # before login, the browser's language
    refused = client.get("/api/me", headers={"Accept-Language": "ru"}).json()["error"]
    assert refused["code"] == "not_authenticated"
    assert refused["message"] == "Пожалуйста, войдите в систему."


@pytest.mark.parametrize(
    ("language", "value", "digits", "shown"),
    [
        ("en", 92.4, 1, "92.4"),
        ("ru", 92.4, 1, "92,4"),
        ("ru", Decimal("12.5"), None, "12,5"),
        ("ru", 12_500_000, 0, "12\xa0500\xa0000"),
        ("en", 12_500_000, 0, "12,500,000"),
        ("be", 0.5, 2, "0,50"),
    ],
)
def test_numbers_are_written_as_the_reader_writes_them(
    language: str, value: float, digits: int | None, shown: str
) -> None:
    with i18n.use_language(language):
        assert i18n.format_number(value, digits) == shown


def test_a_percentage_reads_with_the_locales_sign() -> None:
    with i18n.use_language("ru"):
        assert i18n.format_percent(92.4) == "92,4\xa0%"
    with i18n.use_language("en"):
        assert i18n.format_percent(92.4) == "92.4%"


def test_a_signature_keeps_its_meaning_as_the_signer_was_shown_it(
    client: TestClient, users: dict[str, User], engine: Engine
) -> None:
    """The meaning's stable code stays English; the text the signer read, in their language,
    is stored beside it, and the manifestation shows that text to every reader."""
    from sqlmodel import Session, select

    from mfg.models import Signature
    from tests.factories import PASSWORD

    technician, qa = bearer(client, "technician"), bearer(client, "qa")
    client.patch("/api/me", json={"language": "ru"}, headers=qa)
    body = {"name": "Human platelet lysate", "supplier": "Example", "lot_number": "HPL-1"}
    body |= {"catalogue_number": "HPL", "expiry": "2030-01-31"}
    code = client.post("/api/materials", json=body, headers=technician).json()["code"]
    decided = client.post(
        f"/api/materials/{code}/decision",
        json={"release": True, "password": PASSWORD},
        headers=qa,
    )
    assert decided.status_code == 200, decided.text
    with Session(engine) as session:
        signature = session.exec(select(Signature).where(Signature.entity_id == code)).one()
    assert (signature.meaning, signature.language) == ("Released", "ru")
    assert signature.meaning_shown == "Выпущено"
    # an English reader sees the words the signer signed
    log_in(client, "technician")
    page = client.get(f"/materials/{code}").text
    assert '<div class="meaning" lang="ru">Выпущено</div>' in page
