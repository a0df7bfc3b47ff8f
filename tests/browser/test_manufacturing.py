"""Bench steps in a real browser, each starting from a scanned vessel or lot label."""

from datetime import date, timedelta

from playwright.sync_api import Page, expect

from mfg.db import unit_of_work
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing import cultures, materials
from mfg.manufacturing.schemas import CultureStart, MaterialCreate, MaterialDecision
from mfg.models import User, utcnow
from tests.browser.conftest import log_in_page
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import pooled_lot

# Biopsies collected (and received 6 hours later) days before their cells are seeded here.
COLLECTED = utcnow() - timedelta(days=6)


def typed_time(settings, *, hours_ago: float) -> str:
    """A time as typed into a datetime-local field: the facility's clock, to the minute."""
    moment = utcnow() - timedelta(hours=hours_ago)
    return moment.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")


def a_culture_in_process(engine, settings, users) -> tuple[str, str]:
    lab = Lab(engine, settings, users)
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    with unit_of_work(engine, settings=settings) as session:
        tech, qa = session.get(User, users["technician"].id), session.get(User, users["qa"].id)
        lots = []
        for name in ("Alpha-MEM", "TrypLE"):
            received = MaterialCreate(
                name=name,
                supplier="S",
                catalogue_number=name,
                lot_number=f"{name}-1",
                expiry=date(2031, 1, 1),
            )
            lot = materials.register_material(session, actor=tech, command=received)
            released = MaterialDecision(release=True, password=PASSWORD)
            lots.append(materials.decide_material(session, actor=qa, lot=lot, command=released))
        start = CultureStart(
            biopsy=biopsy.din,
            vessel_type="T25 flask",
            surface_cm2=25,
            seeded_cells=400_000,
            seeded_at=utcnow() - timedelta(hours=120),
            medium_lots=[lots[0].code],
            password=PASSWORD,
        )
        culture = cultures.start_primary_culture(session, actor=tech, command=start)
        return culture.code, lots[1].code


def test_a_passage_is_recorded_starting_from_a_scanned_vessel_label(
    page: Page, engine, settings, users
) -> None:
    code, trypsin = a_culture_in_process(engine, settings, users)
    log_in_page(page, "technician", PASSWORD)
    page.keyboard.type(
        code
    )  # the vessel label's Code 128, typed by the scanner into the scan field
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cultures/{code}")
    # the end defaults to now; the start, never the same minute, is typed
    page.fill("#passage-started", typed_time(settings, hours_ago=1))
    page.fill("#harvested", "3200000")
    page.fill("#viability", "91")
    expect(page.locator("#growth-preview")).to_contain_text("Population doublings: 3.00")
    page.fill("#reseeded", "2000000")
    page.fill("#passage-form input[name=reagent_lots]", trypsin)
    page.fill("#passage-form input[name=password]", PASSWORD)
    page.click("#passage-form button[type=submit]")
    expect(page.locator("#pd")).to_have_text("3.00")
    expect(page.locator("#cpd")).to_have_text("3.00")
    expect(page.locator(".new-vessel")).to_have_count(2)
    expect(page.locator(".signature .meaning").last).to_have_text("Performed")
    expect(page.locator(".signature .signed-record").last).to_have_text("Passage")


def test_a_lot_is_harvested_and_filled_from_its_scanned_label_with_figures_before_signing(
    page: Page, engine, settings, users
) -> None:
    lab = Lab(engine, settings, users)
    lot = pooled_lot(lab)  # 4 million cells seeded 240 h ago, cumulative PD 2
    log_in_page(page, "technician", PASSWORD)
    page.keyboard.type(Din.parse(lot.din).barcode_data())  # the lot label's DIN bar code
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lots/{lot.din}")
    form = page.locator("#harvest-form")
    form.locator("input[name=started_at]").fill(typed_time(settings, hours_ago=2))
    form.locator("input[name=harvested_cells]").fill("256000000")
    form.locator("input[name=viability_pct]").fill("92")
    form.locator("input[name=final_volume_ml]").fill("64")
    preview = form.locator("[data-role=preview]")
    expect(preview).to_contain_text("Population doublings: 6.00")
    expect(preview).to_contain_text("cumulative PD: 8.00")
    expect(preview).to_contain_text("concentration: 4,000,000 cells/mL")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#concentration")).to_contain_text("4,000,000 cells/mL")
    fill = page.locator("#fill-form")
    fill.locator("#fill-count").fill("3")
    fill.locator("#fill-volume").fill("20")
    expect(page.locator("#fill-preview")).to_contain_text("3 doses × 80,000,000 cells in 20 mL")
    fill.locator("input[name=password]").fill(PASSWORD)
    fill.locator("button[type=submit]").click()
    expect(page.locator("#lot-doses tbody tr")).to_have_count(3)
