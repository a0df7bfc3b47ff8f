"""Labels print in the facility's language (labels/README.md, "Languages"), whoever prints them: a
Russian facility's labels read back in Russian with no English word of the label's own, their bar
codes still decode, their ZPL is UTF-8 set in a printer font with Cyrillic; every layout fits in
every language a label may print in; an English facility's labels print as they always did."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from mfg import i18n
from mfg.config import Settings
from mfg.donors.scan_and_label import quarantine_text
from mfg.labeling import fields
from mfg.labeling.fields import LABEL_KINDS, LabelData, longest_variants, sample_data
from mfg.labeling.fit import EDGE_MARGIN_MM, MIN_FONT_PT, value_of
from mfg.labeling.layout import LayoutError, label_languages, layout_path, load_layout, parse_layout
from mfg.labeling.pdf import label_pdf
from mfg.labeling.readback import LabelTextMismatch, verify_text
from mfg.labeling.zpl import UNICODE_FONT, label_zpl
from mfg.models import DonorStatus
from mfg.users.scan import staff_code
from tests.factories import bearer, log_in
from tests.labeling.helpers import (
    decoded,
    drawn_texts,
    page_width_mm,
    read_text,
    zpl_barcode_data,
    zpl_text_fields,
)

# What each kind's sample label says in Russian, beside the test notice every sample carries: its
# fixed words, notices and status, and the words of its values.
RUSSIAN: dict[str, list[str]] = {
    "biopsy": ["Биоптат обонятельной слизистой", "КАРАНТИН"],
    "culture": ["Биоптат A9999 26 123456 T", "В ПРОИЗВОДСТВЕ"],
    "qc-sample": ["Серия A9999 26 123456 T"],
    "material": ["Серия", "Годен до", "ВЫПУЩЕНО"],
    "dose": [
        "DIN",
        "FIN",
        "Деление",
        "ГОДЕН ДО",
        "КАРАНТИН",
        "ТОЛЬКО ДЛЯ КЛИНИЧЕСКОГО ИССЛЕДОВАНИЯ",
        "70 x 10^6 кл.",
        "50 мл",
    ],
    "wristband": ["F, 54 г."],
    "badge": ["Аналитик ОКК, Технолог производства"],
    "allocation": [
        "НАЗНАЧЕНО ПАЦИЕНТУ",
        "Доза A9999 26 123456 T S1234VA0",
        "1e+06 кл./кг x 70.5 кг = 70,500,000 кл.",
        "Годен до 2027-02-02 23:59 UTC+03:00",
    ],
}
TEST_NOTICE_RU = "ТЕСТ — НЕ ДЛЯ КЛИНИЧЕСКОГО ПРИМЕНЕНИЯ"
ISBT_ABBREVIATIONS = {"DIN", "FIN"}  # ISBT 128's own: the same in every language
# English words of the labels' own (besides the layouts' fixed words): the notices, statuses, and
# the words composed into values
ENGLISH = [
    "TEST FACILITY",
    "NOT FOR CLINICAL USE",
    "CLINICAL TRIAL",
    "QUARANTINE",
    "IN PROCESS",
    "RELEASED",
    "Expires",
    "10^6 cells",
    "cells/kg",
    "mL",
    "Dose",
    "Biopsy",
    "Lot",
    "Olfactory mucosa biopsy",
    "Manufacturing technician",
    "QC analyst",
]


def english_words(kind: str, text: str) -> list[str]:
    """The English words of a label's own (its layout's fixed words, ISBT 128's abbreviations
    aside, its notices, statuses and value words) that ``text`` holds."""
    layout = load_layout(kind)
    fixed = [t.text for t in layout.texts if t.text and t.text not in ISBT_ABBREVIATIONS]
    fixed += [t.overflow_text.split("{count}")[1].strip() for t in layout.texts if t.overflow_text]
    return [w for w in [*fixed, *ENGLISH] if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]


def beyond_windows_1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def russian_sample(kind: str) -> LabelData:
    with i18n.use_language("ru"):
        return sample_data(kind)


def barcodes_of(kind: str, data: LabelData) -> list[str]:
    return sorted(data[b.field] for b in load_layout(kind).barcodes)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A Minsk facility: MFG_LANGUAGE=ru."""
    return Settings(**{**settings.model_dump(), "language": "ru"})


@pytest.fixture
def samples(app) -> None:
    """Every kind's label built from its sample data, as its record kind builds it: in the
    language the print runs in."""
    for kind in LABEL_KINDS:
        app.state.label_sources.register(kind, lambda session, ident, flags, k=kind: sample_data(k))


