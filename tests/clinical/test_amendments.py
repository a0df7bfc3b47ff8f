"""A signed adverse event is corrected by a signed amendment with a reason, never overwritten in
silence (21 CFR 11.10(e)); of two clinicians amending at once, one wins."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mfg.audit.service import history, verify_chain
from mfg.clinical import outcomes, patients
from mfg.clinical.report import trial_report
from mfg.clinical.schemas import AdverseEventAmendIn
from mfg.db import unit_of_work
from mfg.errors import Conflict, InvalidInput, NotFound, SignatureRefused
from mfg.models import AdverseEvent, Meaning
from tests.clinical.outcome_factories import adverse_event, enrolled, today
from tests.factories import PASSWORD, bearer, csrf_from, log_in
from tests.races import race


def _fields(event: AdverseEvent, **changes) -> dict:
    return {
        "term": event.term,
        "onset": event.onset,
        "resolution": event.resolution,
        "grade": event.grade,
        "serious": event.serious,
        "relation": event.relation,
        "action": event.action,
        "outcome": event.outcome,
        **changes,
    }


def _amend(lab, patient, event, *, user="clinician", version=1, reason="Resolved", **changes):
    values = {"password": PASSWORD, **_fields(event, **changes)}
    return lab.run(
        user,
        lambda s, a: outcomes.amend_adverse_event(
            s,
            actor=a,
            patient=patients.get_patient(s, patient.code),
            event=outcomes.get_adverse_event(s, event.id),
            command=AdverseEventAmendIn(expected_version=version, reason=reason, **values),
        ),
    )


def test_an_amendment_changes_the_event_audits_old_and_new_with_the_reason_and_is_signed(
    lab,
) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2, relation="possible")
    resolved = today(lab) - timedelta(days=1)
    reason = "Resolved; re-graded on review"
    _amend(lab, patient, event, reason=reason, resolution=resolved, grade=3)
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.get(AdverseEvent, event.id)
        assert (stored.version, stored.grade, stored.resolution) == (2, 3, resolved)
        [shown] = outcomes.shown_adverse_event_signatures(session, stored, patient)
        assert shown.valid and shown.signature.meaning == Meaning.AMENDED.value
        events = history(session, entity_type="adverse_event", entity_id=event.id)
        amended = next(e for e in events if e.action == "adverse_event.amended")
        changes = json.loads(amended.changes)
        assert changes["grade"] == [2, 3] and changes["version"] == [1, 2]
        assert changes["resolution"] == [None, resolved.isoformat()]
        assert "term" not in changes  # only what changed
        assert amended.reason == reason
        assert verify_chain(session).ok


def test_the_first_signature_is_superseded_not_shown_invalid_and_the_new_one_tracks_the_record(
    lab,
) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2)
    _amend(lab, patient, event, grade=1)
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.get(AdverseEvent, event.id)
        assert [s.valid for s in outcomes.shown_adverse_event_signatures(session, stored, patient)]
        stored.grade = 4  # an edit behind the application's back
        assert not outcomes.shown_adverse_event_signatures(session, stored, patient)[0].valid
        session.rollback()


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"reason": "  "}, InvalidInput, "states its reason"),
        ({}, InvalidInput, "Nothing to amend"),
        ({"grade": 6}, InvalidInput, "not a CTCAE grade"),
        ({"grade": 5, "serious": False}, InvalidInput, "always a serious"),
        ({"version": 2, "grade": 3}, Conflict, "changed since you opened it"),
    ],
)
def test_an_amendment_out_of_rule_is_refused_and_nothing_changes(
    lab, changes: dict, error: type, says: str
) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2)
    with pytest.raises(error, match=says):
        _amend(lab, patient, event, **{"reason": "Re-graded", **changes})
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        assert session.get(AdverseEvent, event.id).version == 1


def test_an_amendment_with_a_wrong_password_changes_nothing(lab) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2)
    values = {"password": "not-the-password", **_fields(event, grade=3)}
    with pytest.raises(SignatureRefused):
        lab.run(
            "clinician",
            lambda s, a: outcomes.amend_adverse_event(
                s,
                actor=a,
                patient=patients.get_patient(s, patient.code),
                event=outcomes.get_adverse_event(s, event.id),
                command=AdverseEventAmendIn(expected_version=1, reason="Re-graded", **values),
            ),
        )
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        stored = session.get(AdverseEvent, event.id)
        assert (stored.grade, stored.version) == (2, 1)


def test_an_event_is_amended_only_under_its_own_patient(lab) -> None:
    patient, other = enrolled(lab), enrolled(lab)
    event = adverse_event(lab, patient)
    with pytest.raises(NotFound):
        _amend(lab, other, event, grade=3)


def test_of_two_clinicians_amending_the_same_version_at_once_one_wins(lab) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2)
    users = [lab.users["clinician"], lab.users["clinician-2"]]

    def amend(session, actor, grade):
        return outcomes.amend_adverse_event(
            session,
            actor=actor,
            patient=patients.get_patient(session, patient.code),
            event=outcomes.get_adverse_event(session, event.id),
            command=AdverseEventAmendIn(
                expected_version=1,
                reason=f"re-graded to {grade}",
                password=PASSWORD,
                **_fields(event, grade=grade),
            ),
        )

    results = race(
        lab.engine,
        lab.settings,
        users,
        lambda s, a: amend(s, a, 3 if a.username == "clinician" else 4),
    )
    assert sorted(map(str, results)).count("ok") == 1, results
    assert any(isinstance(r, Conflict) for r in results), results
    with unit_of_work(lab.engine, settings=lab.settings) as session:
        assert session.get(AdverseEvent, event.id).version == 2


def test_the_trial_report_counts_the_amended_relation(lab) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, relation="unlikely")

    def related(session, actor) -> int:
        report = trial_report(session, actor=actor, trial=patients.get_trial(session))
        return sum(arm.treatment_related_ae for arm in report.arms)

    assert lab.run("clinician", related) == 0
    _amend(lab, patient, event, reason="Causality re-assessed", relation="probable")
    assert lab.run("clinician", related) == 1


def test_an_amendment_over_the_api_and_on_the_page(client, lab) -> None:
    patient = enrolled(lab)
    event = adverse_event(lab, patient, grade=2)
    body = {
        **{k: str(v) if k == "onset" else v for k, v in _fields(event, grade=3).items()},
        "expected_version": 1,
        "reason": "Re-graded",
        "password": PASSWORD,
    }
    url = f"/api/patients/{patient.code}/adverse-events/{event.id}/amendments"
    headers = bearer(client, "clinician")
    amended = client.post(url, json=body, headers=headers)
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2 and amended.json()["grade"] == 3
    stale = client.post(url, json={**body, "grade": 4}, headers=headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "changed_meanwhile"

    log_in(client, "clinician")
    page = client.get(f"/patients/{patient.code}/adverse-events")
    assert "Version 2 (amended)" in page.text and 'id="amend-dialog-' in page.text
    form = {
        **{k: v for k, v in body.items() if k not in ("serious", "resolution")},
        "serious": "no",
        "resolution": "",
        "grade": "1",
        "expected_version": "2",
        "reason": "Grade 1 on source document review",
        "csrf_token": csrf_from(page.text),
    }
    posted = client.post(
        f"/patients/{patient.code}/adverse-events/{event.id}/amend",
        data=form,
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    page = client.get(f"/patients/{patient.code}/adverse-events")
    assert "Version 3 (amended)" in page.text and "Grade 1 on source document review" in page.text
