"""The trust layer in a real browser: login, a refused page, a signature with its manifestation."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.browser.keyboard import type_with_russian_layout
from tests.factories import PASSWORD


def test_a_technician_is_refused_the_user_administration_page(page: Page, users) -> None:
    log_in_page(page, "technician", PASSWORD)
    expect(page.locator("nav")).not_to_contain_text("Users")
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.locator(".error-box")).to_contain_text("does not allow you to manage users")
    expect(page.locator("#scan-input")).to_be_focused()


def test_qa_signs_an_audit_review_with_their_password_and_sees_the_manifestation(
    page: Page, users
) -> None:
    log_in_page(page, "qa", PASSWORD)
    page.click("text=Audit trail")
    expect(page.locator("#audit-events")).to_contain_text("login.succeeded")
    page.click("#open-review")
    dialog = page.locator("#review-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".sign-meaning")).to_have_text("Reviewed")
    dialog.locator("textarea[name=comment]").fill("Weekly review, nothing unusual")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    signature = page.locator(".signature")
    expect(signature.locator(".meaning")).to_have_text("Reviewed")
    expect(signature.locator(".printed-name")).to_have_text("Qa Tester")
    expect(signature).to_contain_text("UTC+03:00")  # local time with the facility's zone
    expect(signature).to_contain_text("Europe/Minsk")
    expect(signature.locator(".signature-state")).to_contain_text("Signature valid")


def test_a_wrong_signing_password_is_refused_in_the_browser(page: Page, users) -> None:
    log_in_page(page, "qa", PASSWORD)
    page.goto("/audit")
    page.click("#open-review")
    dialog = page.locator("#review-dialog")
    expect(dialog.locator("input[name=password]")).to_be_focused()  # typed at once
    expect(dialog.locator(".sign-signer")).to_have_text("Qa Tester (qa)")
    dialog.locator("input[name=password]").fill("not my password")
    dialog.locator("button[type=submit]").click()
    # refused in the dialog itself: it stays open, says why, and asks for the password again
    expect(dialog.locator(".form-error")).to_contain_text("Signature refused")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=password]")).to_have_value("")
    expect(dialog.locator("input[name=password]")).to_be_focused()


def test_a_locked_user_sees_why_they_cannot_log_in(page: Page, users, settings) -> None:
    for _ in range(settings.max_failed_logins):
        page.goto("/login")
        page.fill("#username", "qc")
        page.fill("#password", "wrong password")
        page.keyboard.press("Enter")
        expect(page.locator("#login-error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("locked")


def test_a_password_field_says_when_the_keyboard_layout_is_not_latin(page: Page, users) -> None:
    page.goto("/login")
    page.fill("#username", "qa")
    page.click("#password")
    warning = page.locator("#password + .layout-warning")
    type_with_russian_layout(page, "pass")  # arrives as "зфыы"
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("The keyboard layout is not Latin")
    page.fill("#password", "")
    page.keyboard.type("12")  # digits tell nothing of the layout
    expect(warning).to_be_visible()
    page.keyboard.type("x")  # the layout is switched back: a Latin letter
    expect(warning).to_be_hidden()
    # in a signature dialog too, where a refused password counts towards locking the account
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/audit")
    page.click("#open-review")
    page.click("#review-dialog input[name=password]")
    type_with_russian_layout(page, "secret")
    expect(page.locator("#review-dialog .layout-warning")).to_be_visible()


def test_a_burst_of_failed_logins_is_told_to_wait_on_the_login_page(
    page: Page, users, settings
) -> None:
    """rule: login_throttled_per_account, as the login page shows it."""
    for _ in range(settings.login_failures_per_account):
        page.goto("/login")
        page.fill("#username", "nobody-here")
        page.fill("#password", "guessing")
        page.keyboard.press("Enter")
        expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
    with page.expect_response(lambda r: r.url.endswith("/login")) as answer:
        page.fill("#password", "guessing again")
        page.keyboard.press("Enter")
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.locator("#login-error")).to_contain_text("Too many failed login attempts")
    expect(page.locator("#login-error")).to_contain_text("minute")
    expect(page.locator("#username")).to_have_value("nobody-here")  # the entry is kept


def test_an_administrator_grants_qa_rights_by_signing_with_their_password(
    page: Page, users
) -> None:
    """rule: granting_qa_or_admin_is_signed, through the user page's form."""
    log_in_page(page, "admin", PASSWORD)
    page.goto("/admin/users/technician")
    form = page.locator("form[action$='/roles']")
    form.locator("input[name=roles][value=qa]").check()
    form.locator("input[name=reason]").fill("Trained as QA deputy, SOP-QA-004")
    form.locator("button[type=submit]").click()
    # no password: refused on the form, with the choices kept
    expect(form.locator(".form-error")).to_have_attribute("data-code", "signature_required")
    expect(form.locator(".field-error")).to_contain_text("password")
    expect(form.locator("input[name=password]")).to_be_focused()
    expect(form.locator("input[name=roles][value=qa]")).to_be_checked()
    expect(form.locator("input[name=reason]")).to_have_value("Trained as QA deputy, SOP-QA-004")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("dl")).to_contain_text("Quality assurance (may release)")
    page.goto("/audit")
    expect(page.locator("#audit-events")).to_contain_text("user.roles_changed")
    expect(page.locator("#audit-events")).to_contain_text("Granted quality-assurance")
