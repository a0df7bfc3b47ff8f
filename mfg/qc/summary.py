"""A lot's QC against the specification it was started under: each test, its standing result."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from mfg.models import Lot, QcResult, QcResultStatus, QcSample, SpecTest, SpecVersion
from mfg.models.qc import FINAL, Stage
from mfg.qc import specs
from mfg.qc.rules import FAIL, PASS, limit_text

MISSING = "missing"
AWAITING_VERIFICATION = "awaiting verification"


@dataclass
class TestStanding:
    test: SpecTest
    limit: str
    state: str  # pass | fail | awaiting verification | missing
    result: QcResult | None = None  # the standing final result
    sample_code: str = ""
    preliminary: list[QcResult] = field(default_factory=list)  # verified preliminary readings


@dataclass
class LotQc:
    spec: SpecVersion
    rows: list[TestStanding]

    @property
    def release_rows(self) -> list[TestStanding]:
        return [r for r in self.rows if r.test.stage != Stage.IN_PROCESS]

    def blocking(self) -> list[TestStanding]:
        """Required tests without a verified final result in specification."""
        return [r for r in self.release_rows if r.test.required and r.state != PASS]


def lot_results(session: Session, lot: Lot) -> list[tuple[QcResult, QcSample]]:
    """Every result on a sample of the lot or of its doses, oldest first."""
    query = (
        select(QcResult, QcSample)
        .join(QcSample, col(QcSample.id) == QcResult.sample_id)
        .where(QcSample.lot_id == lot.id)
        .order_by(col(QcResult.id))
    )
    return [(r, s) for r, s in session.exec(query).all()]


def lot_qc(session: Session, lot: Lot) -> LotQc:
    """The standing of each test of the lot's specification: the newest verified final result
    counts; an invalidated one never does."""
    spec = specs.spec_of_lot(session, lot)
    found = lot_results(session, lot)
    rows = []
    for test in specs.tests_of(session, spec):
        mine = [(r, s) for r, s in found if r.test_code == test.code]
        final = [(r, s) for r, s in mine if r.reading == FINAL]
        verified = [(r, s) for r, s in final if r.status == QcResultStatus.VERIFIED]
        entered = [(r, s) for r, s in final if r.status == QcResultStatus.ENTERED]
        preliminary = [
            r for r, _ in mine if r.reading != FINAL and r.status == QcResultStatus.VERIFIED
        ]
        if verified:
            result, sample = verified[-1]
            state = PASS if result.verdict == PASS else FAIL
        elif entered:
            result, sample = entered[-1]
            state = AWAITING_VERIFICATION
        else:
            result, sample, state = None, None, MISSING
        rows.append(
            TestStanding(
                test=test,
                limit=limit_text(test),
                state=state,
                result=result,
                sample_code=sample.code if sample else "",
                preliminary=preliminary,
            )
        )
    return LotQc(spec, rows)


__all__ = ["AWAITING_VERIFICATION", "FAIL", "MISSING", "PASS", "LotQc", "TestStanding", "lot_qc"]
