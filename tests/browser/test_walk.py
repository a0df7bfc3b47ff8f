"""The whole path through the pages alone, in a Chromium whose locale is Russian (decimal
commas typed into the number fields, times typed into ``datetime-local`` fields, the facility's
clock in Minsk): the same acts, in the same order and by the same people, as the API walk
(tests/walks/test_api_walk.py). One lot from biopsy receipt to release; one patient through
two infusions, an adverse event and the day-21 outcome. At the end every signature shown on
every page visited reads valid, and still does after the server is restarted on the same
database."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from mfg.db import make_engine
from mfg.main import create_app
from tests.factories import PASSWORD, add_user
from tests.labeling.helpers import decoded

pytestmark = pytest.mark.browser

MINSK = ZoneInfo("Europe/Minsk")
STAFF = {
    "tech": ("Taras Technician", "technician"),
    "tech2": ("Tatsiana Technician", "technician"),
    "qc": ("Kiryl QC Analyst", "qc"),
    "qc2": ("Katsiaryna QC Analyst", "qc"),
    "qa": ("Volha QA Manager", "qa"),
    "doctor": ("Dzmitry Clinician", "clinician"),
    "doctor2": ("Darya Clinician", "clinician"),
}
GTIN = "09501101020917"
RELEASE_RESULTS = {
    "VIAB": "92,4",  # a decimal comma, as typed on a Russian keyboard
    "COUNT": "98,5",
    "CD73": "99,1",
    "CD90": "98.7",
    "CD105": "97,9",
    "CD34": "0,3",
    "CD45": "0.6",
    "CD14": "0,4",
    "CD19": "0,2",
    "HLA-DR": "0,9",
    "GRAM": "no organisms seen",
    "MYCO": "not detected",
    "ENDO": "0,08",
    "KARYO": "normal",
}
VITALS = {
    "temperature_c": "36,9",
    "heart_rate": "84",
    "systolic_mmhg": "124",
    "diastolic_mmhg": "78",
    "respiratory_rate": "18",
    "spo2": "95",
}


def typed(days: float = 0, hours: float = 0) -> str:
    """A time ``days`` (and ``hours``) from now as typed into a datetime-local field in Minsk."""
    moment = datetime.now(UTC) + timedelta(days=days, hours=hours)
    return moment.astimezone(MINSK).strftime("%Y-%m-%dT%H:%M")


def on(days: int) -> str:
    return (datetime.now(MINSK).date() + timedelta(days=days)).isoformat()


# --- the server, stopped and started again on the same database ------------------------------


class Server:
    """uvicorn serving the app on one loopback port; ``restart`` stops it and serves a new app
    (a new engine) on the same port and the same database."""

    def __init__(self, settings) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.engine = None

    def start(self) -> None:
        self.engine = make_engine(self.settings.database_url)
        app = create_app(self.settings, engine=self.engine)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.server and self.thread and self.engine
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the server did not stop"
        self.engine.dispose()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def server(settings, engine) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    for username, (name, role) in STAFF.items():
        add_user(engine, settings, username, role, full_name=name)
    served = Server(settings)
    served.start()
    yield served
    served.stop()


class Walk:
    """One browser context per person (a Russian locale, the clock of Minsk), logged in once;
    every page each person visits is remembered for the signature check at the end."""

    def __init__(self, chromium, server: Server) -> None:  # type: ignore[no-untyped-def]
        self.browser = chromium
        self.server = server
        self.pages: dict[str, Page] = {}
        self.visited: dict[str, str] = {}  # path -> who visited it

    def __call__(self, who: str) -> Page:
        if who not in self.pages:
            context = self.browser.new_context(
                base_url=self.server.url,
                locale="ru-RU",
                timezone_id="Europe/Minsk",
                viewport={"width": 1280, "height": 900},
            )
            context.set_default_timeout(10_000)
            page = context.new_page()
            self.pages[who] = page
            self.log_in(who)
        return self.pages[who]

    def log_in(self, who: str) -> None:
        page = self.pages[who]
        page.goto("/login")
        page.fill("#username", who)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)

    def go(self, who: str, path: str) -> Page:
        page = self(who)
        page.goto(path)
        if "/login" in page.url:  # the session did not outlive the server
            self.log_in(who)
            page.goto(path)
        assert not _error_page(page), f"{path} as {who}: {_error_page(page)}"
        self.visited.setdefault(path, who)
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def walk(browser, server: Server) -> Iterator[Walk]:
    walking = Walk(browser, server)
    yield walking
    walking.close()


# --- forms sent by forms.js: success navigates, a refusal shows on the form -------------------

_STATE = """(form) => {
  if (!window.__walkSent) return document.readyState === "complete" ? "done" : null;
  const notes = [...document.querySelectorAll(".form-error, .field-error")]
    .map((e) => (e.dataset.code ? "[" + e.dataset.code + "] " : "") + e.innerText.trim());
  return notes.length ? "refused: " + notes.join(" | ") : null;
}"""


def _error_page(page: Page) -> str:
    box = page.locator(".error-box[role=alert] h1")
    return box.inner_text() if box.count() else ""


def _send(page: Page, form: str, button: str | None) -> str:
    invalid = page.evaluate(
        """(sel) => { const f = document.querySelector(sel);
          if (!f) return ["no form " + sel];
          return [...f.elements].filter((e) => e.willValidate && !e.checkValidity())
            .map((e) => e.name + ": " + e.validationMessage); }""",
        form,
    )
    assert not invalid, f"{page.url} {form}: the browser refuses to send it: {invalid}"
    page.evaluate(  # a refusal shown before is not this one's answer
        """() => { window.__walkSent = true;
          document.querySelectorAll(".form-error, .field-error").forEach((e) => e.remove()); }"""
    )
    page.locator(button or f"{form} button[type=submit]").first.click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            state = page.evaluate(_STATE, form)
        except PlaywrightError:  # the page is navigating
            state = None
        if state:
            if state == "done":
                page.wait_for_load_state()
            return state
        time.sleep(0.03)
    raise AssertionError(f"{page.url} {form}: neither a new page nor a refusal")


def submit(page: Page, form: str, button: str | None = None) -> None:
    """Send the form; it must be accepted (the browser goes on to the next page)."""
    sent_from = page.url
    state = _send(page, form, button)
    assert state == "done", f"{sent_from} {form} was {state}"
    assert not _error_page(page), f"{sent_from} {form}: {_error_page(page)}"


def refused(page: Page, form: str, code: str) -> str:
    """Send the form; it must be refused on the form itself, for this rule."""
    state = _send(page, form, None)
    assert state.startswith("refused"), f"{page.url} {form}: {state}, not refused for {code}"
    assert f"[{code}]" in state or code in state, f"{form}: {state} (expected {code})"
    return state


def sign_in_dialog(page: Page, opener: str, dialog: str, **fields: str) -> None:
    """Open a signature dialog, fill it, sign with the password."""
    page.click(opener)
    box = page.locator(dialog)
    expect(box).to_be_visible()
    for name, value in fields.items():
        field = box.locator(f"[name={name}]")
        tag = field.evaluate("e => e.tagName")
        if tag == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    box.locator("input[name=password]").fill(PASSWORD)
    submit(page, f"{dialog} form")


def key_in(page: Page, selector: str, text: str) -> None:
    """Typed key by key, as a person at a Russian keyboard types a decimal comma."""
    page.fill(selector, "")
    page.locator(selector).press_sequentially(text)
    expect(page.locator(selector)).to_have_value(text)


def tail(url: str) -> str:
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


# --- story 1: one lot, from biopsy receipt to release -----------------------------------------


def released_material(walk: Walk) -> str:
    expiry = on(300).replace("-", "")[2:]
    page = walk.go("tech", "/materials")
    page.fill("#gs1-scan", f"]C101{GTIN}17{expiry}10AM26-1187")
    with page.expect_navigation():
        page.press("#gs1-scan", "Enter")
    expect(page.locator("#lot-number")).to_have_value("AM26-1187")
    page.fill("#register-material input[name=name]", "Alpha-MEM culture medium")
    page.fill("#register-material input[name=supplier]", "Example Media GmbH")
    page.fill("#register-material input[name=catalogue_number]", "AM-500")
    submit(page, "#register-material")
    code = tail(page.url)
    page = walk.go("tech", "/materials")
    page.fill("#gs1-scan", f"]C101{GTIN}17{expiry}10AM26-1188")
    with page.expect_navigation():
        page.press("#gs1-scan", "Enter")
    form = page.locator("#register-material")
    # remembered per GTIN: the second lot of a product is one scan
    expect(form.locator("input[name=name]")).to_have_value("Alpha-MEM culture medium")
    expect(form.locator("input[name=supplier]")).to_have_value("Example Media GmbH")
    expect(form.locator("input[name=catalogue_number]")).to_have_value("AM-500")
    submit(page, "#register-material")

    page = walk.go("qa", f"/materials/{code}")
    page.click("#open-release")
    page.fill("#release-dialog input[name=password]", "not my password")
    refused(page, "#release-dialog form", "signature_refused")
    page.fill("#release-dialog input[name=password]", PASSWORD)
    submit(page, "#release-dialog form")
    expect(page.locator(".badge-released").first).to_be_visible()
    return code


def eligible_donor_with_biopsy(walk: Walk, days: int) -> str:
    page = walk.go("tech", "/donors")
    page.select_option("#register-donor select[name=sex]", "F")
    page.fill("#birth-year", "1988")
    submit(page, "#register-donor")
    donor = tail(page.url)
    page.fill("form[action$='/consent'] input[name=consent_date]", on(days - 1))
    submit(page, "form[action$='/consent']")
    page.select_option("form[action$='/screening'] select[name=outcome]", "passed")
    submit(page, "form[action$='/screening']")
    page.fill("#register-biopsy input[name=collected_at]", typed(days))
    page.fill("#register-biopsy input[name=site]", "olfactory mucosa, superior turbinate")
    page.fill("#register-biopsy input[name=collected_by]", "Dr. ENT Surgeon")
    submit(page, "#register-biopsy")
    din = tail(page.url)
    expect(page.locator("#biopsy-use")).to_contain_text("QUARANTINE")

    page = walk.go("qc", f"/donors/{donor}")
    missing = page.locator("#eligibility-blocking li")
    assert missing.count() >= 1  # QA may not sign yet: each missing marker is named
    required = page.locator("#results-table tr", has=page.locator("td.state-bad"))
    names = [r.locator("td").first.inner_text().strip() for r in required.all()]
    assert names, "no required marker listed"
    for name in names:
        page.select_option("#enter-result select[name=marker_code]", label=name)
        page.select_option("#enter-result select[name=outcome]", "negative")
        page.fill("#enter-result input[name=sample_date]", on(days))
        page.fill("#enter-result input[name=test_date]", on(days + 1))
        submit(page, "#enter-result")
    # the analyst who entered a result may not verify it: no button, a second person awaited
    expect(page.locator("#results-table form[action$='/verify']")).to_have_count(0)
    expect(page.locator("#results-table")).to_contain_text("awaiting a second person")

    page = walk.go("qc2", f"/donors/{donor}")
    for _ in names:
        submit(page, "#results-table form[action$='/verify']")
    expect(page.locator("#results-table form[action$='/verify']")).to_have_count(0)

    page = walk.go("qa", f"/donors/{donor}")
    expect(page.locator("#eligibility-ready")).to_be_visible()
    sign_in_dialog(page, "#open-eligible", "#eligible-dialog")

    page = walk.go("tech2", f"/biopsies/{din}")
    page.fill("#received-at", typed(days, hours=5))
    key_in(page, "#transport-temperature", "4,5")
    page.select_option("#container-intact", "yes")
    submit(page, "#receipt-form")
    expect(page.locator("#receipt")).to_contain_text("4.5 °C")
    expect(page.locator("#biopsy-use")).not_to_contain_text("QUARANTINE")
    return din


def made_lot(walk: Walk) -> tuple[str, list[str], dict[str, str]]:
    medium = released_material(walk)
    vessels = []
    for days in (-62, -61):
        din = eligible_donor_with_biopsy(walk, days)
        page = walk.go("tech", "/cultures")
        form = "#start-culture"
        page.fill(f"{form} input[name=biopsy]", din)
        page.fill(f"{form} input[name=vessel_type]", "T75 flask")
        page.fill(f"{form} input[name=surface_cm2]", "75")
        page.fill(f"{form} input[name=seeded_cells]", "500 000")
        page.fill(f"{form} input[name=seeded_at]", typed(days, hours=7))
        page.fill(f"{form} input[name=medium_lots]", medium)
        page.fill(f"{form} input[name=password]", PASSWORD)
        submit(page, form)
        walk.visited.setdefault(f"/cultures/{tail(page.url)}", "tech")
        page.fill("#passage-started", typed(days + 9))
        page.fill("#passage-ended", typed(days + 9, hours=1))
        page.fill("#harvested", "8000000")
        key_in(page, "#viability", "95,5")
        page.fill("#reseeded", "4000000")
        page.fill("#passage-form input[name=new_vessels]", "2")
        page.fill("#passage-form input[name=vessel_type]", "T175 flask")
        page.fill("#passage-form input[name=surface_cm2]", "175")
        page.fill("#passage-form input[name=reagent_lots]", medium)
        page.fill("#passage-form input[name=password]", PASSWORD)
        submit(page, "#passage-form")
        expect(page.locator(".new-vessel")).to_have_count(2)
        vessels.append(tail(page.locator(".new-vessel").first.get_attribute("href") or ""))

    page = walk.go("tech", "/lots")
    for vessel in vessels:
        page.fill(f"#pool-form input[name=cells][data-culture='{vessel}']", "2 000 000")
    page.fill("#pool-form input[name=pooled_at]", typed(-50))
    page.fill("#pool-form input[name=password]", PASSWORD)
    submit(page, "#pool-form")
    din = tail(page.url)
    walk.visited.setdefault(f"/lots/{din}", "tech")

    form = "#lot-passage-form"
    page.fill(f"{form} input[name=started_at]", typed(-45))
    page.fill(f"{form} input[name=ended_at]", typed(-45, hours=1))
    page.fill(f"{form} input[name=harvested_cells]", "60 000 000")
    page.fill(f"{form} input[name=viability_pct]", "94")
    page.fill(f"{form} input[name=reseeded_cells]", "30 000 000")
    page.fill(f"{form} input[name=vessels]", "4")
    page.fill(f"{form} input[name=vessel_type]", "CellSTACK 5")
    page.fill(f"{form} input[name=reagent_lots]", medium)
    page.fill(f"{form} input[name=password]", PASSWORD)
    submit(page, form)

    form = "#harvest-form"
    page.fill(f"{form} input[name=started_at]", typed(-40))
    page.fill(f"{form} input[name=ended_at]", typed(-40))
    page.fill(f"{form} input[name=harvested_cells]", "720 000 000")
    key_in(page, f"{form} input[name=viability_pct]", "93,2")
    page.fill("#final-volume", "100")
    page.fill(f"{form} input[name=password]", PASSWORD)
    refused(page, form, "duration_not_positive")
    page.fill(f"{form} input[name=ended_at]", typed(-40, hours=1))
    expect(page.locator(f"{form} input[name=viability_pct]")).to_have_value("93,2")  # kept
    page.fill(f"{form} input[name=password]", PASSWORD)
    submit(page, form)
    expect(page.locator("#harvest-record")).to_contain_text("93.2 %")

    page.fill("#fill-form input[name=filled_at]", typed(-40, hours=2))
    page.fill("#fill-count", "4")
    key_in(page, "#fill-volume", "10,0")
    page.fill("#fill-form input[name=container]", "CryoMACS 50 bag")
    page.fill("#fill-form input[name=password]", PASSWORD)
    submit(page, "#fill-form")
    rows = page.locator("#lot-doses tbody tr")
    expect(rows).to_have_count(4)
    links = page.locator("#lot-doses tbody tr a.mono").all()
    doses = [tail(a.get_attribute("href") or "") for a in links]
    assert len(doses) == 4 and all(d.startswith(din[:13]) for d in doses), doses
    expect(page.locator("#lot-doses")).to_contain_text("10.0 mL")

    scans = scanned_labels(walk, din, doses)

    page = walk.go("tech", f"/lots/{din}")
    form = "#storage-form"
    page.fill(f"{form} input[name=frozen_at]", typed(-40, hours=3))
    page.fill(f"{form} input[name=freezing_programme]", "MSC-1 (−1 °C/min)")
    key_in(page, "#storage-temperature", "-185,5")
    page.fill(f"{form} input[name=tank]", "T1")
    page.fill(f"{form} input[name=rack]", "R2")
    page.fill(f"{form} input[name=box]", "B3")
    page.fill(f"{form} input[name=first_position]", "1")
    page.fill(f"{form} input[name=password]", PASSWORD)
    submit(page, form)
    expect(page.locator("#storage-form")).to_have_count(0)
    return din, doses, scans


def scanned_labels(walk: Walk, din: str, doses: list[str]) -> dict[str, str]:
    """Each dose label printed from its page, its 2-D code read back from the PDF, and that
    text typed into the lot's label check as the keyboard-wedge scanner types it."""
    scans = {}
    printed: dict[str, bytes] = {}

    def keep(route, request) -> None:  # type: ignore[no-untyped-def]
        answer = route.fetch()  # what the printer is sent, as the browser receives it
        assert answer.status == 200, answer.text()
        assert answer.headers["content-type"] == "application/pdf"
        printed["pdf"] = answer.body()
        route.fulfill(response=answer)

    for identifier in doses:
        page = walk.go("tech", f"/labels/dose/{identifier}")
        printed.clear()
        page.route("**/print", keep)
        page.click("#print-form button[type=submit]", no_wait_after=True)
        deadline = time.monotonic() + 15
        while "pdf" not in printed and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        page.unroute("**/print")
        assert "pdf" in printed, f"{identifier}: the label was not printed"
        body = printed["pdf"]
        assert body.startswith(b"%PDF"), body[:100]
        codes = decoded(body, dpi=300)[0]
        scans[identifier] = max(codes, key=len)  # the 2-D code: DIN, product, expiry
        page = walk.go("tech", f"/lots/{din}")
        page.click("#label-check-form input[name=scanned]")
        page.keyboard.type(scans[identifier])
        submit(page, "#label-check-form")
    expect(page.locator("#label-check-form")).to_have_count(0)  # every label checked
    page = walk.go("tech", f"/labels/dose/{doses[0]}")
    expect(page.locator("#reprint-reason")).to_be_visible()  # a second print needs a reason
    return scans


