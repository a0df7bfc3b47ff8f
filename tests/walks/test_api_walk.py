"""The whole path through the JSON API alone, from an empty database: the first administrator
made by the command line as the README says, then every act by the person whose role it is —
staff, donors, biopsies, materials, cultures, the pool, its expansion, harvest, fill, labels
printed and scanned back, storage, QC with second-person verification, release — and a patient
through order, allocation, issue, thaw, bedside check, two identity signatures and infusion,
twice, with an adverse event and the day-21 outcome. Every hard stop met on the way is tried
and must answer its own rule's code. At the end every signature still matches its record."""

from __future__ import annotations

import io

import pypdf
import pytest

from mfg.config import get_settings
from tests.labeling.helpers import decoded
from tests.walks.api_walk import STRONG, Api, at, on

STAFF = {
    "tech": ("Taras Technician", ["technician"]),
    "tech2": ("Tatsiana Technician", ["technician"]),
    "qc": ("Kiryl QC Analyst", ["qc"]),
    "qc2": ("Katsiaryna QC Analyst", ["qc"]),
    "qa": ("Volha QA Manager", ["qa"]),
    "doctor": ("Dzmitry Clinician", ["clinician"]),
    "doctor2": ("Darya Clinician", ["clinician"]),
}
GTIN = "09501101020917"
RELEASE_RESULTS = {
    "VIAB": "92,4",  # a decimal comma, as typed on a Russian keyboard
    "COUNT": "98.5",
    "CD73": "99.1",
    "CD90": "98.7",
    "CD105": "97.9",
    "CD34": "0.3",
    "CD45": "0.6",
    "CD14": "0.4",
    "CD19": "0.2",
    "HLA-DR": "0.9",
    "GRAM": "no organisms seen",
    "MYCO": "not detected",
    "ENDO": "0.08",
    "KARYO": "normal",
}
VITALS = {
    moment: {
        "temperature_c": "36,9",
        "heart_rate": 84,
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
        "respiratory_rate": 18,
        "spo2": 95,
    }
    for moment in ("before", "during", "after")
}


