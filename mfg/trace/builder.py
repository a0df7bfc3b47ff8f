"""Builds a ``Trace`` hop by hop: one set-based query per hop, never one per node. Downstream a
donor can reach 10,000 lots and 100,000 doses, so each hop names the next set by a subquery (a
recursive one through the passages), not by a list of ids: PostgreSQL refuses more than 65,535
parameters. Only the columns a node shows are read, not whole rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    DateTime,
    Row,
    Select,
    and_,
    bindparam,
    func,
    type_coerce,
    union_all,
)
from sqlmodel import Session, col, select

from mfg.models import (
    Biopsy,
    Culture,
    Donor,
    Dose,
    Harvest,
    Infusion,
    Lot,
    LotDoseCount,
    LotPassage,
    MaterialLot,
    MaterialUse,
    Passage,
    Patient,
    PoolMember,
)
from mfg.trace.graph import (
    Node,
    Trace,
    biopsy_node,
    culture_node,
    donor_node,
    lot_node,
    material_node,
)

CULTURE = (Culture.code, Culture.status, Culture.passage_number)
LOT = (Lot.din, Lot.status)
MATERIAL = (MaterialLot.code, MaterialLot.status, MaterialLot.name, MaterialLot.lot_number)
DOSE = (Dose.identifier, Dose.status, Dose.division)
CULTURE_STEPS = frozenset({"culture", "passage"})  # the other steps are a lot's
# ``Node(...)`` without the named tuple's own ``__new__``, a Python function: the hot loops make
# 10,000 and more nodes.
_NODE = tuple.__new__
# A donor's cells can reach 100,000 doses: beyond this many, the doses not given to a patient are
# counted per lot and status instead of drawn one by one (each lot's page lists its doses).
DOSE_NODE_LIMIT = 1_000
# Reading a dose through the infusions costs about this many times reading it from its lot
# (``Builder.few_infusions``).
INFUSION_COST = 10
# Read without its UTC type decorator, whose per-row call every dose row would pay, infused or
# not; ``_utc`` does its work on the few infused ones.
INFUSED_AT = type_coerce(Infusion.started_at, DateTime(timezone=True))


def _utc(moment: datetime) -> datetime:
    """A moment read as stored: naive on SQLite (stored as UTC), aware on PostgreSQL."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def with_dose_counts(lots: Select) -> Select:
    """``lots`` (a select of ``Lot`` columns) with each lot's dose count per status, one row
    per status, from ``lot_dose_count``: the database keeps it, so a donor's 100,000 doses are
    not counted again on every trace."""
    return lots.add_columns(LotDoseCount.status, LotDoseCount.doses).outerjoin(
        LotDoseCount, and_(LotDoseCount.lot_id == Lot.id, LotDoseCount.doses > 0)
    )


