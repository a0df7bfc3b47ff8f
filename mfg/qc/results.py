"""QC results: entered by one analyst, judged against the sample's specification, verified by a
second analyst, invalidated only with a reason. A failing verified result opens a deviation."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from mfg import i18n, quantities
from mfg.audit import service as audit
from mfg.audit.machines import QC_RESULT, QC_SAMPLE
from mfg.auth.permissions import Action, authorize
from mfg.db import lock_row, settings_of
from mfg.deviations import service as deviations
from mfg.errors import InvalidInput, NotFound, RuleViolation
from mfg.i18n import N_
from mfg.manufacturing.holds import hold_lot
from mfg.models import (
    Deviation,
    Infusion,
    Lot,
    LotStatus,
    Patient,
    QcResult,
    QcResultStatus,
    QcSample,
    SampleStatus,
    SpecTest,
    SpecVersion,
    User,
    as_utc,
    utcnow,
)
from mfg.models.qc import FINAL
from mfg.qc import specs
from mfg.qc.rules import (
    FAIL,
    Reading,
    check_reading_name,
    judge,
    limit_text,
    read_value,
    reading_not_due,
)
from mfg.qc.samples import requested_tests
from mfg.qc.schemas import ResultIn
from mfg.qc.words import qc_text
from mfg.quantities import counted
from mfg.signatures.rules import second_person_verifies


def get_result(session: Session, result_id: int) -> QcResult:
    result = session.get(QcResult, result_id)
    if result is None:
        raise NotFound("No QC result %(id)s.", params={"id": result_id})
    return result


def results_of(session: Session, sample: QcSample) -> list[QcResult]:
    query = select(QcResult).where(QcResult.sample_id == sample.id).order_by(col(QcResult.id))
    return list(session.exec(query).all())


def awaiting_verification(session: Session, *, actor: User) -> list[QcResult]:
    authorize(actor, Action.VIEW_QC)
    query = select(QcResult).where(QcResult.status == QcResultStatus.ENTERED)
    return list(session.exec(query.order_by(col(QcResult.id))).all())


def enter_result(session: Session, *, actor: User, sample: QcSample, command: ResultIn) -> QcResult:
    """One reading of one requested test, judged at once (pass / fail, with the limit)."""
    authorize(actor, Action.ENTER_QC_RESULTS)
    sample = lock_row(session, QcSample, sample.id)  # one standing result per test and reading
    code = _requested_test(sample, command.test_code)
    tested_at = _test_time(session, sample, command.tested_at)
    test = specs.test_of(session, session.get(SpecVersion, sample.spec_version_id), code)
    reading = _reading_due(session, sample, test, command.reading, tested_at)
    value = read_value(
        test,
        command.value,
        command.unit,
        dose_volume_ml=command.dose_volume_ml,
        weight_kg=command.weight_kg,
    )
    result = _result_row(sample, test, reading, value, command, tested_at)
    result.entered_by_id = actor.id
    session.add(result)
    session.flush()
    _result_entered(session, actor, sample, result)
    return result


def _requested_test(sample: QcSample, test_code: str) -> str:
    """The test's code, one the sample was taken for."""
    code = test_code.strip().upper()
    if code not in requested_tests(sample):
        raise InvalidInput(
            "Sample %(sample)s was not taken for %(test)s; its tests: %(tests)s.",
            params={"sample": sample.code, "test": code, "tests": sample.tests},
            details={"field": "test_code"},
        )
    return code


def _test_time(session: Session, sample: QcSample, tested_at: datetime) -> datetime:
    """When the sample was tested, on the facility's clock: not in the future, not before the
    sample was taken."""
    tested_at = quantities.in_zone(tested_at, settings_of(session).tz)
    if tested_at > utcnow():
        raise InvalidInput("The test time is in the future.", details={"field": "tested_at"})
    if tested_at < sample.taken_at:
        raise InvalidInput("A sample is tested after it is taken.", details={"field": "tested_at"})
    return tested_at


def _reading_due(
    session: Session, sample: QcSample, test: SpecTest, reading: str, tested_at: datetime
) -> str:
    """The reading's name, a reading that is due and has no standing result on the sample."""
    reading_name = check_reading_name(test, reading)
    if problem := reading_not_due(
        test, reading_name, taken_at=as_utc(sample.taken_at), tested_at=as_utc(tested_at)
    ):
        raise RuleViolation.of([problem], several=problem.code, field="tested_at")
    standing = [
        r
        for r in results_of(session, sample)
        if r.test_code == test.code
        and r.reading == reading_name
        and r.status != QcResultStatus.INVALIDATED
    ]
    if standing:
        raise RuleViolation.state(
            "result_already_entered",
            "%(test)s (%(reading)s) already has a result on sample %(sample)s: invalidate it "
            "with a reason to enter another.",
            params={"test": test.code, "reading": reading_name, "sample": sample.code},
        )
    return reading_name


def _result_row(
    sample: QcSample,
    test: SpecTest,
    reading: str,
    value: Reading,
    command: ResultIn,
    tested_at: datetime,
) -> QcResult:
    """The result as entered, with its value as read and its verdict against the limit."""
    return QcResult(
        sample_id=sample.id,
        spec_test_id=test.id,
        test_code=test.code,
        reading=reading,
        value_number=value.number,
        value_text=value.text,
        unit=value.unit,
        entered_value=f"{command.value.strip()} {command.unit.strip()}".strip(),
        computation=value.computation,
        method=command.method.strip() or test.method,
        instrument=command.instrument.strip(),
        tested_at=tested_at,
        verdict=judge(test, value),
        limit_text=limit_text(test),
    )


