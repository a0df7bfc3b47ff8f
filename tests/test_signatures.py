"""Electronic signatures: re-authentication, manifestation, binding to the record (Part 11)."""

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


def sign(engine, settings, user: User, password: str, content=RECORD, meaning=Meaning.APPROVED):
    with unit_of_work(engine, settings=settings) as session:
        return signatures.sign(
            session,
            signer=session.get(User, user.id),
            password=password,
            meaning=meaning,
            entity_type="thing",
            entity_id="1",
            content=content,
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
    assert signatures.matches(signature, dict(RECORD))
    changed = {**RECORD, "viability": 65.0}
    assert not signatures.matches(signature, changed)
    with Session(engine) as session:
        shown = signatures.shown(session, entity_type="thing", entity_id="1", content=changed)
    assert [s.valid for s in shown] == [False]


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
