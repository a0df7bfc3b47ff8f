"""The biopsy receipt at the bench, in a real browser: scan the tube label, record the receipt."""

from datetime import timedelta

from playwright.sync_api import Page, expect

from mfg.db import unit_of_work
from mfg.donors import biopsies, service
from mfg.donors.schemas import BiopsyIn, DonorCreate
from mfg.models import User, utcnow
from tests.browser.conftest import log_in_page
from tests.browser.keyboard import type_with_russian_layout
from tests.factories import PASSWORD


def a_collected_biopsy(engine, settings, users) -> str:
    with unit_of_work(engine, settings=settings) as session:
        tech = session.get(User, users["technician"].id)
        donor = service.register_donor(
            session, actor=tech, command=DonorCreate(sex="F", birth_year=1984)
        )
        collection = BiopsyIn(
            collected_at=utcnow() - timedelta(hours=3),
            site="Olfactory mucosa, left",
            collected_by="Dr. ENT",
        )
        biopsy = biopsies.register_biopsy(session, actor=tech, donor=donor, command=collection)
        return biopsy.din


def test_a_technician_receives_a_biopsy_by_scanning_its_tube_label(
    page: Page, engine, settings, users
) -> None:
    din = a_collected_biopsy(engine, settings, users)
    log_in_page(page, "technician", PASSWORD)
    page.goto("/biopsies/receive")
    expect(page.locator("#tube-scan")).to_be_focused()
    # the scanner types the tube's Code 128 (=DIN + flags) under a Russian keyboard layout
    type_with_russian_layout(page, f"={din}00")
    page.keyboard.press("Enter")
    expect(page.locator("#tube-found")).to_contain_text(din[7:])
    page.click("#go-receipt")
    page.wait_for_url(f"**/biopsies/{din}**")
    page.fill("#transport-temperature", "4.5")
    with page.expect_navigation():
        page.click("#receipt-form button[type=submit]")
    expect(page.locator("#receipt")).to_contain_text("4.5 °C")
    expect(page.locator(".flash")).to_contain_text("received")
    expect(page.locator("#biopsy-use")).to_contain_text("QUARANTINE")


def test_an_unknown_tube_is_explained_and_the_field_is_ready_for_the_next_scan(
    page: Page, users
) -> None:
    log_in_page(page, "technician", PASSWORD)
    page.goto("/biopsies/receive")
    page.keyboard.type("=A99992699999900")
    page.keyboard.press("Enter")
    expect(page.locator("#tube-error")).to_contain_text("No biopsy with DIN")
    expect(page.locator("#tube-scan")).to_be_focused()
    expect(page.locator("#tube-scan")).to_have_value("")