def released_after_qc(walk: Walk, din: str, doses: list[str]) -> None:
    page = walk.go("tech", "/qc")
    page.fill("#take-sample input[name=source]", doses[0])
    page.fill("#sample-tests", " ".join([*RELEASE_RESULTS, "STER-AER", "STER-ANA"]))
    page.fill("#take-sample input[name=taken_at]", typed(-40, hours=4))
    submit(page, "#take-sample")
    sample = tail(page.url)

    page = walk.go("qc", f"/qc/samples/{sample}")
    for test, value in RELEASE_RESULTS.items():
        page.select_option("#result-test", test)
        key_in(page, "#result-value", value)
        page.fill("#result-form input[name=tested_at]", typed(-39))
        submit(page, "#result-form")
    for test in ("STER-AER", "STER-ANA"):
        for reading, day in (("day 3", -36), ("day 7", -32), ("final", -25)):
            page.select_option("#result-test", test)
            # the form proposes the reading due next
            expect(page.locator("#result-reading")).to_have_value(reading)
            page.fill("#result-value", "no growth")
            page.fill("#result-form input[name=tested_at]", typed(day))
            submit(page, "#result-form")
    verdicts = page.locator("#results tbody tr .verdict")
    expect(verdicts).to_have_count(len(RELEASE_RESULTS) + 6)
    assert set(verdicts.all_inner_texts()) == {"PASS"}, verdicts.all_inner_texts()
    expect(page.locator("#results button.verify")).to_have_count(0)  # not by the same analyst

    page = walk.go("qc2", f"/qc/samples/{sample}")
    for _ in range(len(RELEASE_RESULTS) + 6):
        submit(page, "#results form[action$='/verify']")
    expect(page.locator("#results button.verify")).to_have_count(0)

    page = walk.go("qa", f"/lots/{din}/release")
    expect(page.locator("#release-ready")).to_be_visible()
    page.click("#release-button")
    dialog = page.locator("#release-dialog")
    dialog.locator("input[name=audit_trail_reviewed]").check()
    dialog.locator("input[name=password]").fill(PASSWORD)
    submit(page, "#release-dialog form")
    expect(page.locator(".decision")).to_contain_text("RELEASED")
    expect(page.locator(".decision .printed-name")).to_have_text("Volha QA Manager")