def _result_entered(session: Session, actor: User, sample: QcSample, result: QcResult) -> None:
    audit.record(
        session,
        actor=actor,
        action="qc_result.entered",
        entity_type="qc_sample",
        entity_id=sample.code,
        changes={
            "test": [None, result.test_code],
            "reading": [None, result.reading],
            "value": [None, shown_value(result)],
            "verdict": [None, result.verdict],
            "status": [None, result.status],
        },
    )


def shown_value(result: QcResult) -> str:
    if result.value_number is None:
        return result.value_text
    return f"{result.value_number:.4g} {result.unit}".strip()


def verify_result(session: Session, *, actor: User, result: QcResult) -> QcResult:
    """A second analyst checks the entry; never the one who entered it. A failing verified
    result opens a deviation on the lot at once."""
    authorize(actor, Action.VERIFY_QC_RESULTS)
    if refused := second_person_verifies(
        result.entered_by_id, actor.id, asks="a second analyst must verify it"
    ):
        raise RuleViolation.of([refused], several=refused.code)
    sample = session.get(QcSample, result.sample_id)
    QC_RESULT.move(
        session,
        result,
        to=QcResultStatus.VERIFIED,
        actor=actor,
        also={"verified_by_id": actor.id, "verified_at": utcnow()},
    )
    if result.verdict == FAIL:
        out_of_specification(session, sample, result)
        _stop_released_lot(session, actor, sample, result)
    _update_sample_status(session, actor, sample)
    return result


# A lot released before these results were final is stopped at once by a failing one
# (docs/process.md#conditional-release: a late positive sterility result puts the remaining doses on
# hold).
LATE_RESULTS = frozenset({"STER-AER", "STER-ANA", "MYCO", "ENDO"})


def _stop_released_lot(session: Session, actor: User, sample: QcSample, result: QcResult) -> None:
    lot = session.get(Lot, sample.lot_id) if sample.lot_id else None
    usable = (LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED)
    if lot is None or lot.status not in usable or result.test_code not in LATE_RESULTS:
        return
    infused = hold_lot(
        session,
        actor=actor,
        lot=lot,
        reason=f"verified {result.reading} {result.test_code} result {shown_value(result)} out "
        f"of specification on sample {sample.code}",
    )
    if infused:
        # The patients, for their treating physicians (patients are read from their table: the
        # clinical layer sits above this one).
        patients = {
            i.dose_id: session.get(Patient, i.patient_id).code
            for i in session.exec(
                select(Infusion).where(col(Infusion.dose_id).in_([d.id for d in infused]))
            ).all()
        }
        deviations.record_deviation(
            session,
            actor=None,
            title=f"Notify treating physicians: {counted(len(infused), 'dose')} of lot {lot.din} "
            "infused",
            description="Infused: "
            + ", ".join(
                f"dose {d.identifier} to patient {patients.get(d.id, '?')}" for d in infused
            )
            + f". Their treating physicians are notified of the {result.test_code} result.",
            entity_type="lot",
            entity_id=lot.din,
            lot=lot,
            result_id=result.id,
        )


def out_of_specification(session: Session, sample: QcSample, result: QcResult) -> Deviation:
    """The deviation a failing verified result opens, titled and described in the facility's
    language (the record's text, whoever reads it later)."""
    test = session.get(SpecTest, result.spec_test_id)
    lot = session.get(Lot, sample.lot_id) if sample.lot_id else None
    with i18n.use_language(settings_of(session).language):
        title = i18n.localize(
            N_("Out of specification: %(test)s on %(kind)s %(source)s"),
            {"test": test.name, "kind": sample.source_type, "source": sample.source_identifier},
        )
        description = i18n.localize(
            N_(
                "Verified %(reading)s result %(value)s for %(code)s (%(test)s) on sample "
                "%(sample)s; specification: %(limit)s."
            ),
            {
                "reading": result.reading,
                "value": qc_text(shown_value(result)),
                "code": test.code,
                "test": test.name,
                "sample": sample.code,
                "limit": qc_text(result.limit_text),
            },
        )
    return deviations.record_deviation(
        session,
        actor=None,
        title=title,
        description=description,
        entity_type="qc_result",
        entity_id=str(result.id),
        lot=lot,
        result_id=result.id,
    )


def invalidate_result(session: Session, *, actor: User, result: QcResult, reason: str) -> QcResult:
    """A wrong result stays visible as invalidated, with the reason; it no longer counts."""
    authorize(actor, Action.INVALIDATE_QC_RESULTS)
    sample = session.get(QcSample, result.sample_id)
    QC_RESULT.move(
        session,
        result,
        to=QcResultStatus.INVALIDATED,
        actor=actor,
        reason=reason,
        require_reason=True,
        also={
            "invalidated_by_id": actor.id,
            "invalidated_at": utcnow(),
            "invalidation_reason": reason.strip(),
        },
    )
    _update_sample_status(session, actor, sample)
    return result


def _update_sample_status(session: Session, actor: User, sample: QcSample) -> None:
    """Complete when every requested test has a verified final result; awaiting otherwise."""
    verified = {
        r.test_code
        for r in results_of(session, sample)
        if r.status == QcResultStatus.VERIFIED and r.reading == FINAL
    }
    complete = set(requested_tests(sample)) <= verified
    wanted = SampleStatus.COMPLETE if complete else SampleStatus.AWAITING
    if sample.status != wanted:
        QC_SAMPLE.move(session, sample, to=wanted, actor=actor)
