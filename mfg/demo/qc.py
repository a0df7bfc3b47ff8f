"""Demonstration QC: the filled lot tested completely and in specification; the lot in process
with an in-process viability out of specification and the deviation it opened."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.manufacturing import doses, pools
from mfg.models import Lot, utcnow
from mfg.qc import results, samples, specs

# A result in specification for each test of the default specification.
PASSING = {
    "VIAB": "92.4",
    "COUNT": "98.5",
    "CD73": "99.1",
    "CD90": "98.7",
    "CD105": "97.9",
    "CD34": "0.3",
    "CD45": "0.6",
    "CD14": "0.4",
    "CD19": "0.2",
    "HLA-DR": "0.9",
    "STER-AER": "no growth",
    "STER-ANA": "no growth",
    "GRAM": "no organisms seen",
    "MYCO": "not detected",
    "ENDO": "0.08",
    "KARYO": "normal",
}


def _test_and_verify(session: Session, sample, values: dict[str, str], hours_ago: float) -> None:
    analyst, second = require_user(session, "qc"), require_user(session, "qc2")
    for code, value in values.items():
        result = results.enter_result(
            session,
            actor=analyst,
            sample=sample,
            test_code=code,
            value=value,
            tested_at=utcnow() - timedelta(hours=hours_ago),
            instrument="Demo instrument",
        )
        results.verify_result(session, actor=second, result=result)


def load_demo_qc(session: Session, *, complete: str, out_of_spec: str) -> list[str]:
    tech = require_user(session, "tech")
    filled = pools.get_lot(session, complete)
    required = [t.code for t in specs.tests_of(session, specs.spec_of_lot(session, filled))]
    first_dose = doses.doses_of(session, filled)[0]
    sample = samples.take_sample(
        session,
        actor=tech,
        source=first_dose.identifier,
        tests=[c for c in required if c in PASSING],
        taken_at=utcnow() - timedelta(days=1.9),
    )
    _test_and_verify(session, sample, PASSING, hours_ago=2)
    growing: Lot = pools.get_lot(session, out_of_spec)
    in_process = samples.take_sample(
        session,
        actor=tech,
        source=growing.din,
        tests=["VIAB-IP"],
        taken_at=utcnow() - timedelta(hours=5),
    )
    _test_and_verify(session, in_process, {"VIAB-IP": "64.5"}, hours_ago=4)
    return [
        f"QC of lot {filled.din} complete and in specification (sample {sample.code})",
        f"lot {growing.din}: in-process viability 64.5 % out of specification, deviation open",
    ]
