"""The chain of identity: from any record up to every donor whose cells are in it, and down to
every dose and patient that received them, with the material lots used on the way. The graph
is in ``graph``, the queries that build it in ``builder``; here, where each kind of record
starts from.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CompoundSelect, Select, union
from sqlmodel import Session, col, select

from mfg.auth.permissions import Action, authorize
from mfg.errors import NotFound
from mfg.i18n import N_
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
from mfg.trace.builder import CULTURE, LOT, Builder, with_dose_counts
from mfg.trace.graph import (
    Node,
    Trace,
    biopsy_node,
    culture_node,
    donor_node,
    dose_node,
    lot_node,
    material_node,
)


def trace(session: Session, *, actor: User, kind: str, identifier: str) -> Trace:
    """The chain of identity of one record, up to its donors and down to its patients."""
    authorize(actor, Action.VIEW_MANUFACTURING)
    return build_trace(session, kind=kind, identifier=identifier)


def build_trace(session: Session, *, kind: str, identifier: str) -> Trace:
    """``trace`` for whoever already holds the database (the command line at the server)."""
    with collector_paused():  # from the first read: no collection of the heap midway
        if kind == "qc-sample":
            sample = _one(session, QcSample, QcSample.code, identifier)
            source = "dose" if sample.dose_id else "lot" if sample.lot_id else "culture"
            return build_trace(session, kind=source, identifier=sample.source_identifier)
        if kind not in _TRACERS:
            raise NotFound("A %(kind)s has no chain of identity to trace.", params={"kind": kind})
        model, column, tracer = _TRACERS[kind]
        row = _one(session, model, column, identifier)
        result = Trace(root=_root_node(kind, row))
        result.add(result.root)
        tracer(Builder(session, result), row)
        return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a trace is read and built, from the lookup of
    its root record. A donor's trace reads 11,000 rows (tuples, which form no cycle) and builds
    its columns of 11,500 records from them; meanwhile the collector would walk the whole,
    growing heap several times over, and a full collection falling midway (55 ms in the
    benchmark's process) doubled a trace. Reference counting frees memory as usual; the
    collector resumes at the end. The API and the page keep it paused while they turn the
    trace into their answer too: 11,500 nodes become as many response objects or rows."""
    if not gc.isenabled():  # paused already (by a trace in another thread, say)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _root_node(kind: str, row: Any) -> Node:
    if kind == "donor":
        return donor_node(row.code, row.status)
    if kind == "biopsy":
        return biopsy_node(row.din, row.status)
    if kind == "culture":
        return culture_node(row.code, row.status, row.passage_number)
    if kind == "lot":
        return lot_node(row.din, row.status)
    if kind == "dose":
        return dose_node(row.identifier, row.status, row.division)
    if kind == "material":
        return material_node(row.code, row.status, row.name, row.lot_number)
    return Node("patient", row.code, row.status)


# The record a trace starts from, named as a person says it (its model's name otherwise).
RECORD_NOUNS = {
    "MaterialLot": N_("material lot"),
    "QcSample": N_("QC sample"),
    "Donor": N_("donor"),
    "Biopsy": N_("biopsy"),
    "Culture": N_("culture vessel"),
    "Lot": N_("lot"),
    "Dose": N_("dose"),
    "Patient": N_("patient"),
}


def _one(session: Session, model, column, identifier: str):
    row = session.exec(select(model).where(column == identifier)).first()
    if row is None:
        what = RECORD_NOUNS.get(model.__name__, model.__name__.lower())
        raise NotFound(
            "No %(what)s %(identifier)s.", params={"what": what, "identifier": identifier}
        )
    return row


def _from_donor(b: Builder, donor: Donor) -> None:
    biopsies = b.rows(
        select(Biopsy.id, Biopsy.din, Biopsy.status).where(Biopsy.donor_id == donor.id)
    )
    _down_from_biopsies(b, donor_node(donor.code, donor.status), biopsies)


def _from_biopsy(b: Builder, biopsy: Biopsy) -> None:
    donor = b.s.get(Donor, biopsy.donor_id)
    _down_from_biopsies(
        b, donor_node(donor.code, donor.status), [(biopsy.id, biopsy.din, biopsy.status)]
    )