@pytest.fixture
def api(client, settings, monkeypatch, capsys) -> Api:
    """An empty installation whose first administrator is made by ``mfg user add``."""
    from mfg.cli import main

    for name, value in {
        "MFG_DATABASE_URL": settings.database_url,
        "MFG_SECRET_KEY": settings.secret_key,
        "MFG_DATA_DIR": str(settings.data_dir),
        "MFG_PASSWORD_HASHING": settings.password_hashing,
        "MFG_NEW_PASSWORD": STRONG,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        made = main(["user", "add", "admin", "--full-name", "Alina Admin", "--role", "admin"])
    finally:
        get_settings.cache_clear()
    assert made == 0, capsys.readouterr()
    walk = Api(client)
    walk.login("admin")
    return walk


def make_staff(api: Api) -> None:
    """The administrator creates every account; each person replaces the one-time password."""
    for username, (name, roles) in STAFF.items():
        issued = api.post(
            "admin", "/api/users", {"username": username, "full_name": name, "roles": roles}
        )
        once = issued["one_time_password"]
        api.login(username, once)
        api.refused(
            username, "GET", "/api/donors", None, code="password_change_required", status=403
        )
        api.call(
            username,
            "POST",
            "/api/auth/password",
            {"current_password": once, "new_password": STRONG},
        )
        api.login(username)


def eligible_donor_with_biopsy(api: Api, days: int) -> tuple[str, str]:
    """A donor consented and screened, a biopsy collected ``days`` ago and received, every
    marker negative (entered by one analyst, verified by another), signed eligible by QA."""
    markers = [m["code"] for m in api.get("qc", "/api/marker-set")["markers"] if m["required"]]
    donor = api.post("tech", "/api/donors", {"sex": "F", "birth_year": 1988})["code"]
    api.call("tech", "POST", f"/api/donors/{donor}/consent", {"consent_date": on(days - 1)})
    api.call("tech", "POST", f"/api/donors/{donor}/screening", {"outcome": "passed"})
    biopsy = api.post(
        "tech",
        "/api/biopsies",
        {
            "donor": donor,
            "collected_at": at(days),
            "site": "olfactory mucosa, superior turbinate",
            "collected_by": "Dr. ENT Surgeon",
        },
    )
    assert biopsy["status"] == "collected" and biopsy["quarantine"] == "quarantine"
    early = api.refused(
        "qa",
        "POST",
        f"/api/donors/{donor}/eligibility",
        {"eligible": True, "password": STRONG},
        code="marker_result_missing",
        status=409,
    )
    assert len(early["details"]["rules"]) == len(markers)  # each one named
    for marker in markers:
        result = api.post(
            "qc",
            f"/api/donors/{donor}/results",
            {
                "marker_code": marker,
                "outcome": "negative",
                "sample_date": on(days),
                "test_date": on(days + 1),
            },
        )
        api.refused(
            "qc",
            "POST",
            f"/api/marker-results/{result['id']}/verify",
            {},
            code="second_person_required",
            status=422,
        )
        api.call("qc2", "POST", f"/api/marker-results/{result['id']}/verify")
    api.call(
        "qa", "POST", f"/api/donors/{donor}/eligibility", {"eligible": True, "password": STRONG}
    )
    received = api.call(
        "tech",
        "POST",
        f"/api/biopsies/{biopsy['din']}/receive",
        {
            "received_at": at(days, hours=5),
            "transport_temperature_c": "4,5",
            "container_intact": True,
        },
    )
    assert received["status"] == "received" and received["transport_temperature_c"] == 4.5
    assert received["quarantine"] == "released"  # its donor is eligible: it may be cultured
    return donor, biopsy["din"]


def released_material(api: Api, scan: str, **names: str) -> str:
    """A supplier's lot registered by scanning its GS1 bar code, released by QA."""
    lot = api.post("tech", "/api/materials", {"scan": scan, **names})
    api.refused(
        "qa",
        "POST",
        f"/api/materials/{lot['code']}/decision",
        {"release": True, "password": "not my password"},
        code="signature_refused",
        status=422,
    )
    decided = api.call(
        "qa",
        "POST",
        f"/api/materials/{lot['code']}/decision",
        {"release": True, "password": STRONG},
    )
    assert decided["status"] == "released"
    return lot["code"]


def scanned_labels(api: Api, din: str, doses: list[str]) -> None:
    """Each dose label is printed, its 2-D code read back from the PDF, and scanned at the
    bench; a second print is a reprint that needs a reason."""
    for identifier in doses:
        pdf = api.get("tech", f"/api/labels/dose/{identifier}.pdf")
        page = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0]
        assert identifier[:13] in page.extract_text().replace(" ", "")
        codes = decoded(pdf.content, dpi=300)[0]
        scan = max(codes, key=len)  # the 2-D code: DIN, product code and expiry in one
        checked = api.call(
            "tech", "POST", f"/api/doses/{identifier}/label-check", {"scanned": scan}
        )
        assert checked["identifier"] == identifier
    api.refused(
        "tech",
        "GET",
        f"/api/labels/dose/{doses[0]}.pdf",
        None,
        code="reprint_reason_required",
        status=422,
    )