class Builder:
    def __init__(self, session: Session, trace: Trace):
        self.s, self.t = session, trace
        self.cultures: dict[int, Node] = {}
        self.lots: dict[int, Node] = {}

    def rows(self, statement: Select | CompoundSelect) -> Sequence[Row[Any]]:
        # Plain rows through the session's connection: the ORM's result processing costs as
        # much again as the fetch on 100,000 doses. The first read (``_one``) went through the
        # session, so anything pending was flushed before.
        return self.s.connection().execute(statement).all()

    # -- upstream: to the donors (a few records: a lot pools a handful of cultures) -----------
    def up_from_lots(self, lot_ids: Iterable[int]) -> None:
        lot_ids = sorted(set(lot_ids))
        for lot_id, *lot in self.rows(select(Lot.id, *LOT).where(col(Lot.id).in_(lot_ids))):
            self.lots[lot_id] = lot_node(*lot)
        members = self.rows(
            select(PoolMember.culture_id, PoolMember.lot_id).where(
                col(PoolMember.lot_id).in_(lot_ids)
            )
        )
        lineage = self.up_from_cultures([culture_id for culture_id, _ in members])
        for culture_id, lot_id in members:
            self.t.link(self.cultures[culture_id], self.lots[lot_id])
        self.materials_of(lot_ids=lot_ids, culture_ids=lineage)

    def up_from_cultures(self, seed: Select | list[int]) -> list[int]:
        """The cultures, every vessel they were passaged from, their biopsies and donors;
        returns the ids of those cultures."""
        tree = select(Culture.id).where(col(Culture.id).in_(seed)).cte("upward", recursive=True)
        tree = tree.union(
            select(Culture.parent_id)
            .join(tree, col(Culture.id) == tree.c.id)
            .where(col(Culture.parent_id).is_not(None))
        )
        rows = self.rows(
            select(Culture.id, Culture.parent_id, Culture.biopsy_id, *CULTURE).where(
                col(Culture.id).in_(select(tree.c.id))
            )
        )
        for culture_id, _, _, *culture in rows:
            self.cultures[culture_id] = culture_node(*culture)
        biopsies = {}
        for biopsy_id, din, status, code, donor_status in self.rows(
            select(Biopsy.id, Biopsy.din, Biopsy.status, Donor.code, Donor.status)
            .join(Donor, col(Donor.id) == Biopsy.donor_id)
            .where(col(Biopsy.id).in_(sorted({r[2] for r in rows})))
        ):
            biopsies[biopsy_id] = biopsy_node(din, status)
            self.t.link(donor_node(code, donor_status), biopsies[biopsy_id])
        for culture_id, parent_id, biopsy_id, *_ in rows:
            upstream = self.cultures[parent_id] if parent_id else biopsies[biopsy_id]
            self.t.link(upstream, self.cultures[culture_id])
        return [r[0] for r in rows]

    # -- downstream: to the doses and patients ---------------------------------------------------
    def down_from_cultures(
        self, vessels: ColumnElement[bool], *, biopsies: dict[int, Node]
    ) -> Select:
        """The cultures that ``vessels`` (a condition on ``Culture``) selects, the lots any of
        them went into and those lots' doses counted by status; returns the lots as a subquery.
        A primary culture is linked to its biopsy when ``biopsies`` holds it.

        A donor's vessels and lots can be 10,000 each: the rows are turned into columns, and
        nodes, keys and edges are made column-wise by ``map``/``zip`` rather than one Python
        statement per row, which took more time than the query."""
        lots = select(PoolMember.lot_id).where(
            col(PoolMember.culture_id).in_(select(Culture.id).where(vessels))
        )
        rows = self.rows(
            with_dose_counts(
                select(
                    Culture.id,
                    # the parent vessel, or for a primary culture its biopsy (negative id)
                    func.coalesce(Culture.parent_id, -col(Culture.biopsy_id)),
                    *CULTURE,
                    Lot.id,
                    *LOT,
                )
                .where(vessels)
                .outerjoin(PoolMember, col(PoolMember.culture_id) == Culture.id)
                .outerjoin(Lot, col(Lot.id) == PoolMember.lot_id)
            )
        )
        if not rows:
            return lots
        # One row per culture and lot dose status (a culture not pooled: lot columns NULL).
        ids, parents, codes, statuses, passages, lot_ids, dins, lot_statuses, counted, doses = zip(
            *rows, strict=True
        )
        keys = dict(zip(ids, ["culture:" + code for code in codes], strict=True))
        cultures = list(
            map(
                _NODE,
                repeat(Node),
                zip(
                    repeat("culture"),
                    codes,
                    statuses,
                    [f"P{n}" for n in passages],
                ),
            )
        )
        self.cultures.update(zip(ids, cultures, strict=True))
        self.t.nodes.update(zip(map(keys.get, ids), cultures, strict=True))
        keys.update((-biopsy_id, self.t.add(node)) for biopsy_id, node in biopsies.items())
        self.t.edges.update(
            filter(itemgetter(0), zip(map(keys.get, parents), map(keys.get, ids), strict=True))
        )
        pooled = [lot_id is not None for lot_id in lot_ids]
        lot_nodes = list(
            map(_NODE, repeat(Node), zip(repeat("lot"), dins, lot_statuses, repeat("")))
        )
        lot_keys = ["lot:" + din if din is not None else "" for din in dins]
        self.lots.update(compress(zip(lot_ids, lot_nodes, strict=True), pooled))
        self.t.nodes.update(compress(zip(lot_keys, lot_nodes, strict=True), pooled))
        self.t.edges.update(compress(zip(map(keys.get, ids), lot_keys, strict=True), pooled))
        dose_counts = self.t.dose_counts
        for din, status, n in zip(dins, counted, doses, strict=True):
            if status is not None:
                if din in dose_counts:
                    dose_counts[din][status] = n
                else:
                    dose_counts[din] = {status: n}
        return lots

    def traced_lot(self, lot_id: int, din: str, status: str) -> Node:
        """The node of a lot, made once."""
        node = self.lots.get(lot_id)
        if node is None:
            node = self.lots[lot_id] = lot_node(din, status)
        return node

    def doses(
        self,
        lots: Select | CompoundSelect | None = None,
        *,
        where: ColumnElement[bool] | None = None,
    ) -> None:
        """The doses of ``lots`` (a subquery of lot ids, read ``with_dose_counts`` already) or those
        ``where`` selects (counted here per lot and status), and whom they were infused into,
        dated by the first of these infusions. Every dose is a node up to ``DOSE_NODE_LIMIT``;
        beyond, only the infused ones."""
        if lots is not None:
            where = col(Dose.lot_id).in_(lots)
        else:
            for lot_id, status, n in self.rows(
                select(Dose.lot_id, Dose.status, func.count())
                .where(where)
                .group_by(Dose.lot_id, Dose.status)
            ):
                self.t.dose_counts.setdefault(self.lots[lot_id].identifier, {})[status] = n
        self.t.doses_summarised = self.t.doses_total > DOSE_NODE_LIMIT
        columns = (*DOSE, Dose.lot_id, Patient.code, Patient.status, INFUSED_AT)
        if self.t.doses_summarised and lots is not None and self.few_infusions():
            given = self.infused_of_traced_lots()
        elif self.t.doses_summarised:  # a lot of more than 1,000 doses, or doses of a few lots
            given = self.rows(
                select(*columns)
                .join(Infusion, col(Infusion.dose_id) == Dose.id)
                .join(Patient, col(Patient.id) == Infusion.patient_id)
                .where(where)
            )
        else:  # every dose, infused or not
            given = self.rows(
                select(*columns)
                .outerjoin(Infusion, col(Infusion.dose_id) == Dose.id)
                .outerjoin(Patient, col(Patient.id) == Infusion.patient_id)
                .where(where)
            )
        if given:
            self.given(given)

    def given(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Nodes and edges of the doses ``doses`` read, column-wise, and of the patients they
        were infused into: a patient's node is dated by the first of its infusions."""
        identifiers, statuses, divisions, lot_ids, patients, patient_statuses, moments = zip(
            *rows, strict=True
        )
        keys = ["dose:" + identifier for identifier in identifiers]
        nodes, edges = self.t.nodes, self.t.edges
        doses = zip(repeat("dose"), identifiers, statuses, divisions)
        nodes.update(zip(keys, map(_NODE, repeat(Node), doses), strict=True))
        lots = {lot_id: self.t.add(self.lots[lot_id]) for lot_id in set(lot_ids)}
        edges.update(zip(map(lots.get, lot_ids), keys, strict=True))
        infusions = sorted(
            compress(zip(moments, patients, patient_statuses, keys, strict=True), patients),
            key=itemgetter(0),
        )
        for moment, patient, status, dose in infusions:
            key = "patient:" + patient
            if key not in nodes:
                nodes[key] = Node("patient", patient, status, f"infused {_utc(moment):%Y-%m-%d}")
            edges.add((dose, key))

    def few_infusions(self) -> bool:
        """Whether the trial's infusions are few beside the traced doses. Reading the infused
        doses from the infusions costs about ten times what reading them from the lots' doses
        costs per row (measured on both databases: 15 ms for 1,100 infusions; from the lots,
        1-6 ms for 1,110 doses, 60-150 ms for 100,000), so the cheaper way is taken."""
        infusions = self.rows(select(func.count()).select_from(Infusion))[0][0]
        return self.t.doses_total > INFUSION_COST * infusions

    def infused_of_traced_lots(self) -> list[tuple[Any, ...]]:
        """The doses of the traced lots given to a patient, as ``doses`` reads them: every
        infusion of the trial (a few hundred), then their doses by primary key, kept when their
        lot is traced. Asked in one query, both databases found the few infused doses among
        100,000 by walking them all (SQLite down the lot index, PostgreSQL by a parallel scan)."""
        given = {
            dose_id: rest
            for dose_id, *rest in self.rows(
                select(Infusion.dose_id, Patient.code, Patient.status, INFUSED_AT).join(
                    Patient, col(Patient.id) == Infusion.patient_id
                )
            )
        }
        traced = self.lots
        # The ids are written into the statement (integers read from the database): a thousand
        # bound parameters cost SQLAlchemy and psycopg more to render and parse than the query
        # took to run, and the count of parameters is limited.
        ids = bindparam("dose_ids", sorted(given), expanding=True, literal_execute=True)
        return [
            (identifier, status, division, lot_id, *given[dose_id])
            for dose_id, identifier, status, division, lot_id in self.rows(
                select(Dose.id, *DOSE, Dose.lot_id).where(col(Dose.id).in_(ids))
            )
            if lot_id in traced
        ]

    # -- material lots -----------------------------------------------------------------------------
    def materials_of(self, *, lot_ids: list[int], culture_ids: list[int]) -> None:
        """The material lots used by the cultures' steps and the lots' own steps."""

        def used(step_type: str, step, owner, owners: list[int]) -> Select:
            return (
                select(*MATERIAL, MaterialUse.step_type, owner)
                .join(MaterialUse, col(MaterialUse.material_id) == MaterialLot.id)
                .join(step, col(step.id) == MaterialUse.step_id)
                .where(MaterialUse.step_type == step_type, col(owner).in_(owners))
            )

        statement = union_all(
            used("culture", Culture, Culture.id, culture_ids),
            used("passage", Passage, Passage.culture_id, culture_ids),
            used("lot_passage", LotPassage, LotPassage.lot_id, lot_ids),
            used("harvest", Harvest, Harvest.lot_id, lot_ids),
        )
        for code, status, name, lot_number, step_type, owner_id in self.rows(statement):
            owner = self.cultures if step_type in CULTURE_STEPS else self.lots
            self.t.link(material_node(code, status, name, lot_number), owner[owner_id])
