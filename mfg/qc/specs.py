"""Specifications: versioned, approved by a QA signature before they take effect, never edited.

Version 1 is installed from ``mfg/defaults/specification.toml``. A change is a new draft version
(usually a copy of the version in force with its edits); approving it supersedes the previous
one for lots started afterwards. Each lot keeps the version it was started under.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.machines import SPEC_VERSION
from mfg.auth.permissions import Action, authorize
from mfg.errors import NotFound, Reason, RuleViolation
from mfg.models import Lot, Meaning, SpecStatus, SpecTest, SpecVersion, User, utcnow
from mfg.qc.rules import limit_text, spec_test_problems
from mfg.signatures import service as signatures

TEST_FIELDS = (
    "code",
    "name",
    "method",
    "unit",
    "kind",
    "min",
    "min_inclusive",
    "max",
    "max_inclusive",
    "choices",
    "accepted",
    "stage",
    "required",
    "preliminary_readings",
    "per_kg_from",
    "incubation_days",
)


def get_spec(session: Session, version: int) -> SpecVersion:
    spec = session.exec(select(SpecVersion).where(SpecVersion.version == version)).first()
    if spec is None:
        raise NotFound("No specification version %(version)s.", params={"version": version})
    return spec


def in_force(session: Session) -> SpecVersion:
    spec = session.exec(
        select(SpecVersion)
        .where(SpecVersion.status == SpecStatus.APPROVED)
        .order_by(col(SpecVersion.version).desc())
    ).first()
    if spec is None:
        raise RuleViolation.state(
            "no_approved_specification",
            "No specification is approved: QA approves one before QC can judge.",
        )
    return spec


def spec_of_lot(session: Session, lot: Lot) -> SpecVersion:
    """The version recorded on the lot when it was started; lots from before any version was
    approved are judged against the one in force."""
    return get_spec(session, lot.spec_version) if lot.spec_version else in_force(session)


def tests_of(session: Session, spec: SpecVersion) -> list[SpecTest]:
    query = select(SpecTest).where(SpecTest.spec_version_id == spec.id)
    return list(session.exec(query.order_by(col(SpecTest.position))).all())


def test_of(session: Session, spec: SpecVersion, code: str) -> SpecTest:
    test = session.exec(
        select(SpecTest).where(
            SpecTest.spec_version_id == spec.id, SpecTest.code == code.strip().upper()
        )
    ).first()
    if test is None:
        raise NotFound(
            "Specification version %(version)s has no test %(test)s.",
            params={"version": spec.version, "test": code},
        )
    return test


def list_specs(session: Session, *, actor: User) -> list[SpecVersion]:
    authorize(actor, Action.VIEW_QC)
    query = select(SpecVersion).order_by(col(SpecVersion.version).desc())
    return list(session.exec(query).all())


def as_dict(test: SpecTest) -> dict:
    """A test in the form a draft is written from (and the API shows)."""
    return {
        "code": test.code,
        "name": test.name,
        "method": test.method,
        "unit": test.unit,
        "kind": test.kind,
        "min": test.min_value,
        "min_inclusive": test.min_inclusive,
        "max": test.max_value,
        "max_inclusive": test.max_inclusive,
        "choices": test.choices,
        "accepted": test.accepted,
        "stage": test.stage,
        "required": test.required,
        "preliminary_readings": test.preliminary_readings,
        "per_kg_from": test.per_kg_from,
        "incubation_days": test.incubation_days,
        "limit": limit_text(test),
    }


@signatures.signs("specification")
def spec_content(session: Session, version: str) -> dict:
    """What QA's approval signs: the version, its title and every test with its limits."""
    spec = get_spec(session, int(version))
    tests = tests_of(session, spec)
    return {
        "version": spec.version,
        "title": spec.title,
        # incubation_days came later: a test without it signs as it did before it existed.
        "tests": [
            {
                k: v
                for k, v in as_dict(t).items()
                if k != "limit" and not (k == "incubation_days" and v is None)
            }
            for t in tests
        ],
    }


def create_draft(
    session: Session, *, actor: User, title: str, note: str, tests: Sequence[dict]
) -> SpecVersion:
    """A new version in draft, with its tests written once."""
    authorize(actor, Action.MANAGE_SPECIFICATIONS)
    rows = [{k: t.get(k) for k in TEST_FIELDS} for t in tests]
    for row in rows:
        row["code"] = (row["code"] or "").strip().upper()
    problems = spec_test_problems(rows)
    if not title.strip():
        problems.append(Reason("title_missing", "Give the specification a title."))
    if problems:
        raise RuleViolation.of(problems, several="specification_refused")
    newest = session.exec(select(SpecVersion.version).order_by(col(SpecVersion.version).desc()))
    number = (newest.first() or 0) + 1
    spec = SpecVersion(
        version=number, title=title.strip(), note=note.strip(), created_by_id=actor.id
    )
    session.add(spec)
    session.flush()
    session.add_all(
        SpecTest(
            spec_version_id=spec.id,
            position=position,
            code=row["code"],
            name=row["name"] or row["code"],
            method=row["method"] or "",
            unit=row["unit"] or "",
            kind=row["kind"],
            min_value=row["min"],
            min_inclusive=row["min_inclusive"] if row["min_inclusive"] is not None else True,
            max_value=row["max"],
            max_inclusive=row["max_inclusive"] if row["max_inclusive"] is not None else True,
            choices=row["choices"] or "",
            accepted=row["accepted"] or "",
            stage=row["stage"] or "release",
            required=row["required"] if row["required"] is not None else True,
            preliminary_readings=row["preliminary_readings"] or "",
            per_kg_from=row["per_kg_from"] or "",
            incubation_days=row["incubation_days"] or None,
        )
        for position, row in enumerate(rows, start=1)
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="specification.drafted",
        entity_type="specification",
        entity_id=str(number),
        changes={"tests": [None, [r["code"] for r in rows]], "status": [None, spec.status]},
    )
    return spec


def approve(session: Session, *, actor: User, spec: SpecVersion, password: str) -> SpecVersion:
    """QA approves a draft (signature "Approved"): it is in force for lots started from now."""
    authorize(actor, Action.MANAGE_SPECIFICATIONS)
    previous = session.exec(
        select(SpecVersion).where(SpecVersion.status == SpecStatus.APPROVED)
    ).all()
    now = utcnow()
    SPEC_VERSION.move(
        session,
        spec,
        to=SpecStatus.APPROVED,
        actor=actor,
        also={"approved_at": now, "approved_by_id": actor.id},
    )
    for old in previous:
        SPEC_VERSION.move(
            session,
            old,
            to=SpecStatus.SUPERSEDED,
            actor=actor,
            reason=f"version {spec.version} approved",
        )
    signatures.sign(
        session,
        signer=actor,
        password=password,
        meaning=Meaning.APPROVED,
        entity_type="specification",
        entity_id=str(spec.version),
    )
    return spec


def withdraw(session: Session, *, actor: User, spec: SpecVersion, reason: str) -> SpecVersion:
    authorize(actor, Action.MANAGE_SPECIFICATIONS)
    SPEC_VERSION.move(
        session, spec, to=SpecStatus.WITHDRAWN, actor=actor, reason=reason, require_reason=True
    )
    return spec
