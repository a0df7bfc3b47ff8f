"""Demonstration QC: one lot tested completely and in specification, one with its final sterility
still pending (negative Gram stain and day-3 cultures), one with mycoplasma detected, and the lot
in process with an in-process viability out of specification and the deviation it opened."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from mfg.auth.service import require_user
from mfg.manufacturing import doses, pools
from mfg.models import utcnow
from mfg.qc import results, samples, specs
from mfg.qc.schemas import ResultIn

# A result in specification for each required test of the default specification.
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
STERILITY = ("STER-AER", "STER-ANA")


def _test(
    session: Session,
    source: str,
    values: dict[str, str],
    *,
    reading: str = "final",
    taken_days_ago: float = 1.5,
):
    """A sample of ``source`` taken ``taken_days_ago`` (cultures are read after their
    incubation: a final sterility reading 14 days after sampling), each result entered by qc
    and verified by qc2."""
    analyst, second = require_user(session, "qc"), require_user(session, "qc2")
    sample = samples.take_sample(
        session,
        actor=require_user(session, "tech"),
        source=source,
        tests=list(values),
        taken_at=utcnow() - timedelta(days=taken_days_ago),
    )
    for code, value in values.items():
        result = results.enter_result(
            session,
            actor=analyst,
            sample=sample,
            command=ResultIn(
                test_code=code,
                value=value,
                reading=reading,
                tested_at=utcnow() - timedelta(hours=3),
                instrument="Demo instrument",
            ),
        )
        results.verify_result(session, actor=second, result=result)
    return sample


def _first_dose(session: Session, din: str) -> str:
    return doses.doses_of(session, pools.get_lot(session, din))[0].identifier


def load_demo_qc(session: Session, *, lots: dict[str, str]) -> list[str]:
    # Each sample is taken just after its lot was filled (see demo.manufacturing).
    released, conditional = _first_dose(session, lots["released"]), lots["conditional"]
    complete = _test(session, released, PASSING, taken_days_ago=19.8)
    pending = {k: v for k, v in PASSING.items() if k not in STERILITY}
    _test(session, _first_dose(session, conditional), pending, taken_days_ago=9.8)
    day_3 = dict.fromkeys(STERILITY, "no growth")
    _test(session, conditional, day_3, reading="day 3", taken_days_ago=9.8)
    rejected = _first_dose(session, lots["rejected"])
    _test(session, rejected, {**PASSING, "MYCO": "detected"}, taken_days_ago=17.8)
    _test(session, lots["in_process"], {"VIAB-IP": "64.5"})
    required = {t.code for t in specs.tests_of(session, specs.in_force(session)) if t.required}
    assert required <= set(PASSING), "the demo tests every required test"
    return [
        f"QC of lot {lots['released']} complete and in specification (sample {complete.code})",
        f"lot {lots['conditional']}: final sterility pending, Gram stain and day-3 cultures "
        "negative",
        f"lot {lots['rejected']}: mycoplasma detected, deviation opened",
        f"lot {lots['in_process']}: in-process viability 64.5 % out of specification, deviation "
        "open",
    ]
