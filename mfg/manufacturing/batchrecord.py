"""The electronic batch record of a lot: every step from each donor's biopsy to each dose.

Each step is shown with the material lots it used and its "Performed" signatures, each checked
against the record as it is now (21 CFR 11.50, 11.70): a record changed after signing shows its
signature INVALID, on the page and on the printed copy alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from mfg.auth.permissions import Action, authorize
from mfg.identifiers.isbt128 import Din
from mfg.manufacturing import cultures, doses, lots, materials, pools, storage
from mfg.models import (
    Biopsy,
    Culture,
    Donor,
    Dose,
    Harvest,
    Lot,
    LotPassage,
    MaterialLot,
    Passage,
    PoolMember,
    User,
    utcnow,
)
from mfg.signatures import service as signatures
from mfg.signatures.service import ShownSignature


@dataclass(frozen=True)
class Step:
    """What a signed step used and who signed it, each signature checked against the record."""

    materials: list[MaterialLot]
    signatures: list[ShownSignature]


@dataclass(frozen=True)
class PassageStep:
    record: Passage
    children: list[Culture]  # the vessels it seeded
    step: Step


@dataclass(frozen=True)
class Vessel:
    culture: Culture
    start: Step | None  # the primary culture's start; a passage's vessel is seeded by its parent
    passage: PassageStep | None


@dataclass(frozen=True)
class MemberRecord:
    member: PoolMember
    donor: Donor
    biopsy: Biopsy
    vessels: list[Vessel]  # from the primary culture down to the pooled vessel


@dataclass(frozen=True)
class LotPassageStep:
    record: LotPassage
    step: Step


@dataclass(frozen=True)
class HarvestStep:
    record: Harvest
    step: Step


@dataclass(frozen=True)
class DoseRecord:
    dose: Dose
    location: str
    thaw: list[ShownSignature]


@dataclass(frozen=True)
class BatchRecord:
    lot: Lot
    din: Din
    generated_at: datetime
    members: list[MemberRecord]
    pool: list[ShownSignature]
    lot_passages: list[LotPassageStep]
    harvest: HarvestStep | None
    doses: list[DoseRecord]
    fill: list[ShownSignature]
    storage: list[ShownSignature]

    @property
    def invalid_signatures(self) -> int:
        return sum(not s.valid for s in _all_signatures(self))

    @property
    def signatures(self) -> list[ShownSignature]:
        return _all_signatures(self)

    def unsigned_steps(self) -> list[str]:
        """Each step with no signature, or whose signature no longer matches the record."""
        steps: list[tuple[str, list[ShownSignature]]] = [
            (f"pooling of lot {self.lot.din}", self.pool)
        ]
        for member in self.members:
            for vessel in member.vessels:
                if vessel.start:
                    steps.append(
                        (f"start of culture {vessel.culture.code}", vessel.start.signatures)
                    )
                if vessel.passage:
                    steps.append(
                        (
                            f"passage of culture {vessel.culture.code}",
                            vessel.passage.step.signatures,
                        )
                    )
        steps += [
            (f"lot passage P{p.record.passage_number}", p.step.signatures)
            for p in self.lot_passages
        ]
        if self.harvest:
            steps.append(("harvest and formulation", self.harvest.step.signatures))
        if self.doses:
            steps.append(("fill", self.fill))
            if any(d.dose.frozen_at for d in self.doses):
                steps.append(("cryopreservation", self.storage))
        return [name for name, shown in steps if not shown or not all(s.valid for s in shown)]


def _all_signatures(record: BatchRecord) -> list[ShownSignature]:
    found = [*record.pool, *record.fill, *record.storage]
    for member in record.members:
        for vessel in member.vessels:
            found += vessel.start.signatures if vessel.start else []
            found += vessel.passage.step.signatures if vessel.passage else []
    found += [s for p in record.lot_passages for s in p.step.signatures]
    found += record.harvest.step.signatures if record.harvest else []
    return found + [s for d in record.doses for s in d.thaw]


def _step(session: Session, *, step_type: str, step_id: int, entity_id: str | int) -> Step:
    """A step that uses materials; it is signed under its step type (culture, passage, …)."""
    used = materials.used_by(session, step_type, step_id)
    return Step(used, signatures.shown(session, entity_type=step_type, entity_id=entity_id))


def lineage(session: Session, culture: Culture) -> list[Culture]:
    """The vessels from the primary culture down to ``culture``, following ``parent_id``."""
    chain = [culture]
    seen = {culture.id}
    while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
        seen.add(chain[-1].parent_id)
        chain.append(session.get(Culture, chain[-1].parent_id))
    return chain[::-1]


def _vessel(session: Session, culture: Culture) -> Vessel:
    start = None
    if culture.parent_id is None:
        start = _step(
            session,
            step_type="culture",
            step_id=culture.id,
            entity_id=culture.code,
        )
    record = cultures.passage_of(session, culture)
    if record is None:
        return Vessel(culture, start, None)
    children = cultures.children_of(session, culture)
    step = _step(
        session,
        step_type="passage",
        step_id=record.id,
        entity_id=record.id,
    )
    return Vessel(culture, start, PassageStep(record, children, step))


def _doses(session: Session, lot: Lot) -> list[DoseRecord]:
    return [
        DoseRecord(
            dose,
            storage.location_text(dose),
            signatures.shown(session, entity_type="thaw", entity_id=dose.identifier),
        )
        for dose in doses.doses_of(session, lot)
    ]


def _shown(session: Session, entity_type: str, din: str) -> list[ShownSignature]:
    return signatures.shown(session, entity_type=entity_type, entity_id=din)


def build_batch_record(session: Session, lot: Lot) -> BatchRecord:
    """Gather the lot's record as it is now; every signature is checked against it."""
    members = [
        MemberRecord(m, donor, biopsy, [_vessel(session, v) for v in lineage(session, culture)])
        for m, culture, biopsy, donor in pools.member_rows(session, lot)
    ]
    passages = [
        LotPassageStep(
            record,
            _step(
                session,
                step_type="lot_passage",
                step_id=record.id,
                entity_id=record.id,
            ),
        )
        for record in lots.passages_of(session, lot)
    ]
    harvest = lots.harvest_of(session, lot)
    harvested = None
    if harvest is not None:
        harvested = HarvestStep(
            harvest,
            _step(
                session,
                step_type="harvest",
                step_id=harvest.id,
                entity_id=harvest.id,
            ),
        )
    dose_records = _doses(session, lot)
    return BatchRecord(
        lot=lot,
        din=Din.parse(lot.din),
        generated_at=utcnow(),
        members=members,
        pool=_shown(session, "lot", lot.din),
        lot_passages=passages,
        harvest=harvested,
        doses=dose_records,
        fill=_shown(session, "fill", lot.din),
        # The storage signature covers the doses frozen together (all of the lot's, in one step).
        storage=_shown(session, "storage", lot.din),
    )


def batch_record(session: Session, *, actor: User, lot: Lot) -> BatchRecord:
    authorize(actor, Action.VIEW_MANUFACTURING)
    return build_batch_record(session, lot)
