"""A clinician records an adverse event on the tablet, then corrects it by a signed amendment."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.clinical.outcome_factories import enrolled
from tests.donors.factories import Lab
from tests.factories import PASSWORD


def test_a_clinician_records_an_adverse_event_then_amends_it_with_a_reason(
    page: Page, engine, settings, users
) -> None:
    patient = enrolled(Lab(engine, settings, users))
    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet on the ward
    log_in_page(page, "clinician", PASSWORD)
    page.goto(f"/patients/{patient.code}/adverse-events")

    page.click("#record-adverse-event")
    dialog = page.locator("#adverse-event-dialog")
    dialog.locator("input[name=term]").fill("Fever")
    dialog.locator("select[name=grade]").select_option("2")
    dialog.locator("select[name=serious]").select_option("no")
    dialog.locator("select[name=relation]").select_option("unlikely")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    row = page.locator("#adverse-events tr[data-adverse-event]")
    expect(row).to_contain_text("Fever")
    expect(row).not_to_contain_text("treatment-related")

    row.locator("button[data-amend]").click()
    amend = page.locator("dialog[id^=amend-dialog-]")
    expect(amend.locator("input[name=term]")).to_have_value("Fever")
    amend.locator("select[name=relation]").select_option("probable")
    amend.locator("input[name=password]").fill(PASSWORD)
    amend.locator("button[type=submit]").click()
    # the reason is required: the browser keeps the dialog open until it is given
    expect(amend).to_be_visible()
    amend.locator("textarea[name=reason]").fill("Causality re-assessed at the safety review")
    amend.locator("button[type=submit]").click()
    expect(row).to_contain_text("Version 2 (amended)")
    expect(row).to_contain_text("treatment-related")
    expect(row).to_contain_text("Amended")
    page.click("tr.amendments summary")
    expect(page.locator("tr.amendments")).to_contain_text(
        "Causality re-assessed at the safety review"
    )
