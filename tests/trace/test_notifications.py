"""The look-back notification list as the QA person sends it out: a PDF read back with pypdf and
a CSV, each copy audited."""

import io
import json

from pypdf import PdfReader
from sqlmodel import Session, select

from mfg.models import AuditEvent, Donor, PoolMember, User
from tests.factories import log_in


def _donor_of(engine, lot) -> str:
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        return session.get(Donor, member.donor_id).code


def test_the_notification_list_pdf_names_each_patient_dose_and_treating_clinician(
    client, engine, history
) -> None:
    lot, dose, patient = history["b"]
    code = _donor_of(engine, lot)
    log_in(client, "qa")
    response = client.get(f"/lookback/donor/{code}/notifications.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    with Session(engine) as session:
        clinician = session.exec(select(User).where(User.username == "clinician")).one()
    assert f"donor {code}" in text
    assert patient.code in text and dose.identifier in text and clinician.full_name in text
    assert history["a"][2].code not in text  # the other pool's patient is not affected
    assert "Page 1 of" in text


def test_each_notification_list_issued_is_audited_with_its_patients(
    client, engine, history
) -> None:
    lot, _, patient = history["a"]
    code = _donor_of(engine, lot)
    log_in(client, "qa")
    for form in ("pdf", "csv"):
        assert client.get(f"/lookback/donor/{code}/notifications.{form}").status_code == 200
    assert client.get(f"/lookback/donor/{code}/notifications.xls").status_code == 422
    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "lookback.notifications_exported")
        ).all()
    assert [json.loads(e.changes)["format"][1] for e in events] == ["pdf", "csv"]
    assert all(json.loads(e.changes)["patients"] == [None, [patient.code]] for e in events)
    assert {e.entity_id for e in events} == {code}
