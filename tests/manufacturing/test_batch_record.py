"""The electronic batch record: every step from each biopsy to each dose, signed, page and PDF."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlmodel import select

from mfg.db import unit_of_work
from mfg.manufacturing import batchrecord, cultures, doses, pools, storage
from mfg.manufacturing.schemas import CultureStart, StorageIn, ThawIn
from mfg.models import AuditEvent, Culture, Lot, MaterialLot, utcnow
from tests.audit.tamper import execute
from tests.factories import PASSWORD, add_user, bearer, log_in
from tests.manufacturing.factories import (
    cryopreserve,
    fill,
    harvest,
    lot_passage,
    passage,
    pool,
    released_medium,
)

# Biopsies collected (and received 6 hours later) days before their cells are seeded here.
COLLECTED = utcnow() - timedelta(days=6)

CRYO_NAME = "Анна Кузнецова"  # a Cyrillic printed name must survive into the PDF


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _primary_culture(lab, medium: MaterialLot) -> Culture:
    """As factories.culture_of_eligible_donor, with the surface as the float it is stored as.

    The factory passes ``surface_cm2=75``: the signed content hashes ``75``, the stored row reads
    back ``75.0``, and the batch record rightly shows that start signature INVALID.
    """
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    return lab.run(
        "technician",
        lambda s, a: cultures.start_primary_culture(
            s,
            actor=a,
            command=CultureStart(
                biopsy=biopsy.din,
                vessel_type="T75",
                surface_cm2=75.0,
                seeded_cells=500_000,
                seeded_at=utcnow() - timedelta(hours=50),
                password=PASSWORD,
                medium_lots=[medium.code],
            ),
        ),
    )


def _filled_lot(lab, count: int = 2) -> Lot:
    medium = released_medium(lab)
    first, second = _primary_culture(lab, medium), _primary_culture(lab, medium)
    lot = pool(lab, (first, 2_000_000), (second, 2_000_000), hours_ago=20)
    harvest(lab, lot)
    fill(lab, lot, count=count)
    return lot


def _full_lot(lab) -> dict:
    """Two donors, one culture passaged before pooling, a lot passage, harvest, fill, storage."""
    medium = released_medium(lab)
    first, second = _primary_culture(lab, medium), _primary_culture(lab, medium)
    _, children = passage(lab, first, medium)
    lot = pool(lab, (children[0], 2_000_000), (second, 2_000_000), hours_ago=20)
    lot_passage(lab, lot, harvested=32_000_000, reseeded=8_000_000, hours_ago=10)
    harvest(lab, lot)
    filled = fill(lab, lot, count=3)
    lab.users["cryo"] = add_user(lab.engine, lab.settings, "cryo", full_name=CRYO_NAME)
    lab.run(
        "cryo",
        lambda s, a: storage.cryopreserve_lot(
            s,
            actor=a,
            lot=pools.get_lot(s, lot.din),
            command=StorageIn(
                frozen_at=utcnow() - timedelta(minutes=5),
                freezing_programme="MSC-10%DMSO-1C/min",
                temperature_c=-180,
                tank="T7",
                rack="R4",
                box="B9",
                first_position=11,
                password=PASSWORD,
            ),
        ),
    )
    # Allocation to a patient comes with the clinical module; until then, set it as it will.
    execute(lab.engine, "UPDATE dose SET status = 'allocated' WHERE id = :i", i=filled[0].id)
    lab.run(
        "technician",
        lambda s, a: storage.thaw_dose(
            s,
            actor=a,
            dose=doses.get_dose(s, filled[0].identifier),
            command=ThawIn(thawed_at=utcnow() - timedelta(minutes=1), password=PASSWORD),
        ),
    )
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        rows = pools.member_rows(session, pools.get_lot(session, lot.din))
        biopsies = [b.din for _, _, b, _ in rows]
        donors = [d.code for *_, d in rows]
    return {
        "lot": lot,
        "doses": filled,
        "biopsies": biopsies,
        "donors": donors,
        "cultures": [first.code, children[0].code, second.code],
        "medium": medium,
    }


def test_batch_record_pdf_shows_every_step_from_each_biopsy_to_each_dose(client, lab) -> None:
    made = _full_lot(lab)
    lot = made["lot"]
    response = client.get(f"/api/lots/{lot.din}/batch-record.pdf", headers=bearer(client, "qa"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition == f'inline; filename="batch-record-{lot.din}.pdf"'
    text = _pdf_text(response.content)
    expected = [
        lot.din,
        *made["biopsies"],
        *made["donors"],
        *made["cultures"],
        *(d.identifier for d in made["doses"]),
        made["medium"].code,
        "tank T7 / rack R4 / box B9 / position 11",
        "tank T7 / rack R4 / box B9 / position 13",
        "Technician Tester — Performed",
        f"{CRYO_NAME} — Performed",
        lab.settings.facility_name,
        f"({lab.settings.timezone})",
    ]
    assert [item for item in expected if item not in text] == []
    assert len(made["biopsies"]) == len(set(made["donors"])) == 2
    pages = len(PdfReader(BytesIO(response.content)).pages)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    # Culture start ×2, passage, pool, lot passage, harvest, fill, storage, thaw: all valid.
    assert text.count("— VALID") == 9 and "INVALID" not in text


def test_batch_record_follows_each_pooled_vessel_up_to_its_primary_culture(lab, session) -> None:
    made = _full_lot(lab)
    record = batchrecord.build_batch_record(session, pools.get_lot(session, made["lot"].din))
    first, second = record.members
    assert [v.culture.code for v in first.vessels] == made["cultures"][:2]
    assert [v.culture.code for v in second.vessels] == made["cultures"][2:]
    primary, pooled = first.vessels
    # The primary culture's start and its passage are signed; the vessel it seeded is not a step.
    assert [m.code for m in primary.start.materials] == [made["medium"].code]
    assert [s.valid for s in primary.start.signatures] == [True]
    assert pooled.culture.code in [c.code for c in primary.passage.children]
    assert [m.code for m in primary.passage.step.materials] == [made["medium"].code]
    assert pooled.start is None and pooled.passage is None
    assert [s.signature.printed_name for s in record.storage] == [CRYO_NAME]
    thawed = [(d.dose.identifier, len(d.thaw)) for d in record.doses if d.dose.thawed_at]
    assert thawed == [(made["doses"][0].identifier, 1)]
    assert record.invalid_signatures == 0


def test_batch_record_shows_a_changed_record_signature_as_invalid(client, lab) -> None:
    lot = _filled_lot(lab)
    cryopreserve(lab, lot)
    qa = bearer(client, "qa")
    before = _pdf_text(client.get(f"/api/lots/{lot.din}/batch-record.pdf", headers=qa).content)
    assert "INVALID" not in before
    lot_id = "(SELECT id FROM lot WHERE din = :din)"
    execute(
        lab.engine, f"UPDATE harvest SET final_volume_ml = 90 WHERE lot_id = {lot_id}", din=lot.din
    )
    after = _pdf_text(client.get(f"/api/lots/{lot.din}/batch-record.pdf", headers=qa).content)
    assert after.count("INVALID — the record changed after it was signed") == 1
    assert "90 mL" in after
    page = log_in(client, "qa").get(f"/lots/{lot.din}/batch-record")
    assert page.status_code == 200
    harvest_section = page.text.split('id="harvest-record"')[1].split("</section>")[0]
    assert "SIGNATURE INVALID" in harvest_section
    assert page.text.count("SIGNATURE INVALID") == 1
    assert 'id="invalid-signatures"' in page.text


def test_batch_record_export_is_audited(client, lab) -> None:
    lot = _filled_lot(lab)
    qa = bearer(client, "qa")
    assert client.get(f"/lots/{lot.din}/batch-record", headers=qa).status_code == 200
    response = client.get(f"/api/lots/{lot.din}/batch-record.pdf", headers=qa)
    assert response.status_code == 200
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "lot.batch_record_exported")
        ).all()
    # Viewing the page is not an export; the PDF is, and the event names the copy issued.
    assert [(e.username, e.entity_type, e.entity_id) for e in events] == [("qa", "lot", lot.din)]
    changes = json.loads(events[0].changes)
    assert changes["pdf_sha256"] == [None, hashlib.sha256(response.content).hexdigest()]
    assert changes["invalid_signatures"] == [None, 0]


def test_batch_record_page_shows_each_stage_to_a_qa_user(client, lab) -> None:
    made = _full_lot(lab)
    lot: Lot = made["lot"]
    page = log_in(client, "qa").get(f"/lots/{lot.din}/batch-record")
    assert page.status_code == 200
    html = page.text
    missing = [
        item
        for item in [
            *made["biopsies"],
            *made["donors"],
            *made["cultures"],
            *(d.identifier for d in made["doses"]),
            "tank T7 / rack R4 / box B9 / position 12",
            CRYO_NAME,
            f'/api/lots/{lot.din}/batch-record.pdf" id="batch-record-pdf"',
        ]
        if item not in html
    ]
    assert missing == []
    assert html.count("Signature valid") == 9 and "SIGNATURE INVALID" not in html
    assert "NOT SIGNED" not in html


def test_batch_record_is_refused_to_a_clinician(client, lab) -> None:
    lot = _filled_lot(lab)
    clinician = bearer(client, "clinician")
    assert client.get(f"/lots/{lot.din}/batch-record", headers=clinician).status_code == 403
    pdf = client.get(f"/api/lots/{lot.din}/batch-record.pdf", headers=clinician)
    assert pdf.status_code == 403
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        exported = session.exec(
            select(AuditEvent).where(AuditEvent.action == "lot.batch_record_exported")
        ).all()
    assert exported == []
