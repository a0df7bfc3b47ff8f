"""QC samples: taken from a culture vessel, a lot or a dose, labelled, for named tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.errors import InvalidInput, NotFound
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.display import display_code
from mfg.identifiers.isbt128 import DIN_LENGTH
from mfg.identifiers.keyboard import recover_latin
from mfg.identifiers.local import LocalId
from mfg.identifiers.local_lookup import by_local_code
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan, TokenKind, parse_scan
from mfg.labeling.fields import LabelData, common_fields, local_fields, record_text
from mfg.manufacturing import cultures, doses, pools
from mfg.models import Dose, Lot, QcSample, SpecVersion, User, utcnow
from mfg.qc import specs
from mfg.qc.rules import options


def get_sample(session: Session, code: str) -> QcSample:
    return by_local_code(session, QcSample, code, noun="QC sample")


def list_samples(
    session: Session,
    *,
    actor: User,
    status: str | None = None,
    lot: Lot | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[QcSample], int]:
    authorize(actor, Action.VIEW_QC)
    conditions = []
    if status:
        conditions.append(QcSample.status == status)
    if lot is not None:
        conditions.append(QcSample.lot_id == lot.id)
    return newest_page(session, QcSample, *conditions, limit=limit, offset=offset)


def requested_tests(sample: QcSample) -> list[str]:
    return options(sample.tests)


def _source(session: Session, source: str) -> tuple[str, str, dict, SpecVersion]:
    """What a scanned or typed source code names: (type, identifier, foreign keys, spec). A lot's
    DIN or a dose's identifier as URLs carry them; otherwise a label's bar code, or a DIN or a
    dose typed with its check character (re-validated; a dose is never read as its lot)."""
    text = source.strip()
    compact = "".join(text.split()).upper()
    if compact.startswith("CV"):
        culture = cultures.get_culture(session, compact)
        return "culture", culture.code, {"culture_id": culture.id}, specs.in_force(session)
    if len(compact) == DIN_LENGTH:
        return _lot_source(session, pools.get_lot(session, compact))
    if len(compact) == DIN_LENGTH + 8:
        return _dose_source(session, doses.get_dose(session, compact))
    if parse_scan(text).first(TokenKind.PRODUCT_CODE):
        return _dose_source(session, doses.get_dose(session, text))
    din = parse_scan(text).first(TokenKind.DIN)
    if din is None:
        raise NotFound(
            "%(scan)s names no culture vessel, lot or dose.", params={"scan": repr(text)}
        )
    return _lot_source(session, pools.get_lot(session, din.value))


def _dose_source(session: Session, dose: Dose) -> tuple[str, str, dict, SpecVersion]:
    lot = session.get(Lot, dose.lot_id)
    keys = {"dose_id": dose.id, "lot_id": lot.id}
    return "dose", dose.identifier, keys, specs.spec_of_lot(session, lot)


def _lot_source(session: Session, lot: Lot) -> tuple[str, str, dict, SpecVersion]:
    return "lot", lot.din, {"lot_id": lot.id}, specs.spec_of_lot(session, lot)


def sample_content(sample: QcSample) -> dict:
    return {
        "code": sample.code,
        "source": [sample.source_type, sample.source_identifier],
        "tests": sample.tests,
        "taken_at": sample.taken_at,
    }


def take_sample(
    session: Session, *, actor: User, source: str, tests: Sequence[str], taken_at: datetime
) -> QcSample:
    """A labelled sample for the listed tests of the source's specification."""
    authorize(actor, Action.TAKE_SAMPLES)
    source_type, identifier, keys, spec = _source(session, source)
    # Test codes are Latin: typed under a Russian layout ("МШФИ" for VIAB), they are read back.
    typed = (recover_latin(c.strip())[0].upper() for c in tests if c.strip())
    codes = list(dict.fromkeys(typed))
    if not codes:
        raise InvalidInput("Name at least one test for the sample.", details={"field": "tests"})
    for code in codes:
        specs.test_of(session, spec, code)  # refuses a test the specification does not have
    if taken_at > utcnow():
        raise InvalidInput("The sampling time is in the future.", details={"field": "taken_at"})
    sample = QcSample(
        code=str(allocate_local(session, "QS")),
        source_type=source_type,
        source_identifier=identifier,
        spec_version_id=spec.id,
        tests="|".join(codes),
        taken_at=taken_at,
        taken_by_id=actor.id,
        **keys,
    )
    session.add(sample)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="qc_sample.taken",
        entity_type="qc_sample",
        entity_id=sample.code,
        changes={
            "source": [None, f"{source_type} {identifier}"],
            "tests": [None, codes],
            "spec_version": [None, spec.version],
        },
    )
    return sample


def sample_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    """The QC-sample tube label: its code, what it was taken from, the tests, when."""
    try:
        sample = get_sample(session, identifier)
    except NotFound:
        return None
    settings = settings_of(session)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("sample", LocalId("QS", int(sample.code[2:8]))),
        "source_text": record_text(sample.source_type, display_code(sample.source_identifier)),
        "tests": ", ".join(requested_tests(sample)),
        "taken_at": sample.taken_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
    }


def lookup_sample(session: Session, scan: ParsedScan) -> list[Resolution]:
    sample = session.exec(select(QcSample).where(QcSample.code == scan.tokens[0].value)).first()
    if sample is None:
        return []
    return [
        Resolution(
            "qc-sample",
            sample.code,
            f"/qc/samples/{sample.code}",
            f"QC sample {sample.code} of {sample.source_type} {sample.source_identifier} for "
            f"{', '.join(requested_tests(sample))}: {sample.status}",
            sample.status,
        )
    ]