@pytest.fixture
def printer(client: TestClient, users) -> dict[str, str]:
    """A technician who reads the application in English."""
    headers = bearer(client, "technician")
    assert client.patch("/api/me", json={"language": "en"}, headers=headers).status_code == 200
    return headers


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_a_russian_facility_prints_every_label_kind_in_russian_whoever_prints_it(
    kind: str, client: TestClient, samples, printer
) -> None:
    """The PDF reads back in Russian, with no English word of the label's own, and every bar
    code decodes to its data, for a technician who reads the application in English."""
    response = client.get(f"/api/labels/{kind}/SAMPLE1.pdf", headers=printer)
    assert response.status_code == 200, response.text
    text = read_text(response.content)
    for word in [*RUSSIAN[kind], TEST_NOTICE_RU]:
        assert word in text, word
    assert english_words(kind, text) == []
    assert decoded(response.content) == [barcodes_of(kind, russian_sample(kind))]


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_a_russian_facility_zpl_label_is_utf8_set_in_the_printers_unicode_font(
    kind: str, client: TestClient, samples, printer
) -> None:
    """``^CI28`` first; the Russian words as UTF-8 hex escapes, in the Unicode font; the rest in
    the printer's own fonts; the bar codes carry their data."""
    response = client.get(f"/api/labels/{kind}/SAMPLE2.zpl", headers=printer)
    assert response.status_code == 200, response.text
    assert response.content.isascii()  # every other character is a hex escape
    zpl = response.text
    assert zpl.startswith("^XA\n^CI28\n")
    blocks = zpl_text_fields(zpl)
    printed = " ".join(" ".join(lines) for *_, lines in blocks)
    for word in [*RUSSIAN[kind], TEST_NOTICE_RU]:
        assert word in printed, word
    assert english_words(kind, printed) == []
    for font, *_, lines in blocks:
        expected = {UNICODE_FONT} if beyond_windows_1252(" ".join(lines)) else {"0", "D"}
        assert font in expected, (font, lines)
    assert zpl_barcode_data(zpl) == barcodes_of(kind, russian_sample(kind))


def test_a_record_kinds_own_label_builder_composes_its_words_in_the_facility_language(
    client: TestClient, users, printer
) -> None:
    """The staff badge as mfg.users.scan builds it: the roles as the Russian pages name them."""
    response = client.get(f"/api/labels/badge/{staff_code(users['qc'])}.pdf", headers=printer)
    assert response.status_code == 200, response.text
    text = read_text(response.content)
    assert "Аналитик ОКК" in text and TEST_NOTICE_RU in text
    assert english_words("badge", text) == []


def test_the_label_page_previews_the_label_in_the_facility_language(
    client: TestClient, users
) -> None:
    log_in(client, "qa")
    page = client.get("/labels")
    assert page.status_code == 200
    assert "ГОДЕН ДО" in page.text and "НАЗНАЧЕНО ПАЦИЕНТУ" in page.text
    assert ">EXPIRES<" not in page.text


def test_labels_may_print_in_english_and_every_language_with_a_catalog() -> None:
    assert label_languages() == ["en", "ru", "be"]


@pytest.mark.parametrize("language", ["en", "ru", "be"])
@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_every_layout_prints_its_longest_data_whole_with_each_status_in_every_language(
    kind: str, language: str
) -> None:
    """What the layout check proved when the layout was loaded, printed: every text whole, read
    back where it was set, inside the label, at 4 pt or more."""
    layout = load_layout(kind)
    with i18n.use_language(language):
        for data in longest_variants(kind):
            pdf = label_pdf(layout, [data], title=kind)
            verify_text(pdf, layout, data)
            width = page_width_mm(pdf)
            for drawn in drawn_texts(pdf)[0]:
                assert drawn.right_mm <= width - EDGE_MARGIN_MM + 1e-6, drawn
                assert drawn.size_pt >= MIN_FONT_PT, drawn


def test_a_layout_that_fits_in_english_but_not_in_russian_is_refused_naming_the_language() -> None:
    """The material lot number where it was (9 mm in): beside "Lot", but not beside "Серия"."""
    source = layout_path("material").read_text(encoding="utf-8").replace("x_mm = 11.5", "x_mm = 9")
    with pytest.raises(LayoutError) as refused:
        parse_layout(source)
    assert refused.value.details["problems"] == [
        "text 5 ('Lot') and text 6 (lot_number) print over each other (in Русский, ru)"
    ]