# --- story 2: one patient through two infusions -----------------------------------------------


def enrolled_patient(walk: Walk) -> str:
    page = walk.go("doctor", "/patients")
    form = "#enrol-form"
    arm = page.locator(f"{form} select[name=arm]")
    if arm.count():
        arm.select_option("MSC")
    page.select_option(f"{form} select[name=sex]", "M")
    page.fill(f"{form} input[name=age]", "80")
    key_in(page, f"{form} input[name=weight_kg]", "71,5")
    for criterion in page.locator(f"{form} .criterion").all():
        inclusion = criterion.inner_text().strip().startswith("Inclusion")
        criterion.locator(f"input[value={'yes' if inclusion else 'no'}]").check()
    page.fill(f"{form} input[name=enrolled_on]", on(-22))
    refused(page, form, "age_out_of_range")
    page.fill(f"{form} input[name=age]", "54")
    submit(page, form)
    patient = tail(page.url)
    walk.visited.setdefault(f"/patients/{patient}", "doctor")
    expect(page.locator("body")).to_contain_text("71.5 kg")
    expect(page.locator("#verify-weight")).to_have_count(0)  # never by who entered it

    page = walk.go("doctor2", f"/patients/{patient}")
    submit(page, "#verify-weight")
    expect(page.locator("#verify-weight")).to_have_count(0)
    return patient


