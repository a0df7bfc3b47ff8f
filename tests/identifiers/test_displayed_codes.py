"""Every code a page shows, typed into the scan field as a person reads it off the page, names the
record the page shows it for; a record's own page shows its code first, in its heading; no link
or heading shows a code in another spelling."""

import html
import re
from html.parser import HTMLParser

from sqlmodel import Session, select

from mfg.deviations import service as deviations
from mfg.models import (
    Biopsy,
    Culture,
    Deviation,
    Donor,
    Dose,
    Lot,
    MaterialLot,
    Patient,
    QcSample,
    User,
)
from tests.clinical.factories import laboratory_and_ward, ready_at_bedside
from tests.factories import log_in


class ShownCodes(HTMLParser):
    """The ``code`` spans of a page: the identifier each names and its text as it reads."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[tuple[str, str]] = []
        self._identifier: str | None = None
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._identifier is not None:
            self._depth += tag == "span"
        elif tag == "span" and "code" in (dict(attrs).get("class") or "").split():
            self._identifier, self._depth, self._text = dict(attrs)["data-code"], 1, []

    def handle_endtag(self, tag: str) -> None:
        if self._identifier is not None and tag == "span":
            self._depth -= 1
            if self._depth == 0:
                self.codes.append((self._identifier, "".join(self._text)))
                self._identifier = None

    def handle_data(self, data: str) -> None:
        if self._identifier is not None:
            self._text.append(data)


def shown_codes(page: str) -> list[tuple[str, str]]:
    parser = ShownCodes()
    parser.feed(page)
    return parser.codes


LINKS_AND_HEADINGS = re.compile(r"<(a|h[1-4])\b[^>]*>(.*?)</\1>", re.DOTALL)


def links_and_headings(page: str) -> str:
    """What a person reads in the page's links and headings (tags and attributes left out)."""
    texts = (re.sub(r"<[^>]+>", "", inner) for _, inner in LINKS_AND_HEADINGS.findall(page))
    return html.unescape(" ".join(texts))


def a_world(lab) -> dict[str, list[str]]:
    """A released lot's chain, from donors to a patient's thawed dose, and a deviation; the
    stored identifiers of every record, by kind."""
    ready_at_bedside(lab)

    def a_deviation(session, actor):
        deviations.record_deviation(
            session,
            actor=actor,
            title="Incubator door left open",
            description="Found ajar at 07:40.",
            entity_type="equipment",
            entity_id="INC-02",
        )

    lab.run("qa", a_deviation)
    columns = {
        "donor": Donor.code,
        "biopsy": Biopsy.din,
        "culture": Culture.code,
        "material": MaterialLot.code,
        "lot": Lot.din,
        "dose": Dose.identifier,
        "qc-sample": QcSample.code,
        "deviation": Deviation.code,
        "patient": Patient.code,
    }
    with Session(lab.engine) as session:
        return {kind: list(session.exec(select(column)).all()) for kind, column in columns.items()}


def pages_of(world: dict[str, list[str]], staff: User) -> list[tuple[str, str | None]]:
    """Each list page, and each kind's record pages, with the record's own identifier."""
    first = {kind: identifiers[0] for kind, identifiers in world.items()}
    lot, dose, donor = first["lot"], first["dose"], first["donor"]
    return [
        ("/donors", None),
        ("/biopsies", None),
        ("/cultures", None),
        ("/materials", None),
        ("/lots", None),
        ("/doses", None),
        ("/qc", None),
        ("/deviations", None),
        ("/release", None),
        ("/patients", None),
        (f"/donors/{donor}", donor),
        (f"/biopsies/{first['biopsy']}", first["biopsy"]),
        (f"/cultures/{first['culture']}", first["culture"]),
        (f"/materials/{first['material']}", first["material"]),
        (f"/lots/{lot}", lot),
        (f"/lots/{lot}/qc", lot),
        (f"/lots/{lot}/release", lot),
        (f"/lots/{lot}/batch-record", lot),
        (f"/doses/{dose}", dose),
        (f"/qc/samples/{first['qc-sample']}", first["qc-sample"]),
        (f"/deviations/{first['deviation']}", first["deviation"]),
        (f"/patients/{first['patient']}", first["patient"]),
        (f"/patients/{first['patient']}/outcome", first["patient"]),
        (f"/trace/{dose}", dose),
        (f"/trace/{donor}", donor),
        (f"/lookback/donor/{donor}", donor),
        (f"/labels/dose/{dose}", dose),
        (f"/admin/users/{staff.username}", None),
    ]


def test_every_code_a_page_shows_scans_back_to_the_record_it_names(
    client, engine, settings, users
) -> None:
    lab = laboratory_and_ward(engine, settings, users)
    world = a_world(lab)
    staff = lab.users["qc"]
    log_in(client, "admin")
    every_identifier = [i for identifiers in world.values() for i in identifiers]
    scanned: dict[str, tuple[str, str]] = {}  # text as shown -> (identifier, kind) it names
    for url, own in pages_of(world, staff):
        page = client.get(url)
        assert page.status_code == 200, url
        codes = shown_codes(page.text)
        if own is not None:
            assert codes and codes[0][0] == own, (url, codes[:1], "its heading names it first")
        for identifier, text in codes:
            if text not in scanned:
                answer = client.get("/api/scan", params={"code": text})
                assert answer.status_code == 200, (url, text, answer.text)
                scanned[text] = (answer.json()["identifier"], answer.json()["kind"])
            assert scanned[text][0] == identifier, (url, text)
        read = links_and_headings(page.text)
        for identifier in every_identifier:  # never a second spelling beside the display one
            assert not re.search(rf"\b{re.escape(identifier)}\b", read), (url, identifier)
    assert {kind for _, kind in scanned.values()} == {*world, "staff"}
