"""The global scan field in a real browser: Russian layout, Caps Lock, resolution, refusals in
place."""

from playwright.sync_api import Page, expect

from mfg.users.scan import staff_code
from tests.browser.conftest import log_in_page
from tests.browser.keyboard import type_with_russian_layout
from tests.factories import PASSWORD


def test_a_scan_typed_with_a_russian_layout_lands_on_the_record(page: Page, users) -> None:
    log_in_page(page, "admin", PASSWORD)
    badge = str(staff_code(users["qc"]))
    sent = type_with_russian_layout(page, badge)
    assert sent != badge  # the keys really arrived as Cyrillic characters
    expect(page.locator("#scan-input")).to_have_value(badge)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/users/qc")
    expect(page.locator("#badge-code")).to_have_text(staff_code(users["qc"]).eye_readable)


def test_an_isbt_scan_with_a_russian_layout_keeps_its_punctuation(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    type_with_russian_layout(page, "=A99992600000100=<S1234VA0")
    expect(page.locator("#scan-input")).to_have_value("=A99992600000100=<S1234VA0")


def test_an_unknown_code_is_explained_in_place_and_the_field_is_ready_again(
    page: Page, users
) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.keyboard.type("A9999 21 123456 4")
    page.keyboard.press("Enter")
    message = page.locator("#scan-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("check character")
    expect(page).to_have_url("/")  # still on the same page
    expect(page.locator("#scan-input")).to_have_value("")
    expect(page.locator("#scan-input")).to_be_focused()
    page.keyboard.type("X")
    expect(message).to_be_hidden()


def test_a_dose_label_scanned_with_caps_lock_on_lands_on_the_dose(
    page: Page, engine, settings, users
) -> None:
    from tests.donors.factories import Lab
    from tests.manufacturing.factories import filled_lot

    lot, doses = filled_lot(Lab(engine, settings, users), count=2)
    log_in_page(page, "technician", PASSWORD)
    # What the keys of "=<DIN>00=<S1234VB0" make with Caps Lock on: Shift + letter in lower case.
    page.keyboard.type(f"={lot.din}00=<S1234VB0".lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/doses/{doses[1].identifier}")
