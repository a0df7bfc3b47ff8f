"""At the bedside on a tablet: wristband and dose scanned by a keyboard-wedge scanner; a wrong
dose is a hard stop; the right one passes, two clinicians sign, the infusion is recorded."""

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect
from sqlmodel import Session

from mfg.models import Dose
from tests.browser.conftest import log_in_page
from tests.clinical.factories import (
    allocate,
    enrol,
    issue,
    laboratory_and_ward,
    order,
    ready_at_bedside,
    released_lot,
    thaw,
)
from tests.factories import PASSWORD
from tests.release.factories import label_scan


def scan(page: Page, field: str, code: str) -> None:
    """A keyboard-wedge scanner: the characters, then Enter."""
    page.click(field)
    page.keyboard.type(code)
    page.keyboard.press("Enter")


VITALS = {  # what the clinician types, a decimal comma included
    "temperature_c": "36,8",
    "heart_rate": "82",
    "systolic_mmhg": "125",
    "diastolic_mmhg": "80",
    "respiratory_rate": "18",
    "spo2": "95",
}


def test_bedside_refuses_a_wrong_dose_then_passes_is_verified_twice_and_infused(
    page: Page, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    patient, dose = ready_at_bedside(lab)
    other = enrol(lab)
    other_allocation = allocate(lab, order(lab, other))
    issue(lab, other_allocation)
    with Session(engine) as session:
        wrong = session.get(Dose, other_allocation.dose_id)
    thaw(lab, wrong)

    log_in_page(page, "clinician", PASSWORD)
    page.click("nav >> text=Bedside")
    scan(page, "#wristband", patient.code)
    page.keyboard.type(label_scan(lab, wrong))
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("STOP — DO NOT INFUSE")
    failed = page.locator('[data-check="allocated to this patient"]')
    expect(failed).to_contain_text("THIS DOSE IS NOT ALLOCATED TO THIS PATIENT")

    page.click("text=New check")
    scan(page, "#wristband", patient.code)
    page.keyboard.type(label_scan(lab, dose))
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("ALL CHECKS PASSED")

    form = page.locator("#verify-form")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#identity-signatures li")).to_have_count(1)
    form = page.locator("#verify-form")  # the second clinician, on the same tablet
    form.locator("input[name=username]").fill("clinician-2")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()

    infusion = page.locator("#infusion-form")
    stopped = infusion.locator("input[name=started_at]").input_value()  # now, to the minute
    infusion.locator("input[name=stopped_at]").fill(stopped)  # as it starts: refused
    infusion.locator("input[name=volume_ml]").fill("9,5")
    infusion.locator("input[name=bag_inspected]").check()
    for moment in ("before", "during", "after"):
        for vital, value in VITALS.items():
            infusion.locator(f"input[name={moment}_{vital}]").fill(value)
    infusion.locator("input[name=password]").fill(PASSWORD)
    infusion.locator("button[type=submit]").click()
    expect(infusion.locator(".form-error")).to_contain_text("ends before or as it starts")
    expect(infusion.locator("input[name=volume_ml]")).to_have_value("9,5")  # nothing lost
    end = datetime.fromisoformat(stopped) + timedelta(minutes=1)  # within the clock's skew
    infusion.locator("input[name=stopped_at]").fill(end.strftime("%Y-%m-%dT%H:%M"))
    infusion.locator("input[name=password]").fill(PASSWORD)
    infusion.locator("button[type=submit]").click()
    expect(page.locator("#infused")).to_contain_text("9.5 mL")


def test_a_technician_hands_a_dose_over_to_a_clinician_who_signs_for_it_with_their_password(
    page: Page, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    released_lot(lab)
    patient = enrol(lab)
    allocation = allocate(lab, order(lab, patient))
    log_in_page(page, "technician", PASSWORD)
    page.goto(f"/patients/{patient.code}")
    form = page.locator(f"#handover-{allocation.id}")
    form.locator("input[name=receiver_username]").fill("clinician")
    form.locator("input[name=receiver_password]").fill("not their password")
    form.locator("input[name=transport_temp_c]").fill("-152")
    form.locator("button[type=submit]").click()
    # refused on the form itself, the entries kept, the refused password asked again
    expect(form.locator(".form-error")).to_contain_text("password")
    expect(form.locator("input[name=receiver_password]")).to_have_value("")
    expect(form.locator("input[name=receiver_username]")).to_have_value("clinician")
    expect(form.locator("input[name=transport_temp_c]")).to_have_value("-152")
    form.locator("input[name=receiver_password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_have_text("Dose handed over to the ward.")
    expect(page.locator("#allocations")).to_contain_text("to Clinician Tester, -152.0 °C")
    expect(page.locator(f"#handover-{allocation.id}")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
