"""QA releases a lot in a real browser: the check, the audit trail, the signature dialog."""

from playwright.sync_api import Page, expect

from mfg.identifiers.display import display_code
from tests.browser.conftest import log_in_page
from tests.donors.factories import Lab
from tests.factories import PASSWORD, add_user
from tests.release.factories import releasable_lot


def test_qa_signs_the_release_in_the_dialog_and_the_doses_become_available(
    page: Page, engine, settings, users
) -> None:
    lab = Lab(engine, settings, {**users, "qc-2": add_user(engine, settings, "qc-2", "qc")})
    lot = releasable_lot(lab)
    log_in_page(page, "qa", PASSWORD)
    page.click("nav >> text=Release")
    page.click(f"#release-queue >> text={display_code(lot.din)}")  # as people read it
    expect(page.locator("#release-ready")).to_be_visible()
    page.click("#release-button")
    dialog = page.locator("#release-dialog")
    expect(dialog.locator(".sign-meaning")).to_have_text("Released for clinical use")
    dialog.locator("input[name=audit_trail_reviewed]").check()
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".decision")).to_contain_text("RELEASED")
    expect(page.locator(".decision .printed-name")).to_have_text(users["qa"].full_name)
    expect(page.locator("#certificate-link")).to_be_visible()
