"""The chain of identity: from any record up to every donor whose cells are in it, and down to
every dose and patient that received them, with the material lots used on the way.

A trace is a graph of nodes ("kind:identifier") and edges (from upstream to downstream), built
with set-based queries: one query per hop, never one per node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from mfg.auth.permissions import Action, authorize
from mfg.errors import NotFound
from mfg.models import (
    Biopsy,
    Culture,
    Donor,
    Dose,
    Harvest,
    Infusion,
    Lot,
    LotPassage,
    MaterialLot,
    MaterialUse,
    Passage,
    Patient,
    PoolMember,
    QcSample,
    User,
)

KINDS = ("donor", "biopsy", "culture", "material", "lot", "dose", "patient")
URLS = {
    "donor": "/donors/{}",
    "biopsy": "/biopsies/{}",
    "culture": "/cultures/{}",
    "material": "/materials/{}",
    "lot": "/lots/{}",
    "dose": "/doses/{}",
    "patient": "/patients/{}",
}


@dataclass(frozen=True)
class Node:
    kind: str
    identifier: str
    status: str
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.identifier}"

    @property
    def url(self) -> str:
        return URLS[self.kind].format(self.identifier)


@dataclass
class Trace:
    root: Node
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, upstream: Node, downstream: Node) -> None:
        self.edges.add((self.add(upstream), self.add(downstream)))

    def of_kind(self, kind: str) -> list[Node]:
        return sorted(
            (n for n in self.nodes.values() if n.kind == kind), key=lambda n: n.identifier
        )


def _in(column, ids: Iterable[int]):
    return col(column).in_(sorted(set(ids)))


class _Builder:
    def __init__(self, session: Session, trace: Trace):
        self.s, self.t = session, trace

    # -- nodes -------------------------------------------------------------------------------
    @staticmethod
    def donor(d: Donor) -> Node:
        return Node("donor", d.code, d.status)

    @staticmethod
    def biopsy(b: Biopsy) -> Node:
        return Node("biopsy", b.din, b.status)

    @staticmethod
    def culture(c: Culture) -> Node:
        return Node("culture", c.code, c.status, f"P{c.passage_number}")

    @staticmethod
    def lot(lot: Lot) -> Node:
        return Node("lot", lot.din, lot.status)

    @staticmethod
    def dose(d: Dose) -> Node:
        return Node("dose", d.identifier, d.status, d.division)

    @staticmethod
    def material(m: MaterialLot) -> Node:
        return Node("material", m.code, m.status, f"{m.name} {m.lot_number}")

    # -- upstream: to the donors -----------------------------------------------------------------
    def up_from_lots(self, lot_ids: Iterable[int]) -> None:
        members = self.s.exec(select(PoolMember).where(_in(PoolMember.lot_id, lot_ids))).all()
        lots = {x.id: x for x in self.s.exec(select(Lot).where(_in(Lot.id, lot_ids))).all()}
        cultures = self._by_id(Culture, [m.culture_id for m in members])
        for m in members:
            self.t.link(self.culture(cultures[m.culture_id]), self.lot(lots[m.lot_id]))
        self.up_from_cultures(cultures.values())
        self.materials_of(lot_ids=list(lots), culture_ids=self._lineage_ids(cultures.values()))

    def up_from_cultures(self, cultures: Iterable[Culture]) -> None:
        cultures = list(cultures)
        lineage = self._lineage(cultures)
        for c in lineage.values():
            if c.parent_id and c.parent_id in lineage:
                self.t.link(self.culture(lineage[c.parent_id]), self.culture(c))
        biopsies = self._by_id(Biopsy, [c.biopsy_id for c in lineage.values()])
        donors = self._by_id(Donor, [b.donor_id for b in biopsies.values()])
        for c in lineage.values():
            if c.parent_id is None:
                self.t.link(self.biopsy(biopsies[c.biopsy_id]), self.culture(c))
        for b in biopsies.values():
            self.t.link(self.donor(donors[b.donor_id]), self.biopsy(b))

    # -- downstream: to the doses and patients ---------------------------------------------------
    def down_from_cultures(self, culture_ids: Iterable[int]) -> list[int]:
        """The lots the cultures (or the vessels passaged from them) were pooled into."""
        ids = set(culture_ids)
        frontier = set(ids)
        while frontier:  # one query per passage generation
            children = self.s.exec(select(Culture).where(_in(Culture.parent_id, frontier))).all()
            frontier = {c.id for c in children} - ids
            ids |= frontier
            for c in children:
                self.t.link(self.culture(self.s.get(Culture, c.parent_id)), self.culture(c))
        members = self.s.exec(select(PoolMember).where(_in(PoolMember.culture_id, ids))).all()
        lots = self._by_id(Lot, [m.lot_id for m in members])
        cultures = self._by_id(Culture, [m.culture_id for m in members])
        for m in members:
            self.t.link(self.culture(cultures[m.culture_id]), self.lot(lots[m.lot_id]))
        return list(lots)

    def down_from_lots(self, lot_ids: Iterable[int]) -> None:
        lots = self._by_id(Lot, lot_ids)
        doses = self.s.exec(select(Dose).where(_in(Dose.lot_id, lots))).all()
        for d in doses:
            self.t.link(self.lot(lots[d.lot_id]), self.dose(d))
        # Joined on the lots, not an IN list of every dose (100,000 doses exceed a bind limit).
        infusions = self.s.exec(
            select(Infusion)
            .join(Dose, col(Dose.id) == Infusion.dose_id)
            .where(_in(Dose.lot_id, lots))
        ).all()
        self._link_infusions({d.id: d for d in doses}, infusions)

    def down_from_doses(self, doses: Iterable[Dose]) -> None:
        doses = {d.id: d for d in doses}
        infusions = self.s.exec(select(Infusion).where(_in(Infusion.dose_id, doses))).all()
        self._link_infusions(doses, infusions)

    def _link_infusions(self, doses: dict[int, Dose], infusions: Iterable[Infusion]) -> None:
        infusions = list(infusions)
        patients = self._by_id(Patient, [i.patient_id for i in infusions])
        for i in infusions:
            patient = patients[i.patient_id]
            self.t.link(
                self.dose(doses[i.dose_id]),
                Node("patient", patient.code, patient.status, f"infused {i.started_at:%Y-%m-%d}"),
            )

    # -- material lots -----------------------------------------------------------------------------
    def materials_of(self, *, lot_ids: list[int], culture_ids: list[int]) -> None:
        """The material lots used by the cultures' steps and the lots' own steps."""
        passages = self.s.exec(select(Passage).where(_in(Passage.culture_id, culture_ids))).all()
        lot_passages = self.s.exec(select(LotPassage).where(_in(LotPassage.lot_id, lot_ids))).all()
        harvests = self.s.exec(select(Harvest).where(_in(Harvest.lot_id, lot_ids))).all()
        steps = {("culture", c): ("culture", c) for c in culture_ids} | {
            ("passage", p.id): ("culture", p.culture_id) for p in passages
        }
        steps |= {("lot_passage", p.id): ("lot", p.lot_id) for p in lot_passages}
        steps |= {("harvest", h.id): ("lot", h.lot_id) for h in harvests}
        uses = [
            u
            for u in self.s.exec(
                select(MaterialUse).where(
                    _in(MaterialUse.step_id, [sid for _, sid in steps]),
                )
            ).all()
            if (u.step_type, u.step_id) in steps
        ]
        materials = self._by_id(MaterialLot, [u.material_id for u in uses])
        for u in uses:
            kind, target_id = steps[(u.step_type, u.step_id)]
            target = (
                self.culture(self.s.get(Culture, target_id))
                if kind == "culture"
                else self.lot(self.s.get(Lot, target_id))
            )
            self.t.link(self.material(materials[u.material_id]), target)

    # -- helpers -------------------------------------------------------------------------------
    def _by_id(self, model, ids: Iterable[int]) -> dict:
        ids = sorted(set(ids))
        if not ids:
            return {}
        return {x.id: x for x in self.s.exec(select(model).where(col(model.id).in_(ids))).all()}

    def _lineage(self, cultures: Iterable[Culture]) -> dict[int, Culture]:
        """The cultures and every vessel they were passaged from, up to the primary culture."""
        found = {c.id: c for c in cultures}
        frontier = {c.parent_id for c in found.values() if c.parent_id} - set(found)
        while frontier:
            parents = self._by_id(Culture, frontier)
            found |= parents
            frontier = {c.parent_id for c in parents.values() if c.parent_id} - set(found)
        return found

    def _lineage_ids(self, cultures: Iterable[Culture]) -> list[int]:
        return list(self._lineage(cultures))


def trace(session: Session, *, actor: User, kind: str, identifier: str) -> Trace:
    """The chain of identity of one record, up to its donors and down to its patients."""
    authorize(actor, Action.VIEW_MANUFACTURING)
    return build_trace(session, kind=kind, identifier=identifier)


def build_trace(session: Session, *, kind: str, identifier: str) -> Trace:
    """``trace`` for whoever already holds the database (the command line at the server)."""
    root = _root(session, kind, identifier)
    result = Trace(root=root)
    result.add(root)
    b = _Builder(session, result)
    if kind == "donor":
        donor = _one(session, Donor, Donor.code, identifier)
        biopsies = session.exec(select(Biopsy).where(Biopsy.donor_id == donor.id)).all()
        for biopsy in biopsies:
            result.link(b.donor(donor), b.biopsy(biopsy))
        _down_from_biopsies(session, b, biopsies)
    elif kind == "biopsy":
        biopsy = _one(session, Biopsy, Biopsy.din, identifier)
        result.link(b.donor(session.get(Donor, biopsy.donor_id)), b.biopsy(biopsy))
        _down_from_biopsies(session, b, [biopsy])
    elif kind == "culture":
        culture = _one(session, Culture, Culture.code, identifier)
        b.up_from_cultures([culture])
        b.materials_of(lot_ids=[], culture_ids=b._lineage_ids([culture]))
        b.down_from_lots(b.down_from_cultures([culture.id]))
    elif kind == "lot":
        lot = _one(session, Lot, Lot.din, identifier)
        b.up_from_lots([lot.id])
        b.down_from_lots([lot.id])
    elif kind == "dose":
        dose = _one(session, Dose, Dose.identifier, identifier)
        lot = session.get(Lot, dose.lot_id)
        result.link(b.lot(lot), b.dose(dose))
        b.up_from_lots([lot.id])
        b.down_from_doses([dose])
    elif kind == "patient":
        patient = _one(session, Patient, Patient.code, identifier)
        infusions = session.exec(select(Infusion).where(Infusion.patient_id == patient.id)).all()
        doses = [session.get(Dose, i.dose_id) for i in infusions]
        b.down_from_doses(doses)
        for d in doses:
            result.link(b.lot(session.get(Lot, d.lot_id)), b.dose(d))
        b.up_from_lots({d.lot_id for d in doses})
    elif kind == "material":
        material = _one(session, MaterialLot, MaterialLot.code, identifier)
        _down_from_material(session, b, material)
    elif kind == "qc-sample":
        sample = _one(session, QcSample, QcSample.code, identifier)
        source = "dose" if sample.dose_id else "lot" if sample.lot_id else "culture"
        return build_trace(session, kind=source, identifier=sample.source_identifier)
    else:
        raise NotFound(f"A {kind} has no chain of identity to trace.")
    return result


def _root(session: Session, kind: str, identifier: str) -> Node:
    lookups = {
        "donor": (Donor, Donor.code, _Builder.donor),
        "biopsy": (Biopsy, Biopsy.din, _Builder.biopsy),
        "culture": (Culture, Culture.code, _Builder.culture),
        "lot": (Lot, Lot.din, _Builder.lot),
        "dose": (Dose, Dose.identifier, _Builder.dose),
        "material": (MaterialLot, MaterialLot.code, _Builder.material),
    }
    if kind == "patient":
        p = _one(session, Patient, Patient.code, identifier)
        return Node("patient", p.code, p.status)
    if kind == "qc-sample":
        sample = _one(session, QcSample, QcSample.code, identifier)
        kind = "dose" if sample.dose_id else "lot" if sample.lot_id else "culture"
        identifier = sample.source_identifier
    if kind not in lookups:
        raise NotFound(f"A {kind} has no chain of identity to trace.")
    model, column, node = lookups[kind]
    return node(_one(session, model, column, identifier))


def _one(session: Session, model, column, identifier: str):
    row = session.exec(select(model).where(column == identifier)).first()
    if row is None:
        raise NotFound(f"No {model.__name__.lower()} {identifier}.")
    return row


def _down_from_biopsies(session: Session, b: _Builder, biopsies: Iterable[Biopsy]) -> None:
    biopsies = {x.id: x for x in biopsies}
    primaries = session.exec(
        select(Culture).where(_in(Culture.biopsy_id, biopsies), col(Culture.parent_id).is_(None))
    ).all()
    for c in primaries:
        b.t.link(b.biopsy(biopsies[c.biopsy_id]), b.culture(c))
    b.down_from_lots(b.down_from_cultures([c.id for c in primaries]))


def _down_from_material(session: Session, b: _Builder, material: MaterialLot) -> None:
    """Every lot that used the material, directly or through the cultures it went into."""
    uses = session.exec(select(MaterialUse).where(MaterialUse.material_id == material.id)).all()
    culture_ids = {u.step_id for u in uses if u.step_type == "culture"}
    passage_ids = [u.step_id for u in uses if u.step_type == "passage"]
    culture_ids |= {
        p.culture_id for p in session.exec(select(Passage).where(_in(Passage.id, passage_ids)))
    }
    lot_ids = {
        p.lot_id
        for p in session.exec(
            select(LotPassage).where(
                _in(LotPassage.id, [u.step_id for u in uses if u.step_type == "lot_passage"])
            )
        )
    } | {
        h.lot_id
        for h in session.exec(
            select(Harvest).where(
                _in(Harvest.id, [u.step_id for u in uses if u.step_type == "harvest"])
            )
        )
    }
    node = b.material(material)
    for c in b._by_id(Culture, culture_ids).values():
        b.t.link(node, b.culture(c))
    for lot in b._by_id(Lot, lot_ids).values():
        b.t.link(node, b.lot(lot))
    lot_ids |= set(b.down_from_cultures(culture_ids))
    b.down_from_lots(lot_ids)
