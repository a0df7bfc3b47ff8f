"""Write audit events in the caller's transaction; verify the chain; read a record's history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from mfg.audit import creation
from mfg.audit.chain import GENESIS_HASH, canonical_json, derive_key, event_hash, head_mac
from mfg.db import settings_of
from mfg.errors import InvalidInput
from mfg.models import AuditEvent, AuditHead, User, utcnow
from mfg.quantities import counted

SYSTEM_USERNAME = "system"
SYSTEM_NAME = "mfg (system)"


def audit_key(session: Session) -> bytes:
    return derive_key(settings_of(session).effective_secret_key(), "audit-chain")


def _payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "user_id": event.user_id,
        "username": event.username,
        "user_full_name": event.user_full_name,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "changes": event.changes,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }


def _locked_head(session: Session) -> AuditHead:
    """The chain head, locked for this transaction so that appends never fork the chain."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(AuditHead)
        .values(id=1, seq=0, hash=GENESIS_HASH, mac="")
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for the fields whose value changed."""
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str | int,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    require_reason: bool = False,
    username: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    ``changes`` maps field -> [old, new]. A correction of recorded data must give a reason.
    ``username`` names the person when there is no user record (e.g. a failed login).
    """
    reason = (reason or "").strip() or None
    if require_reason and not reason:
        raise InvalidInput("A reason is required for this change.", details={"field": "reason"})
    head = _locked_head(session)
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        user_id=actor.id if actor else None,
        username=actor.username if actor else (username or SYSTEM_USERNAME),
        user_full_name=actor.full_name if actor else ("" if username else SYSTEM_NAME),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=canonical_json(changes or {}),
        reason=reason,
        prev_hash=head.hash,
    )
    key = audit_key(session)
    event.hash = event_hash(key, _payload(event))
    session.add(event)
    head.seq, head.hash, head.mac = event.seq, event.hash, head_mac(key, event.seq, event.hash)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_seq: int | None
    message: str
    # GMP records without the audit event of their creation: (table, identifier), first few
    missing_creation: tuple[tuple[str, str], ...] = ()


def verify_chain(session: Session, *, batch: int = 2000) -> ChainReport:
    """Recompute every hash in order; name the first event that is missing, altered or extra;
    then name the GMP records that have no event of their creation."""
    report = _verify_links(session, batch=batch)
    if not report.ok:
        return report
    missing = creation.records_without_creation_event(session)
    if missing:
        named = ", ".join(f"{table} {ident}" for table, ident in missing[:5])
        return ChainReport(
            False,
            report.events,
            None,
            f"records without the audit event of their creation: {named}",
            tuple(missing),
        )
    return report


def _verify_links(session: Session, *, batch: int) -> ChainReport:
    key = audit_key(session)
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    rows = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.seq)).execution_options(yield_per=batch)
    )
    for event in rows:
        if event.seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(
                False, count, event.seq, f"event #{event.seq} does not follow #{event.seq - 1}"
            )
        if event_hash(key, _payload(event)) != event.hash:
            return ChainReport(False, count, event.seq, f"event #{event.seq} was altered")
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    return _check_head(session, key, count, prev_hash)


def _check_head(session: Session, key: bytes, count: int, last_hash: str) -> ChainReport:
    head = session.get(AuditHead, 1)
    if head is None:
        if count == 0:
            return ChainReport(True, 0, None, "the audit trail is empty")
        return ChainReport(False, count, count + 1, "the chain head is missing")
    if head.mac != head_mac(key, head.seq, head.hash):
        return ChainReport(False, count, min(head.seq, count) + 1, "the chain head was altered")
    if head.seq != count or head.hash != last_hash:
        if head.seq > count:
            return ChainReport(
                False,
                count,
                count + 1,
                f"events #{count + 1} to #{head.seq} are missing (the newest events were deleted)",
            )
        return ChainReport(False, count, head.seq + 1, f"event #{head.seq + 1} is not in the chain")
    return ChainReport(True, count, None, f"all {counted(count, 'event')} verified")


@dataclass(frozen=True)
class EventFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    username: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        parts = [
            f"{k.replace('_', ' ')} = {v}" for k, v in vars(self).items() if v not in (None, "")
        ]
        return ", ".join(parts) or "all events"


def apply_filter(query: Any, flt: EventFilter) -> Any:
    if flt.entity_type:
        query = query.where(AuditEvent.entity_type == flt.entity_type)
    if flt.entity_id:
        query = query.where(AuditEvent.entity_id == flt.entity_id)
    if flt.username:
        query = query.where(AuditEvent.username == flt.username)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.since:
        query = query.where(AuditEvent.occurred_at >= flt.since)
    if flt.until:
        query = query.where(AuditEvent.occurred_at < flt.until)
    return query


def list_events(
    session: Session,
    flt: EventFilter,
    *,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = True,
) -> tuple[list[AuditEvent], int]:
    order = col(AuditEvent.seq).desc() if newest_first else col(AuditEvent.seq)
    total = session.exec(apply_filter(select(func.count()).select_from(AuditEvent), flt)).one()
    events = session.exec(
        apply_filter(select(AuditEvent), flt).order_by(order).offset(offset).limit(limit)
    ).all()
    return list(events), total


def iter_events(session: Session, flt: EventFilter, *, batch: int = 2000) -> Any:
    query = apply_filter(select(AuditEvent), flt).order_by(col(AuditEvent.seq))
    yield from session.exec(query.execution_options(yield_per=batch))


class History(list):
    """A record's events, oldest first, with the people their changes name by id
    (``verified_by_id: 5``): ``people[5]`` is "Full Name (username)"."""

    people: dict[int, str]


def history(session: Session, *, entity_type: str, entity_id: str | int) -> History:
    """Every event about one record, oldest first: what its page shows as its history."""
    events = History(
        list_events(
            session,
            EventFilter(entity_type=entity_type, entity_id=str(entity_id)),
            limit=10_000,
            newest_first=False,
        )[0]
    )
    named = {
        value
        for event in events
        for field, pair in decoded_changes(event).items()
        if field.endswith("_by_id")
        for value in pair
        if isinstance(value, int)
    }
    users = session.exec(select(User).where(col(User.id).in_(sorted(named)))).all() if named else []
    events.people = {u.id: f"{u.full_name} ({u.username})" for u in users}
    return events


def decoded_changes(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.changes or "{}")