def test_every_fixed_word_of_the_shipped_layouts_is_a_label_word_of_the_catalog() -> None:
    """So that ``mfg i18n extract`` finds it and it prints in the facility's language."""
    for kind in LABEL_KINDS:
        layout = load_layout(kind)
        assert layout.title in fields.LAYOUT_TITLES, layout.title
        for text in layout.texts:
            for word in (text.text, text.overflow_text):
                assert word is None or word in fields.LAYOUT_WORDS, (kind, word)


def test_every_word_of_the_labels_own_reads_in_russian() -> None:
    words = [*fields.LAYOUT_WORDS, *fields.NOTICES, fields.BIOPSY_PRODUCT]
    with i18n.use_language("ru"):
        for word in words:
            russian = fields.label_text(word)
            assert russian != word or word in ISBT_ABBREVIATIONS, word
            assert ("{count}" in russian) == ("{count}" in word), russian
        assert fields.expiry_text("2027-02-02 23:59") == "Годен до 2027-02-02 23:59"
        assert fields.cells_text(123_500_000) == "123.5 x 10^6 кл."
        assert fields.volume_text(100.5) == "100.5 мл"
        assert fields.prescription_text(1e6, 70.5, 70_500_000) == (
            "1e+06 кл./кг x 70.5 кг = 70,500,000 кл."
        )
        assert fields.sex_age("M", 104) == "M, 104 г."
        assert fields.record_text("culture", "CV-000123-6") == "Культура CV-000123-6"


def test_every_status_a_label_can_carry_prints_as_its_badge_reads_it_in_russian() -> None:
    """Dose, culture and material statuses as their badges read them; the biopsy tube's donor
    words as the catalog has them."""
    donor_words = {
        quarantine_text(SimpleNamespace(status=status), SimpleNamespace(on_hold=on_hold))
        for status in DonorStatus
        for on_hold in (False, True)
    }
    assert donor_words == set(fields.STATUS_TEXTS["biopsy"])
    with i18n.use_language("ru"):
        for kind, statuses in fields.STATUS_TEXTS.items():
            for status in statuses:
                russian = fields.printed("status_text", status)
                assert russian != status and russian == russian.upper(), (kind, status)
                if kind != "biopsy":
                    badge = i18n.pgettext("status", status.lower())
                    assert russian == badge.upper()
        assert fields.printed("status_text", "IN PROCESS") == "В ПРОИЗВОДСТВЕ"
        assert fields.printed("status_text", "DONOR ELIGIBLE") == "ДОНОР ДОПУЩЕН"


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_an_english_facility_prints_the_layouts_words_as_written_in_the_printers_own_fonts(
    kind: str,
) -> None:
    layout, data = load_layout(kind), sample_data(kind)
    for text in layout.texts:
        assert value_of(text, data) == (text.text if text.text is not None else data[text.field])
    zpl = label_zpl(layout, [data])
    assert zpl.startswith("^XA\n^CI28\n") and UNICODE_FONT not in zpl
    assert {font for font, *_ in zpl_text_fields(zpl)} <= {"0", "D"}


def test_zpl_sends_cyrillic_as_its_utf8_bytes_in_hex_escapes() -> None:
    name = "Республиканский центр клеточной терапии"
    data = {**sample_data("badge"), "facility_name": name}
    zpl = label_zpl(load_layout("badge"), [data])
    assert zpl.isascii()
    assert "^A@N," in zpl and f",{UNICODE_FONT}^FB" in zpl
    assert "^FH_^FD_D0_A0_D0_B5_D1_81" in zpl  # "Рес", byte by byte
    [(font, *_, lines)] = [b for b in zpl_text_fields(zpl) if b[-1][0].startswith("Р")]
    assert font == UNICODE_FONT and lines == [name]


def test_a_russian_text_cut_short_does_not_read_back() -> None:
    """Read-back compares Cyrillic as it compares Latin: a cut word stops the print."""
    layout, data = load_layout("biopsy"), russian_sample("biopsy")
    with i18n.use_language("ru"):
        cut = label_pdf(layout, [{**data, "product_text": data["product_text"][:-1]}], title="c")
        verify_text(label_pdf(layout, [data], title="whole"), layout, data)
        with pytest.raises(LabelTextMismatch) as refused:
            verify_text(cut, layout, data)
    assert refused.value.details["read"] == ["Биоптат обонятельной слизисто"]
