"""What a deviation is about, in the reader's words: the kind and code of the record it was
opened on, or, for one opened automatically on a failing verified result, the test and the
sample it failed on, with the link to that sample (its database id means nothing to a reader)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from mfg import i18n
from mfg.i18n import N_
from mfg.identifiers.display import display_code
from mfg.models import Deviation, QcResult, QcSample


@dataclass(frozen=True)
class Subject:
    text: str
    url: str | None = None


def subjects_of(session: Session, deviations: Iterable[Deviation]) -> dict[str, Subject]:
    """Each deviation's subject by its code; the failing results are read in one query."""
    deviations = list(deviations)
    result_of = {
        d.code: int(d.entity_id)
        for d in deviations
        if d.entity_type == "qc_result" and d.entity_id.isdigit()
    }
    failed = (
        {
            result_id: (test_code, sample_code)
            for result_id, test_code, sample_code in session.exec(
                select(QcResult.id, QcResult.test_code, QcSample.code)
                .join(QcSample, col(QcSample.id) == QcResult.sample_id)
                .where(col(QcResult.id).in_(result_of.values()))
            )
        }
        if result_of
        else {}
    )
    subjects = {}
    for d in deviations:
        found = failed.get(result_of.get(d.code))
        if found:
            test_code, sample_code = found
            subjects[d.code] = Subject(
                i18n.localize(
                    N_("QC result %(test)s of sample %(sample)s"),
                    {"test": test_code, "sample": display_code(sample_code)},
                ),
                f"/qc/samples/{sample_code}",
            )
        else:
            kind = d.entity_type.replace("_", " ")
            subjects[d.code] = Subject(
                i18n.localize(
                    N_("%(kind)s %(code)s"), {"kind": kind, "code": display_code(d.entity_id)}
                )
            )
    return subjects
