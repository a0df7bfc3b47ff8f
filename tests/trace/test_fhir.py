"""FHIR R5 export (docs/fhir.md): every Bundle validates with ``fhir.resources``, its codes come
from the R5 value sets and its references resolve inside it; the product chain it carries names
the same donors and patients as the trace."""

import copy
import hashlib
import json
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from sqlmodel import Session, select

from mfg.models import AuditEvent
from mfg.trace import fhir_checks
from mfg.trace.fhir import build_bundle
from mfg.trace.fhir_resources import ISBT_DIN
from mfg.trace.service import build_trace
from tests.factories import bearer
from tests.test_cli import run_mfg


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_url(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def _identifier(resource: dict, suffix: str) -> str:
    return next(i["value"] for i in resource["identifier"] if i["system"].endswith(suffix))


def _donors_of_product(bundle: dict, product: dict) -> set[str]:
    """Follow parent links up to the biopsies, then each biopsy's collection source (a donor)."""
    entries = _by_url(bundle)
    found, stack = set(), [product]
    while stack:
        resource = stack.pop()
        stack += [entries[p["reference"]] for p in resource.get("parent", [])]
        source = resource.get("collection", {}).get("source")
        if source:
            found.add(_identifier(entries[source["reference"]], "/sid/donor"))
    return found


def _trace_codes(session, kind: str, identifier: str, of: str) -> set[str]:
    return {
        n.identifier for n in build_trace(session, kind=kind, identifier=identifier).of_kind(of)
    }


def _exported(client, headers, kinds: str, identifier: str) -> dict:
    response = client.get(f"/api/fhir/{kinds}/{identifier}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return response.json()


def test_every_exported_bundle_validates_and_its_references_resolve(client, history) -> None:
    headers = bearer(client, "qa")
    for lot, dose, patient in history.values():
        for kinds, identifier in (
            ("doses", dose.identifier),
            ("lots", lot.din),
            ("patients", patient.code),
        ):
            bundle = _exported(client, headers, kinds, identifier)
            Bundle.model_validate(bundle)
            assert bundle["type"] == "collection"
            assert fhir_checks.unresolved_references(bundle) == []
            assert fhir_checks.code_problems(bundle) == []
            urls = [e["fullUrl"] for e in bundle["entry"]]
            assert len(urls) == len(set(urls)), "a resource is in the Bundle twice"


def test_a_dose_bundle_carries_its_chain_of_identity_to_the_same_donors_and_patient_as_the_trace(
    client, engine, history
) -> None:
    headers = bearer(client, "clinician")
    with Session(engine) as session:
        for lot, dose, patient in history.values():
            bundle = _exported(client, headers, "doses", dose.identifier)
            products = _resources(bundle, "BiologicallyDerivedProduct")
            [product] = [p for p in products if p.get("division")]
            assert _identifier(product, "/sid/dose") == dose.identifier
            assert product["biologicalSourceEvent"] == {"system": ISBT_DIN, "value": lot.din}
            assert product["productCategory"]["code"] == "cells"
            assert product["expirationDate"].startswith(dose.expires_at.date().isoformat()[:4])
            assert _donors_of_product(bundle, product) == _trace_codes(
                session, "dose", dose.identifier, "donor"
            )
            [dispense] = _resources(bundle, "BiologicallyDerivedProductDispense")
            [procedure] = _resources(bundle, "Procedure")
            entries = _by_url(bundle)
            assert dispense["status"] == "issued" and dispense["whenHandedOver"]
            assert entries[dispense["product"]["reference"]] is product
            assert entries[procedure["used"][0]["reference"]["reference"]] is product
            assert procedure["status"] == "completed"
            recipient = entries[procedure["subject"]["reference"]]
            assert _identifier(recipient, "/sid/patient") == patient.code
            assert entries[dispense["patient"]["reference"]] is recipient


def test_the_exported_patients_are_pseudonymous(client, history) -> None:
    lot, _, _ = history["b"]
    bundle = _exported(client, bearer(client, "qa"), "lots", lot.din)
    people = _resources(bundle, "Patient")
    assert len(people) == 3  # two donors and one recipient
    for person in people:
        assert person["meta"]["security"][0]["code"] == "PSEUDED"
        assert set(person) == {"resourceType", "id", "meta", "identifier", "gender"}


def test_a_lot_bundle_holds_its_biopsies_and_every_dose_with_the_isbt_identifiers(
    client, engine, history
) -> None:
    lot, _, _ = history["b"]
    bundle = _exported(client, bearer(client, "technician"), "lots", lot.din)
    products = _resources(bundle, "BiologicallyDerivedProduct")
    biopsies = [p for p in products if p["productCategory"]["code"] == "tissue"]
    doses = [p for p in products if p.get("division")]
    [pool] = [p for p in products if p["productCategory"]["code"] == "cells" and p not in doses]
    assert pool["identifier"] == [{"use": "official", "system": ISBT_DIN, "value": lot.din}]
    assert len(pool["parent"]) == len(biopsies) == 2
    assert len(doses) == 2 and {d["division"] for d in doses} == {"A0", "B0"}
    for biopsy in biopsies:
        din = biopsy["biologicalSourceEvent"]["value"]
        assert len(din) == 13 and "=" not in din
    codes = {p["type"]["coding"][0]["code"] for p in pool["property"]}
    assert {"passage-number", "viability", "pooled-cells"} <= codes


def test_codes_outside_the_r5_value_sets_are_refused(session, history) -> None:
    _, dose, _ = history["a"]
    bundle = build_bundle(session, "dose", dose.identifier)
    broken = copy.deepcopy(bundle)
    for resource in (e["resource"] for e in broken["entry"]):
        kind = resource["resourceType"]
        if kind == "Procedure":
            resource["status"] = "done"
        elif kind == "BiologicallyDerivedProductDispense":
            resource["status"] = "infused"
        elif kind == "Patient":
            resource["gender"] = "F"
        elif kind == "BiologicallyDerivedProduct":
            resource["productCategory"]["code"] = "cell"
    problems = fhir_checks.code_problems(broken)
    assert any("Procedure.status 'done'" in p for p in problems)
    assert any("Dispense.status 'infused'" in p for p in problems)
    assert any("Patient.gender 'F'" in p for p in problems)
    assert any("productCategory" in p and "'cell'" in p for p in problems)
    with pytest.raises(fhir_checks.FhirExportError, match="broke its own rules"):
        fhir_checks.checked(broken)


def test_a_reference_to_nothing_in_the_bundle_is_refused(session, history) -> None:
    _, dose, _ = history["a"]
    bundle = build_bundle(session, "dose", dose.identifier)
    bundle["entry"] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] != "Practitioner"
    ]
    assert fhir_checks.unresolved_references(bundle)
    with pytest.raises(fhir_checks.FhirExportError, match="unresolved reference"):
        fhir_checks.checked(bundle)