def made_lot(api: Api) -> tuple[str, list[str]]:
    """Two eligible donors' cultures pooled, expanded, harvested, filled, labelled, stored."""
    expiry = on(300).replace("-", "")[2:]  # YYMMDD
    medium = released_material(
        api,
        f"]C101{GTIN}17{expiry}10AM26-1187",
        name="Alpha-MEM culture medium",
        supplier="Example Media GmbH",
        catalogue_number="AM-500",
    )
    again = api.post("tech", "/api/materials", {"scan": f"]C101{GTIN}17{expiry}10AM26-1188"})
    assert (again["name"], again["supplier"], again["catalogue_number"]) == (
        "Alpha-MEM culture medium",
        "Example Media GmbH",
        "AM-500",
    )  # remembered per GTIN: the second lot of a product is one scan
    vessels = []
    for days in (-62, -61):
        _, din = eligible_donor_with_biopsy(api, days)
        culture = api.post(
            "tech",
            "/api/cultures",
            {
                "biopsy": din,
                "vessel_type": "T75 flask",
                "surface_cm2": "75",
                "seeded_cells": "500 000",
                "seeded_at": at(days, hours=7),
                "medium_lots": [medium],
                "password": STRONG,
            },
        )
        passage = api.post(
            "tech",
            f"/api/cultures/{culture['code']}/passage",
            {
                "started_at": at(days + 9),
                "ended_at": at(days + 9, hours=1),
                "harvested_cells": 8_000_000,
                "viability_pct": "95,5",
                "reseeded_cells": 4_000_000,
                "new_vessels": 2,
                "vessel_type": "T175 flask",
                "surface_cm2": 175,
                "reagent_lots": [medium],
                "password": STRONG,
            },
        )
        vessels.append(passage["new_vessels"][0])
    lot = api.post(
        "tech",
        "/api/lots",
        {
            "members": [{"culture": v, "cells": 2_000_000} for v in vessels],
            "pooled_at": at(-50),
            "password": STRONG,
        },
    )
    din = lot["din"]
    api.post(
        "tech",
        f"/api/lots/{din}/passages",
        {
            "passage_number": lot["passage_number"],
            "started_at": at(-45),
            "ended_at": at(-45, hours=1),
            "harvested_cells": 60_000_000,
            "viability_pct": 94,
            "reseeded_cells": 30_000_000,
            "vessels": 4,
            "vessel_type": "CellSTACK 5",
            "reagent_lots": [medium],
            "password": STRONG,
        },
    )
    api.refused(
        "tech",
        "POST",
        f"/api/lots/{din}/harvest",
        {
            "started_at": at(-40),
            "ended_at": at(-40),
            "harvested_cells": 720_000_000,
            "viability_pct": 93,
            "final_volume_ml": 100,
            "password": STRONG,
        },
        code="duration_not_positive",
        status=422,
    )
    api.post(
        "tech",
        f"/api/lots/{din}/harvest",
        {
            "started_at": at(-40),
            "ended_at": at(-40, hours=1),
            "harvested_cells": 720_000_000,
            "viability_pct": "93,2",
            "final_volume_ml": "100",
            "formulation_lots": [],
            "password": STRONG,
        },
    )
    filled = api.post(
        "tech",
        f"/api/lots/{din}/fill",
        {
            "filled_at": at(-40, hours=2),
            "doses": 4,
            "volume_ml": "10,0",
            "container": "CryoMACS 50 bag",
            "password": STRONG,
        },
    )
    doses = [d["identifier"] for d in filled["items"]]
    assert len(doses) == 4 and all(d["volume_ml"] == 10.0 for d in filled["items"])
    scanned_labels(api, din, doses)
    api.call(
        "tech",
        "POST",
        f"/api/lots/{din}/storage",
        {
            "frozen_at": at(-40, hours=3),
            "freezing_programme": "MSC-1 (−1 °C/min)",
            "temperature_c": "-185,5",
            "tank": "T1",
            "rack": "R2",
            "box": "B3",
            "first_position": 1,
            "password": STRONG,
        },
    )
    return din, doses


def released_after_qc(api: Api, din: str, doses: list[str]) -> None:
    """A sample of the first dose tested for every release test (sterility read on days 3, 7
    and 14), each result verified by a second analyst; QA releases."""
    sample = api.post(
        "tech",
        "/api/qc-samples",
        {
            "source": doses[0],
            "tests": [*RELEASE_RESULTS, "STER-AER", "STER-ANA"],
            "taken_at": at(-40, hours=4),
        },
    )
    code = sample["code"]
    for test, value in RELEASE_RESULTS.items():
        _result(api, code, {"test_code": test, "value": value, "tested_at": at(-39)})
    for test in ("STER-AER", "STER-ANA"):
        for reading, day in (("day 3", -36), ("day 7", -32), ("final", -25)):
            _result(
                api,
                code,
                {"test_code": test, "value": "no growth", "reading": reading, "tested_at": at(day)},
            )
    check = api.get("qa", f"/api/lots/{din}/release-check")
    assert check["ready"], check
    api.refused(
        "qa",
        "POST",
        f"/api/lots/{din}/release",
        {"password": STRONG, "audit_trail_reviewed": False},
        code="audit_trail_not_reviewed",
        status=422,
    )
    released = api.call(
        "qa", "POST", f"/api/lots/{din}/release", {"password": STRONG, "audit_trail_reviewed": True}
    )
    assert released["lot_status"] == "released"


def _result(api: Api, sample: str, body: dict) -> None:
    result = api.post("qc", f"/api/qc-samples/{sample}/results", body)
    assert result["verdict"] == "pass", result
    verified = api.call("qc2", "POST", f"/api/qc-results/{result['id']}/verify")
    assert verified["status"] == "verified"


