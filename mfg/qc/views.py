"""What the QC pages show and which of their actions they offer, built outside the routers: the
worklist, a sample, a lot's QC, the deviations and a specification.

A page's ``offers`` is the set of actions it offers the reader: from the row's state machine (a
deviation is investigated while open, closed once investigated; a draft specification is
approved), the permission table and the guards. Each entered result has its own offers
(``entry_offers``: verify, invalidate, or awaiting a second person), from
``mfg.signatures.offers``. The templates only ask whether an action is offered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from mfg.audit.machines import DEVIATION, QC_RESULT, SPEC_VERSION
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.deviations import service as deviations
from mfg.deviations.subjects import subjects_of
from mfg.models import (
    Deviation,
    DeviationStatus,
    Lot,
    QcResult,
    QcResultStatus,
    QcSample,
    SampleStatus,
    SpecStatus,
    SpecVersion,
    User,
)
from mfg.qc import results, rules, samples, specs
from mfg.qc.summary import lot_qc
from mfg.signatures import service as signatures
from mfg.signatures.offers import entry_offers


def _allowed(actor: User, *actions: tuple[str, Action]) -> frozenset[str]:
    """The offers whose permission ``actor`` holds, for actions that move no row."""
    return frozenset(offer for offer, action in actions if may(actor, action))


def result_offers(result: QcResult, actor: User) -> frozenset[str]:
    """What a page offers ``actor`` on one entered result (``entry_offers``)."""
    return entry_offers(
        QC_RESULT,
        result,
        actor,
        verify=Action.VERIFY_QC_RESULTS,
        invalidate=Action.INVALIDATE_QC_RESULTS,
    )


def _names(session: Session) -> Callable[[int | None], str]:
    def name(user_id: int | None) -> str:
        return session.get(User, user_id).full_name if user_id else ""  # type: ignore[union-attr]

    return name


def worklist_view(session: Session, *, actor: User) -> dict[str, Any]:
    """Samples awaiting results, results awaiting a second analyst's verification with what each
    offers, and whether taking a sample is offered."""
    awaiting, _ = samples.list_samples(
        session, actor=actor, status=SampleStatus.AWAITING, limit=500
    )
    pending = results.awaiting_verification(session, actor=actor)
    return {
        "samples": awaiting,
        "pending": [(r, session.get(QcSample, r.sample_id)) for r in pending],
        "names": _names(session),
        "entry_offers": {r.id: result_offers(r, actor) for r in pending},
        "offers": _allowed(actor, ("take", Action.TAKE_SAMPLES)),
    }


def sample_view(session: Session, *, actor: User, sample: QcSample) -> dict[str, Any]:
    """A QC sample: its specification, the tests requested and the next reading of each, the
    results with what each offers, its history, and the actions offered."""
    spec = session.get(SpecVersion, sample.spec_version_id)
    tests = {t.code: t for t in specs.tests_of(session, spec)}
    requested = [tests[c] for c in samples.requested_tests(sample) if c in tests]
    entered = results.results_of(session, sample)
    standing = [r for r in entered if r.status != QcResultStatus.INVALIDATED]
    return {
        "sample": sample,
        "spec": spec,
        "requested": requested,
        "readings": {t.code: rules.readings_of(t) for t in requested},
        "next_reading": {
            t.code: rules.next_reading(t, [r.reading for r in standing if r.test_code == t.code])
            for t in requested
        },
        "results": entered,
        "shown_value": results.shown_value,
        "names": _names(session),
        "lot": session.get(Lot, sample.lot_id) if sample.lot_id else None,
        "events": history(session, entity_type="qc_sample", entity_id=sample.code),
        "entry_offers": {r.id: result_offers(r, actor) for r in entered},
        "offers": _allowed(
            actor, ("enter", Action.ENTER_QC_RESULTS), ("print_labels", Action.PRINT_LABELS)
        ),
    }


def lot_qc_view(session: Session, *, actor: User, lot: Lot) -> dict[str, Any]:
    """A lot's QC against its specification: the summary, its samples, the open deviations that
    block its release, and whether taking a sample is offered."""
    lot_samples, _ = samples.list_samples(session, actor=actor, lot=lot, limit=500)
    return {
        "lot": lot,
        "summary": lot_qc(session, lot),
        "samples": lot_samples,
        "shown_value": results.shown_value,
        "deviations": deviations.open_deviations_of_lot(session, lot),
        "offers": _allowed(actor, ("take", Action.TAKE_SAMPLES)),
    }


def deviations_view(session: Session, *, actor: User, status: str) -> dict[str, Any]:
    """The deviations, what each is about, and whether opening one is offered."""
    items, total = deviations.list_deviations(
        session, actor=actor, status=status or None, limit=500
    )
    return {
        "deviations": items,
        "total": total,
        "status": status,
        "lots": {d.lot_id: session.get(Lot, d.lot_id) for d in items if d.lot_id},
        "subjects": subjects_of(session, items),
        "offers": _allowed(actor, ("open", Action.OPEN_DEVIATIONS)),
    }


def deviation_offers(deviation: Deviation, actor: User) -> frozenset[str]:
    """``investigate`` while the deviation may become investigated (it is open) and ``actor``
    opens deviations; ``close`` while it may become closed (it is investigated) and ``actor``
    closes deviations."""
    offers: set[str] = set()
    if DEVIATION.can_move(deviation, DeviationStatus.INVESTIGATED) and may(
        actor, Action.OPEN_DEVIATIONS
    ):
        offers.add("investigate")
    if DEVIATION.can_move(deviation, DeviationStatus.CLOSED) and may(
        actor, Action.CLOSE_DEVIATIONS
    ):
        offers.add("close")
    return frozenset(offers)


def deviation_view(session: Session, *, actor: User, deviation: Deviation) -> dict[str, Any]:
    """A deviation: what it is about, its signatures, its history and the steps offered."""
    return {
        "deviation": deviation,
        "subject": subjects_of(session, [deviation])[deviation.code],
        "lot": session.get(Lot, deviation.lot_id) if deviation.lot_id else None,
        "signatures": signatures.shown(session, entity_type="deviation", entity_id=deviation.code),
        "events": history(session, entity_type="deviation", entity_id=deviation.code),
        "offers": deviation_offers(deviation, actor),
    }


def _as_toml(tests: list[dict]) -> str:
    """The tests in the editable form of mfg/defaults/specification.toml."""
    lines = []
    for t in tests:
        lines.append("[[tests]]")
        for key, value in t.items():
            if key == "limit" or value is None or value == "":
                continue
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value:g}")
            else:
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)


def specification_offers(spec: SpecVersion, actor: User) -> frozenset[str]:
    """``draft`` (a new version from this one) when ``actor`` manages specifications;
    ``approve`` too while this version may become approved (it is a draft)."""
    if not may(actor, Action.MANAGE_SPECIFICATIONS):
        return frozenset()
    offers = {"draft"}
    if SPEC_VERSION.can_move(spec, SpecStatus.APPROVED):
        offers.add("approve")
    return frozenset(offers)


def specification_view(session: Session, *, actor: User, spec: SpecVersion) -> dict[str, Any]:
    """A specification version: its tests and limits, their editable form, its signatures, its
    history, and the actions offered."""
    tests = specs.tests_of(session, spec)
    return {
        "spec": spec,
        "tests": tests,
        "limits": {t.id: specs.as_dict(t)["limit"] for t in tests},
        "signatures": signatures.shown(
            session, entity_type="specification", entity_id=str(spec.version)
        ),
        "editable": _as_toml([specs.as_dict(t) for t in tests]),
        "offers": specification_offers(spec, actor),
        "events": history(session, entity_type="specification", entity_id=str(spec.version)),
    }
