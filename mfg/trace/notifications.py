"""The look-back notification list, printed (A4 PDF) or as CSV; each copy issued is audited."""

from __future__ import annotations

import csv
import hashlib
import io

from reportlab.platypus import Spacer
from sqlmodel import Session

from mfg.audit import service as audit
from mfg.config import Settings
from mfg.db import settings_of
from mfg.manufacturing.batchrecord_pdf import (
    H1,
    H2,
    a4_pdf,
    facts_table,
    grid_table,
    local,
    para,
)
from mfg.manufacturing.storage import location_text
from mfg.models import User, utcnow
from mfg.trace.lookback import LookBack

CSV_HEADER = ("patient", "dose", "infused", "treating clinician")


def _audited(session: Session, actor: User, result: LookBack, form: str, content: bytes) -> None:
    audit.record(
        session,
        actor=actor,
        action="lookback.notifications_exported",
        entity_type=result.kind,
        entity_id=result.identifier,
        changes={
            "format": [None, form],
            "sha256": [None, hashlib.sha256(content).hexdigest()],
            "patients": [None, [n.patient.code for n in result.notifications]],
        },
    )


def notification_csv(session: Session, *, actor: User, result: LookBack) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for n in result.notifications:
        writer.writerow(
            [
                n.patient.code,
                n.dose.identifier,
                f"{n.infusion.started_at:%Y-%m-%d %H:%M} UTC",
                n.clinician.full_name,
            ]
        )
    text = out.getvalue()
    _audited(session, actor, result, "csv", text.encode())
    return text


def notification_pdf(session: Session, *, actor: User, result: LookBack) -> bytes:
    content = render_notification_pdf(result, settings_of(session))
    _audited(session, actor, result, "pdf", content)
    return content


def render_notification_pdf(result: LookBack, settings: Settings) -> bytes:
    """Who to notify first (patients, through their treating clinician), then every affected
    dose with its status and location, then the lots."""
    generated = local(utcnow(), settings)
    source = f"{result.kind} {result.identifier}"

    flow: list = [
        para(f"Look-back notification list — {source}", H1),
        facts_table(
            [
                ("Started from", source),
                ("Facility", f"{settings.facility_name} (FIN {settings.facility_fin})"),
                ("Affected lots", len(result.lots)),
                ("Affected doses", f"{len(result.doses)} ({len(result.unused)} unused, not held)"),
                ("Patients to notify", len(result.notifications)),
                ("Generated", generated),
            ]
        ),
        para("Patients to notify, through their treating clinician", H2),
        grid_table(
            ("Patient", "Dose", "Infused", "Treating clinician"),
            [
                (
                    n.patient.code,
                    n.dose.identifier,
                    local(n.infusion.started_at, settings),
                    n.clinician.full_name,
                )
                for n in result.notifications
            ]
            or [("—", "No patient received these cells.", "", "")],
            (28, 52, 48, 52),
        ),
        para("Affected doses", H2),
        grid_table(
            ("Dose", "Status", "Location"),
            [(d.identifier, d.status.replace("_", " "), location_text(d)) for d in result.doses]
            or [("—", "none", "")],
            (52, 30, 98),
        ),
        para("Affected lots", H2),
        grid_table(
            ("Lot DIN", "Status"),
            [(lot.din, lot.status.replace("_", " ")) for lot in result.lots] or [("—", "none")],
            (52, 128),
        ),
        Spacer(0, 6),
    ]
    return a4_pdf(
        flow,
        settings=settings,
        title=f"Look-back {source}",
        heading=f"Look-back — {source}",
        footer=f"Generated {generated}",
    )
