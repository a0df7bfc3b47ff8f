"""Lot release: the check, then QA's signed decisions: release (full or conditional), completion
of a conditional release, rejection, hold, lifting a hold, recall. Each decision moves the lot and
its doses, signs, audits and records the certified content in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mfg import i18n
from mfg.audit import service as audit
from mfg.audit.machines import LOT
from mfg.audit.service import EventFilter
from mfg.audit_review.service import sign_review
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.deviations import service as deviations
from mfg.errors import InvalidInput, RuleViolation
from mfg.i18n import N_
from mfg.manufacturing import batchrecord, doses, lots, pools
from mfg.manufacturing.holds import hold_lot, move_doses
from mfg.models import (
    Decision,
    DoseStatus,
    Lot,
    LotStatus,
    Meaning,
    QcSample,
    ReleaseDecision,
    Signature,
    User,
    utcnow,
)
from mfg.qc.results import shown_value
from mfg.qc.summary import lot_qc, lot_results
from mfg.release.rules import (
    Blocking,
    ReleaseFacts,
    completion_blocking,
    conditional_release_blocking,
    release_blocking,
)
from mfg.signatures import service as signatures

# Lots awaiting a QA decision: the release queue.
RELEASE_QUEUE = (LotStatus.QUARANTINE, LotStatus.CONDITIONALLY_RELEASED, LotStatus.ON_HOLD)
DECISION_MEANINGS = {
    Decision.RELEASED: Meaning.RELEASED_FOR_CLINICAL_USE,
    Decision.CONDITIONALLY_RELEASED: Meaning.CONDITIONALLY_RELEASED,
    Decision.RELEASE_COMPLETED: Meaning.RELEASED_FOR_CLINICAL_USE,
    Decision.REJECTED: Meaning.REJECTED,
    Decision.ON_HOLD: Meaning.ON_HOLD,
    Decision.HOLD_LIFTED: Meaning.RELEASED,
    Decision.RECALLED: Meaning.RECALLED,
}


def participants(
    session: Session, lot: Lot, record: batchrecord.BatchRecord
) -> dict[int, list[i18n.Text]]:
    """Who took part in making (the batch record's signers) or testing the lot, and in what."""
    found: dict[int, list[i18n.Text]] = {}
    for shown in record.signatures:
        found.setdefault(shown.signature.user_id, []).append(
            i18n.Text.of(N_("signed a manufacturing step"))
        )
    for result, _ in lot_results(session, lot):
        entered = i18n.Text.of(N_("entered %(test)s"), test=result.test_code)
        found.setdefault(result.entered_by_id, []).append(entered)
        if result.verified_by_id:
            verified = i18n.Text.of(N_("verified %(test)s"), test=result.test_code)
            found.setdefault(result.verified_by_id, []).append(verified)
    for sample in session.exec(select(QcSample).where(QcSample.lot_id == lot.id)).all():
        took = i18n.Text.of(N_("took sample %(sample)s"), sample=sample.code)
        found.setdefault(sample.taken_by_id, []).append(took)
    return found


def facts_of(session: Session, lot: Lot, *, releaser: User) -> ReleaseFacts:
    settings = settings_of(session)
    record = batchrecord.build_batch_record(session, lot)
    return ReleaseFacts(
        lot=lot,
        donors=[d for _, _, _, d in pools.member_rows(session, lot)],
        qc=lot_qc(session, lot),
        open_deviations=deviations.open_deviations_of_lot(session, lot),
        unsigned_steps=record.unsigned_steps(),
        harvest=lots.harvest_of(session, lot),
        max_passage=settings.max_harvest_passage,
        max_cumulative_pd=settings.max_cumulative_pd,
        doses=doses.doses_of(session, lot),
        now=utcnow(),
        releaser_id=releaser.id,
        participants=participants(session, lot, record),
    )


def _blocked(blocking: list[Blocking]) -> RuleViolation:
    """The release's rules refuse: the one rule's code, or ``release_blocked`` for several;
    ``details["blocking"]`` lists the codes (409 when the lot's state blocks, 422 when only who
    releases, or the kind of release asked, does)."""
    return RuleViolation.of(
        blocking, several="release_blocked", blocking=[b.code for b in blocking]
    )


@dataclass
class ReleaseCheck:
    ready: bool
    blocking: list[Blocking]
    conditional_ready: bool
    conditional_blocking: list[Blocking]


def release_check(session: Session, *, actor: User, lot: Lot) -> ReleaseCheck:
    """Every reason the lot cannot be released by ``actor`` now, in words; for a lot released
    conditionally, every reason its release cannot be completed yet."""
    authorize(actor, Action.VIEW_RELEASE)
    facts = facts_of(session, lot, releaser=actor)
    if lot.status == LotStatus.CONDITIONALLY_RELEASED:
        blocking = completion_blocking(facts)
        return ReleaseCheck(not blocking, blocking, False, [])
    blocking = release_blocking(facts)
    conditional = conditional_release_blocking(facts) if blocking else blocking
    return ReleaseCheck(not blocking, blocking, bool(blocking) and not conditional, conditional)


@signatures.signs("lot_release")
def certified_by_din(session: Session, din: str) -> dict:
    """What a release decision on the lot of ``din`` signs: its certified content."""
    return certified_content(session, pools.get_lot(session, din))


def certified_content(session: Session, lot: Lot) -> dict:
    """What a release decision certifies: the lot, its donors, every test, deviations, doses.
    (Not the statuses decisions change, so a later hold does not alter what was certified.)"""
    summary = lot_qc(session, lot)
    return {
        "lot": lot.din,
        "spec_version": summary.spec.version,
        "donors": [[d.code, d.status] for _, _, _, d in pools.member_rows(session, lot)],
        "tests": [
            [
                row.test.code,
                row.limit,
                shown_value(row.result) if row.result else None,
                row.state,
                row.sample_code,
            ]
            for row in summary.rows
        ],
        "deviations": [
            [d.code, d.title, d.closed_at] for d in deviations.list_all_of_lot(session, lot)
        ],
        "doses": [[d.identifier, d.cells, d.expires_at] for d in doses.doses_of(session, lot)],
    }


def decisions_of(session: Session, lot: Lot) -> list[ReleaseDecision]:
    query = select(ReleaseDecision).where(ReleaseDecision.lot_id == lot.id)
    return list(session.exec(query.order_by(col(ReleaseDecision.id))).all())


def _decide(
    session: Session,
    *,
    actor: User,
    lot: Lot,
    decision: Decision,
    password: str,
    reason: str = "",
) -> ReleaseDecision:
    """Sign the decision over the certified content and keep both (after the status moves)."""
    signature = signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=DECISION_MEANINGS[decision],
        entity_type="lot_release",
        entity_id=lot.din,
        comment=reason,
    )
    row = ReleaseDecision(
        lot_id=lot.id,
        decision=decision,
        reason=reason.strip(),
        content_hash=signature.content_hash,
        signature_id=signature.id,
        decided_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"lot.decision.{decision}",
        entity_type="lot",
        entity_id=lot.din,
        changes={"decision": [None, decision], "certified_sha256": [None, row.content_hash]},
        reason=reason.strip() or None,
    )
    return row


