"""The web shell in a real browser: the scan field has the focus on every page."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.factories import PASSWORD


def test_home_page_opens_with_the_scan_field_focused(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    expect(page).to_have_title("Home · mfg")
    expect(page.locator("#scan-input")).to_be_focused()
    expect(page.locator("#test-facility-banner")).to_contain_text("TEST FACILITY")


def test_a_typed_scan_is_submitted_with_enter_and_shown_as_received(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.keyboard.type("=A999926000001")
    page.keyboard.press("Enter")
    expect(page.locator("#scan-received")).to_have_text("=A999926000001")
    expect(page.locator("#scan-input")).to_be_focused()


def test_clicking_plain_page_content_returns_the_focus_to_the_scan_field(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.locator("h1").click()
    expect(page.locator("#scan-input")).to_be_focused()
