"""Labels in a real browser: previews of every layout, printing a badge, the reprint rule."""

from playwright.sync_api import Page, expect

from mfg.users.scan import staff_code
from tests.browser.conftest import log_in_page
from tests.factories import PASSWORD


def test_the_layouts_page_draws_every_label_kind(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.click("nav >> text=Labels")
    for kind in ("biopsy", "culture", "qc-sample", "material", "dose", "wristband", "badge"):
        expect(page.locator(f"#layout-{kind} svg")).to_be_visible()


def test_a_badge_is_printed_from_the_user_page_and_a_reprint_asks_for_a_reason(
    page: Page, users
) -> None:
    log_in_page(page, "admin", PASSWORD)
    page.goto("/admin/users/qc")
    page.click("#print-badge")
    expect(page.locator("#print-history")).to_contain_text("Never printed")
    with page.expect_response(lambda r: r.url.endswith("/print")) as printed:
        page.click("#print-form button[type=submit]")
    assert printed.value.headers["content-type"] == "application/pdf"
    page.goto(f"/labels/badge/{staff_code(users['qc'])}")
    expect(page.locator("#print-history")).to_contain_text("Admin Tester")
    expect(page.locator("#reprint-reason")).to_be_visible()
    expect(page.locator("#print-form button[type=submit]")).to_have_text("Reprint")
