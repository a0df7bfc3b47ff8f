"""QC at the bench in a real browser: a result entered from a scanned sample tube label."""

from playwright.sync_api import Page, expect

from mfg.identifiers.display import display_code
from tests.browser.conftest import log_in_page
from tests.browser.keyboard import type_with_russian_layout
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import pooled_lot
from tests.qc.factories import lot_sample


def test_a_result_is_entered_from_a_scanned_sample_and_judged_at_once(
    page: Page, engine, settings, users
) -> None:
    lab = Lab(engine, settings, users)
    sample = lot_sample(lab, pooled_lot(lab), "ENDO", "STER-AER")
    log_in_page(page, "qc", PASSWORD)
    page.keyboard.type(sample.code)  # the tube label's Code 128, typed by the scanner
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/qc/samples/{sample.code}")
    page.select_option("#result-test", "STER-AER")
    expect(page.locator("#result-reading option")).to_have_count(3)  # day 3, day 7, final
    expect(page.locator("#result-reading")).to_have_value("day 3")  # the reading due next
    page.fill("#result-value", "no growth")
    page.click("#result-form button[type=submit]")
    # The page reloaded with the result (the empty table's one row is not it).
    expect(page.locator("#results tbody tr[data-result]")).to_have_count(1)
    page.select_option("#result-test", "ENDO")
    expect(page.locator("#result-unit")).to_have_value("EU/mL")
    page.fill("#result-value", "0.7")
    page.click("#result-form button[type=submit]")
    row = page.locator("#results tbody tr", has_text="ENDO")
    expect(row.locator(".verdict")).to_have_text("FAIL")
    expect(row).to_contain_text("< 0.5 EU/mL")


def test_a_sample_is_taken_from_the_worklist_with_the_russian_layout_active(
    page: Page, engine, settings, users
) -> None:
    """The lot's label and the test codes, typed while ЙЦУКЕН is the active layout, are read
    by the keys pressed: the sample is for VIAB and MYCO of that lot."""
    lab = Lab(engine, settings, users)
    lot = pooled_lot(lab)
    log_in_page(page, "technician", PASSWORD)
    page.goto("/qc")
    page.click("input[name=source]")
    type_with_russian_layout(page, lot.din)
    page.click("#sample-tests")
    produced = type_with_russian_layout(page, "VIAB MYCO")
    assert produced == "МШФИ ЬНСЩ"  # what the layout alone would have written
    expect(page.locator("#sample-tests")).to_have_value("VIAB MYCO")
    page.locator("button", has_text="Take sample").click()
    expect(page.locator("h1")).to_contain_text("QC sample")
    expect(page.locator("dl.facts")).to_contain_text("VIAB, MYCO")
    expect(page.locator("dl.facts")).to_contain_text(f"lot {display_code(lot.din)}")
