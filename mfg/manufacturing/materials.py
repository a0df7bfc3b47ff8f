"""Material lots: registered from the supplier's GS1 bar code, released or rejected by QA."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.machines import MATERIAL_LOT
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.errors import ScanError
from mfg.identifiers.local import canonical_local
from mfg.identifiers.scan import TokenKind, parse_scan
from mfg.manufacturing.rules import material_use_problems
from mfg.manufacturing.schemas import MaterialCreate, MaterialDecision
from mfg.models import MaterialLot, MaterialStatus, MaterialUse, Meaning, User, utcnow
from mfg.signatures import service as signatures

EARLIEST_EXPIRY = date(2000, 1, 1)
MAX_SHELF_LIFE = timedelta(days=20 * 365)  # a typo of the decade (2205 for 2025) is refused


def gs1_fields(raw: str) -> dict[str, str]:
    """GTIN, lot, expiry (ISO date) and serial from a supplier's GS1 scan; refused if not GS1."""
    token = parse_scan(raw).first(TokenKind.GS1)
    if token is None or not token.data:
        raise InvalidInput(
            "This is not a supplier's GS1 bar code (it has no GTIN, lot or expiry).",
            details={"field": "scan"},
        )
    data = dict(token.data)
    fields = {
        "gtin": data.get("01", ""),
        "lot_number": data.get("10", ""),
        "serial": data.get("21", ""),
    }
    if "17" in data:
        yymmdd = data["17"]
        day = int(yymmdd[4:]) or 28  # GS1: day 00 means the last day of the month; be safe
        fields["expiry"] = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), day).isoformat()
    return fields


def last_lot_of_gtin(session: Session, gtin: str) -> MaterialLot | None:
    """The newest lot of the same product: its name, supplier and catalogue number repeat."""
    query = select(MaterialLot).where(MaterialLot.gtin == gtin).order_by(col(MaterialLot.id).desc())
    return session.exec(query).first()


def get_material(session: Session, code_or_scan: str) -> MaterialLot:
    text = code_or_scan.strip()
    try:
        if text.replace("-", "").upper().startswith("ML"):
            lot = session.exec(
                select(MaterialLot).where(MaterialLot.code == canonical_local(text))
            ).first()
        else:
            fields = gs1_fields(text)
            lot = session.exec(
                select(MaterialLot).where(
                    MaterialLot.gtin == fields["gtin"],
                    MaterialLot.lot_number == fields["lot_number"],
                )
            ).first()
    except (ScanError, InvalidInput) as error:
        raise NotFound(
            "No material lot %(code)s: %(problem)s",
            params={"code": repr(code_or_scan), "problem": error.message},
        ) from error
    if lot is None:
        raise NotFound("No material lot %(code)s.", params={"code": repr(code_or_scan)})
    return lot


def list_materials(
    session: Session, *, actor: User, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[MaterialLot], int]:
    authorize(actor, Action.VIEW_MANUFACTURING)
    conditions = [MaterialLot.status == status] if status else []
    return newest_page(session, MaterialLot, *conditions, limit=limit, offset=offset)


def _typed_or_scanned(command: MaterialCreate) -> dict:
    """The lot's fields as typed, completed by the supplier's GS1 code when one was scanned; an
    expiry date is required, and plausible (after 2000, within a shelf life of decades)."""
    fields = command.model_dump(exclude={"scan"})
    if command.scan.strip():
        fields.update({k: v for k, v in gs1_fields(command.scan).items() if v})
    if not fields.get("expiry"):
        raise InvalidInput(
            "The expiry date is required (scan the GS1 code or type it).",
            details={"field": "expiry"},
        )
    fields["expiry"] = date.fromisoformat(str(fields["expiry"]))
    if not EARLIEST_EXPIRY <= fields["expiry"] <= utcnow().date() + MAX_SHELF_LIFE:
        raise RuleViolation.one(
            "time_implausible",
            "The expiry date %(expiry)s is not plausible: after %(earliest)s and within "
            "%(years)s years from today.",
            params={
                "expiry": str(fields["expiry"]),
                "earliest": EARLIEST_EXPIRY.year,
                "years": MAX_SHELF_LIFE.days // 365,
            },
            field="expiry",
        )
    return fields