def _move_lot(session: Session, *, actor: User | None, lot: Lot, to: str, reason: str = "") -> None:
    LOT.move(session, lot, to=to, actor=actor, reason=reason or None)


def release_lot(
    session: Session,
    *,
    actor: User,
    lot: Lot,
    password: str,
    conditional: bool = False,
    audit_trail_reviewed: bool = False,
) -> ReleaseDecision:
    """QA releases the lot: its doses become available; the lot's audit trail, shown to the
    releaser, is signed as reviewed in the same act. Refused with every blocking reason."""
    authorize(actor, Action.RELEASE_LOTS)
    if not audit_trail_reviewed:
        raise InvalidInput(
            "Review the lot's audit trail and confirm it before signing the release.",
            details={"field": "audit_trail_reviewed"},
            code="audit_trail_not_reviewed",
        )
    facts = facts_of(session, lot, releaser=actor)
    blocking = conditional_release_blocking(facts) if conditional else release_blocking(facts)
    if blocking:
        raise _blocked(blocking)
    to = LotStatus.CONDITIONALLY_RELEASED if conditional else LotStatus.RELEASED
    _move_lot(session, actor=actor, lot=lot, to=to)
    move_doses(
        session,
        actor=actor,
        lot=lot,
        frm={DoseStatus.QUARANTINE},
        to=DoseStatus.AVAILABLE,
        reason=f"lot {to.replace('_', ' ')}",
    )
    sign_review(
        session,
        actor=actor,
        password=password,
        flt=EventFilter(entity_type="lot", entity_id=lot.din),
        comment=f"Reviewed with the release of lot {lot.din}",
    )
    decision = Decision.CONDITIONALLY_RELEASED if conditional else Decision.RELEASED
    return _decide(session, actor=actor, lot=lot, decision=decision, password=password)


