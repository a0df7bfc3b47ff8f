"""The release certificate: what QA certified, signed and checkable against the system."""

from __future__ import annotations

import hashlib
import json
from io import BytesIO

from pypdf import PdfReader
from sqlmodel import select

from mfg.db import unit_of_work
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing.pools import get_lot
from mfg.models import AuditEvent, Lot, QcResult, QcSample, ReleaseDecision, Signature
from mfg.qc import results
from mfg.qc.summary import lot_results
from tests.audit.tamper import drop_append_only_triggers, execute
from tests.factories import bearer
from tests.labeling.helpers import decoded
from tests.manufacturing.factories import filled_lot
from tests.qc.factories import enter, verify
from tests.release.factories import releasable_lot, release


def _released(lab) -> tuple[Lot, ReleaseDecision]:
    lot = releasable_lot(lab)
    return lot, release(lab, lot)


def _certificate(client, lot: Lot, role: str = "qa") -> bytes:
    response = client.get(f"/api/lots/{lot.din}/certificate.pdf", headers=bearer(client, role))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def _text(pdf: bytes) -> str:
    pages = PdfReader(BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _signature(lab, decision: ReleaseDecision) -> Signature:
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        return session.get(Signature, decision.signature_id)


def test_certificate_shows_the_signers_printed_name_meaning_and_time(client, lab) -> None:
    lot, decision = _released(lab)
    text = _text(_certificate(client, lot, role="technician"))
    signature = _signature(lab, decision)
    signed_at = signature.signed_at.astimezone(lab.settings.tz)
    assert signature.printed_name == lab.users["qa"].full_name
    manifestation = (
        f"{signature.printed_name} — Released for clinical use — "
        f"{signed_at:%Y-%m-%d %H:%M:%S} ({lab.settings.timezone}) — VALID"
    )
    assert manifestation in text
    assert f"Certificate of release — lot {Din.parse(lot.din).eye_readable}" in text
    assert "TEST FACILITY — NOT FOR CLINICAL USE" in text
    assert "NCT04382547" in text and lab.settings.product_name in text
    # Every test of the specification, with its verdict; the pooled donors with eligibility.
    assert "CD73 CD73 positive 99 % ≥ 95 %" in text
    assert "KARYO Karyotype normal normal" in text
    assert text.count(" pass ") >= 16 and " fail " not in text and " missing" not in text
    assert text.count(" eligible ") == 2


def test_certificate_barcode_decodes_to_the_lot_din(client, lab) -> None:
    lot, _ = _released(lab)
    pages = decoded(_certificate(client, lot), dpi=300)
    assert pages[0] == [Din.parse(lot.din).barcode_data()]
    assert lot.din in pages[0][0]
    assert all(page == [] for page in pages[1:])


def test_certificate_prints_the_hash_of_the_certified_content(client, lab) -> None:
    lot, decision = _released(lab)
    text = _text(_certificate(client, lot))
    assert len(decision.content_hash) == 64
    assert f"SHA-256 {decision.content_hash}" in text
    assert "Data changed after first entry" in text
    assert "No — the content certified now is the content the newest decision signed" in text
    assert "QC results 0 invalidated, 0 re-entered" in text


def _standing_result(lab, lot: Lot, code: str) -> tuple[QcSample, QcResult]:
    def find(s, _actor):
        return next(
            (smp, r) for r, smp in lot_results(s, get_lot(s, lot.din)) if r.test_code == code
        )

    return lab.run("qc", find)


def test_certificate_shows_certified_data_changed_after_signing(client, lab) -> None:
    lot, decision = _released(lab)
    sample, cd73 = _standing_result(lab, lot, "CD73")
    lab.run(
        "qc",
        lambda s, a: results.invalidate_result(
            s, actor=a, result=results.get_result(s, cd73.id), reason="transcription error"
        ),
    )
    verify(lab, enter(lab, sample, "CD73", "98"))
    text = _text(_certificate(client, lot))
    assert "YES — the content certified now differs from what the newest decision signed" in text
    assert "QC results 1 invalidated, 1 re-entered" in text
    assert f"Invalidated CD73 99 % on sample {sample.code}" in text
    assert "transcription error" in text
    # The decision still shows what was signed, and its signature still binds that content.
    assert f"SHA-256 {decision.content_hash}" in text
    assert "— VALID" in text and "INVALID" not in text


def test_certificate_of_a_lot_without_decision_is_refused(client, lab) -> None:
    lot, _ = filled_lot(lab, count=1)
    response = client.get(f"/api/lots/{lot.din}/certificate.pdf", headers=bearer(client, "qa"))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_release_decision"
    assert error["message"] == (
        f"Lot {lot.din} has no release decision: there is no certificate yet."
    )
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        exported = session.exec(
            select(AuditEvent).where(AuditEvent.action == "lot.certificate_exported")
        ).all()
    assert exported == []


def test_certificate_export_is_audited(client, lab) -> None:
    lot, decision = _released(lab)
    pdf = _certificate(client, lot)
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "lot.certificate_exported")
        ).all()
    assert [(e.username, e.entity_type, e.entity_id) for e in events] == [("qa", "lot", lot.din)]
    changes = json.loads(events[0].changes)
    assert changes["pdf_sha256"] == [None, hashlib.sha256(pdf).hexdigest()]
    assert changes["certified_sha256"] == [None, decision.content_hash]
    assert changes["changed_after_signing"] == [None, False]


def test_certificate_is_refused_to_a_role_without_release_view(client, lab) -> None:
    lot, _ = filled_lot(lab, count=1)
    response = client.get(
        f"/api/lots/{lot.din}/certificate.pdf", headers=bearer(client, "clinician")
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_certificate_shows_a_signature_bound_to_other_content_as_invalid(client, lab) -> None:
    lot, decision = _released(lab)
    drop_append_only_triggers(lab.engine, "release_decision")  # as someone with database access
    execute(
        lab.engine,
        "UPDATE release_decision SET content_hash = :forged WHERE id = :id",
        forged="0" * 64,
        id=decision.id,
    )
    text = _text(_certificate(client, lot))
    assert text.count("— INVALID — the record changed after it was signed") == 1
    assert "— VALID" not in text
    assert "YES — the content certified now differs" in text
