"""Patients over the JSON API and on the ward's pages."""

from tests.clinical.factories import YES_TO_INCLUSION, enrol, order, released_lot
from tests.factories import bearer, csrf_from, log_in


def test_patients_over_the_api_with_the_list_read_contract(client, lab) -> None:
    doctor = bearer(client, "clinician")
    created = client.post(
        "/api/patients",
        headers=doctor,
        json={
            "arm": "MSC",
            "sex": "M",
            "age": 47,
            "weight_kg": 82.5,
            "eligibility": YES_TO_INCLUSION,
            "enrolled_on": "2026-11-20",
        },
    )
    assert created.status_code == 201, created.text
    code = created.json()["identifier"]
    assert code.startswith("PT") and created.json()["weight_verified"] is False
    refused = client.post(
        "/api/patients",
        headers=doctor,
        json={
            "arm": "MSC",
            "sex": "M",
            "age": 71,
            "weight_kg": 82.5,
            "eligibility": {**YES_TO_INCLUSION, "Diagnosed cancer": True},
            "enrolled_on": "2026-11-20",
        },
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["reasons"] == [
        "Exclusion criterion present: Diagnosed cancer.",
        "Age 71 is outside 18–70 years.",
    ]
    listed = client.get("/api/patients", headers=doctor).json()
    assert listed["total"] == 1 and listed["items"][0]["arm"] == "mesenchymal stem cells"
    verified = client.post(
        f"/api/patients/{code}/weight-verification", headers=bearer(client, "clinician-2")
    )
    assert verified.json()["weight_verified"] is True
    ordered = client.post(f"/api/patients/{code}/orders", headers=doctor, json={"infusions": 2})
    assert ordered.status_code == 201 and ordered.json()["cells_per_infusion"] == 82_500_000
    scanned = client.get("/api/scan", params={"code": code}, headers=doctor).json()
    assert scanned["kind"] == "patient"


def test_the_patient_page_enrols_and_orders(client, lab) -> None:
    log_in(client, "clinician")
    page = client.get("/patients")
    data = {
        "csrf_token": csrf_from(page.text),
        "arm": "MSC",
        "sex": "F",
        "age": "39",
        "weight_kg": "64",
        "criterion_0": "yes",
        "criterion_1": "yes",
        "criterion_2": "no",
        "enrolled_on": "2026-11-21",
    }
    page = client.post("/patients", data=data)
    assert page.status_code == 200 and "mesenchymal stem cells" in page.text
    assert "not verified" in page.text
    patient = enrol(lab)
    order(lab, patient)
    page = client.get(f"/patients/{patient.code}")
    assert 'id="order"' in page.text and "80,000,000 cells" in page.text
    assert "1,000,000 cells/kg × " in page.text and "per infusion, 1 infusion<" in page.text


def test_a_concealed_allocation_list_assigns_arms_in_order_and_refuses_a_chosen_arm(
    client, lab
) -> None:
    loaded = client.post(
        "/api/trials/NCT04382547/allocation-list",
        headers=bearer(client, "qa"),
        json={"arms": ["CONTROL", "MSC", "MSC"]},
    )
    assert loaded.status_code == 201 and loaded.json() == {
        "trial": "NCT04382547",
        "loaded": 3,
        "remaining": 3,
    }
    doctor = bearer(client, "clinician")
    body = {
        "sex": "F",
        "age": 50,
        "weight_kg": 70,
        "eligibility": YES_TO_INCLUSION,
        "enrolled_on": "2026-11-20",
    }
    chosen = client.post("/api/patients", headers=doctor, json={**body, "arm": "MSC"})
    assert chosen.status_code == 422 and "concealed allocation list" in chosen.text
    assert chosen.json()["error"]["code"] == "arm_from_allocation_list"
    arms = [client.post("/api/patients", headers=doctor, json=body).json()["arm"] for _ in range(3)]
    assert arms == ["control", "mesenchymal stem cells", "mesenchymal stem cells"]
    used_up = client.post("/api/patients", headers=doctor, json=body)
    assert used_up.status_code == 409 and "used up" in used_up.text
    assert used_up.json()["error"]["code"] == "allocation_list_used_up"


def test_the_patient_page_offers_to_allocate_only_while_an_infusion_wants_a_dose(
    client, lab
) -> None:
    released_lot(lab)
    patient = enrol(lab)
    order(lab, patient, infusions=1)
    log_in(client, "technician")
    page = client.get(f"/patients/{patient.code}").text
    assert 'id="allocate-form"' in page and "1 infusion of the order wants a dose." in page
    form = {"csrf_token": csrf_from(page)}
    allocated = client.post(f"/patients/{patient.code}/allocation", data=form)
    assert allocated.status_code == 200, allocated.text
    assert 'id="allocate-form"' not in allocated.text
    assert "Every infusion of the order has its dose." in allocated.text
    again = client.post(f"/patients/{patient.code}/allocation", data=form)
    assert again.status_code == 409 and "have their doses already" in again.text


def test_a_dose_typed_at_the_bedside_with_a_wrong_check_character_fails_as_bad_check_character(
    client, lab
) -> None:
    """Typed by hand as the dose page prints it, but with a wrong check character: the dose check
    fails with the scan's own code and says the check character does not match; typed right,
    every check passes."""
    from mfg.identifiers.isbt128 import ALPHABET, Din
    from tests.clinical.factories import ready_at_bedside

    patient, dose = ready_at_bedside(lab)
    din = Din.parse(dose.identifier[:13])
    wrong = next(k for k in ALPHABET if k != din.check)
    doctor = bearer(client, "clinician")
    typed = f"{din.eye_readable} {wrong} {dose.product_code}"
    stopped = client.post(
        "/api/bedside/checks", headers=doctor, json={"wristband": patient.code, "dose": typed}
    )
    assert stopped.status_code == 201, stopped.text
    checks = {c["name"]: c for c in stopped.json()["checks"]}
    assert stopped.json()["passed"] is False and checks["wristband"]["ok"] is True
    assert checks["dose label"]["code"] == "bad_check_character"
    assert "check character" in checks["dose label"]["reason"]
    assert "does not match" in checks["dose label"]["reason"]
    passed = client.post(
        "/api/bedside/checks",
        headers=doctor,
        json={
            "wristband": patient.code,
            "dose": f"{din.eye_readable} {din.check} {dose.product_code}",
        },
    )
    assert passed.json()["passed"] is True, passed.json()["checks"]
