"""The audit trail for people: filters, history, CSV export, verification, signed reviews."""

import csv
import io
from datetime import timedelta

from sqlmodel import Session, select

from mfg.auth import service as accounts
from mfg.db import unit_of_work
from mfg.models import AuditEvent, AuditReview, User, utcnow
from tests.audit.tamper import drop_append_only_triggers, execute
from tests.factories import PASSWORD, bearer, csrf_from, log_in


def deactivate(engine, settings, users, username: str) -> None:
    with unit_of_work(engine, settings=settings) as session:
        accounts.deactivate_user(
            session,
            actor=session.get(User, users["admin"].id),
            user=accounts.require_user(session, username),
            reason="left the company",
        )


def test_the_audit_page_filters_by_record_user_and_date(client, engine, settings, users) -> None:
    deactivate(engine, settings, users, "technician")
    log_in(client, "qa")
    html = client.get("/audit", params={"entity_type": "user", "entity_id": "technician"}).text
    assert "user.deactivated" in html and "left the company" in html
    assert "user.created" in html and "login.succeeded" not in html
    by_user = client.get("/audit", params={"username": "admin", "action": "user.deactivated"}).text
    assert 'id="event-total">1<' in by_user
    today = utcnow().astimezone(settings.tz).date()
    future = client.get("/audit", params={"since": str(today + timedelta(days=1))}).text
    assert 'id="event-total">0<' in future
    assert 'id="event-total">0<' not in client.get("/audit", params={"since": str(today)}).text


def test_a_user_page_shows_its_own_history(client, engine, settings, users) -> None:
    deactivate(engine, settings, users, "qc")
    log_in(client, "admin")
    html = client.get("/admin/users/qc").text
    assert "user.created" in html and "user.deactivated" in html and "DEACTIVATED" in html


def test_the_csv_export_contains_the_events_and_is_itself_audited(client, engine, users) -> None:
    log_in(client, "qa")
    response = client.get("/audit/export.csv", params={"entity_type": "user"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["action"] for r in rows} >= {"user.created"}
    assert all(r["entity_type"] == "user" for r in rows)
    with Session(engine) as session:
        exported = session.exec(
            select(AuditEvent).where(AuditEvent.action == "audit.exported")
        ).one()
    assert exported.username == "qa" and "entity type = user" in exported.reason


def test_api_audit_verify_reports_an_intact_chain(client, users) -> None:
    body = client.get("/api/audit/verify", headers=bearer(client, "qa")).json()
    assert body["ok"] is True and body["first_bad_seq"] is None and body["events"] >= 5


def test_api_audit_verify_names_the_first_bad_event_after_a_raw_edit(client, engine, users) -> None:
    headers = bearer(client, "admin")
    drop_append_only_triggers(engine)
    execute(engine, "UPDATE audit_event SET username = 'someone' WHERE seq = 3")
    body = client.get("/api/audit/verify", headers=headers).json()
    assert body == {
        "ok": False,
        "events": 2,
        "first_bad_seq": 3,
        "message": "event #3 was altered",
        "missing_creation": [],
    }


def test_the_verify_page_says_broken_and_where(client, engine, users) -> None:
    log_in(client, "qa")
    drop_append_only_triggers(engine)
    execute(engine, "DELETE FROM audit_event WHERE seq = 2")
    html = client.get("/audit/verify").text
    assert "BROKEN at event #2" in html


def test_qa_signs_a_review_through_the_api_and_sees_the_manifestation(client, users) -> None:
    headers = bearer(client, "qa")
    response = client.post(
        "/api/audit/reviews",
        headers=headers,
        json={"password": PASSWORD, "comment": "monthly review", "entity_type": "user"},
    )
    assert response.status_code == 201, response.text
    review = response.json()
    assert review["event_count"] >= 5 and review["filter"] == "entity type = user"
    [signature] = review["signatures"]
    assert signature["meaning"] == "Reviewed" and signature["printed_name"] == "Qa Tester"
    assert signature["valid"] is True


def test_a_review_with_a_wrong_password_is_refused_and_nothing_is_kept(
    client, engine, users
) -> None:
    response = client.post(
        "/api/audit/reviews", headers=bearer(client, "qa"), json={"password": "wrong"}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "signature_refused"
    with Session(engine) as session:
        assert session.exec(select(AuditReview)).all() == []


def test_a_review_is_refused_while_the_chain_is_broken(client, engine, users) -> None:
    headers = bearer(client, "qa")
    drop_append_only_triggers(engine)
    execute(engine, "UPDATE audit_event SET reason = 'x' WHERE seq = 1")
    response = client.post("/api/audit/reviews", headers=headers, json={"password": PASSWORD})
    assert response.status_code == 409 and "broken" in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "audit_chain_broken"


def test_changing_a_signed_review_shows_its_signature_invalid(client, engine, users) -> None:
    log_in(client, "qa")
    token = csrf_from(client.get("/audit").text)
    response = client.post("/audit/reviews", data={"password": PASSWORD, "csrf_token": token})
    assert response.status_code == 200 and "Signature valid" in response.text
    execute(engine, "UPDATE audit_review SET comment = 'rewritten afterwards'")
    review_id = int(str(response.url).rsplit("/", 1)[1])
    assert "SIGNATURE INVALID" in client.get(f"/audit/reviews/{review_id}").text
