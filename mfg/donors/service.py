"""Donor use cases: marker set, registration, consent, screening, marker results (two people)."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from mfg import quantities
from mfg.audit import service as audit
from mfg.audit.machines import MARKER_RESULT
from mfg.auth.permissions import Action, authorize
from mfg.db import newest_page, settings_of
from mfg.donors.ineligibility import donor_found_ineligible
from mfg.donors.rules import MarkerSpec
from mfg.donors.schemas import (
    ConsentIn,
    DonorCreate,
    MarkerSetIn,
    ReasonIn,
    ResultIn,
    ScreeningIn,
)
from mfg.errors import InvalidInput, NotFound, RuleViolation
from mfg.identifiers.allocate import allocate_local
from mfg.identifiers.local_lookup import by_local_code
from mfg.models import (
    Donor,
    DonorStatus,
    MarkerOutcome,
    MarkerResult,
    MarkerSetVersion,
    ResultStatus,
    User,
    utcnow,
)
from mfg.signatures.rules import second_person_verifies

DEFAULT_MARKERS = Path(__file__).resolve().parent.parent / "defaults" / "markers.toml"


def local_today(session: Session) -> date:
    """Today in the facility's time zone: the calendar that people's dates are written in."""
    return utcnow().astimezone(settings_of(session).tz).date()


def _specs(version: MarkerSetVersion) -> list[MarkerSpec]:
    return [
        MarkerSpec(m["code"], m["name"], bool(m["required"])) for m in json.loads(version.markers)
    ]


def current_marker_set(session: Session) -> tuple[MarkerSetVersion, list[MarkerSpec]]:
    """The marker set in force: the newest version, seeded from mfg/defaults on first use."""
    version = session.exec(
        select(MarkerSetVersion).order_by(col(MarkerSetVersion.version).desc())
    ).first()
    if version is None:
        defaults = tomllib.loads(DEFAULT_MARKERS.read_text(encoding="utf-8"))
        version = _new_marker_set(
            session,
            actor=None,
            markers=defaults["markers"],
            note=defaults.get("note", ""),
            number=1,
        )
    return version, _specs(version)


def _new_marker_set(
    session: Session, *, actor: User | None, markers: list[dict], note: str, number: int
) -> MarkerSetVersion:
    codes = [m["code"] for m in markers]
    if len(codes) != len(set(codes)) or not codes:
        raise InvalidInput(
            "A marker set lists each marker code once, and at least one marker.",
            details={"field": "markers"},
        )
    version = MarkerSetVersion(
        version=number,
        markers=json.dumps(markers, ensure_ascii=False),
        note=note,
        created_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="marker_set.created",
        entity_type="marker_set",
        entity_id=str(number),
        changes={"markers": [None, codes]},
        reason=note or None,
    )
    return version


def new_marker_set_version(
    session: Session, *, actor: User, command: MarkerSetIn
) -> MarkerSetVersion:
    """QA changes the marker list by making a new version; results already entered keep theirs."""
    authorize(actor, Action.MANAGE_MARKER_SET)
    if not command.note.strip():
        raise InvalidInput(
            "A reason is required for a new marker set version.", details={"field": "note"}
        )
    current, _ = current_marker_set(session)
    markers = [m.model_dump() for m in command.markers]
    return _new_marker_set(
        session, actor=actor, markers=markers, note=command.note, number=current.version + 1
    )


# --- donors ------------------------------------------------------------------------------------


def get_donor(session: Session, code: str) -> Donor:
    return by_local_code(session, Donor, code, noun="donor")


def list_donors(
    session: Session, *, actor: User, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Donor], int]:
    authorize(actor, Action.VIEW_DONORS)
    conditions = [Donor.status == status] if status else []
    return newest_page(session, Donor, *conditions, limit=limit, offset=offset)


def register_donor(session: Session, *, actor: User, command: DonorCreate) -> Donor:
    """A pseudonymous donor: a generated code with a check character, sex and a plausible year of
    birth (an adult donor)."""
    authorize(actor, Action.REGISTER_DONORS)
    sex, birth_year = command.sex, command.birth_year
    this_year = local_today(session).year
    quantities.check({"birth_year": (birth_year, quantities.birth_year_bounds(this_year))})
    donor = Donor(
        code=str(allocate_local(session, "DN")),
        sex=sex,
        birth_year=birth_year,
        created_by_id=actor.id,
    )
    session.add(donor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="donor.registered",
        entity_type="donor",
        entity_id=donor.code,
        changes={
            "sex": [None, sex],
            "birth_year": [None, birth_year],
            "status": [None, donor.status],
        },
    )
    return donor


def _require_open(donor: Donor) -> None:
    if donor.status != DonorStatus.REGISTERED:
        raise RuleViolation.state(
            "eligibility_already_determined",
            "Donor %(donor)s is %(status)s: consent and screening are closed.",
            params={"donor": donor.code, "status": str(donor.status)},
        )


def record_consent(session: Session, *, actor: User, donor: Donor, command: ConsentIn) -> Donor:
    """The date the donor consented: not in the future, not before 2000; a correction says why."""
    authorize(actor, Action.REGISTER_DONORS)
    _require_open(donor)
    consent_date, reason = command.consent_date, command.reason
    quantities.check_date("consent_date", consent_date, today=local_today(session))
    old = donor.consent_date
    donor.consent_date, donor.consent_recorded_by_id = consent_date, actor.id
    donor.version += 1
    session.add(donor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="donor.consent_recorded",
        entity_type="donor",
        entity_id=donor.code,
        changes={"consent_date": [old, consent_date]},
        reason=reason or None,
        require_reason=old is not None,
    )
    return donor


def record_screening(session: Session, *, actor: User, donor: Donor, command: ScreeningIn) -> Donor:
    """The screening questionnaire's outcome (passed or failed); a correction says why."""
    authorize(actor, Action.REGISTER_DONORS)
    _require_open(donor)
    outcome, notes, reason = command.outcome, command.notes, command.reason
    old = (donor.screening_outcome, donor.screening_notes)
    donor.screening_outcome, donor.screening_notes = outcome, notes.strip()
    donor.screening_recorded_by_id = actor.id
    donor.version += 1
    session.add(donor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="donor.screening_recorded",
        entity_type="donor",
        entity_id=donor.code,
        changes={
            "screening_outcome": [old[0], outcome],
            "screening_notes": [old[1], donor.screening_notes],
        },
        reason=reason or None,
        require_reason=old[0] is not None,
    )
    return donor


