"""The web shell in a real browser: the scan field has the focus on every page."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.factories import PASSWORD


def test_home_page_opens_with_the_scan_field_focused(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    expect(page).to_have_title("Home · mfg")
    expect(page.locator("#scan-input")).to_be_focused()
    expect(page.locator("#test-facility-banner")).to_contain_text("TEST FACILITY")


def test_clicking_plain_page_content_returns_the_focus_to_the_scan_field(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.locator("h1").click()
    expect(page.locator("#scan-input")).to_be_focused()
