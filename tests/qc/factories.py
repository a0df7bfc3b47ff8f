"""QC test data, made through the services by a technician, two QC analysts and QA."""

from __future__ import annotations

from datetime import timedelta

from mfg.models import Lot, QcResult, QcSample, utcnow
from mfg.qc import results, samples
from mfg.qc.schemas import ResultIn
from tests.donors.factories import Lab

# Taken long enough ago that every culture's incubation is over (sterility: 14 days), so a
# final reading entered an hour ago is due; tests of the process clock take their own.
TAKEN_AGO = timedelta(days=15)


def sample_of(lab: Lab, source: str, *tests: str, role: str = "technician") -> QcSample:
    return lab.run(
        role,
        lambda s, a: samples.take_sample(
            s, actor=a, source=source, tests=list(tests), taken_at=utcnow() - TAKEN_AGO
        ),
    )


def enter(lab: Lab, sample: QcSample, test: str, value: str, role: str = "qc", **extra) -> QcResult:
    return lab.run(
        role,
        lambda s, a: results.enter_result(
            s,
            actor=a,
            sample=samples.get_sample(s, sample.code),
            command=ResultIn(
                test_code=test, value=value, tested_at=utcnow() - timedelta(hours=1), **extra
            ),
        ),
    )


def verify(lab: Lab, result: QcResult, role: str = "qc-2") -> QcResult:
    return lab.run(
        role,
        lambda s, a: results.verify_result(s, actor=a, result=results.get_result(s, result.id)),
    )


def entered_and_verified(lab: Lab, sample: QcSample, test: str, value: str, **extra):
    return verify(lab, enter(lab, sample, test, value, **extra))


def lot_sample(lab: Lab, lot: Lot, *tests: str) -> QcSample:
    return sample_of(lab, lot.din, *tests)