def bedside_check(walk: Walk, patient: str, scan: str) -> Page:
    """Wristband first, then the dose label, as the keyboard-wedge scanner types them."""
    page = walk.go("doctor", "/bedside")
    page.click("#wristband")
    page.keyboard.type(patient)
    page.keyboard.press("Enter")
    expect(page.locator("#dose-label")).to_be_focused()
    page.keyboard.type(scan)
    with page.expect_navigation(url="**/bedside/checks/*"):
        page.keyboard.press("Enter")
    walk.visited.setdefault(page.url.split(walk.server.url, 1)[-1], "doctor")
    return page


def infused(walk: Walk, patient: str, scans: dict[str, str], *, first: bool) -> str:
    page = walk.go("tech", f"/patients/{patient}")
    submit(page, "#allocate-form")
    handover = "form[id^=handover-]"
    allocated = page.locator("#allocations tbody tr").last.locator("a").first
    dose = tail(allocated.get_attribute("href") or "")
    page.fill(f"{handover} input[name=receiver_username]", "doctor")
    page.fill(f"{handover} input[name=receiver_password]", PASSWORD)
    page.fill(f"{handover} input[name=issued_at]", typed(0, hours=-1))
    page.fill(f"{handover} input[name=transport_temp_c]", "-150")
    submit(page, handover)
    expect(page.locator(handover)).to_have_count(0)

    if first:  # not yet thawed: a hard stop
        page = bedside_check(walk, patient, scans[dose])
        expect(page.locator("#verdict")).to_have_text("STOP — DO NOT INFUSE")
        expect(page.locator("tr.state-bad[data-check]")).to_have_count(1)

    page = walk.go("tech", f"/doses/{dose}")
    page.fill("#thaw-form input[name=thawed_at]", typed(0, hours=-0.25))
    page.fill("#thaw-form input[name=password]", PASSWORD)
    submit(page, "#thaw-form")

    page = bedside_check(walk, patient, scans[dose])
    expect(page.locator("#verdict")).to_have_text("ALL CHECKS PASSED")
    page.fill("#verify-form input[name=password]", PASSWORD)  # the clinician at the bedside
    submit(page, "#verify-form")
    expect(page.locator("#identity-signatures li")).to_have_count(1)
    if first:
        page.fill("#verify-form input[name=username]", "doctor")
        page.fill("#verify-form input[name=password]", PASSWORD)
        refused(page, "#verify-form", "second_person_required")
    page.fill("#verify-form input[name=username]", "doctor2")  # a second, on the same tablet
    page.fill("#verify-form input[name=password]", PASSWORD)
    submit(page, "#verify-form")
    expect(page.locator("#identity-signatures li")).to_have_count(2)

    form = "#infusion-form"
    started = page.locator(f"{form} input[name=started_at]").input_value()  # now, to the minute
    stopped = datetime.fromisoformat(started) + timedelta(minutes=2)  # within the clock skew
    page.fill(f"{form} input[name=stopped_at]", stopped.strftime("%Y-%m-%dT%H:%M"))
    page.locator(f"{form} input[name=bag_inspected]").check()
    for moment in ("before", "during", "after"):
        for vital, value in VITALS.items():
            field = f"{form} input[name={moment}_{vital}]"
            if "," in value:
                key_in(page, field, value)
            else:
                page.fill(field, value)
    page.fill(f"{form} textarea[name=reactions]", "none")
    if first:
        key_in(page, f"{form} input[name=volume_ml]", "12,5")
        page.fill(f"{form} input[name=password]", PASSWORD)
        refused(page, form, "volume_exceeds_bag")
    key_in(page, f"{form} input[name=volume_ml]", "9,5")
    page.fill(f"{form} input[name=password]", PASSWORD)
    submit(page, form)
    expect(page.locator("#infused")).to_contain_text("9.5 mL")
    walk.visited.setdefault(f"/doses/{dose}", "tech")
    return dose


