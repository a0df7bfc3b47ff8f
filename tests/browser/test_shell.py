"""The web shell in a real browser: the scan field has the focus on every page."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.factories import PASSWORD


def test_home_page_opens_with_the_scan_field_focused(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    expect(page).to_have_title("Home · mfg")
    expect(page.locator("#scan-input")).to_be_focused()
    expect(page.locator("#test-facility-banner")).to_contain_text("TEST FACILITY")
    expect(page.locator("#worklist")).to_contain_text("Nothing is waiting for you.")


def test_clicking_plain_page_content_returns_the_focus_to_the_scan_field(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.locator("h1").click()
    expect(page.locator("#scan-input")).to_be_focused()


def _fill_enrolment(page: Page, age: str) -> None:
    page.fill("input[name=age]", age)
    page.fill("input[name=weight_kg]", "71,5")  # a Russian keyboard's decimal comma
    criteria = page.locator(".criterion")
    for i in range(criteria.count()):
        answer = "yes" if criteria.nth(i).inner_text().startswith("Inclusion") else "no"
        criteria.nth(i).locator(f"input[value={answer}]").check()


def test_a_refused_form_says_why_on_the_form_with_the_entries_kept(page: Page, users) -> None:
    """A rule refuses the enrolment (age out of the trial's range): the form says why, beside
    the field, with no HTTP code and nothing typed lost; one field corrected, it goes through."""
    log_in_page(page, "clinician", PASSWORD)
    page.goto("/patients")
    _fill_enrolment(page, "80")
    page.locator("button", has_text="Enrol").click()

    form = page.locator("form:has(input[name=age])")
    expect(form.locator(".field-error")).to_contain_text("Age 80 is outside 18–70 years.")
    expect(form.locator(".form-error")).not_to_contain_text("422")
    expect(page).to_have_url(re.compile(r"/patients$"))  # still on the form
    expect(page.locator("input[name=weight_kg]")).to_have_value("71,5")
    expect(page.locator("input[name=age]")).to_have_value("80")
    expect(page.locator("input[name=age]")).to_be_focused()
    expect(page.locator(".criterion input:checked")).to_have_count(
        page.locator(".criterion").count()
    )

    page.fill("input[name=age]", "60")
    page.locator("button", has_text="Enrol").click()
    expect(page).to_have_url(re.compile(r"/patients/PT\d{6}[A-Z0-9]$"))
    expect(page.locator("body")).to_contain_text("F, 60 years")
    expect(page.locator("#weight")).to_contain_text("71.5 kg")


def test_without_script_a_refused_form_goes_back_to_the_form_with_the_entries_kept(
    browser, live_server: str, users
) -> None:
    """The same refusal with scripts off: the error page, whose "Back to the form" returns to
    the form as it was filled."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in_page(page, "clinician", PASSWORD)
        page.goto("/patients")
        _fill_enrolment(page, "80")
        page.locator("button", has_text="Enrol").click()
        expect(page.locator(".error-box h1")).to_have_text("Age 80 is outside 18–70 years.")
        expect(page.locator(".error-box")).not_to_contain_text("HTTP")
        page.go_back()
        expect(page.locator("input[name=weight_kg]")).to_have_value("71,5")
        expect(page.locator("input[name=age]")).to_have_value("80")
    finally:
        context.close()