def test_a_structurally_invalid_bundle_is_refused_with_the_fields_named(session, history) -> None:
    _, dose, _ = history["a"]
    bundle = build_bundle(session, "dose", dose.identifier)
    bundle["entry"][0]["resource"]["unknownElement"] = 1
    with pytest.raises(fhir_checks.FhirExportError, match="unknownElement"):
        fhir_checks.checked(bundle)


def test_each_fhir_export_is_audited_with_the_sha256_of_the_bytes_issued(
    client, engine, history
) -> None:
    _, dose, _ = history["a"]
    response = client.get(f"/api/fhir/doses/{dose.identifier}", headers=bearer(client, "qa"))
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-content-sha256"] == digest
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "fhir.exported")).one()
    assert event.username == "qa" and event.entity_id == dose.identifier
    assert json.loads(event.changes)["bundle_sha256"] == [None, digest]


def test_fhir_export_is_refused_to_a_role_that_sees_only_one_side(client, history) -> None:
    lot, _, patient = history["a"]
    headers = bearer(client, "qc")
    assert client.get(f"/api/fhir/lots/{lot.din}", headers=headers).status_code == 403
    assert client.get(f"/api/fhir/patients/{patient.code}", headers=headers).status_code == 403


def test_an_unknown_record_or_kind_is_a_clear_error(client, history) -> None:
    headers = bearer(client, "qa")
    missing = client.get("/api/fhir/lots/A999926999999", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/fhir/donors/DN000001H", headers=headers).status_code == 422


def test_mfg_export_fhir_writes_a_valid_bundle_of_a_scanned_code_and_of_every_lot_and_patient(
    engine, history, tmp_path: Path
) -> None:
    lot, _, patient = history["b"]
    env = {"MFG_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    one = run_mfg("export", "fhir", patient.code, env_extra=env, cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    bundle = json.loads(one.stdout)
    fhir_checks.checked(bundle)
    recipients = [
        p for p in _resources(bundle, "Patient") if p["identifier"][0]["system"].endswith("patient")
    ]
    assert [_identifier(p, "/sid/patient") for p in recipients] == [patient.code]
    out = tmp_path / "bundles"
    every = run_mfg("export", "fhir", "--all", "--output", str(out), env_extra=env, cwd=tmp_path)
    assert every.returncode == 0, every.stderr
    names = sorted(p.name for p in out.iterdir())
    assert f"fhir-lot-{lot.din}.json" in names and f"fhir-patient-{patient.code}.json" in names
    for path in out.iterdir():
        fhir_checks.checked(json.loads(path.read_text(encoding="utf-8")))
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "fhir.exported")).all()
    assert len(events) == 1 + len(names)
    assert {e.username for e in events} == {"command line"}
    refused = run_mfg("export", "fhir", env_extra=env, cwd=tmp_path)
    assert refused.returncode == 2 and "--all" in refused.stderr