def two_infusions(walk: Walk, patient: str, scans: dict[str, str]) -> list[str]:
    given = []
    for n in (1, 2):
        page = walk.go("doctor", f"/patients/{patient}")
        submit(page, "#order-form")
        if n == 1:
            expect(page.locator("#order-form")).to_have_count(0)  # one active order at a time
        given.append(infused(walk, patient, scans, first=n == 1))
    page = walk.go("doctor", f"/patients/{patient}")
    expect(page.locator("#order-form")).to_have_count(0)  # the trial's limit: two
    return given


def safety_follow_up(walk: Walk, patient: str) -> None:
    page = walk.go("doctor", f"/patients/{patient}/adverse-events")
    sign_in_dialog(
        page,
        "#record-adverse-event",
        "#adverse-event-dialog",
        term="Fever",
        onset=on(-1),
        grade="1",
        serious="no",
        relation="unlikely",
    )
    row = page.locator("#adverse-events tr[data-adverse-event]")
    expect(row).to_contain_text("Fever")
    page.locator("button[data-amend]").first.click()
    amend = page.locator("dialog[id^=amend-dialog-]")
    amend.locator("select[name=grade]").select_option("2")
    amend.locator("select[name=relation]").select_option("possible")
    amend.locator("textarea[name=reason]").fill("re-graded at the safety review")
    amend.locator("input[name=password]").fill(PASSWORD)
    submit(page, "dialog[id^=amend-dialog-] form")
    expect(row).to_contain_text("Version 2 (amended)")
    expect(row).to_contain_text("treatment-related")

    page = walk.go("doctor", f"/patients/{patient}/outcome")
    sign_in_dialog(
        page,
        "#record-outcome",
        "#outcome-dialog",
        assessed_on=on(-1),
        pcr="negative",
        ct="improved",
    )
    expect(page.locator(".signature")).to_have_count(1)


