"""The trial report: counting per arm (pure, and over the database), CSV, PDF, API and page."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlmodel import select

from mfg.clinical import patients
from mfg.clinical.outcomes import is_cured
from mfg.clinical.report import (
    ArmCounts,
    Report,
    count_arms,
    report_csv,
    report_pdf,
    trial_report,
)
from mfg.errors import PermissionDenied
from mfg.models import AdverseEvent, AuditEvent, Outcome, Patient, TrialArm, utcnow
from tests.clinical.outcome_factories import (
    adverse_event,
    enrolled,
    infused,
    outcome,
    withdrawn,
)
from tests.factories import bearer, log_in
from tests.manufacturing.factories import filled_lot

MSC = TrialArm(id=1, trial_id=1, code="MSC", name="mesenchymal stem cells", receives_product=True)
CONTROL = TrialArm(id=2, trial_id=1, code="CONTROL", name="control", receives_product=False)


def _patient(pid: int, arm: TrialArm, status: str = "enrolled") -> Patient:
    return Patient(id=pid, code=f"PT{pid:06d}X", trial_id=1, arm_id=arm.id, status=status)


def _outcome(pid: int, pcr: str, ct: str) -> Outcome:
    return Outcome(
        patient_id=pid, assessed_on=date(2024, 5, 1), pcr=pcr, ct=ct, cured=is_cured(pcr, ct)
    )


def _event(pid: int, relation: str) -> AdverseEvent:
    return AdverseEvent(
        patient_id=pid, term="t", onset=date(2024, 4, 20), grade=1, serious=False, relation=relation
    )


def test_the_trial_report_counts_match_a_hand_built_set_of_patients() -> None:
    patients_ = [
        _patient(1, MSC),  # infused, cured, possible AE
        _patient(2, MSC),  # infused, PCR positive, an unlikely AE only
        _patient(3, MSC),  # infused twice, no outcome yet, definite and probable AEs
        _patient(4, MSC, "withdrawn"),  # infused, cured, definite AE: not counted
        _patient(5, MSC, "completed"),  # never infused, cured anyway
        _patient(11, CONTROL),  # cured
        _patient(12, CONTROL),  # PCR negative but CT unchanged: not cured
        _patient(13, CONTROL),  # no outcome; an AE whose relation is not assessable
        _patient(99, TrialArm(id=9, trial_id=2, code="X", name="x", receives_product=True)),
    ]
    arms = count_arms(
        [MSC, CONTROL],
        patients_,
        infused_patient_ids=[1, 2, 3, 3, 4, 99],
        outcomes=[
            _outcome(1, "negative", "improved"),
            _outcome(2, "positive", "improved"),
            _outcome(4, "negative", "improved"),
            _outcome(5, "negative", "improved"),
            _outcome(11, "negative", "improved"),
            _outcome(12, "negative", "unchanged"),
        ],
        adverse_events=[
            _event(1, "possible"),
            _event(2, "unlikely"),
            _event(3, "definite"),
            _event(3, "probable"),
            _event(4, "definite"),
            _event(13, "not assessable"),
            _event(12, "not related"),
        ],
    )
    assert arms == (
        ArmCounts("MSC", "mesenchymal stem cells", True, 4, 1, 3, 2, 2, ("PT000003X",)),
        ArmCounts("CONTROL", "control", False, 3, 0, 0, 1, 0, ("PT000013X",)),
    )
    assert (arms[0].cured_pct, arms[0].treatment_related_ae_pct) == (50.0, 50.0)
    assert (arms[1].cured_pct, arms[1].treatment_related_ae_pct) == (33.3, 0.0)


def test_an_arm_with_nobody_enrolled_has_no_percentages() -> None:
    (arm,) = count_arms(
        [MSC],
        [_patient(1, MSC, "withdrawn")],
        infused_patient_ids=[1],
        outcomes=[],
        adverse_events=[_event(1, "definite")],
    )
    assert (arm.enrolled, arm.withdrawn, arm.infused, arm.treatment_related_ae) == (0, 1, 0, 0)
    assert arm.cured_pct is None and arm.treatment_related_ae_pct is None


def _world(lab):
    """Over the database: MSC has 3 enrolled (2 infused) and 1 withdrawn; CONTROL has 2."""
    _, doses = filled_lot(lab, count=3)
    msc = [enrolled(lab) for _ in range(4)]
    control = [enrolled(lab, arm="CONTROL") for _ in range(2)]
    infused(lab, msc[0], doses[0])
    infused(lab, msc[0], doses[1])
    infused(lab, msc[1], doses[2])
    withdrawn(lab, msc[3])
    outcome(lab, msc[0])
    outcome(lab, msc[1], pcr="positive", ct="unchanged")
    outcome(lab, msc[3])
    outcome(lab, control[0], pcr="negative", ct="improved")
    adverse_event(lab, msc[0], relation="probable")
    adverse_event(lab, msc[1], relation="unlikely")
    adverse_event(lab, msc[3], relation="definite")
    adverse_event(lab, control[1], relation="not related")
    return msc, control


def test_the_trial_report_service_counts_the_rows_of_the_database(lab) -> None:
    msc, control = _world(lab)
    report = lab.run(
        "qa", lambda s, a: trial_report(s, actor=a, trial=patients.get_trial(s, "nct04382547"))
    )
    assert report.trial_code == "NCT04382547"
    by_code = {a.code: a for a in report.arms}
    assert by_code["MSC"] == ArmCounts(
        "MSC", "mesenchymal stem cells", True, 3, 1, 2, 1, 1, (msc[2].code,)
    )
    assert by_code["CONTROL"] == ArmCounts(
        "CONTROL", "control", False, 2, 0, 0, 1, 0, (control[1].code,)
    )
    with pytest.raises(PermissionDenied):
        lab.run("qc", lambda s, a: trial_report(s, actor=a, trial=patients.get_trial(s)))


def _report() -> Report:
    return Report(
        trial_code="NCT04382547",
        trial_title="Treatment of Covid-19 Associated Pneumonia",
        generated_at=utcnow(),
        arms=(
            ArmCounts("MSC", "mesenchymal stem cells", True, 3, 1, 2, 1, 2, ("PT000003X",)),
            ArmCounts("CONTROL", "control", False, 0, 0, 0, 0, 0, ()),
        ),
    )


def test_report_csv_and_pdf(settings) -> None:
    report = _report()
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert [r["arm"] for r in rows] == ["MSC", "CONTROL"]
    assert rows[0] == {
        "trial": "NCT04382547",
        "arm": "MSC",
        "arm_name": "mesenchymal stem cells",
        "receives_product": "yes",
        "enrolled": "3",
        "withdrawn": "1",
        "infused": "2",
        "cured_n": "1",
        "cured_pct": "33.3",
        "treatment_related_ae_n": "2",
        "treatment_related_ae_pct": "66.7",
        "lacking_day21_outcome": "PT000003X",
    }
    assert rows[1]["cured_pct"] == "" and rows[1]["treatment_related_ae_pct"] == ""

    pdf = report_pdf(report, settings)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Trial report — NCT04382547" in text
    assert "TEST FACILITY — NOT FOR CLINICAL USE" in text
    assert "1 (33.3 %)" in text and "2 (66.7 %)" in text and "0 (—)" in text
    assert "MSC: PT000003X" in text and "CONTROL: none" in text
    assert "Page 1 of 1" in text


def test_the_report_over_the_api_and_its_exports_are_audited(client, lab) -> None:
    msc, _ = _world(lab)
    headers = bearer(client, "clinician")
    data = client.get("/api/trials/NCT04382547/report", headers=headers)
    assert data.status_code == 200, data.text
    arm = next(a for a in data.json()["arms"] if a["code"] == "MSC")
    assert (arm["enrolled"], arm["infused"], arm["cured"], arm["cured_pct"]) == (3, 2, 1, 33.3)
    assert arm["treatment_related_ae_pct"] == 33.3 and arm["lacking_outcome"] == [msc[2].code]
    exported = client.get("/api/trials/NCT04382547/report.csv", headers=headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "MSC,mesenchymal stem cells,yes,3,1,2,1,33.3,1,33.3" in exported.text
    pdf = client.get("/api/trials/NCT04382547/report.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with lab.engine.connect() as connection:
        exports = connection.execute(
            select(AuditEvent.changes).where(AuditEvent.action == "trial.report_exported")
        ).all()
    hashes = {hashlib.sha256(exported.content).hexdigest(), hashlib.sha256(pdf.content).hexdigest()}
    assert len(exports) == 2 and all(any(h in e.changes for h in hashes) for e in exports)
    assert client.get("/api/trials/NCT00000000/report", headers=headers).status_code == 404
    assert (
        client.get("/api/trials/NCT04382547/report", headers=bearer(client, "qc")).status_code
        == 403
    )


def test_the_report_page_shows_each_arm_and_who_lacks_an_outcome(client, lab) -> None:
    msc, control = _world(lab)
    log_in(client, "qa")
    page = client.get("/trials/NCT04382547/report")
    assert page.status_code == 200
    assert '<td class="cured">1 (33.3 %)</td>' in page.text
    assert '<td class="treatment-related">0 (0.0 %)</td>' in page.text
    assert msc[2].code in page.text and control[1].code in page.text
    assert "/api/trials/NCT04382547/report.csv" in page.text
    assert "/api/trials/NCT04382547/report.pdf" in page.text
