"""FHIR R5 export of the chain of identity (docs/fhir.md): a Bundle per dose, lot or patient.

A Bundle holds the product chain as ``BiologicallyDerivedProduct`` resources (dose → lot → the
biopsies pooled in it, each collected from a pseudonymous donor ``Patient``), each issue of a dose
as a ``BiologicallyDerivedProductDispense``, each infusion as a ``Procedure`` that ``used`` the
dose, the pseudonymous recipient ``Patient`` and the staff as ``Practitioner``. It is a
``collection`` Bundle whose entries are named by stable ``urn:uuid:`` URLs (the same record gets
the same URL in every export), so every reference resolves inside the Bundle.

Each Bundle is validated by ``fhir.resources`` and by ``fhir_checks`` (codes and references)
before it leaves, and each export is audited with the SHA-256 of the bytes issued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlmodel import Session, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.errors import NotFound
from mfg.models import Allocation, Dose, Lot, Patient, User
from mfg.trace import fhir_checks
from mfg.trace import fhir_resources as res

KINDS = ("dose", "lot", "patient")
MEDIA_TYPE = "application/fhir+json"


@dataclass(frozen=True)
class FhirExport:
    kind: str
    identifier: str
    content: bytes  # the Bundle as issued (UTF-8 JSON)
    resources: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def filename(self) -> str:
        return f"fhir-{self.kind}-{self.identifier}.json"


# --- the three Bundles ---------------------------------------------------------------------


def _find(session: Session, model, column, identifier: str, what: str):
    found = session.exec(select(model).where(column == identifier.strip().upper())).first()
    if found is None:
        raise NotFound(
            "No %(what)s %(identifier)s.", params={"what": what, "identifier": identifier}
        )
    return found


def build_bundle(session: Session, kind: str, identifier: str) -> dict:
    """The Bundle of one dose, lot or patient, checked (not yet audited: see ``export``)."""
    bundle = res.BundleBuilder(session, settings_of(session))
    if kind == "dose":
        dose = _find(session, Dose, Dose.identifier, identifier, "dose")
        res.add_dose(bundle, dose, session.get(Lot, dose.lot_id))
        res.add_clinical(bundle, res.allocations_where(session, Allocation.dose_id == dose.id))
    elif kind == "lot":
        lot = _find(session, Lot, Lot.din, identifier, "lot")
        res.add_lot(bundle, lot)
        doses = session.exec(select(Dose).where(Dose.lot_id == lot.id).order_by(Dose.division))
        for dose in doses.all():
            res.add_dose(bundle, dose, lot)
        res.add_clinical(bundle, res.allocations_where(session, Dose.lot_id == lot.id))
    elif kind == "patient":
        patient = _find(session, Patient, Patient.code, identifier, "patient")
        res.add_person(bundle, "patient", patient.code, patient.sex)
        res.add_clinical(
            bundle, res.allocations_where(session, Allocation.patient_id == patient.id)
        )
    else:
        raise NotFound(
            "There is no FHIR export of a %(kind)s: only of a dose, a lot or a patient.",
            params={"kind": kind},
        )
    return fhir_checks.checked(bundle.document())


def _issue(session: Session, *, actor: User | None, kind: str, identifier: str) -> FhirExport:
    document = build_bundle(session, kind, identifier)
    content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    export = FhirExport(kind, identifier.strip().upper(), content, len(document["entry"]))
    audit.record(
        session,
        actor=actor,
        action="fhir.exported",
        entity_type=kind,
        entity_id=export.identifier,
        changes={
            "bundle_sha256": [None, export.sha256],
            "bundle_id": [None, document["identifier"]["value"]],
        },
        username=None if actor else "command line",
    )
    return export


def export(session: Session, *, actor: User, kind: str, identifier: str) -> FhirExport:
    """The FHIR Bundle of a dose, lot or patient, as issued to a user; each copy is audited."""
    authorize(actor, Action.EXPORT_FHIR)
    return _issue(session, actor=actor, kind=kind, identifier=identifier)


def export_from_command_line(session: Session, *, kind: str, identifier: str) -> FhirExport:
    """The same, issued by ``mfg export fhir`` on the server (whoever holds the database's
    credentials); audited as the command line."""
    return _issue(session, actor=None, kind=kind, identifier=identifier)


def every_export_target(session: Session) -> list[tuple[str, str]]:
    """Every lot and every patient: what ``mfg export fhir --all`` writes (a dose's Bundle is a
    part of its lot's)."""
    lots = session.exec(select(Lot.din).order_by(Lot.din)).all()
    patients = session.exec(select(Patient.code).order_by(Patient.code)).all()
    return [("lot", din) for din in lots] + [("patient", code) for code in patients]
