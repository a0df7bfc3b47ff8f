"""Printouts in the facility's language (docs/architecture.md#languages): the certificate, the
batch record, the notification list, the trial report and the labels are printed in
``MFG_LANGUAGE``, whoever prints them, each naming its language, in fonts that hold Cyrillic; the
certificate may be bilingual."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader

from mfg import i18n
from mfg.clinical.report import ArmCounts, Report, report_pdf
from mfg.config import Settings
from mfg.db import unit_of_work
from mfg.manufacturing.pools import get_lot
from mfg.models import utcnow
from mfg.release.certificate import build_certificate, render_certificate_pdf
from mfg.trace.lookback import LookBack
from mfg.trace.notifications import render_notification_pdf
from tests.donors.factories import Lab
from tests.factories import add_user, bearer
from tests.release.factories import releasable_lot, release


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The Minsk facility: MFG_LANGUAGE=ru."""
    return Settings(**{**settings.model_dump(), "language": "ru"})


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    users = {
        **users,
        "qc-2": add_user(engine, settings, "qc-2", "qc"),
        "qa-2": add_user(engine, settings, "qa-2", "qa"),
    }
    return Lab(engine, settings, users)


@pytest.fixture
def released(lab):
    """A lot released by QA, every signature given in Russian as the staff sign."""
    with i18n.use_language("ru"):
        lot = releasable_lot(lab)
        release(lab, lot)
    return lot


def _text(pdf: bytes) -> str:
    pages = PdfReader(BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _fonts(pdf: bytes) -> set[str]:
    found = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            found.add(str(font.get_object()["/BaseFont"]))
    return found


def _no_english(text: str, *phrases: str) -> list[str]:
    return [p for p in phrases if p in text]


def test_the_certificate_is_printed_in_the_facility_language(client, lab, released) -> None:
    response = client.get(f"/api/lots/{released.din}/certificate.pdf", headers=bearer(client, "qa"))
    assert response.status_code == 200, response.text
    text = _text(response.content)
    expected = [
        "Сертификат выпуска — серия",
        "Язык: Русский (ru)",
        "Решения и подписи",
        "Выпущено для клинического применения",  # the meaning as the signer was shown it
        "— ДЕЙСТВИТЕЛЬНА",
        "ТЕСТОВОЕ УЧРЕЖДЕНИЕ — НЕ ДЛЯ КЛИНИЧЕСКОГО ПРИМЕНЕНИЯ",
        "соответствует",
        "Страница 1 из",
    ]
    assert [phrase for phrase in expected if phrase not in text] == []
    english = (
        "Certificate of release",
        "Decisions and signatures",
        "Released for clinical use",
        "Language:",
        "TEST FACILITY",
        " pass ",
        "Page 1 of",
    )
    assert _no_english(text, *english) == []
    assert not any("Helvetica" in font for font in _fonts(response.content))


def test_the_bilingual_certificate_prints_both_languages(lab, released) -> None:
    bilingual = Settings(**{**lab.settings.model_dump(), "certificate_bilingual": True})
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        certificate = build_certificate(
            session, actor=lab.users["qa"], lot=get_lot(session, released.din)
        )
    text = _text(render_certificate_pdf(certificate, bilingual))
    expected = [
        "Сертификат выпуска / Certificate of release",
        "Решения и подписи / Decisions and signatures",
        "Выпущено для клинического применения / Released for clinical use",
        "ДЕЙСТВИТЕЛЬНА / VALID",
        "соответствует / pass",
        "Язык: Русский (ru) + English (en)",
    ]
    assert [phrase for phrase in expected if phrase not in text] == []


def test_an_english_facility_prints_in_english_and_says_so(lab, released) -> None:
    english = Settings(**{**lab.settings.model_dump(), "language": "en"})
    with unit_of_work(lab.engine, settings=lab.settings, write=False) as session:
        certificate = build_certificate(
            session, actor=lab.users["qa"], lot=get_lot(session, released.din)
        )
    text = _text(render_certificate_pdf(certificate, english))
    assert "Certificate of release — lot" in text and "Language: English (en)" in text
    assert "Сертификат" not in text


def test_the_batch_record_is_printed_in_the_facility_language(client, lab, released) -> None:
    response = client.get(
        f"/api/lots/{released.din}/batch-record.pdf", headers=bearer(client, "qa")
    )
    assert response.status_code == 200, response.text
    text = _text(response.content)
    expected = [
        "Электронное досье на серию — серия",
        "Язык: Русский (ru)",
        "2. Объединение",
        "5. Розлив",
        "— ДЕЙСТВИТЕЛЬНА",
        "Страница 1 из",
    ]
    assert [phrase for phrase in expected if phrase not in text] == []
    english = ("Electronic batch record", "Pooling", "— VALID", "Page 1 of", " cells")
    assert _no_english(text, *english) == []
    assert not any("Helvetica" in font for font in _fonts(response.content))


def test_the_notification_list_and_trial_report_are_printed_in_the_facility_language(
    settings,
) -> None:
    nobody = LookBack(kind="donor", identifier="DN-000001-X", lots=[], doses=[], notifications=[])
    notifications = _text(render_notification_pdf(nobody, settings))
    assert "Список оповещения по обратному прослеживанию — донор DN-000001-X" in notifications
    assert "Язык: Русский (ru)" in notifications
    assert _no_english(notifications, "Look-back", "Patients to notify", "Generated") == []

    arm = ArmCounts(
        code="A", name="MSC", receives_product=True, enrolled=8, withdrawn=1, infused=8,
        cured=5, treatment_related_ae=1,
    )  # fmt: skip
    report = Report("NCT04382547", "MSC in COVID-19", utcnow(), (arm,))
    text = _text(report_pdf(report, settings))
    assert "Отчёт по исследованию — NCT04382547" in text and "Язык: Русский (ru)" in text
    assert "5 (62,5 %)" in text  # the decimal comma of the facility's language
    assert _no_english(text, "Trial report", "Enrolled", "Percentages") == []