# --- marker results ----------------------------------------------------------------------------


def results_of(session: Session, donor: Donor) -> list[MarkerResult]:
    query = (
        select(MarkerResult).where(MarkerResult.donor_id == donor.id).order_by(col(MarkerResult.id))
    )
    return list(session.exec(query).all())


def get_result(session: Session, result_id: int) -> MarkerResult:
    result = session.get(MarkerResult, result_id)
    if result is None:
        raise NotFound("No marker result #%(id)s.", params={"id": result_id})
    return result


def _check_result_dates(session: Session, command: ResultIn) -> None:
    """The sample and the test happened (not in the future, not before 2000), the test after the
    sample was taken."""
    today = local_today(session)
    quantities.check_date("sample_date", command.sample_date, today=today)
    quantities.check_date("test_date", command.test_date, today=today)
    if command.test_date < command.sample_date:
        raise RuleViolation.one(
            "time_before_previous_step",
            "The test date %(test_date)s is before the sample date %(sample_date)s.",
            params={
                "test_date": command.test_date.isoformat(),
                "sample_date": command.sample_date.isoformat(),
            },
            field="test_date",
        )


def enter_result(session: Session, *, actor: User, donor: Donor, command: ResultIn) -> MarkerResult:
    """A marker result as on the laboratory report; it counts once a second person verifies."""
    authorize(actor, Action.ENTER_MARKER_RESULTS)
    _, specs = current_marker_set(session)
    marker_code, outcome = command.marker_code, command.outcome
    sample_date, test_date = command.sample_date, command.test_date
    if marker_code not in {m.code for m in specs}:
        raise InvalidInput(
            "%(marker)s is not a marker of the set in force.",
            params={"marker": repr(marker_code)},
            details={"field": "marker_code"},
        )
    _check_result_dates(session, command)
    if donor.status == DonorStatus.INELIGIBLE:
        raise RuleViolation.state(
            "donor_ineligible",
            "Donor %(donor)s is ineligible; no further results are recorded.",
            params={"donor": donor.code},
        )
    result = MarkerResult(
        donor_id=donor.id,
        marker_code=marker_code,
        outcome=outcome,
        sample_date=sample_date,
        test_date=test_date,
        method=command.method.strip(),
        kit_lot=command.kit_lot.strip(),
        entered_by_id=actor.id,
    )
    session.add(result)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="marker_result.entered",
        entity_type="donor",
        entity_id=donor.code,
        changes={
            "result_id": [None, result.id],
            "marker": [None, marker_code],
            "outcome": [None, outcome],
            "sample_date": [None, sample_date],
            "test_date": [None, test_date],
            "method": [None, result.method],
            "kit_lot": [None, result.kit_lot],
        },
    )
    return result


def verify_result(session: Session, *, actor: User, result: MarkerResult) -> MarkerResult:
    """A second person checks the entry against the report; never the one who entered it."""
    authorize(actor, Action.VERIFY_MARKER_RESULTS)
    if refused := second_person_verifies(result.entered_by_id, actor.id):
        raise RuleViolation.of([refused], several=refused.code)
    donor = session.get(Donor, result.donor_id)
    MARKER_RESULT.move(
        session,
        result,
        to=ResultStatus.VERIFIED,
        actor=actor,
        also={"verified_by_id": actor.id, "verified_at": utcnow()},
    )
    if result.outcome != MarkerOutcome.NEGATIVE and donor.status == DonorStatus.ELIGIBLE:
        donor_found_ineligible(
            session,
            donor=donor,
            actor=actor,
            reason=f"verified {result.outcome} {result.marker_code} result #{result.id}",
        )
    return result


def invalidate_result(
    session: Session, *, actor: User, result: MarkerResult, command: ReasonIn
) -> MarkerResult:
    """A wrong entry stays visible as invalidated, with the reason; it no longer counts."""
    authorize(actor, Action.ENTER_MARKER_RESULTS)
    reason = command.reason.strip()  # a reason of spaces is no reason
    MARKER_RESULT.move(
        session,
        result,
        to=ResultStatus.INVALIDATED,
        actor=actor,
        reason=reason,
        require_reason=True,
        also={"invalidated_reason": reason.strip()},
    )
    return result
