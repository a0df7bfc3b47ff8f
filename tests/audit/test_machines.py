"""The state machines: one per stateful table, each table covering exactly its statuses; a move
checks the table, wins or loses a race by compare-and-set, and writes its audit event."""

from __future__ import annotations

import json
import threading
from typing import get_args

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from mfg.audit.machines import LOT, MACHINES, SPEC_VERSION, machine_of
from mfg.db import unit_of_work
from mfg.errors import Conflict, InvalidInput, RuleViolation
from mfg.models import (
    AuditEvent,
    Lot,
    LotDoseCount,
    LotStatus,
    Patient,
    SpecStatus,
    SpecVersion,
    User,
)

# Tables with a status column and no machine, and why.
WITHOUT_MACHINE = {
    Patient: "no transition table: the application never changes a patient's status",
    LotDoseCount: "derived counts per status, written only by the database's triggers",
}


def _stateful_tables() -> set[type[SQLModel]]:
    return {
        mapper.class_
        for mapper in SQLModel._sa_registry.mappers  # type: ignore[attr-defined]
        if "status" in mapper.columns
    }


def test_every_table_with_a_status_has_exactly_one_machine() -> None:
    models = [machine.model for machine in MACHINES]
    assert len(models) == len(set(models))
    assert set(models) == _stateful_tables() - set(WITHOUT_MACHINE)
    assert all(machine_of(machine.model) is machine for machine in MACHINES)
    with pytest.raises(LookupError):
        machine_of(Patient)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.model.__name__)
def test_every_machine_table_covers_exactly_its_enum_values(machine) -> None:
    assert get_args(machine.model.__annotations__["status"])[0] is machine.statuses, "its type"
    statuses = set(machine.statuses)
    assert set(machine.table) == statuses, "every status has a row of the table"
    for frm, targets in machine.table.items():
        assert targets <= statuses, f"{frm} → {targets - statuses}: not statuses"
        assert frm not in targets, f"{frm} → {frm}: a move changes the status"


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.model.__name__)
def test_every_machine_names_its_rows_by_a_column_that_exists(machine) -> None:
    named = machine.audited_under[1] if machine.audited_under else machine.model
    assert machine.key in named.__table__.columns
    if machine.audited_under:
        assert machine.audited_under[0] in machine.model.__table__.columns
    default = machine.model.__table__.columns["status"].default.arg
    assert default in machine.statuses, "a new row starts in one of the machine's statuses"


def test_allowed_and_can_move_answer_from_the_table() -> None:
    lot = Lot(status=LotStatus.QUARANTINE)
    assert LOT.allowed(lot) == {
        LotStatus.RELEASED,
        LotStatus.CONDITIONALLY_RELEASED,
        LotStatus.REJECTED,
    }
    assert LOT.can_move(lot, LotStatus.RELEASED)
    assert not LOT.can_move(lot, LotStatus.RECALLED)
    assert LOT.allowed(Lot(status=LotStatus.RECALLED)) == frozenset()


def _spec(engine, settings, version: int = 90) -> SpecVersion:
    with unit_of_work(engine, settings=settings) as s:
        spec = SpecVersion(version=version, title="Draft for the machine tests")
        s.add(spec)
        s.flush()
        return spec


def _events(engine, spec: SpecVersion) -> list[AuditEvent]:
    with Session(engine) as s:
        query = select(AuditEvent).where(
            AuditEvent.entity_type == "specification", AuditEvent.entity_id == str(spec.version)
        )
        return list(s.exec(query).all())


def test_move_changes_the_status_and_writes_its_audit_event(engine, settings, users) -> None:
    spec = _spec(engine, settings)
    with unit_of_work(engine, settings=settings) as s:
        row = s.get(SpecVersion, spec.id)
        SPEC_VERSION.move(
            s,
            row,
            to=SpecStatus.WITHDRAWN,
            actor=s.get(User, users["qa"].id),
            reason="never used",
            require_reason=True,
            also={"note": "withdrawn"},
        )
        assert row.status == SpecStatus.WITHDRAWN and row.note == "withdrawn"
    [event] = _events(engine, spec)
    assert (event.action, event.username, event.reason) == (
        "specification.withdrawn",
        "qa",
        "never used",
    )
    assert json.loads(event.changes) == {
        "status": ["draft", "withdrawn"],
        "note": ["", "withdrawn"],
    }