def _down_from_biopsies(b: Builder, donor: Node, biopsies: list[Any]) -> None:
    nodes = {biopsy_id: biopsy_node(din, status) for biopsy_id, din, status in biopsies}
    for node in nodes.values():
        b.t.link(donor, node)
    # Every vessel grown from a biopsy, primary or passaged, records the biopsy: no need to
    # walk the passages.
    ids = sorted(nodes)
    lots = b.down_from_cultures(
        col(Culture.biopsy_id).in_(ids),
        members=col(PoolMember.biopsy_id).in_(ids),
        biopsies=nodes,
    )
    b.doses(lots)
    b.materials_downstream()


def _passaged_from(seed: Select | CompoundSelect) -> Select:
    """The seed cultures and every vessel passaged from them, at any depth."""
    tree = select(Culture.id).where(col(Culture.id).in_(seed)).cte("downward", recursive=True)
    tree = tree.union(select(Culture.id).join(tree, col(Culture.parent_id) == tree.c.id))
    return select(tree.c.id)


def _from_culture(b: Builder, culture: Culture) -> None:
    b.materials_of(lot_ids=[], culture_ids=b.up_from_cultures([culture.id]))
    vessels = col(Culture.id).in_(
        _passaged_from(select(Culture.id).where(Culture.id == culture.id))
    )
    lots = b.down_from_cultures(vessels, biopsies={}, anchor=b.t.root.key)
    b.doses(lots)
    b.materials_downstream()


def _from_lot(b: Builder, lot: Lot) -> None:
    b.up_from_lots([lot.id])
    b.doses(where=Dose.lot_id == lot.id)


def _from_dose(b: Builder, dose: Dose) -> None:
    b.up_from_lots([dose.lot_id])
    b.doses(where=Dose.id == dose.id)


def _from_patient(b: Builder, patient: Patient) -> None:
    infused = select(Infusion.dose_id).where(Infusion.patient_id == patient.id)
    b.up_from_lots(b.s.exec(select(Dose.lot_id).where(col(Dose.id).in_(infused))).all())
    b.doses(where=col(Dose.id).in_(infused))


def _from_material(b: Builder, material: MaterialLot) -> None:
    """Every lot that used the material, directly or through the cultures it went into."""
    uses = select(MaterialUse.step_id).where(MaterialUse.material_id == material.id)
    cultures = union(
        uses.where(MaterialUse.step_type == "culture"),
        select(Passage.culture_id).where(
            col(Passage.id).in_(uses.where(MaterialUse.step_type == "passage"))
        ),
    )
    direct = (
        select(LotPassage.lot_id).where(
            col(LotPassage.id).in_(uses.where(MaterialUse.step_type == "lot_passage"))
        ),
        select(Harvest.lot_id).where(
            col(Harvest.id).in_(uses.where(MaterialUse.step_type == "harvest"))
        ),
    )
    lots = union(*direct)
    node = _root_node("material", material)
    for lot_id, din, status, counted, n in b.rows(
        with_dose_counts(select(Lot.id, *LOT).where(col(Lot.id).in_(lots)))
    ):
        b.t.link(node, b.traced_lot(lot_id, din, status))
        if counted is not None:
            b.t.dose_counts.setdefault(din, {})[counted] = n
    for culture_id, *culture in b.rows(
        select(Culture.id, *CULTURE).where(col(Culture.id).in_(cultures))
    ):
        b.cultures[culture_id] = b.t.add(culture_node(*culture))
        b.t.link_keys(node.key, b.cultures[culture_id])
    from_cultures = b.down_from_cultures(
        col(Culture.id).in_(_passaged_from(cultures)), biopsies={}, anchor=node.key
    )
    every = union(*direct, from_cultures)  # SQLite nests no compound select
    b.doses(every)


_TRACERS = {
    "donor": (Donor, Donor.code, _from_donor),
    "biopsy": (Biopsy, Biopsy.din, _from_biopsy),
    "culture": (Culture, Culture.code, _from_culture),
    "lot": (Lot, Lot.din, _from_lot),
    "dose": (Dose, Dose.identifier, _from_dose),
    "patient": (Patient, Patient.code, _from_patient),
    "material": (MaterialLot, MaterialLot.code, _from_material),
}