def enrolled_patient(api: Api) -> str:
    """A subject enrolled 22 days ago (every criterion answered), weight verified by a second
    clinician (never the one who entered it)."""
    trial = api.get("doctor", "/api/trials/NCT04382547")
    answers = {c["text"]: c["kind"] == "inclusion" for c in trial["criteria"]}
    api.refused(
        "doctor",
        "POST",
        "/api/patients",
        {
            "arm": "MSC",
            "sex": "M",
            "age": 80,
            "weight_kg": "70,0",
            "eligibility": answers,
            "enrolled_on": on(-22),
        },
        code="age_out_of_range",
        status=422,
    )
    patient = api.post(
        "doctor",
        "/api/patients",
        {
            "arm": "MSC",
            "sex": "M",
            "age": 54,
            "weight_kg": "70,0",
            "eligibility": answers,
            "enrolled_on": on(-22),
        },
    )
    assert patient["weight_kg"] == 70.0
    code = patient["code"]
    api.refused(
        "doctor",
        "POST",
        f"/api/patients/{code}/weight-verification",
        {},
        code="second_person_required",
        status=422,
    )
    api.call("doctor2", "POST", f"/api/patients/{code}/weight-verification")
    return code


def infused(api: Api, patient: str, order: dict, *, first: bool) -> str:
    """Allocation (first expiry, first out), hand-over, thaw, bedside check with both
    identity signatures, infusion; the hard stops of the bedside tried on the first."""
    allocation = api.post("tech", f"/api/orders/{order['id']}/allocation")
    dose = allocation["dose"]
    issued = api.call(
        "tech",
        "POST",
        f"/api/allocations/{allocation['id']}/issue",
        {
            "receiver_username": "doctor",
            "receiver_password": STRONG,
            "issued_at": at(0, hours=-1),
            "transport_temp_c": "-150",
        },
    )
    assert issued["status"] == "issued" and issued["received_by"] == "doctor"
    if first:
        early = api.post("doctor", "/api/bedside/checks", {"wristband": patient, "dose": dose})
        assert not early["passed"]
        assert {c["code"] for c in early["checks"] if not c["ok"]} == {"not_thawed"}
    api.call(
        "tech",
        "POST",
        f"/api/doses/{dose}/thaw",
        {"thawed_at": at(0, hours=-0.25), "password": STRONG},
    )
    if first:
        api.refused(
            "doctor",
            "POST",
            "/api/bedside/checks",
            {"wristband": dose, "dose": patient},
            code="scan_wristband_first",
            status=422,
        )
    check = api.post("doctor", "/api/bedside/checks", {"wristband": patient, "dose": dose})
    assert check["passed"], check["checks"]
    path = f"/api/bedside/checks/{check['id']}"
    if first:
        api.refused(
            "doctor",
            "POST",
            f"{path}/infusion",
            _infusion(),
            code="identity_not_verified",
            status=409,
        )
    api.call("doctor", "POST", f"{path}/verifications", {"username": "doctor", "password": STRONG})
    if first:
        api.refused(
            "doctor",
            "POST",
            f"{path}/verifications",
            {"username": "doctor", "password": STRONG},
            code="second_person_required",
            status=422,
        )
    api.call("doctor", "POST", f"{path}/verifications", {"username": "doctor2", "password": STRONG})
    if first:
        zero = _infusion(started=at(0, hours=0.01), stopped=at(0, hours=0.01))
        api.refused(
            "doctor", "POST", f"{path}/infusion", zero, code="duration_not_positive", status=422
        )
        bp = {**VITALS, "before": {**VITALS["before"], "systolic_mmhg": 1}}
        api.refused(
            "doctor",
            "POST",
            f"{path}/infusion",
            _infusion(vitals=bp),
            code="out_of_range",
            status=422,
        )
        api.refused(
            "doctor",
            "POST",
            f"{path}/infusion",
            _infusion(volume="12,5"),
            code="volume_exceeds_bag",
            status=422,
        )
    record = api.post("doctor", f"{path}/infusion", _infusion(volume="9,5"))
    assert record["volume_ml"] == 9.5 and record["dose"] == dose
    return dose