def register_material(session: Session, *, actor: User, command: MaterialCreate) -> MaterialLot:
    """A received lot enters quarantine with an internal code (ML…) for its label."""
    authorize(actor, Action.REGISTER_MATERIALS)
    fields = _typed_or_scanned(command)
    expiry, gtin, serial = fields["expiry"], fields["gtin"], fields["serial"]
    values = {k: fields[k].strip() for k in ("name", "supplier", "catalogue_number", "lot_number")}
    known = last_lot_of_gtin(session, gtin.strip()) if gtin.strip() else None
    for name in ("name", "supplier", "catalogue_number"):  # the product repeats per GTIN
        if known is not None and not values[name]:
            values[name] = getattr(known, name)
    missing = [k for k, v in values.items() if not v]
    if missing:
        raise InvalidInput(
            "Required: %(fields)s.",
            params={"fields": ", ".join(k.replace("_", " ") for k in missing)},
            details={"field": missing[0]},
        )
    existing = session.exec(
        select(MaterialLot).where(
            MaterialLot.supplier == values["supplier"],
            MaterialLot.catalogue_number == values["catalogue_number"],
            MaterialLot.lot_number == values["lot_number"],
        )
    ).first()
    if existing is not None:
        raise Conflict(
            "This lot is already registered as %(code)s.",
            params={"code": existing.code},
            code="already_registered",
            details={"code": existing.code},
        )
    lot = MaterialLot(
        code=str(allocate_local(session, "ML")),
        expiry=expiry,
        gtin=gtin.strip() or None,
        serial=serial.strip(),
        registered_by_id=actor.id,
        **values,
    )
    session.add(lot)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="material.registered",
        entity_type="material",
        entity_id=lot.code,
        changes={
            k: [None, v]
            for k, v in {**values, "expiry": expiry, "gtin": lot.gtin, "status": lot.status}.items()
        },
    )
    return lot


@signatures.signs("material")
def material_content(session: Session, code: str) -> dict:
    """What QA's release or rejection of a material lot signs: the lot as registered, and its
    status."""
    lot = session.exec(select(MaterialLot).where(MaterialLot.code == code)).one()
    return {
        "code": lot.code,
        "name": lot.name,
        "supplier": lot.supplier,
        "catalogue": lot.catalogue_number,
        "lot": lot.lot_number,
        "expiry": lot.expiry,
        "gtin": lot.gtin,
        "status": lot.status,
    }


def decide_material(
    session: Session, *, actor: User, lot: MaterialLot, command: MaterialDecision
) -> MaterialLot:
    """QA releases (signed "Released") or rejects (signed "Rejected", with a reason) a lot."""
    authorize(actor, Action.DECIDE_MATERIALS)
    release, password, reason = command.release, command.password, command.reason
    if not release and not reason.strip():
        raise InvalidInput("Say why the lot is rejected.", details={"field": "reason"})
    if release and lot.expiry < utcnow().astimezone(settings_of(session).tz).date():
        raise RuleViolation.state(
            "material_expired",
            "Lot %(lot)s expired on %(expiry)s: it cannot be released.",
            params={"lot": lot.lot_number, "expiry": str(lot.expiry)},
        )
    to = MaterialStatus.RELEASED if release else MaterialStatus.REJECTED
    MATERIAL_LOT.move(
        session,
        lot,
        to=to,
        actor=actor,
        reason=reason.strip() or None,
        also={"decided_by_id": actor.id, "decided_at": utcnow(), "decision_reason": reason.strip()},
    )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.RELEASED if release else Meaning.REJECTED,
        entity_type="material",
        entity_id=lot.code,
        comment=reason,
    )
    return lot


def check_materials_usable(session: Session, lots: Iterable[MaterialLot]) -> None:
    """Refuse a step that uses an expired, quarantined or rejected lot, naming each."""
    today = utcnow().astimezone(settings_of(session).tz).date()
    problems = [p for lot in lots for p in material_use_problems(lot, on=today)]
    if problems:
        raise RuleViolation.of(problems, several="materials_not_usable")


def record_use(
    session: Session, *, actor: User, lots: Sequence[MaterialLot], step_type: str, step_id: int
) -> None:
    """Which lots a process step used (docs/process.md#materials), checked usable by the caller."""
    for lot in lots:
        session.add(
            MaterialUse(
                material_id=lot.id, step_type=step_type, step_id=step_id, used_by_id=actor.id
            )
        )


def used_by(session: Session, step_type: str, step_id: int) -> list[MaterialLot]:
    query = (
        select(MaterialLot)
        .join(MaterialUse, col(MaterialUse.material_id) == MaterialLot.id)
        .where(MaterialUse.step_type == step_type, MaterialUse.step_id == step_id)
        .order_by(col(MaterialLot.id))
    )
    return list(session.exec(query).all())


def lots_by_codes(session: Session, codes: Sequence[str]) -> list[MaterialLot]:
    """The material lots named by codes or scans (ML… or supplier GS1), each found or refused."""
    return [get_material(session, code) for code in codes if code.strip()]
