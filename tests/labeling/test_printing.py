"""Printing: scan-back before print, the print log, reprints with a reason and the 05 flag."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mfg.identifiers.isbt128 import Din
from mfg.labeling import barcodes
from mfg.labeling.fields import din_fields, sample_data
from mfg.models import AuditEvent, LabelPrint
from mfg.users.scan import staff_code
from tests.factories import bearer, csrf_from, log_in
from tests.labeling.helpers import decoded, zpl_barcode_data

DIN = Din("A9999", 26, 42)


@pytest.fixture
def dose_source(app) -> str:
    """A dose label source as the manufacturing issue will register one (doses do not exist yet)."""

    def build(session, identifier, flags):
        if identifier != str(DIN) + "S1234VA0":
            return None
        return {**sample_data("dose"), **din_fields(DIN, flags=flags)}

    app.state.label_sources.register("dose", build)
    return str(DIN) + "S1234VA0"


def badge_url(users, suffix: str = "pdf") -> str:
    return f"/api/labels/badge/{staff_code(users['qc'])}.{suffix}"


def test_a_badge_label_prints_as_pdf_whose_barcode_decodes(client: TestClient, users) -> None:
    response = client.get(badge_url(users), headers=bearer(client, "technician"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert decoded(response.content) == [[str(staff_code(users["qc"]))]]


def test_every_print_is_logged_and_audited(client: TestClient, engine, users) -> None:
    headers = bearer(client, "technician")
    client.get(badge_url(users), params={"copies": 2, "printer": "Zebra B"}, headers=headers)
    with Session(engine) as session:
        [log] = session.exec(select(LabelPrint)).all()
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "label.printed")).one()
    assert (log.kind, log.identifier, log.copies, log.printer, log.reprint) == (
        "badge",
        str(staff_code(users["qc"])),
        2,
        "Zebra B",
        False,
    )
    assert event.entity_type == "badge" and event.username == "technician"


def test_a_second_print_is_a_reprint_that_needs_a_reason(client: TestClient, engine, users) -> None:
    headers = bearer(client, "technician")
    assert client.get(badge_url(users), headers=headers).status_code == 200
    refused = client.get(badge_url(users), headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "reprint_reason_required"
    again = client.get(badge_url(users), params={"reason": "label smudged"}, headers=headers)
    assert again.status_code == 200 and again.headers["x-label-reprint"] == "true"
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "label.reprinted")).one()
        assert event.reason == "label smudged"
        assert len(session.exec(select(LabelPrint)).all()) == 2


def test_a_label_asked_for_in_another_spelling_of_its_code_is_still_a_reprint(
    client: TestClient, engine, users
) -> None:
    headers = bearer(client, "technician")
    code = staff_code(users["qc"])
    assert client.get(f"/api/labels/badge/{code}.pdf", headers=headers).status_code == 200
    for spelling in (code.eye_readable.lower(), f"%20{code}", str(code).lower()):
        refused = client.get(f"/api/labels/badge/{spelling}.pdf", headers=headers)
        assert refused.status_code == 422, spelling
        assert refused.json()["error"]["code"] == "reprint_reason_required"
    with Session(engine) as session:
        assert [p.identifier for p in session.exec(select(LabelPrint))] == [str(code)]


def test_a_reprinted_din_carries_the_05_flag(client: TestClient, users, dose_source) -> None:
    headers = bearer(client, "technician")
    first = client.get(f"/api/labels/dose/{dose_source}.pdf", headers=headers)
    assert DIN.barcode_data("00") in decoded(first.content)[0]
    second = client.get(
        f"/api/labels/dose/{dose_source}.pdf", params={"reason": "bag relabelled"}, headers=headers
    )
    assert DIN.barcode_data("05") in decoded(second.content)[0]


def test_zpl_output_carries_the_barcode_data(client: TestClient, users, dose_source) -> None:
    response = client.get(f"/api/labels/dose/{dose_source}.zpl", headers=bearer(client, "qa"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/zpl"
    data = zpl_barcode_data(response.text)
    assert DIN.barcode_data() in data and "&>0270332359" in data


def test_a_barcode_that_does_not_scan_back_stops_the_print(
    client: TestClient, engine, users, monkeypatch
) -> None:
    """Without the leading-99 guard the symbol decodes wrongly: scan-back refuses to print."""
    from barcode.codex import Code128

    monkeypatch.setattr(barcodes, "_GuardedCode128", Code128)
    barcodes.code128_modules.cache_clear()

    def build(session, identifier, flags):
        return {**sample_data("culture"), "vessel_barcode": "99000123"}

    client.app.state.label_sources.register("culture", build)
    try:
        response = client.get("/api/labels/culture/99000123.pdf", headers=bearer(client, "qc"))
    finally:
        barcodes.code128_modules.cache_clear()
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "barcode_mismatch"
    with Session(engine) as session:
        assert session.exec(select(LabelPrint)).all() == []


def test_a_label_of_an_unknown_record_or_kind_is_not_found(client: TestClient, users) -> None:
    headers = bearer(client, "technician")
    assert client.get("/api/labels/badge/ST9999999.pdf", headers=headers).status_code == 404
    assert client.get("/api/labels/dose/A999926000001.pdf", headers=headers).status_code == 404
    assert client.get("/api/labels/pizza/1.pdf", headers=headers).status_code == 422


def test_the_label_page_prints_and_shows_the_history(client: TestClient, users) -> None:
    log_in(client, "technician")
    path = f"/labels/badge/{staff_code(users['qc'])}"
    page = client.get(path)
    assert "Never printed" in page.text and "<svg" in page.text
    token = csrf_from(page.text)
    printed = client.post(f"{path}/print", data={"csrf_token": token, "output": "pdf", "copies": 1})
    assert printed.headers["content-type"] == "application/pdf"
    again = client.post(f"{path}/print", data={"csrf_token": token, "output": "pdf"})
    assert again.status_code == 422 and "needs a reason" in again.text
    history = client.get(path).text
    assert 'id="reprint-reason"' in history and "Never printed" not in history


def test_the_layouts_page_previews_every_kind(client: TestClient, users) -> None:
    log_in(client, "clinician")
    html = client.get("/labels").text
    for kind in ("biopsy", "culture", "qc-sample", "material", "dose", "wristband", "badge"):
        assert f'id="layout-{kind}"' in html
    assert "REFUSED" not in html
