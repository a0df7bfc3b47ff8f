"""The Russian interface in a real browser with a Russian locale: the login page follows the
browser's language, each person chooses Russian on their account page, QA releases a lot and
clinicians work the bedside — every word they act on in Russian, the signatures kept with the
meaning as the signer read it."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from mfg.identifiers.display import display_code
from mfg.models import Dose
from tests.browser.test_bedside import VITALS, scan
from tests.clinical.factories import (
    allocate,
    enrol,
    issue,
    laboratory_and_ward,
    order,
    ready_at_bedside,
    thaw,
)
from tests.donors.factories import Lab
from tests.factories import PASSWORD, add_user
from tests.release.factories import label_scan, releasable_lot


@pytest.fixture
def ru_page(browser, live_server: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server, locale="ru-RU", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in_in_russian(page: Page, username: str) -> None:
    """The login page speaks the browser's language; then the person chooses Russian."""
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("Войти")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Войти')")
    page.wait_for_url(lambda url: "/login" not in url)
    page.click("#current-user")  # their name, top right: their account
    page.select_option("#language", "ru")
    page.click("#language-form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Язык сохранён.")


def test_qa_releases_a_lot_in_russian(ru_page: Page, engine, settings, users) -> None:
    lab = Lab(engine, settings, {**users, "qc-2": add_user(engine, settings, "qc-2", "qc")})
    lot = releasable_lot(lab)
    page = ru_page
    log_in_in_russian(page, "qa")
    page.click("nav >> text=Выпуск")
    expect(page.locator("h1")).to_have_text("Серии, ожидающие решения ОК")
    page.click(f"#release-queue >> text={display_code(lot.din)}")
    expect(page.locator("#release-ready")).to_have_text(
        "Ничто не препятствует выпуску этой серии вами."
    )
    page.click("#release-button")
    dialog = page.locator("#release-dialog")
    expect(dialog.locator("h2")).to_have_text("Электронная подпись")
    expect(dialog.locator(".sign-meaning")).to_have_text("Выпущено для клинического применения")
    dialog.locator("input[name=audit_trail_reviewed]").check()
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button:has-text('Подписать')").click()
    expect(page.locator(".decision strong").first).to_have_text("ВЫПУЩЕНО")
    expect(page.locator(".decision .meaning")).to_have_text("Выпущено для клинического применения")
    expect(page.locator(".decision .signature-state")).to_contain_text("Подпись действительна")


def test_clinicians_check_and_infuse_at_the_bedside_in_russian(
    ru_page: Page, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    patient, dose = ready_at_bedside(lab)
    page = ru_page
    log_in_in_russian(page, "clinician")
    page.click("nav >> text=У постели")
    expect(page.locator("h1")).to_have_text("Проверка у постели пациента")
    other = enrol(lab)  # a dose allocated to someone else: the hard stop, in Russian
    wrong_allocation = allocate(lab, order(lab, other))
    issue(lab, wrong_allocation)
    with Session(engine) as session:
        wrong = session.get(Dose, wrong_allocation.dose_id)
    thaw(lab, wrong)
    scan(page, "#wristband", patient.code)
    page.keyboard.type(label_scan(lab, wrong))
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("СТОП — НЕ ВВОДИТЬ")
    stop = page.locator('[data-check="allocated to this patient"]')
    expect(stop).to_contain_text("назначена этому пациенту")
    expect(stop).to_contain_text("ЭТА ДОЗА НЕ НАЗНАЧЕНА ЭТОМУ ПАЦИЕНТУ")
    page.click("text=Новая проверка")
    scan(page, "#wristband", patient.code)
    page.keyboard.type(label_scan(lab, dose))
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("ВСЕ ПРОВЕРКИ ПРОЙДЕНЫ")
    expect(page.locator("h2")).to_have_text(
        "Идентичность пациента и продукта подтверждена (0 из 2)"
    )
    for signed, username in enumerate(("clinician", "clinician-2"), 1):  # on the same tablet
        form = page.locator("#verify-form")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(PASSWORD)
        form.locator("button:has-text('Подписать')").click()
        expect(page.locator("#identity-signatures li")).to_have_count(signed)
    infusion = page.locator("#infusion-form")
    started = infusion.locator("input[name=started_at]").input_value()
    end = datetime.fromisoformat(started) + timedelta(minutes=1)  # within the clock's skew
    infusion.locator("input[name=stopped_at]").fill(end.strftime("%Y-%m-%dT%H:%M"))
    infusion.locator("input[name=volume_ml]").fill("9,5")  # a decimal comma
    infusion.locator("text=Пакет осмотрен").check()
    for moment in ("before", "during", "after"):
        for vital, value in VITALS.items():
            infusion.locator(f"input[name={moment}_{vital}]").fill(value)
    infusion.locator("input[name=password]").fill(PASSWORD)
    infusion.locator("button:has-text('Записать инфузию')").click()
    expect(page.locator("#infused")).to_contain_text("9,5 мл")
    # each signer's meaning as they read it on the tablet, in Russian
    expect(page.locator("#infusion-signatures .meaning")).to_have_text(
        ["Идентичность пациента и продукта подтверждена"] * 2 + ["Введено пациенту"]
    )
