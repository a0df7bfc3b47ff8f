"""The resources of an FHIR R5 export (docs/fhir.md): a Bundle under construction, and the
products (biopsy, lot, dose), people (pseudonymous patients and donors, staff) and clinical use
(dispenses, infusion procedures) it is filled with. ``fhir`` assembles, checks and issues it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

from sqlmodel import Session, col, select

from mfg.config import Settings
from mfg.models import (
    Allocation,
    Biopsy,
    BiopsyStatus,
    Donor,
    Dose,
    DoseStatus,
    Harvest,
    Infusion,
    Lot,
    LotStatus,
    Patient,
    PoolMember,
    User,
    utcnow,
)
from mfg.trace.fhir_checks import PRODUCT_CATEGORY, PRODUCT_STATUS, SECURITY_OBSERVATION, UCUM

ISBT_DIN = "https://www.isbt128.org/uri/DonationIdentificationNumber"
AVAILABLE_LOTS = frozenset({LotStatus.RELEASED, LotStatus.CONDITIONALLY_RELEASED})
AVAILABLE_BIOPSIES = frozenset({BiopsyStatus.RECEIVED, BiopsyStatus.IN_CULTURE})
GENDER = {"F": "female", "M": "male"}
PROPERTY_TEXT = {"mfg-status": "status in mfg", "qc-specification-version": "QC specification"}
PSEUDONYMISED = {
    "security": [{"system": SECURITY_OBSERVATION, "code": "PSEUDED", "display": "pseudonymized"}]
}


def _instant(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _quantity(value: float, code: str, unit: str | None = None) -> dict:
    number = int(value) if float(value).is_integer() else round(float(value), 4)
    return {"value": number, "unit": unit or code, "system": UCUM, "code": code}


def _without_empty(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if value not in (None, [], "")}


class BundleBuilder:
    """The entries of one Bundle, keyed by (kind, identifier) so that nothing is added twice."""

    def __init__(self, session: Session, settings: Settings):
        self.session = session
        self.settings = settings
        self.base = settings.fhir_system_base.rstrip("/")
        self.entries: dict[str, dict] = {}

    def url(self, kind: str, identifier: str | int) -> str:
        return f"urn:uuid:{uuid5(NAMESPACE_URL, f'{self.base}/{kind}/{identifier}')}"

    def ref(self, kind: str, identifier: str | int) -> dict:
        return {"reference": self.url(kind, identifier)}

    def has(self, kind: str, identifier: str | int) -> bool:
        return self.url(kind, identifier) in self.entries

    def put(self, kind: str, identifier: str | int, resource: dict) -> None:
        url = self.url(kind, identifier)
        resource = {"resourceType": resource.pop("resourceType"), "id": url[9:], **resource}
        self.entries[url] = _without_empty(resource)

    def system(self, name: str) -> str:
        return f"{self.base}/{name}"

    def identifier(self, name: str, value: str | int, use: str = "official") -> dict:
        return {"use": use, "system": self.system(f"sid/{name}"), "value": str(value)}

    def property(self, code: str, **value: Any) -> dict:
        coding = {"system": self.system("CodeSystem/product-property"), "code": code}
        text = PROPERTY_TEXT.get(code, code.replace("-", " "))
        return {"type": {"coding": [coding], "text": text}, **value}

    def document(self) -> dict:
        return {
            "resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid4()}"},
            "type": "collection",
            "timestamp": utcnow().isoformat(),
            "entry": [
                {"fullUrl": url, "resource": resource} for url, resource in self.entries.items()
            ],
        }


# --- people --------------------------------------------------------------------------------


def add_person(bundle: BundleBuilder, kind: str, code: str, sex: str) -> dict:
    if not bundle.has(kind, code):
        bundle.put(
            kind,
            code,
            {
                "resourceType": "Patient",
                "meta": PSEUDONYMISED,
                "identifier": [bundle.identifier(kind, code)],
                "gender": GENDER.get(sex, "unknown"),
            },
        )
    return bundle.ref(kind, code)


def _practitioners(bundle: BundleBuilder, ids: set[int | None]) -> dict[int, dict]:
    wanted = {i for i in ids if i is not None}
    users = (
        bundle.session.exec(select(User).where(col(User.id).in_(wanted))).all() if wanted else []
    )
    for user in users:
        if not bundle.has("user", user.username):
            bundle.put(
                "user",
                user.username,
                {
                    "resourceType": "Practitioner",
                    "identifier": [bundle.identifier("user", user.username, use="usual")],
                    "name": [{"text": user.full_name}],
                },
            )
    return {user.id: bundle.ref("user", user.username) for user in users if user.id is not None}


# --- products ------------------------------------------------------------------------------


def _category(code: str) -> dict:
    return {"system": PRODUCT_CATEGORY, "code": code}


def _status(available: bool) -> dict:
    return {"system": PRODUCT_STATUS, "code": "available" if available else "unavailable"}


def _din(din: str) -> dict:
    return {"system": ISBT_DIN, "value": din}


def _biopsy(bundle: BundleBuilder, biopsy: Biopsy, donor: Donor) -> dict:
    if not bundle.has("biopsy", biopsy.din):
        properties = [bundle.property("collection-site", valueString=biopsy.site)]
        if biopsy.transport_temperature_c is not None:
            properties.append(
                bundle.property(
                    "transport-temperature",
                    valueQuantity=_quantity(biopsy.transport_temperature_c, "Cel", "°C"),
                )
            )
        properties.append(bundle.property("mfg-status", valueString=biopsy.status))
        bundle.put(
            "biopsy",
            biopsy.din,
            {
                "resourceType": "BiologicallyDerivedProduct",
                "productCategory": _category("tissue"),
                "productCode": {"text": "Olfactory mucosa biopsy"},
                "identifier": [{"use": "official", **_din(biopsy.din)}],
                "biologicalSourceEvent": _din(biopsy.din),
                "productStatus": _status(
                    biopsy.status in AVAILABLE_BIOPSIES and not biopsy.on_hold
                ),
                "collection": {
                    "source": add_person(bundle, "donor", donor.code, donor.sex),
                    "collectedDateTime": _instant(biopsy.collected_at),
                },
                "property": properties,
            },
        )
    return bundle.ref("biopsy", biopsy.din)


def add_lot(bundle: BundleBuilder, lot: Lot) -> dict:
    if bundle.has("lot", lot.din):
        return bundle.ref("lot", lot.din)
    rows = bundle.session.exec(
        select(Biopsy, Donor)
        .join(PoolMember, col(PoolMember.biopsy_id) == Biopsy.id)
        .join(Donor, col(Donor.id) == Biopsy.donor_id)
        .where(PoolMember.lot_id == lot.id)
        .order_by(Biopsy.din)
    ).all()
    parents = list({biopsy.din: _biopsy(bundle, biopsy, donor) for biopsy, donor in rows}.values())
    harvest = bundle.session.exec(select(Harvest).where(Harvest.lot_id == lot.id)).first()
    properties = [
        bundle.property("pooled-cells", valueQuantity=_quantity(lot.total_cells, "{cells}")),
        bundle.property(
            "passage-number",
            valueInteger=harvest.passage_number if harvest else lot.passage_number,
        ),
    ]
    if harvest is not None:
        if harvest.cumulative_pd is not None:
            properties.append(
                bundle.property(
                    "cumulative-population-doublings",
                    valueQuantity=_quantity(harvest.cumulative_pd, "1"),
                )
            )
        properties += [
            bundle.property("viability", valueQuantity=_quantity(harvest.viability_pct, "%")),
            bundle.property(
                "concentration",
                valueQuantity=_quantity(harvest.concentration_per_ml, "{cells}/mL"),
            ),
        ]
    if lot.spec_version is not None:
        properties.append(
            bundle.property("qc-specification-version", valueInteger=lot.spec_version)
        )
    properties.append(bundle.property("mfg-status", valueString=lot.status))
    bundle.put(
        "lot",
        lot.din,
        {
            "resourceType": "BiologicallyDerivedProduct",
            "productCategory": _category("cells"),
            "productCode": {"text": f"{bundle.settings.product_name}, pooled lot"},
            "identifier": [{"use": "official", **_din(lot.din)}],
            "biologicalSourceEvent": _din(lot.din),
            "parent": parents,
            "productStatus": _status(lot.status in AVAILABLE_LOTS),
            "collection": {"collectedDateTime": _instant(lot.pooled_at)},
            "property": properties,
        },
    )
    return bundle.ref("lot", lot.din)


def add_dose(bundle: BundleBuilder, dose: Dose, lot: Lot) -> dict:
    if bundle.has("dose", dose.identifier):
        return bundle.ref("dose", dose.identifier)
    settings = bundle.settings
    properties = [
        bundle.property("cell-count", valueQuantity=_quantity(dose.cells, "{cells}")),
        bundle.property("volume", valueQuantity=_quantity(dose.volume_ml, "mL")),
        bundle.property("container", valueString=dose.container),
    ]
    if dose.tank is not None:
        location = (
            f"tank {dose.tank} / rack {dose.rack} / box {dose.box} / position {dose.position}"
        )
        properties.append(bundle.property("storage-location", valueString=location))
    properties.append(bundle.property("mfg-status", valueString=dose.status))
    bundle.put(
        "dose",
        dose.identifier,
        {
            "resourceType": "BiologicallyDerivedProduct",
            "productCategory": _category("cells"),
            "productCode": {
                "coding": [
                    {
                        "system": bundle.system("CodeSystem/product-code"),
                        "code": dose.product_code,
                        "display": settings.product_name,
                    }
                ],
                "text": settings.product_name,
            },
            "identifier": [bundle.identifier("dose", dose.identifier)],
            "biologicalSourceEvent": _din(lot.din),
            "division": dose.division,
            "parent": [add_lot(bundle, lot)],
            "productStatus": _status(dose.status == DoseStatus.AVAILABLE),
            "expirationDate": _instant(dose.expires_at),
            "storageTempRequirements": {
                "high": _quantity(settings.storage_max_temp_c, "Cel", "°C")
            },
            "property": properties,
        },
    )
    return bundle.ref("dose", dose.identifier)


# --- clinical use --------------------------------------------------------------------------


def _dispense_status(allocation: Allocation) -> str:
    if not allocation.active:
        return "returned"
    return "issued" if allocation.issued_at is not None else "allocated"


def add_clinical(bundle: BundleBuilder, rows: list[tuple[Allocation, Dose, Lot, Patient]]) -> None:
    """Each allocation as a dispense, and each infusion as a procedure using the dose."""
    infusions = {}
    if rows:
        dose_ids = [dose.id for _, dose, _, _ in rows]
        infusions = {
            i.dose_id: i
            for i in bundle.session.exec(
                select(Infusion).where(col(Infusion.dose_id).in_(dose_ids))
            ).all()
        }
    staff = _practitioners(
        bundle,
        {a.issued_by_id for a, *_ in rows}
        | {a.received_by_id for a, *_ in rows}
        | {i.recorded_by_id for i in infusions.values()},
    )
    limit = bundle.settings.thaw_to_infusion_limit_minutes
    for allocation, dose, lot, patient in rows:
        product = add_dose(bundle, dose, lot)
        subject = add_person(bundle, "patient", patient.code, patient.sex)
        performers = [
            {"function": {"text": role}, "actor": staff[user_id]}
            for role, user_id in (
                ("issued by", allocation.issued_by_id),
                ("received by", allocation.received_by_id),
            )
            if user_id in staff
        ]
        bundle.put(
            "allocation",
            allocation.id,
            {
                "resourceType": "BiologicallyDerivedProductDispense",
                "identifier": [bundle.identifier("allocation", allocation.id, use="usual")],
                "status": _dispense_status(allocation),
                "product": product,
                "patient": subject,
                "performer": performers,
                "preparedDate": _instant(allocation.allocated_at),
                "whenHandedOver": _instant(allocation.issued_at),
                "quantity": _quantity(dose.volume_ml, "mL"),
                "usageInstruction": f"Thaw at the bedside and infuse intravenously within "
                f"{limit} minutes of thawing, after the bedside identity check.",
            },
        )
        infusion = infusions.get(dose.id)
        if infusion is None:
            continue
        bundle.put(
            "infusion",
            infusion.id,
            {
                "resourceType": "Procedure",
                "identifier": [bundle.identifier("infusion", infusion.id, use="usual")],
                "status": "completed" if infusion.complete else "stopped",
                "code": {"text": f"Intravenous infusion of {bundle.settings.product_name}"},
                "subject": subject,
                "occurrencePeriod": {
                    "start": _instant(infusion.started_at),
                    "end": _instant(infusion.stopped_at),
                },
                "performer": [{"actor": staff[infusion.recorded_by_id]}]
                if infusion.recorded_by_id in staff
                else [],
                "used": [{"reference": product}],
                "supportingInfo": [bundle.ref("allocation", allocation.id)],
                "note": [{"text": f"Reactions: {infusion.reactions}"}]
                if infusion.reactions
                else [],
            },
        )


def allocations_where(session: Session, *conditions) -> list[tuple[Allocation, Dose, Lot, Patient]]:
    return list(
        session.exec(
            select(Allocation, Dose, Lot, Patient)
            .join(Dose, col(Dose.id) == Allocation.dose_id)
            .join(Lot, col(Lot.id) == Dose.lot_id)
            .join(Patient, col(Patient.id) == Allocation.patient_id)
            .where(*conditions)
            .order_by(Allocation.id)
        ).all()
    )
