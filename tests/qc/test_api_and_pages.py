"""QC over the JSON API and on the laboratory pages."""

import html
from datetime import timedelta

from mfg.identifiers.display import code_html, display_code
from mfg.models import utcnow
from tests.factories import PASSWORD, bearer, csrf_from, log_in
from tests.manufacturing.factories import filled_lot, pooled_lot
from tests.qc.factories import enter, lot_sample, verify


def _iso(hours_ago: float) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).isoformat()


def test_qc_samples_results_and_the_lot_summary_over_the_api(client, lab) -> None:
    lot, doses = filled_lot(lab, count=2)
    tech, analyst = bearer(client, "technician"), bearer(client, "qc")
    taken = client.post(
        "/api/qc-samples",
        headers=tech,
        json={"source": doses[0].identifier, "tests": ["endo", "MYCO"], "taken_at": _iso(3)},
    )
    assert taken.status_code == 201, taken.text
    code = taken.json()["identifier"]
    assert taken.json()["source_type"] == "dose" and taken.json()["tests"] == ["ENDO", "MYCO"]
    entered = client.post(
        f"/api/qc-samples/{code}/results",
        headers=analyst,
        json={"test_code": "ENDO", "value": "0.12", "unit": "EU/mL", "tested_at": _iso(1)},
    )
    assert entered.status_code == 201, entered.text
    assert entered.json()["verdict"] == "pass" and entered.json()["limit"] == "< 0.5 EU/mL"
    own = client.post(f"/api/qc-results/{entered.json()['id']}/verify", headers=analyst)
    assert own.status_code == 422 and "second analyst" in own.text
    verified = client.post(
        f"/api/qc-results/{entered.json()['id']}/verify", headers=bearer(client, "qc-2")
    )
    assert verified.status_code == 200 and verified.json()["verified_by"] == "qc-2"
    unknown_value = client.post(
        f"/api/qc-samples/{code}/results",
        headers=analyst,
        json={"test_code": "MYCO", "value": "maybe", "tested_at": _iso(1)},
    )
    assert unknown_value.status_code == 422 and "not a result of this test" in unknown_value.text
    listed = client.get("/api/qc-samples", params={"lot": lot.din}, headers=tech).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "awaiting"
    summary = client.get(f"/api/lots/{lot.din}/qc", headers=tech).json()
    endo = next(t for t in summary["tests"] if t["code"] == "ENDO")
    assert summary["spec_version"] == 1 and endo["state"] == "pass"
    assert "ENDO" not in summary["blocking"] and "MYCO" in summary["blocking"]
    scanned = client.get("/api/scan", params={"code": code}, headers=tech).json()
    assert scanned["kind"] == "qc-sample" and scanned["url"] == f"/qc/samples/{code}"


def test_an_out_of_specification_result_shows_an_open_deviation_on_the_lot(client, lab) -> None:
    lot = pooled_lot(lab)
    verify(lab, enter(lab, lot_sample(lab, lot, "VIAB"), "VIAB", "55"))
    log_in(client, "technician")
    page = client.get(f"/lots/{lot.din}")
    assert 'id="lot-open-deviations"' in page.text and "Out of specification" in page.text
    qc_page = client.get(f"/lots/{lot.din}/qc")
    assert 'id="open-deviations"' in qc_page.text and "FAIL" in qc_page.text
    deviations = client.get("/api/deviations", params={"lot": lot.din}).json()
    assert deviations["total"] == 1 and deviations["items"][0]["status"] == "open"


def test_a_deviation_on_a_failing_result_names_its_test_and_sample_not_a_database_id(
    client, lab
) -> None:
    lot = pooled_lot(lab)
    sample = lot_sample(lab, lot, "VIAB")
    verify(lab, enter(lab, sample, "VIAB", "55"))
    log_in(client, "qa")
    about = (
        f'<a class="deviation-subject" href="/qc/samples/{sample.code}">'
        f"QC result VIAB of sample {display_code(sample.code)}</a>"  # as people read it
    )
    listed = client.get("/deviations").text
    assert about in listed and "qc_result" not in listed
    code = client.get("/api/deviations", params={"lot": lot.din}).json()["items"][0]["code"]
    assert about in client.get(f"/deviations/{code}").text
    manual = client.post(
        "/deviations",
        data={
            "csrf_token": csrf_from(listed),
            "title": "Incubator door left open",
            "description": "Found ajar at 07:40.",
            "entity_type": "equipment",
            "entity_id": "INC-02",
        },
    )
    assert '<span class="deviation-subject">equipment INC-02</span>' in manual.text


def test_a_specification_draft_from_the_page_is_approved_with_a_signature(client, lab) -> None:
    log_in(client, "qa")
    page = client.get("/specifications/1")
    assert 'id="draft-form"' in page.text
    editable = page.text.split('<textarea name="tests" rows="20" class="mono">', 1)[1]
    editable = editable.split("</textarea>", 1)[0]
    tests = html.unescape(editable).replace("min = 70\n", "min = 75\n", 1)
    page = client.post(
        "/specifications",
        data={"csrf_token": csrf_from(page.text), "title": "v2", "note": "CC-7", "tests": tests},
    )
    assert page.status_code == 200, page.text
    assert "Specification version 2" in page.text
    assert "DRAFT" in page.text and "≥ 75 %" in page.text
    page = client.post(
        "/specifications/2/approve", data={"csrf_token": csrf_from(page.text), "password": PASSWORD}
    )
    assert "APPROVED" in page.text and "Signature valid" in page.text
    assert pooled_lot(lab).spec_version == 2


def test_the_worklist_lists_samples_and_results_awaiting_a_colleague(client, lab) -> None:
    sample = lot_sample(lab, pooled_lot(lab), "VIAB", "MYCO")
    enter(lab, sample, "VIAB", "93")
    log_in(client, "qc")
    page = client.get("/qc")
    assert sample.code in page.text and "yours: a colleague verifies" in page.text


def test_a_samples_source_links_to_its_record_on_the_worklist_the_sample_and_the_lots_qc(
    client, lab
) -> None:
    lot = pooled_lot(lab)
    sample = lot_sample(lab, lot, "VIAB", "MYCO")
    log_in(client, "qc")
    source = f'lot <a href="/lots/{lot.din}">{code_html(lot.din)}</a>'
    for path in ("/qc", f"/qc/samples/{sample.code}", f"/lots/{lot.din}/qc"):
        assert source in client.get(path).text, path
    sample_page = client.get(f"/qc/samples/{sample.code}").text
    assert f'/lots/{lot.din}/qc" id="lot-qc-link">QC of the lot</a>' in sample_page
    blocking = client.get(f"/lots/{lot.din}/qc").text
    assert "required tests lack a verified result" in blocking


def test_a_history_names_the_person_a_change_records_by_id(client, lab) -> None:
    sample = lot_sample(lab, pooled_lot(lab), "VIAB")
    verify(lab, enter(lab, sample, "VIAB", "93"))
    verifier = lab.users["qc-2"]
    log_in(client, "qc")
    page = client.get(f"/qc/samples/{sample.code}").text
    # the value as the audit trail recorded it, and whose id it is
    assert f"<strong>verified_by_id</strong>: — → {verifier.id} (Qc-2 Tester (qc-2))" in page