# --- every signature on every page visited ----------------------------------------------------

# the pages of signed records: each must show its signatures
SIGNED_PAGES = re.compile(
    r"^/(lots/[^/]+(/batch-record)?|donors/.+|cultures/.+|materials/.+|doses/.+"
    r"|lots/[^/]+/release|patients/[^/]+/(adverse-events|outcome))$"
)


def every_signature_valid(walk: Walk, din: str) -> dict[str, int]:
    """On every page visited, each signature block reads valid; the count of blocks per page."""
    pages = {**walk.visited, f"/lots/{din}/batch-record": "qa"}
    counts = {}
    for path, who in sorted(pages.items()):
        page = walk.go(who, path)
        blocks = page.locator(".signature")
        count = blocks.count()
        invalid = page.locator(".signature.invalid, #invalid-signatures, .not-signed")
        assert invalid.count() == 0, f"{path}: {invalid.all_inner_texts()}"
        valid = page.locator(".signature .signature-state.state-ok")
        assert valid.count() == count, f"{path}: {blocks.all_inner_texts()}"
        if SIGNED_PAGES.match(path):
            assert count, f"{path} shows no signature"
        counts[path] = count
    return counts


def test_the_whole_path_through_the_pages_in_a_russian_browser(
    walk: Walk,
    server: Server,
) -> None:
    din, doses, scans = made_lot(walk)
    released_after_qc(walk, din, doses)
    page = walk.go("qa", f"/lots/{din}/release")
    expect(page.locator("#release-button")).to_have_count(0)  # released once only
    patient = enrolled_patient(walk)
    given = two_infusions(walk, patient, scans)
    assert set(given) <= set(doses) and len(set(given)) == 2
    safety_follow_up(walk, patient)

    before = every_signature_valid(walk, din)
    assert before[f"/lots/{din}/release"] == 1  # QA's release
    infusions = [n for path, n in before.items() if path.startswith("/bedside/checks/")]
    assert sorted(infusions)[-2:] == [3, 3]  # two identities verified, one administered, twice
    server.restart()
    assert every_signature_valid(walk, din) == before
