"""A Russian-speaking technician types a decimal comma: in a Chromium with the Russian locale,
12,5 typed into a quantity field is stored and shown as 12.5 (a ``type="number"`` field once
dropped the comma: 125)."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from mfg.models import Dose, Harvest, utcnow
from tests.browser.conftest import log_in_page
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import harvest, pooled_lot


@pytest.fixture
def russian_page(browser, live_server: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A browser whose locale is Russian: its decimal separator is the comma."""
    context = browser.new_context(
        base_url=live_server, locale="ru-RU", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _typed_time(settings, *, hours_ago: float) -> str:
    moment = utcnow() - timedelta(hours=hours_ago)
    return moment.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")


def test_a_volume_typed_12_comma_5_in_a_russian_browser_is_stored_and_shown_as_12_5(
    russian_page: Page, engine, settings, users
) -> None:
    lab = Lab(engine, settings, users)
    lot = pooled_lot(lab)
    harvest(lab, lot, volume_ml=100)  # 400 million cells in 100 mL
    page = russian_page
    log_in_page(page, "technician", PASSWORD)
    page.goto(f"/lots/{lot.din}")
    form = page.locator("#fill-form")
    form.locator("#fill-count").press_sequentially("4")
    form.locator("#fill-volume").press_sequentially("12,5")  # key by key, as typed
    expect(form.locator("#fill-volume")).to_have_value("12,5")
    expect(page.locator("#fill-preview")).to_contain_text("4 doses × 50,000,000 cells in 12.5 mL")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#lot-doses tbody tr")).to_have_count(4)
    expect(page.locator("#lot-doses")).to_contain_text("12.5 mL")
    with Session(engine) as session:
        volumes = [d.volume_ml for d in session.exec(select(Dose)).all()]
    assert volumes == [12.5] * 4


def test_a_viability_and_a_volume_typed_with_commas_are_read_in_the_harvest_form(
    russian_page: Page, engine, settings, users
) -> None:
    lab = Lab(engine, settings, users)
    lot = pooled_lot(lab)
    page = russian_page
    log_in_page(page, "technician", PASSWORD)
    page.goto(f"/lots/{lot.din}")
    form = page.locator("#harvest-form")
    form.locator("input[name=started_at]").fill(_typed_time(settings, hours_ago=2))
    form.locator("input[name=harvested_cells]").press_sequentially("256 000 000")
    form.locator("input[name=viability_pct]").press_sequentially("92,5")
    form.locator("#final-volume").press_sequentially("64,5")
    expect(form.locator("[data-role=preview]")).to_contain_text("Population doublings: 6.00")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#harvest-record")).to_contain_text("92.5 %")
    expect(page.locator("#concentration")).to_contain_text("64.5 mL")
    with Session(engine) as session:
        record = session.exec(select(Harvest)).one()
    assert (record.viability_pct, record.final_volume_ml) == (92.5, 64.5)
    assert record.harvested_cells == 256_000_000
