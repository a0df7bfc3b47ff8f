"""QC at the bench in a real browser: a result entered from a scanned sample tube label."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.donors.factories import DonorWorld
from tests.factories import PASSWORD
from tests.manufacturing.factories import pooled_lot
from tests.qc.factories import lot_sample


def test_a_result_is_entered_from_a_scanned_sample_and_judged_at_once(
    page: Page, engine, settings, users
) -> None:
    lab = DonorWorld(engine, settings, users)
    sample = lot_sample(lab, pooled_lot(lab), "ENDO", "STER-AER")
    log_in_page(page, "qc", PASSWORD)
    page.keyboard.type(sample.code)  # the tube label's Code 128, typed by the scanner
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/qc/samples/{sample.code}")
    page.select_option("#result-test", "STER-AER")
    expect(page.locator("#result-reading option")).to_have_count(3)  # final, day 3, day 7
    page.select_option("#result-reading", "day 3")
    page.fill("#result-value", "no growth")
    page.click("#result-form button[type=submit]")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.select_option("#result-test", "ENDO")
    expect(page.locator("#result-unit")).to_have_value("EU/mL")
    page.fill("#result-value", "0.7")
    page.click("#result-form button[type=submit]")
    row = page.locator("#results tbody tr", has_text="ENDO")
    expect(row.locator(".verdict")).to_have_text("FAIL")
    expect(row).to_contain_text("< 0.5 EU/mL")