def complete_release(session: Session, *, actor: User, lot: Lot, password: str) -> ReleaseDecision:
    """The final sterility results are in and negative: a conditional release becomes full."""
    authorize(actor, Action.RELEASE_LOTS)
    if lot.status != LotStatus.CONDITIONALLY_RELEASED:
        raise RuleViolation.state(
            "lot_not_conditionally_released",
            "Lot %(din)s is %(status)s, not conditionally released.",
            params={"din": lot.din, "status": str(lot.status)},
        )
    blocking = completion_blocking(facts_of(session, lot, releaser=actor))
    if blocking:
        raise _blocked(blocking)
    _move_lot(
        session, actor=actor, lot=lot, to=LotStatus.RELEASED, reason="final sterility negative"
    )
    return _decide(
        session, actor=actor, lot=lot, decision=Decision.RELEASE_COMPLETED, password=password
    )


def reject_lot(
    session: Session, *, actor: User, lot: Lot, password: str, reason: str
) -> ReleaseDecision:
    """QA rejects the lot (reason required): its doses are discarded."""
    authorize(actor, Action.RELEASE_LOTS)
    if not reason.strip():
        raise InvalidInput("A rejection states its reason.", details={"field": "reason"})
    _move_lot(session, actor=actor, lot=lot, to=LotStatus.REJECTED, reason=reason)
    move_doses(
        session,
        actor=actor,
        lot=lot,
        frm={DoseStatus.QUARANTINE, DoseStatus.AVAILABLE},
        to=DoseStatus.DISCARDED,
        reason=f"lot rejected: {reason}",
    )
    return _decide(
        session, actor=actor, lot=lot, decision=Decision.REJECTED, password=password, reason=reason
    )


def hold(session: Session, *, actor: User, lot: Lot, password: str, reason: str) -> ReleaseDecision:
    authorize(actor, Action.RELEASE_LOTS)
    if not reason.strip():
        raise InvalidInput("A hold states its reason.", details={"field": "reason"})
    hold_lot(session, actor=actor, lot=lot, reason=reason)
    return _decide(
        session, actor=actor, lot=lot, decision=Decision.ON_HOLD, password=password, reason=reason
    )


def lift_hold(
    session: Session, *, actor: User, lot: Lot, password: str, reason: str
) -> ReleaseDecision:
    """QA lifts a hold: the lot is released again, so the release's own rules must hold now (a
    donor found ineligible since, an open deviation, a conditional release whose final sterility
    results are still missing all keep it on hold); its held doses become available."""
    authorize(actor, Action.RELEASE_LOTS)
    if not reason.strip():
        raise InvalidInput("Lifting a hold states its reason.", details={"field": "reason"})
    if lot.status != LotStatus.ON_HOLD:
        raise RuleViolation.state(
            "lot_not_on_hold",
            "Lot %(din)s is %(status)s, not on hold.",
            params={"din": lot.din, "status": lot.status.replace("_", " ")},
        )
    blocking = completion_blocking(facts_of(session, lot, releaser=actor))
    if blocking:
        raise _blocked(blocking)
    _move_lot(session, actor=actor, lot=lot, to=LotStatus.RELEASED, reason=reason)
    move_doses(
        session,
        actor=actor,
        lot=lot,
        frm={DoseStatus.ON_HOLD},
        to=DoseStatus.AVAILABLE,
        reason=f"hold lifted: {reason}",
    )
    return _decide(
        session,
        actor=actor,
        lot=lot,
        decision=Decision.HOLD_LIFTED,
        password=password,
        reason=reason,
    )


def recall(
    session: Session, *, actor: User, lot: Lot, password: str, reason: str
) -> ReleaseDecision:
    authorize(actor, Action.RELEASE_LOTS)
    if not reason.strip():
        raise InvalidInput("A recall states its reason.", details={"field": "reason"})
    if lot.status in (LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED):
        hold_lot(session, actor=actor, lot=lot, reason=reason)
    _move_lot(session, actor=actor, lot=lot, to=LotStatus.RECALLED, reason=reason)
    move_doses(
        session,
        actor=actor,
        lot=lot,
        frm={DoseStatus.ON_HOLD},
        to=DoseStatus.RECALLED,
        reason=f"lot recalled: {reason}",
    )
    return _decide(
        session, actor=actor, lot=lot, decision=Decision.RECALLED, password=password, reason=reason
    )


def release_signature(session: Session, decision: ReleaseDecision) -> Signature | None:
    return session.get(Signature, decision.signature_id) if decision.signature_id else None
