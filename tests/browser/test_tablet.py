"""On a tablet held upright (768 x 1024): the clinician at the bedside and QA on the floor read
every page without scrolling it sideways; a table wider than the screen (a record's history with
its content hashes) scrolls in its own box, and a choice sits on one line with its word."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from mfg.models import Lot
from tests.browser.conftest import log_in_page
from tests.clinical.factories import check, laboratory_and_ward, ready_at_bedside
from tests.factories import PASSWORD

TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def tablet(browser, live_server: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, viewport=TABLET, has_touch=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def assert_fits_the_screen(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a tablet"


def test_the_clinicians_and_qas_pages_fit_a_tablet_without_scrolling_sideways(
    tablet: Page, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    patient, dose = ready_at_bedside(lab)
    bedside = check(lab, patient.code, dose)
    din = lab.run("qa", lambda s, a: s.get(Lot, dose.lot_id).din)

    log_in_page(tablet, "clinician", PASSWORD)
    for path in (
        "/patients",
        f"/patients/{patient.code}",
        "/bedside",
        f"/bedside/checks/{bedside.id}",
        "/doses",
        f"/doses/{dose.identifier}",
    ):
        assert_fits_the_screen(tablet, path)

    tablet.context.clear_cookies()
    log_in_page(tablet, "qa", PASSWORD)
    for path in (f"/lots/{din}", f"/lots/{din}/release", "/audit", "/deviations"):
        assert_fits_the_screen(tablet, path)
    # A table too wide for the screen (the lot's history) scrolls in its own box.
    tablet.goto(f"/lots/{din}")
    history = tablet.locator("table.history").first
    assert history.evaluate("t => getComputedStyle(t).overflowX") == "auto"


def test_an_eligibility_answer_sits_on_one_line_with_its_word_on_a_tablet(
    tablet: Page, users
) -> None:
    log_in_page(tablet, "clinician", PASSWORD)
    tablet.goto("/patients")
    answers = tablet.locator(".criterion label.inline")
    expect(answers.first).to_be_visible()
    for i in range(answers.count()):
        answer = answers.nth(i)
        control = answer.locator("input[type=radio]").bounding_box()
        word = answer.bounding_box()
        assert control is not None and word is not None
        # the radio is inside its label's single line, and big enough for a gloved finger
        assert word["height"] < 2 * control["height"], answer.inner_text()
        assert control["width"] >= 20 and control["height"] >= 20
