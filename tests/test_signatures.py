"""Electronic signatures: re-authentication, manifestation, binding to the record (Part 11)."""

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.errors import AccountLocked, InvalidInput, SignatureRefused
from mfg.models import AuditEvent, Meaning, Signature, User
from mfg.signatures import service as signatures
from tests.audit.tamper import execute
from tests.factories import PASSWORD

RECORD = {"lot": "A999926000001", "viability": 91.5}
# The record type "thing" of these tests: its content is whatever THING holds now.
THING: dict = {}


@signatures.signs("thing")
def thing_content(session: Session, entity_id: str) -> dict:
    return dict(THING)


@pytest.fixture(autouse=True)
def _thing_as_recorded():
    THING.clear()
    THING.update(RECORD)


def sign(engine, settings, user: User, password: str, meaning=Meaning.APPROVED):
    with unit_of_work(engine, settings=settings) as session:
        return signatures.sign(
            session,
            signer=session.get(User, user.id),
            password=password,
            meaning=meaning,
            entity_type="thing",
            entity_id="1",
            comment="looks right",
        )


def test_a_signature_records_printed_name_meaning_time_and_content_hash(engine, settings, users):
    signature = sign(engine, settings, users["qa"], PASSWORD)
    assert signature.printed_name == users["qa"].full_name
    assert signature.meaning == "Approved" and signature.signed_at.tzinfo is not None
    assert len(signature.content_hash) == 64
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "signature.signed")
        ).one()
    assert event.entity_type == "thing" and event.username == "qa"


def test_a_signature_with_a_wrong_password_is_refused_and_leaves_no_signature(
    engine, settings, users
):
    with pytest.raises(SignatureRefused):
        sign(engine, settings, users["qa"], "not my password")
    with Session(engine) as session:
        assert session.exec(select(Signature)).all() == []
        failed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "signature.failed")
        ).all()
        assert len(failed) == 1 and session.get(User, users["qa"].id).failed_logins == 1


def test_wrong_signing_passwords_count_towards_the_lockout(engine, settings, users):
    for _ in range(settings.max_failed_logins):
        with pytest.raises(SignatureRefused):
            sign(engine, settings, users["qa"], "not my password")
    with pytest.raises(AccountLocked):
        sign(engine, settings, users["qa"], PASSWORD)


def test_changing_the_signed_record_makes_the_signature_invalid(engine, settings, users):
    signature = sign(engine, settings, users["qa"], PASSWORD)
    with Session(engine) as session:
        assert [s.valid for s in signatures.shown(session, entity_type="thing", entity_id="1")] == [
            True
        ]
        THING["viability"] = 65.0
        shown = signatures.shown(session, entity_type="thing", entity_id="1")
        assert [s.valid for s in shown] == [False]
        assert not signatures.is_valid(session, signature)


def test_a_signature_cannot_be_moved_to_another_record(engine, settings, users):
    signature = sign(engine, settings, users["qa"], PASSWORD)
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "UPDATE signature SET entity_id = '2' WHERE id = :i", i=signature.id)


def test_only_meanings_of_the_controlled_list_are_accepted(engine, settings, users):
    with pytest.raises(InvalidInput, match="controlled list"):
        sign(engine, settings, users["qa"], PASSWORD, meaning="Whatever")  # type: ignore[arg-type]


def test_key_order_does_not_change_the_content_hash(engine, settings, users):
    signature = sign(engine, settings, users["qa"], PASSWORD)
    assert signatures.matches(signature, dict(reversed(list(RECORD.items()))))


def test_a_whole_number_read_back_as_a_float_hashes_the_same() -> None:
    """A step signed with ``surface_cm2=75`` is checked against the row's ``75.0``."""
    from mfg.audit.chain import content_hash

    assert content_hash({"surface": 75, "cells": [1, 2.0]}) == content_hash(
        {"surface": 75.0, "cells": [1.0, 2]}
    )
    assert content_hash({"surface": 75.5}) != content_hash({"surface": 75})


def test_a_time_typed_in_the_facility_zone_hashes_as_the_utc_time_stored() -> None:
    """A form's 17:57+03:00 is stored, and read back to check the signature, as 14:57 UTC."""
    from mfg.audit.chain import content_hash

    minsk = timezone(timedelta(hours=3))
    typed = datetime(2026, 12, 4, 17, 57, tzinfo=minsk)
    stored = datetime(2026, 12, 4, 14, 57, tzinfo=UTC)
    assert content_hash({"started": typed}) == content_hash({"started": stored})
    assert content_hash({"started": stored.replace(tzinfo=None)}) == content_hash(
        {"started": stored}
    )
    assert content_hash({"started": typed}) != content_hash({"started": typed.replace(hour=18)})


def test_a_record_type_without_its_signed_content_cannot_be_signed(engine, settings, users):
    with pytest.raises(LookupError), unit_of_work(engine, settings=settings) as session:
        signatures.sign(
            session,
            signer=session.get(User, users["qa"].id),
            password=PASSWORD,
            meaning=Meaning.APPROVED,
            entity_type="nothing-defined",
            entity_id="1",
        )


def _signed_types_in_code() -> set[str]:
    """Every literal entity_type passed to signatures.sign(...) in the application's code."""
    found = set()
    for path in Path("mfg").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "sign":
                for kw in node.keywords:
                    if kw.arg == "entity_type" and isinstance(kw.value, ast.Constant):
                        found.add(kw.value.value)
    return found


def test_every_record_type_ever_signed_has_its_signed_content_function(app) -> None:
    """The app loads every domain; each type signed anywhere has the one function giving its
    content (and the outcome and adverse-event types, signed through a helper, too)."""
    signed = _signed_types_in_code() | {"adverse_event", "outcome"}
    assert len(signed) >= 18
    assert signed <= signatures.signed_types()
