"""The QA queue and the release page: the check in words, the signature dialog, the decision."""

from tests.factories import PASSWORD, bearer, csrf_from, log_in
from tests.release.factories import (
    conditionally_releasable_lot,
    record_results,
    releasable_lot,
    release,
)


def test_the_release_check_api_names_every_blocking_reason(client, lab) -> None:
    lot = releasable_lot(lab, skip=("KARYO",))
    body = client.get(f"/api/lots/{lot.din}/release-check", headers=bearer(client, "qa")).json()
    assert body["ready"] is False
    assert body["blocking"] == [
        {
            "code": "test_missing",
            "message": "Required test KARYO (Karyotype) has no verified final result.",
        }
    ]


def test_qa_releases_from_the_page_after_reviewing_the_audit_trail(client, lab) -> None:
    lot = releasable_lot(lab)
    log_in(client, "qa")
    queue = client.get("/release")
    assert lot.din in queue.text and "ready for release" in queue.text
    page = client.get(f"/lots/{lot.din}/release")
    assert 'id="release-ready"' in page.text and 'id="release-dialog"' in page.text
    refused = client.post(
        f"/lots/{lot.din}/release", data={"csrf_token": csrf_from(page.text), "password": PASSWORD}
    )
    assert "Review the lot" in refused.text  # the review box was not ticked
    page = client.post(
        f"/lots/{lot.din}/release",
        data={
            "csrf_token": csrf_from(page.text),
            "password": PASSWORD,
            "audit_trail_reviewed": "yes",
        },
    )
    assert page.status_code == 200, page.text
    assert "RELEASED" in page.text and "Released for clinical use" in page.text
    assert 'id="certificate-link"' in page.text
    doses = client.get("/api/doses", params={"lot": lot.din}).json()["items"]
    assert {d["status"] for d in doses} == {"available"}


def test_a_technician_sees_the_check_but_cannot_release(client, lab) -> None:
    lot = releasable_lot(lab)
    tech = bearer(client, "technician")
    assert client.get(f"/api/lots/{lot.din}/release-check", headers=tech).status_code == 200
    response = client.post(
        f"/api/lots/{lot.din}/release",
        headers=tech,
        json={"password": PASSWORD, "audit_trail_reviewed": True},
    )
    assert response.status_code == 403


def test_a_conditionally_released_lot_shows_what_its_completion_waits_for(client, lab) -> None:
    lot = conditionally_releasable_lot(lab)
    release(lab, lot, conditional=True)
    log_in(client, "qa")
    check = client.get(f"/api/lots/{lot.din}/release-check", headers=bearer(client, "qa")).json()
    codes = [b["code"] for b in check["blocking"]]
    assert not check["ready"] and codes and "lot_not_in_quarantine" not in codes
    assert all("STER-" in b["message"] for b in check["blocking"])  # the final results only
    page = client.get(f"/lots/{lot.din}/release").text
    assert "Completing the release waits for" in page and "only a filled lot" not in page
    assert "only a filled lot" not in client.get("/release").text
    record_results(lab, lot, {"STER-AER": "no growth", "STER-ANA": "no growth"})
    assert client.get(f"/api/lots/{lot.din}/release-check").json()["ready"] is True
    assert 'id="completion-ready"' in client.get(f"/lots/{lot.din}/release").text
    assert "ready to complete the release" in client.get("/release").text


def test_a_release_decision_shows_its_signature_and_whether_it_still_matches(client, lab) -> None:
    lot = releasable_lot(lab)
    release(lab, lot)
    log_in(client, "qa")
    page = client.get(f"/lots/{lot.din}/release").text
    assert page.count('class="signature"') == 1 and "Signature valid" in page
    assert "Released for clinical use" in page and "SIGNATURE INVALID" not in page
