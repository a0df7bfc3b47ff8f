"""The audit trail is append-only and tamper-evident (docs/architecture.md#audit-chain,
21 CFR 11.10(e))."""

import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from mfg.audit import service as audit
from mfg.audit.chain import canonical_json, content_hash
from mfg.config import Settings
from mfg.db import unit_of_work
from mfg.errors import InvalidInput
from mfg.models import AuditEvent
from tests.audit.tamper import drop_append_only_triggers, execute


def append(engine: Engine, settings: Settings, n: int = 5, entity: str = "thing") -> None:
    with unit_of_work(engine, settings=settings) as session:
        for i in range(n):
            audit.record(
                session,
                actor=None,
                action="thing.changed",
                entity_type=entity,
                entity_id=str(i),
                changes={"value": [i, i + 1]},
                reason="test",
            )


def verify(engine: Engine, settings: Settings) -> audit.ChainReport:
    with unit_of_work(engine, settings=settings, write=False) as session:
        return audit.verify_chain(session)


def test_an_intact_chain_verifies(engine, settings) -> None:
    append(engine, settings, 10)
    report = verify(engine, settings)
    assert report.ok and report.events == 10 and report.first_bad_seq is None


def test_an_empty_chain_verifies(engine, settings) -> None:
    assert verify(engine, settings).ok


def test_the_database_refuses_to_update_an_audit_row(engine, settings) -> None:
    append(engine, settings, 2)
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "UPDATE audit_event SET reason = 'edited' WHERE seq = 1")


def test_the_database_refuses_to_delete_an_audit_row(engine, settings) -> None:
    append(engine, settings, 2)
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "DELETE FROM audit_event WHERE seq = 2")


def test_editing_one_audit_row_is_detected_and_named(engine, settings) -> None:
    append(engine, settings, 6)
    drop_append_only_triggers(engine)
    execute(engine, "UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 4")
    report = verify(engine, settings)
    assert not report.ok and report.first_bad_seq == 4 and "altered" in report.message


def test_editing_a_row_and_recomputing_an_unkeyed_hash_is_still_detected(engine, settings) -> None:
    """Without the secret key a forger cannot produce a hash that verifies."""
    append(engine, settings, 3)
    drop_append_only_triggers(engine)
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    forged = content_hash({"forged": canonical_json(event.changes)})
    execute(engine, "UPDATE audit_event SET hash = :h WHERE seq = 2", h=forged)
    assert verify(engine, settings).first_bad_seq == 2


def test_deleting_an_audit_row_in_the_middle_is_detected(engine, settings) -> None:
    append(engine, settings, 6)
    drop_append_only_triggers(engine)
    execute(engine, "DELETE FROM audit_event WHERE seq = 3")
    report = verify(engine, settings)
    assert not report.ok and report.first_bad_seq == 3 and "missing" in report.message


def test_inserting_an_audit_row_is_detected(engine, settings) -> None:
    append(engine, settings, 3)
    execute(
        engine,
        "INSERT INTO audit_event (seq, occurred_at, username, user_full_name, action, entity_type,"
        " entity_id, changes, prev_hash, hash) SELECT 4, occurred_at, 'intruder', 'Intruder',"
        " 'thing.changed', 'thing', '9', '{}', hash, :h FROM audit_event WHERE seq = 3",
        h="f" * 64,
    )
    report = verify(engine, settings)
    assert not report.ok and report.first_bad_seq == 4


def test_deleting_the_newest_events_is_detected(engine, settings) -> None:
    """Truncation: the chain head still names the newest event, so missing tails show."""
    append(engine, settings, 8)
    drop_append_only_triggers(engine)
    execute(engine, "DELETE FROM audit_event WHERE seq > 5")
    report = verify(engine, settings)
    assert not report.ok and report.first_bad_seq == 6
    assert "#6 to #8 are missing" in report.message


def test_rewinding_the_chain_head_after_truncation_is_detected(engine, settings) -> None:
    append(engine, settings, 8)
    drop_append_only_triggers(engine)
    execute(engine, "DELETE FROM audit_event WHERE seq > 5")
    execute(
        engine,
        "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_event WHERE seq = 5)",
    )
    report = verify(engine, settings)
    assert not report.ok and report.first_bad_seq == 6 and "head" in report.message


def test_a_chain_verified_with_another_key_fails(engine, settings) -> None:
    append(engine, settings, 2)
    other = settings.model_copy(update={"secret_key": "another-secret-key-of-sufficient-length"})
    assert verify(engine, other).first_bad_seq == 1


def test_an_audit_event_is_rolled_back_with_the_change_it_describes(engine, settings) -> None:
    with pytest.raises(RuntimeError), unit_of_work(engine, settings=settings) as session:
        audit.record(session, actor=None, action="x", entity_type="thing", entity_id="1")
        raise RuntimeError("the change failed")
    with Session(engine) as session:
        assert session.exec(select(AuditEvent)).all() == []
    assert verify(engine, settings).ok


def test_a_correction_requires_a_reason(engine, settings) -> None:
    with pytest.raises(InvalidInput, match="reason"), unit_of_work(engine, settings=settings) as s:
        audit.record(
            s,
            actor=None,
            action="thing.corrected",
            entity_type="thing",
            entity_id="1",
            changes={"value": [1, 2]},
            reason="  ",
            require_reason=True,
        )


def test_concurrent_appends_never_fork_the_chain(engine, settings) -> None:
    """Eight threads appending at once: one chain, contiguous, every hash verifying."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            append(engine, settings, 5, entity=f"worker{n}")
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(engine, settings)
    assert report.ok and report.events == 40
    with engine.connect() as conn:
        prevs = conn.execute(text("SELECT count(DISTINCT prev_hash) FROM audit_event")).scalar()
    assert prevs == 40  # no two events share a predecessor: no fork