def test_move_the_table_forbids_is_refused_transition_not_allowed(engine, settings, users) -> None:
    spec = _spec(engine, settings)
    with pytest.raises(RuleViolation) as refused, unit_of_work(engine, settings=settings) as s:
        SPEC_VERSION.move(s, s.get(SpecVersion, spec.id), to=SpecStatus.SUPERSEDED, actor=None)
    assert refused.value.code == "transition_not_allowed"
    assert "A specification that is draft cannot become superseded." in str(refused.value)
    assert _events(engine, spec) == []


def test_move_without_a_required_reason_is_refused_and_changes_nothing(engine, settings) -> None:
    spec = _spec(engine, settings)
    with pytest.raises(InvalidInput), unit_of_work(engine, settings=settings) as s:
        SPEC_VERSION.move(
            s,
            s.get(SpecVersion, spec.id),
            to=SpecStatus.WITHDRAWN,
            actor=None,
            reason=None,
            require_reason=True,
        )
    with Session(engine) as s:
        assert s.get(SpecVersion, spec.id).status == SpecStatus.DRAFT
    assert _events(engine, spec) == []


def test_move_of_a_row_changed_meanwhile_answers_changed_meanwhile(engine, settings) -> None:
    """The status read is stale (another transaction moved the row after it was read): the
    compare-and-set finds no row, and nothing is written."""
    spec = _spec(engine, settings)
    with pytest.raises(Conflict) as lost, unit_of_work(engine, settings=settings) as s:
        row = s.get(SpecVersion, spec.id)
        s.execute(
            text("UPDATE spec_version SET status = 'withdrawn' WHERE id = :id"), {"id": spec.id}
        )
        SPEC_VERSION.move(s, row, to=SpecStatus.APPROVED, actor=None)
    assert lost.value.code == "changed_meanwhile"
    assert "This specification was changed by someone else meanwhile." in str(lost.value)


def test_move_race_two_at_once_exactly_one_wins_one_event(engine, settings, users) -> None:
    """Two people withdraw the same draft at the same moment: one wins; the other loses by
    the compare-and-set (changed_meanwhile) or, where the database serialises writers and it
    reads after the winner's commit, by the table (transition_not_allowed). On PostgreSQL both
    read the draft before either writes, so the loser's is the compare-and-set."""
    spec = _spec(engine, settings)
    concurrent_reads = engine.dialect.name == "postgresql"  # SQLite: BEGIN IMMEDIATE waits
    barrier, read = threading.Barrier(2), threading.Barrier(2)
    outcomes: list[object] = []

    def withdraw(user_id: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(engine, settings=settings) as s:
                row = s.get(SpecVersion, spec.id)
                if concurrent_reads:
                    read.wait()
                SPEC_VERSION.move(
                    s,
                    row,
                    to=SpecStatus.WITHDRAWN,
                    actor=s.get(User, user_id),
                    reason="race",
                )
            outcomes.append("ok")
        except (Conflict, RuleViolation) as error:
            outcomes.append(error.code)

    threads = [
        threading.Thread(target=withdraw, args=(users[role].id,)) for role in ("qa", "admin")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    losers = (
        {"changed_meanwhile"}
        if concurrent_reads
        else {"changed_meanwhile", "transition_not_allowed"}
    )
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= losers and len(outcomes) == 2
    assert len(_events(engine, spec)) == 1


def test_status_columns_store_the_same_strings_as_before(engine, settings) -> None:
    """Annotated with the enum, stored as before (VARCHAR, the status's value, the migrations
    unchanged), read back equal to the member; an unknown string in a filter finds nothing."""
    spec = _spec(engine, settings)
    with Session(engine) as s:
        row = s.get(SpecVersion, spec.id)
        assert row.status == SpecStatus.DRAFT
        stored = s.execute(text("SELECT status FROM spec_version WHERE id = :id"), {"id": spec.id})
        assert stored.scalar_one() == "draft"
        assert s.exec(select(SpecVersion).where(SpecVersion.status == "no such")).all() == []
        query = select(SpecVersion).where(SpecVersion.status == SpecStatus.DRAFT)
        assert s.exec(query).one().id == spec.id
