"""Adverse events and the day-21 outcome: the rules, the signature and audit, the API and pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from mfg.audit.service import history, verify_chain
from mfg.clinical import outcomes, patients
from mfg.clinical.outcomes import is_cured, is_treatment_related
from mfg.clinical.schemas import AdverseEventIn, OutcomeIn
from mfg.db import unit_of_work
from mfg.errors import InvalidInput, PermissionDenied, RuleViolation, SignatureRefused
from mfg.models import AdverseEvent, Meaning, Outcome, Relation, Signature
from tests.clinical.outcome_factories import adverse_event, enrolled, outcome, today
from tests.factories import PASSWORD, bearer, csrf_from, log_in


@pytest.mark.parametrize(
    ("pcr", "ct", "cured"),
    [
        ("negative", "improved", True),
        ("negative", "unchanged", False),
        ("negative", "worsened", False),
        ("positive", "improved", False),
        ("positive", "unchanged", False),
        ("positive", "worsened", False),
    ],
)
def test_cured_means_pcr_negative_and_ct_improved(pcr: str, ct: str, cured: bool) -> None:
    assert is_cured(pcr, ct) is cured


def test_treatment_related_means_possible_probable_or_definite() -> None:
    related = {r.value for r in Relation if is_treatment_related(r)}
    assert related == {"possible", "probable", "definite"}
    assert not is_treatment_related("not related")
    assert not is_treatment_related("unlikely")
    assert not is_treatment_related("not assessable")


def test_an_adverse_event_is_signed_and_audited(lab) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, relation="Probable ", grade=3, term="  Chills ")
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.get(AdverseEvent, event.id)
        assert (stored.term, stored.relation, stored.grade) == ("Chills", "probable", 3)
        shown = outcomes.shown_adverse_event_signatures(session, stored, patient)
        assert len(shown) == 1 and shown[0].valid
        signature = shown[0].signature
        assert signature.meaning == Meaning.PERFORMED.value
        assert signature.user_id == lab.users["clinician"].id
        assert signature.printed_name == lab.users["clinician"].full_name
        events = history(session, entity_type="adverse_event", entity_id=str(event.id))
        assert [e.action for e in events] == ["adverse_event.recorded", "signature.signed"]
        assert '"relation":[null,"probable"]' in events[0].changes.replace(" ", "")
        assert f'"patient":[null,"{patient.code}"]' in events[0].changes.replace(" ", "")
        assert verify_chain(session).ok
        # A later change of the record shows the signature as no longer matching it.
        stored.grade = 4
        assert not outcomes.shown_adverse_event_signatures(session, stored, patient)[0].valid
        session.rollback()


def test_an_adverse_event_with_a_wrong_password_is_not_recorded(lab) -> None:
    patient, onset = enrolled(lab), today(lab)
    with pytest.raises(SignatureRefused):
        lab.run(
            "clinician",
            lambda s, a: outcomes.record_adverse_event(
                s,
                actor=a,
                patient=patients.get_patient(s, patient.code),
                command=AdverseEventIn(
                    term="Rash",
                    onset=onset,
                    grade=1,
                    serious=False,
                    relation="unlikely",
                    password="not-the-password",
                ),
            ),
        )
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        assert session.exec(select(AdverseEvent)).all() == []


def _record(lab, patient, **changes):
    fields = {
        "term": "Headache",
        "onset": today(lab) - timedelta(days=3),
        "resolution": None,
        "grade": 2,
        "serious": False,
        "relation": "possible",
        "action": "",
        "outcome": "",
        "password": PASSWORD,
        **changes,
    }
    return lab.run(
        "clinician",
        lambda s, a: outcomes.record_adverse_event(
            s,
            actor=a,
            patient=patients.get_patient(s, patient.code),
            command=AdverseEventIn(**fields),
        ),
    )


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"grade": 0}, "grade", "not a CTCAE grade"),
        ({"grade": 6}, "grade", "not a CTCAE grade"),
        ({"grade": 5, "serious": False}, "serious", "always a serious adverse event"),
        ({"relation": "maybe"}, "relation", "not a relation to the product"),
        ({"term": "   "}, "term", "term is required"),
        ({"onset": "tomorrow"}, "onset", "in the future"),
        ({"onset": "before enrolment"}, "onset", "before"),
        ({"resolution": "before onset"}, "resolution", "before the onset"),
        ({"resolution": "tomorrow"}, "resolution", "in the future"),
    ],
)
def test_an_adverse_event_out_of_rule_is_refused_with_a_reason(
    lab, changes: dict, field: str, says: str
) -> None:
    patient = enrolled(lab, days_ago=5)
    now = today(lab)
    dates = {
        "tomorrow": now + timedelta(days=1),
        "before enrolment": now - timedelta(days=6),
        "before onset": now - timedelta(days=4),
    }
    changes = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    with pytest.raises(InvalidInput) as refused:
        _record(lab, patient, **changes)
    assert refused.value.details["field"] == field
    assert says in refused.value.message


def test_a_grade_5_serious_event_resolved_the_same_day_is_recorded(lab) -> None:
    patient = enrolled(lab)
    onset = today(lab) - timedelta(days=2)
    event = _record(lab, patient, grade=5, serious=True, resolution=onset, relation="unlikely")
    assert (event.grade, event.serious, event.resolution) == (5, True, onset)


def test_a_second_day21_outcome_is_refused(lab) -> None:
    patient = enrolled(lab)
    first = outcome(lab, patient, pcr="negative", ct="improved")
    assert first.cured is True
    with pytest.raises(RuleViolation) as refused:
        outcome(lab, patient, pcr="positive", ct="worsened")
    assert f"{patient.code} already has a day-21 outcome" in refused.value.message
    assert "one outcome only" in refused.value.message
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.exec(select(Outcome).where(Outcome.patient_id == patient.id)).all()
        assert [(o.pcr, o.ct, o.cured) for o in stored] == [("negative", "improved", True)]


def test_an_outcome_is_signed_audited_and_cured_is_derived(lab) -> None:
    patient = enrolled(lab)
    recorded = outcome(lab, patient, pcr=" Negative", ct="unchanged")
    assert (recorded.pcr, recorded.ct, recorded.cured) == ("negative", "unchanged", False)
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.get(Outcome, recorded.id)
        shown = outcomes.shown_outcome_signatures(session, stored, patient)
        assert [(s.signature.meaning, s.valid) for s in shown] == [("Performed", True)]
        actions = [
            e.action for e in history(session, entity_type="outcome", entity_id=patient.code)
        ]
        assert actions == ["outcome.recorded", "signature.signed"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pcr": "equivocal"}, "pcr"),
        ({"ct": "better"}, "ct"),
        ({"assessed_on": 1}, "assessed_on"),
        ({"assessed_on": -30}, "assessed_on"),
    ],
)
def test_an_outcome_out_of_rule_is_refused(lab, changes: dict, field: str) -> None:
    patient = enrolled(lab, days_ago=21)
    fields = {"pcr": "negative", "ct": "improved", "assessed_on": 0, **changes}
    fields["assessed_on"] = today(lab) + timedelta(days=fields["assessed_on"])
    with pytest.raises(InvalidInput) as refused:
        lab.run(
            "clinician",
            lambda s, a: outcomes.record_outcome(
                s,
                actor=a,
                patient=patients.get_patient(s, patient.code),
                command=OutcomeIn(
                    password=PASSWORD,
                    **fields,
                ),
            ),
        )
    assert refused.value.details["field"] == field


def test_only_a_clinician_records_adverse_events_and_outcomes(lab) -> None:
    patient, assessed_on = enrolled(lab), today(lab)
    for role in ("qa", "technician", "admin"):
        with pytest.raises(PermissionDenied):
            lab.run(
                role,
                lambda s, a: outcomes.record_outcome(
                    s,
                    actor=a,
                    patient=patients.get_patient(s, patient.code),
                    command=OutcomeIn(
                        assessed_on=assessed_on,
                        pcr="negative",
                        ct="improved",
                        password=PASSWORD,
                    ),
                ),
            )
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        assert session.exec(select(Signature)).all() == []


def test_adverse_events_and_the_outcome_over_the_api(client, lab) -> None:
    patient = enrolled(lab)
    clinician, qa = bearer(client, "clinician"), bearer(client, "qa")
    onset = (today(lab) - timedelta(days=4)).isoformat()
    body = {
        "term": "Infusion reaction",
        "onset": onset,
        "grade": 2,
        "serious": False,
        "relation": "definite",
        "action": "infusion slowed",
        "outcome": "resolved",
        "password": PASSWORD,
    }
    # The patient code is read as typed or scanned: lower case and hyphens are fine.
    typed = f"{patient.code[:2].lower()}-{patient.code[2:8]}-{patient.code[8:]}"
    created = client.post(f"/api/patients/{typed}/adverse-events", json=body, headers=clinician)
    assert created.status_code == 201, created.text
    assert created.json()["treatment_related"] is True
    assert created.json()["signatures"][0]["meaning"] == "Performed"
    assert created.json()["signatures"][0]["valid"] is True
    refused = client.post(
        f"/api/patients/{patient.code}/adverse-events", json={**body, "grade": 7}, headers=clinician
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    forbidden = client.post(f"/api/patients/{patient.code}/adverse-events", json=body, headers=qa)
    assert forbidden.status_code == 403
    listed = client.get(f"/api/patients/{patient.code}/adverse-events", headers=qa).json()
    assert listed["total"] == 1 and listed["items"][0]["term"] == "Infusion reaction"

    missing = client.get(f"/api/patients/{patient.code}/outcome", headers=qa)
    assert missing.status_code == 404 and "No day-21 outcome" in missing.text
    day21 = {"assessed_on": today(lab).isoformat(), "pcr": "negative", "ct": "improved"}
    recorded = client.post(
        f"/api/patients/{patient.code}/outcome",
        json={**day21, "password": PASSWORD},
        headers=clinician,
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["cured"] is True
    again = client.post(
        f"/api/patients/{patient.code}/outcome",
        json={**day21, "pcr": "positive", "password": PASSWORD},
        headers=clinician,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "outcome_already_recorded"
    assert again.json()["error"]["details"]["patient"] == patient.code
    read = client.get(f"/api/patients/{patient.code}/outcome", headers=qa).json()
    assert (read["pcr"], read["ct"], read["cured"]) == ("negative", "improved", True)
    unknown = client.get("/api/patients/PT999999X/outcome", headers=qa)
    assert unknown.status_code == 404


def test_adverse_events_and_the_outcome_are_recorded_on_the_pages(client, lab) -> None:
    patient = enrolled(lab)
    log_in(client, "clinician")
    page = client.get(f"/patients/{patient.code}/adverse-events")
    assert page.status_code == 200 and "No adverse events recorded." in page.text
    assert 'id="adverse-event-dialog"' in page.text and 'class="sign-meaning"' in page.text
    posted = client.post(
        f"/patients/{patient.code}/adverse-events",
        data={
            "csrf_token": csrf_from(page.text),
            "term": "Nausea",
            "onset": (today(lab) - timedelta(days=2)).isoformat(),
            "resolution": "",
            "grade": "1",
            "serious": "no",
            "relation": "not related",
            "action": "none",
            "outcome": "resolved",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    shown = client.get(posted.headers["location"]).text
    assert "Nausea" in shown and "recorded and signed" in shown
    assert "Signature valid" in shown and "treatment-related</strong>" not in shown

    page = client.get(f"/patients/{patient.code}/outcome")
    assert 'id="no-outcome"' in page.text and 'id="outcome-dialog"' in page.text
    wrong = client.post(
        f"/patients/{patient.code}/outcome",
        data={
            "csrf_token": csrf_from(page.text),
            "assessed_on": today(lab).isoformat(),
            "pcr": "negative",
            "ct": "worsened",
            "password": "wrong password",
        },
        follow_redirects=False,
    )
    assert wrong.status_code == 422 and "not cured" not in wrong.text
    posted = client.post(
        f"/patients/{patient.code}/outcome",
        data={
            "csrf_token": csrf_from(page.text),
            "assessed_on": today(lab).isoformat(),
            "pcr": "negative",
            "ct": "worsened",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    shown = client.get(posted.headers["location"]).text
    assert "NO — not cured" in shown and "Signature valid" in shown
    assert 'id="outcome-dialog"' not in shown


def test_a_reviewer_sees_the_pages_without_the_recording_forms(client, lab) -> None:
    patient = enrolled(lab)
    adverse_event(lab, patient, relation="possible")
    log_in(client, "qa")
    page = client.get(f"/patients/{patient.code}/adverse-events")
    assert page.status_code == 200 and "(treatment-related)" in page.text
    assert "adverse-event-dialog" not in page.text
    outcome_page = client.get(f"/patients/{patient.code}/outcome")
    assert outcome_page.status_code == 200 and "outcome-dialog" not in outcome_page.text


@pytest.mark.parametrize(("day", "refused"), [(0, True), (1, True), (20, True), (21, False)])
def test_outcome_not_due(day: int, refused: bool) -> None:
    """The day-21 outcome is assessed on day 21 after enrolment or later, never on day 1."""
    from datetime import date

    from mfg.models import Patient

    patient = Patient(code="PT000001", enrolled_on=date(2026, 11, 1))
    problem = outcomes.outcome_not_due(patient, date(2026, 11, 1) + timedelta(days=day))
    assert (problem is not None) == refused
    if problem:
        assert problem.code == "outcome_not_due" and problem.conflict
        assert "2026-11-22" in problem.message  # the day it falls due


def test_outcome_not_due_is_refused_by_the_service(lab) -> None:
    patient = enrolled(lab, days_ago=1)
    with pytest.raises(RuleViolation) as refused:
        outcome(lab, patient)  # assessed today: day 1
    assert refused.value.code == "outcome_not_due"
    assert refused.value.details["field"] == "assessed_on"
