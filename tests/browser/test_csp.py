"""The strict Content-Security-Policy in a real browser: the pages that had inline scripts or
inline event handlers run without a single violation, and what those scripts did still works
from the static files."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in_page
from tests.browser.test_manufacturing import a_culture_in_process
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import pooled_lot
from tests.qc.factories import lot_sample

# Runs before any page script; the policy does not apply to it (it is not part of the page).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page, and every CSP violation it reports (events and console messages)."""
    reported: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda m: reported.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page, reported


def violations(page: Page, reported: list[str]) -> list[str]:
    return reported + page.evaluate("window.__cspViolations || []")


def test_csp_status_filters_submit_on_change_without_violations(watched, users) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    log_in_page(page, "qa", PASSWORD)
    for path, status in (
        ("/doses", "quarantine"),
        ("/donors", "eligible"),
        ("/deviations", "open"),
    ):
        page.goto(path)
        page.select_option("select[name=status]", status)
        page.wait_for_url(re.compile(rf"{path}\?status={status}$"))
        expect(page.locator("select[name=status]")).to_have_value(status)
        assert violations(page, reported) == [], path


def test_csp_back_to_the_form_goes_back_in_history_without_violations(watched, users) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    log_in_page(page, "admin", PASSWORD)
    page.goto("/admin/users?tab=new")
    form = page.locator("form", has=page.locator("input[name=full_name]"))
    form.locator("input[name=username]").fill("qc")  # taken: refused
    form.locator("input[name=full_name]").fill("Second Qc")
    form.locator("input[name=roles][value=qc]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator(".error-box")).to_be_visible()
    assert violations(page, reported) == []
    page.click("#back-to-form")
    page.wait_for_url(re.compile(r"/admin/users\?tab=new$"))
    navigation = page.evaluate("performance.getEntriesByType('navigation')[0].type")
    assert navigation == "back_forward"  # history.back(), not the link's href
    expect(page.locator("input[name=full_name]")).to_have_value("Second Qc")
    assert violations(page, reported) == []


def test_csp_bedside_wristband_enter_moves_to_the_dose_field_without_violations(
    watched, users
) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    log_in_page(page, "clinician", PASSWORD)
    page.goto("/bedside")
    page.click("#wristband")
    page.keyboard.type("PT000001X")
    page.keyboard.press("Enter")
    expect(page.locator("#dose-label")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/bedside$"))  # Enter did not send the form
    assert violations(page, reported) == []


def test_csp_qc_sample_test_choice_sets_readings_and_unit_without_violations(
    watched, engine, settings, users
) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    lab = Lab(engine, settings, users)
    sample = lot_sample(lab, pooled_lot(lab), "ENDO", "STER-AER")
    log_in_page(page, "qc", PASSWORD)
    page.goto(f"/qc/samples/{sample.code}")
    page.select_option("#result-test", "STER-AER")
    expect(page.locator("#result-reading option")).to_have_count(3)
    expect(page.locator("#result-reading")).to_have_value("day 3")
    page.select_option("#result-test", "ENDO")
    expect(page.locator("#result-unit")).to_have_value("EU/mL")
    assert violations(page, reported) == []


def test_csp_culture_passage_preview_without_violations(watched, engine, settings, users) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    code, _ = a_culture_in_process(engine, settings, users)
    log_in_page(page, "technician", PASSWORD)
    page.goto(f"/cultures/{code}")
    page.fill("#harvested", "3200000")
    page.fill("#viability", "65")  # below the in-process minimum of 70 %
    preview = page.locator("#growth-preview")
    expect(preview).to_contain_text("Population doublings: 3.00")
    expect(preview).to_contain_text("VIABILITY BELOW SPECIFICATION")
    assert violations(page, reported) == []


def test_csp_lot_harvest_preview_and_label_layouts_without_violations(
    watched, engine, settings, users
) -> None:  # type: ignore[no-untyped-def]
    page, reported = watched
    lab = Lab(engine, settings, users)
    lot = pooled_lot(lab)  # 4 million cells seeded 240 h ago, cumulative PD 2
    log_in_page(page, "technician", PASSWORD)
    page.goto(f"/lots/{lot.din}")
    form = page.locator("#harvest-form")
    form.locator("input[name=harvested_cells]").fill("256000000")
    form.locator("input[name=viability_pct]").fill("92")
    form.locator("input[name=final_volume_ml]").fill("64")
    preview = form.locator("[data-role=preview]")
    expect(preview).to_contain_text("Population doublings: 6.00 · cumulative PD: 8.00")
    expect(preview).to_contain_text("concentration: 4,000,000 cells/mL")
    assert violations(page, reported) == []
    page.goto("/labels")  # every label layout drawn as inline SVG
    expect(page.locator(".label-frame svg").first).to_be_visible()
    assert violations(page, reported) == []
