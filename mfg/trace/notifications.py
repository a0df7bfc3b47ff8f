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
from mfg.i18n import gettext as _
from mfg.i18n import use_language
from mfg.manufacturing.batchrecord_pdf import (
    H1,
    H2,
    a4_pdf,
    facts_table,
    grid_table,
    local,
    para,
    status_word,
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
    dose with its status and location, then the lots; in the facility's language."""
    with use_language(settings.language):
        return _notification_pdf(result, settings)


def _source(result: LookBack) -> str:
    kinds = {
        "donor": _("donor"),
        "biopsy": _("biopsy"),
        "culture": _("culture"),
        "material": _("material"),
        "lot": _("lot"),
        "dose": _("dose"),
        "patient": _("patient"),
    }
    return f"{kinds.get(result.kind, result.kind)} {result.identifier}"


def _notification_pdf(result: LookBack, settings: Settings) -> bytes:
    generated = local(utcnow(), settings)
    source = _source(result)
    unused = _(
        "%(count)s (%(unused)s unused, not held)",
        count=len(result.doses),
        unused=len(result.unused),
    )
    flow: list = [
        para(_("Look-back notification list — %(source)s", source=source), H1),
        facts_table(
            [
                (_("Started from"), source),
                (_("Facility"), f"{settings.facility_name} (FIN {settings.facility_fin})"),
                (_("Affected lots"), len(result.lots)),
                (_("Affected doses"), unused),
                (_("Patients to notify"), len(result.notifications)),
                (_("Generated"), generated),
            ]
        ),
        para(_("Patients to notify, through their treating clinician"), H2),
        grid_table(
            (_("Patient"), _("Dose"), _("Infused"), _("Treating clinician")),
            [
                (
                    n.patient.code,
                    n.dose.identifier,
                    local(n.infusion.started_at, settings),
                    n.clinician.full_name,
                )
                for n in result.notifications
            ]
            or [("—", _("No patient received these cells."), "", "")],
            (28, 52, 48, 52),
        ),
        para(_("Affected doses"), H2),
        grid_table(
            (_("Dose"), _("Status"), _("Location")),
            [(d.identifier, status_word(d.status), location_text(d)) for d in result.doses]
            or [("—", _("none"), "")],
            (52, 30, 98),
        ),
        para(_("Affected lots"), H2),
        grid_table(
            (_("Lot DIN"), _("Status")),
            [(lot.din, status_word(lot.status)) for lot in result.lots] or [("—", _("none"))],
            (52, 128),
        ),
        Spacer(0, 6),
    ]
    return a4_pdf(
        flow,
        settings=settings,
        title=_("Look-back %(source)s", source=source),
        heading=_("Look-back — %(source)s", source=source),
        footer=_("Generated %(time)s", time=generated),
    )
