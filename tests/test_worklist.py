"""The home page's worklist: each person lands on what waits for them, counted, with the page
that lists it; a colleague's own entries are not theirs to verify."""

import html
import re

from fastapi.testclient import TestClient

from tests.clinical.factories import enrol, laboratory_and_ward
from tests.clinical.outcome_factories import enrolled, outcome, withdrawn
from tests.factories import log_in
from tests.manufacturing.factories import pooled_lot
from tests.qc.factories import enter, lot_sample
from tests.release.factories import releasable_lot

ROW = re.compile(r'<td class="count">([\d,]+)</td><td><a href="([^"]+)">([^<]+)</a></td>')


def waiting_for(client: TestClient, username: str) -> dict[str, tuple[int, str]]:
    client.cookies.clear()
    log_in(client, username)
    home = client.get("/")
    assert home.status_code == 200
    rows = ROW.findall(home.text)
    return {html.unescape(what): (int(n.replace(",", "")), url) for n, url, what in rows}


def test_each_role_lands_on_what_waits_for_it_and_not_on_its_own_entries_to_verify(
    client: TestClient, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    in_process = pooled_lot(lab)
    enter(lab, lot_sample(lab, in_process, "VIAB-IP", "MYCO"), "VIAB-IP", "91", role="qc")
    releasable_lot(lab)
    enrol(lab, verified=False)  # the weight entered by "clinician"
    lab.result(lab.donor(), "HIV-AB", verify=False)  # entered by "qc"

    technician = waiting_for(client, "technician")
    assert technician["Lots in process: passages and harvest"] == (1, "/lots?status=in_process")
    assert "Lots awaiting a QA decision" not in technician

    assert waiting_for(client, "qc")["QC samples awaiting results"] == (1, "/qc")
    colleague = "QC results entered by a colleague, awaiting your verification"
    assert colleague not in waiting_for(client, "qc")  # "qc" entered it
    assert waiting_for(client, "qc-2")[colleague] == (1, "/qc")

    assert waiting_for(client, "qa")["Lots awaiting a QA decision"] == (1, "/release")
    markers = "Donor marker results entered by a colleague, awaiting your verification"
    assert markers not in waiting_for(client, "qc")
    assert waiting_for(client, "technician")[markers] == (1, "/donors?status=registered")

    weight = "Patients whose weight awaits a colleague's verification"
    assert weight not in waiting_for(client, "clinician")
    assert waiting_for(client, "clinician-2")[weight] == (1, "/patients")

    # every link opens a page its reader may see
    for username in ("technician", "qc", "qc-2", "qa", "clinician-2"):
        for what, (_, url) in waiting_for(client, username).items():
            assert client.get(url).status_code == 200, (username, what, url)


def test_nothing_waiting_reads_so_for_every_role(client: TestClient, users) -> None:
    for username in users:
        client.cookies.clear()
        log_in(client, username)
        home = client.get("/")
        assert home.status_code == 200, username
        assert "Nothing is waiting for you." in home.text, username


def test_a_patient_is_due_for_the_outcome_from_day_21_until_it_is_recorded(
    client: TestClient, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    due = "Patients past day 21 without their outcome"
    enrolled(lab, days_ago=20)
    assert due not in waiting_for(client, "clinician")
    on_day_21 = enrolled(lab, days_ago=21)
    assert waiting_for(client, "clinician")[due] == (1, "/patients")
    withdrawn(lab, enrolled(lab, days_ago=30))  # a withdrawn patient is not followed up
    assert waiting_for(client, "clinician")[due] == (1, "/patients")
    outcome(lab, on_day_21)
    assert due not in waiting_for(client, "clinician")


def test_the_worklist_api_answers_what_the_home_page_lists(
    client: TestClient, engine, settings, users
) -> None:
    from tests.factories import bearer

    lab = laboratory_and_ward(engine, settings, users)
    releasable_lot(lab)
    answer = client.get("/api/worklist", headers=bearer(client, "qa"))
    assert answer.status_code == 200
    items = {i["what"]: (i["count"], i["url"]) for i in answer.json()["items"]}
    assert items == waiting_for(client, "qa")
    assert items["Lots awaiting a QA decision"] == (1, "/release")
    client.cookies.clear()
    assert client.get("/api/worklist").status_code == 401


def test_a_biopsy_on_hold_or_of_a_donor_not_eligible_is_not_awaiting_a_culture(
    client: TestClient, engine, settings, users
) -> None:
    from mfg.models import MarkerOutcome
    from tests.donors.factories import Lab
    from tests.factories import bearer

    lab = Lab(engine, settings, users)
    _, ready = lab.eligible_donor()
    lab.receive(ready)
    found_ineligible, held = lab.eligible_donor()
    lab.receive(held)
    lab.result(found_ineligible, "HIV-AB", outcome=MarkerOutcome.POSITIVE)  # look-back: on hold
    undetermined = lab.donor()
    lab.receive(lab.biopsy(undetermined))

    received = "/biopsies?status=received"
    expected = {
        "Biopsies received, awaiting a culture": (1, received),
        "Biopsies received, in quarantine until their donor is found eligible": (1, received),
        "Biopsies received but on hold (donor ineligible): not to be cultured": (1, received),
    }
    technician = waiting_for(client, "technician")
    assert {what: technician[what] for what in expected} == expected
    answer = client.get("/api/worklist", headers=bearer(client, "technician")).json()
    listed = {i["what"]: (i["count"], i["url"]) for i in answer["items"]}
    assert {what: listed[what] for what in expected} == expected

    # the counts are the guard's own rule: ready exactly when culture_start_problems says nothing
    from sqlmodel import Session, select

    from mfg.donors.biopsies import ready_for_culture
    from mfg.donors.rules import culture_start_problems
    from mfg.models import Biopsy, Donor

    with Session(engine) as session:
        ready_ids = set(session.exec(select(Biopsy.id).where(*ready_for_culture())).all())
        for biopsy in session.exec(select(Biopsy)).all():
            startable = not culture_start_problems(session.get(Donor, biopsy.donor_id), biopsy)
            assert (biopsy.id in ready_ids) == startable, biopsy.din
