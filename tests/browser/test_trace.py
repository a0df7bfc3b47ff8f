"""Chain of identity in a real browser: from a dose's page to its trace and FHIR Bundle, from a
donor's page to the look-back, QA's signed hold and the printed notification list."""

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mfg.identifiers.display import display_code
from mfg.models import Donor, Dose, DoseStatus, PoolMember
from mfg.trace import fhir_checks
from tests.browser.conftest import log_in_page
from tests.clinical.factories import laboratory_and_ward
from tests.factories import PASSWORD
from tests.trace.factories import two_pool_history


def test_qa_traces_a_dose_exports_its_bundle_and_holds_a_donors_unused_doses(
    page: Page, engine, settings, users
) -> None:
    history = two_pool_history(laboratory_and_ward(engine, settings, users), engine)
    lot, dose, patient = history["b"]
    log_in_page(page, "qa", PASSWORD)

    page.goto(f"/doses/{dose.identifier}")
    page.click("text=Trace")
    expect(page.locator("#trace-summary")).to_have_text(
        re.compile(r"^2 donors · 1 lot · \d+ doses? · 1 patient$")
    )
    expect(page.locator("#trace-graph svg")).to_be_visible()
    expect(page.locator("table[data-kind=patient]")).to_contain_text(display_code(patient.code))

    with page.expect_download() as download:
        page.click("#fhir-export")
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert fhir_checks.checked(bundle)["type"] == "collection"
    assert download.value.suggested_filename == f"fhir-dose-{dose.identifier}.json"

    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id).code
    page.click(f"table[data-kind=donor] >> text={display_code(donor)}")
    page.click("text=Look-back")
    expect(page.locator("#lookback-patients")).to_contain_text(display_code(patient.code))
    page.click("text=Put the 1 unused dose on hold")
    dialog = page.locator("#lookback-dialog")
    dialog.locator("textarea[name=reason]").fill("Donor HIV NAT reactive on retest")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Unused doses put on hold by the look-back: 1.")
    expect(page.locator("#lookback-doses")).to_contain_text("ON HOLD")

    response = page.request.get(f"/lookback/donor/{donor}/notifications.pdf")
    assert response.ok and response.body().startswith(b"%PDF")
    with Session(engine) as session:
        statuses = {d.status for d in session.exec(select(Dose).where(Dose.lot_id == lot.id)).all()}
    assert statuses == {DoseStatus.INFUSED, DoseStatus.ON_HOLD}