def _infusion(*, started=None, stopped=None, volume="9,5", vitals=VITALS) -> dict:
    """Given just after the bedside check made a moment ago: its times lie within the few
    minutes of clock difference a bedside tablet is allowed."""
    return {
        "started_at": started or at(0, hours=0.01),
        "stopped_at": stopped or at(0, hours=0.05),
        "volume_ml": volume,
        "complete": True,
        "bag_inspected": True,
        "vitals": vitals,
        "reactions": "none",
        "password": STRONG,
    }


def two_infusions(api: Api, patient: str) -> list[str]:
    """The trial's course: an order per infusion, each completed once given; a third refused
    by the trial's limit."""
    given = []
    for n in (1, 2):
        order = api.post("doctor", f"/api/patients/{patient}/orders", {"infusions": 1})
        assert order["cells_per_infusion"] == 70_000_000
        if n == 1:
            api.refused(
                "doctor",
                "POST",
                f"/api/patients/{patient}/orders",
                {"infusions": 1},
                code="order_active",
                status=409,
            )
        given.append(infused(api, patient, order, first=n == 1))
        done = api.get("doctor", f"/api/orders/{order['id']}")
        assert done["status"] == "completed" and done["infusions_given"] == 1
    api.refused(
        "doctor",
        "POST",
        f"/api/patients/{patient}/orders",
        {"infusions": 1},
        code="order_limit_reached",
        status=409,
    )
    orders = api.get("doctor", f"/api/orders?patient={patient}")
    assert [o["status"] for o in orders["items"]] == ["completed", "completed"]
    checks = api.get("doctor", f"/api/bedside/checks?patient={patient}")
    assert sum(c["passed"] for c in checks["items"]) == 2 and checks["total"] >= 3
    return given


def safety_follow_up(api: Api, patient: str) -> None:
    """An adverse event recorded and amended; the day-21 outcome, refused before day 21."""
    event = api.post(
        "doctor",
        f"/api/patients/{patient}/adverse-events",
        {
            "term": "Fever",
            "onset": on(-1),
            "grade": 1,
            "serious": False,
            "relation": "unlikely",
            "password": STRONG,
        },
    )
    amended = api.call(
        "doctor",
        "POST",
        f"/api/patients/{patient}/adverse-events/{event['id']}/amendments",
        {
            "term": "Fever",
            "onset": on(-1),
            "grade": 2,
            "serious": False,
            "relation": "possible",
            "expected_version": 1,
            "reason": "re-graded at the safety review",
            "password": STRONG,
        },
    )
    assert amended["version"] == 2 and amended["treatment_related"]
    api.refused(
        "doctor",
        "POST",
        f"/api/patients/{patient}/outcome",
        {"assessed_on": on(-21), "pcr": "negative", "ct": "improved", "password": STRONG},
        code="outcome_not_due",
        status=409,
    )
    outcome = api.post(
        "doctor",
        f"/api/patients/{patient}/outcome",
        {"assessed_on": on(-1), "pcr": "negative", "ct": "improved", "password": STRONG},
    )
    assert outcome["cured"]


def every_signature_still_valid(api: Api, din: str, patient: str, doses: list[str]) -> None:
    """The lot's steps and decision, each infusion, the outcome: every signature matches its
    record as stored (the release check would name a step whose signature no longer does)."""
    check = api.get("qa", f"/api/lots/{din}/release-check")
    assert not [b for b in check["blocking"] if b["code"] == "step_unsigned"], check
    trace = api.get("qa", f"/api/trace/{doses[0]}")
    assert {d["identifier"] for d in trace["donors"]} and patient in {
        p["identifier"] for p in trace["patients"]
    }
    outcome = api.get("doctor", f"/api/patients/{patient}/outcome")
    assert outcome["signatures"] and all(s["valid"] for s in outcome["signatures"])
    verify = api.get("admin", "/api/audit/verify")
    assert verify["ok"], verify


def test_the_whole_path_through_the_api_from_an_empty_database(api: Api) -> None:
    make_staff(api)
    din, doses = made_lot(api)
    released_after_qc(api, din, doses)
    api.refused(
        "qa",
        "POST",
        f"/api/lots/{din}/release",
        {"password": STRONG, "audit_trail_reviewed": True},
        code="lot_not_in_quarantine",
        status=409,
    )
    patient = enrolled_patient(api)
    given = two_infusions(api, patient)
    assert set(given) <= set(doses)
    safety_follow_up(api, patient)
    every_signature_still_valid(api, din, patient, doses)
