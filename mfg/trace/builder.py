"""Builds a ``Trace`` hop by hop: one set-based query per hop, never one per node. Downstream a
donor can reach 10,000 lots and 100,000 doses, so each hop names the next set by a subquery (a
recursive one through the passages), not by a list of ids: PostgreSQL refuses more than 65,535
parameters. Only the columns a node shows are read, not whole rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    any_,
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
    as_utc,
)
from mfg.trace.graph import (
    Node,
    Trace,
    biopsy_node,
    culture_node,
    donor_node,
    key_of,
    keys,
    lot_node,
    material_node,
    passage_detail,
)

CULTURE = (Culture.code, Culture.status, Culture.passage_number)
LOT = (Lot.din, Lot.status)
MATERIAL = (MaterialLot.code, MaterialLot.status, MaterialLot.name, MaterialLot.lot_number)
DOSE = (Dose.identifier, Dose.status, Dose.division)
CULTURE_STEPS = frozenset({"culture", "passage"})  # the other steps are a lot's
# A donor's cells can reach 100,000 doses: beyond this many, the doses not given to a patient are
# counted per lot and status instead of drawn one by one (each lot's page lists its doses).
DOSE_NODE_LIMIT = 1_000
# Reading a dose through the infusions costs about this many times reading it from its lot
# (``Builder.infused_of_traced_lots``).
INFUSION_COST = 10
# Read without its UTC type decorator, whose per-row call every dose row would pay, infused or
# not; ``as_utc`` does its work on the few infused ones.
INFUSED_AT = type_coerce(Infusion.started_at, DateTime(timezone=True))


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
        self.cultures: dict[int, str] = {}  # id -> key of the traced culture vessels
        self.lots: dict[int, str] = {}  # id -> DIN of the traced lots

    def rows(self, statement: Select | CompoundSelect) -> Sequence[Row[Any]]:
        # Plain rows through the session's connection: the ORM's result processing costs as
        # much again as the fetch on 100,000 doses. The first read (``_one``) went through the
        # session, so anything pending was flushed before.
        return self.s.connection().execute(statement).all()

    def tuples(self, statement: Select) -> list[tuple[Any, ...]]:
        """The rows as the driver gives them, for a statement of integer and string columns,
        which SQLAlchemy would not convert: its ``Row`` objects cost 10 ms on a donor's
        11,000 rows, a third of the fetch."""
        result = self.s.connection().execute(statement)
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    def summarised(self) -> bool:
        """Are the traced doses too many to list (only the infused ones are nodes, and the
        vessels and material lots downstream are counted or left out)?"""
        return self.t.doses_total > DOSE_NODE_LIMIT

    def lot_key(self, lot_id: int) -> str:
        return key_of("lot", self.lots[lot_id])

    # -- upstream: to the donors (a few records: a lot pools a handful of cultures) -----------
    def up_from_lots(self, lot_ids: Iterable[int]) -> None:
        lot_ids = sorted(set(lot_ids))
        for lot_id, din, status in self.rows(select(Lot.id, *LOT).where(col(Lot.id).in_(lot_ids))):
            self.lots[lot_id] = din
            self.t.add(lot_node(din, status))
        members = self.rows(
            select(PoolMember.culture_id, PoolMember.lot_id).where(
                col(PoolMember.lot_id).in_(lot_ids)
            )
        )
        lineage = self.up_from_cultures([culture_id for culture_id, _ in members])
        for culture_id, lot_id in members:
            self.t.link_keys(self.cultures[culture_id], self.lot_key(lot_id))
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
            self.cultures[culture_id] = self.t.add(culture_node(*culture))
        biopsies = {}
        for biopsy_id, din, status, code, donor_status in self.rows(
            select(Biopsy.id, Biopsy.din, Biopsy.status, Donor.code, Donor.status)
            .join(Donor, col(Donor.id) == Biopsy.donor_id)
            .where(col(Biopsy.id).in_(sorted({r[2] for r in rows})))
        ):
            biopsy = biopsy_node(din, status)
            self.t.link(donor_node(code, donor_status), biopsy)
            biopsies[biopsy_id] = biopsy.key
        for culture_id, parent_id, biopsy_id, *_ in rows:
            upstream = self.cultures[parent_id] if parent_id else biopsies[biopsy_id]
            self.t.link_keys(upstream, self.cultures[culture_id])
        return [r[0] for r in rows]

    # -- downstream: to the doses and patients ---------------------------------------------------
    def down_from_cultures(
        self,
        vessels: ColumnElement[bool],
        *,
        members: ColumnElement[bool] | None = None,
        biopsies: dict[int, Node],
        anchor: str | None = None,
    ) -> Select:
        """The lots that the cultures ``vessels`` (a condition on ``Culture``) selects went
        into, with their doses counted by status; returns the lots as a subquery.

        Up to ``DOSE_NODE_LIMIT`` doses, those cultures too, each linked to the vessel it was
        passaged from (a primary culture to its biopsy, when ``biopsies`` holds it) and to the
        lots it went into. Beyond, they are counted, not listed (``Trace.cultures_omitted``),
        as the doses are: a donor's cells can reach 10,000 vessels and 10,000 lots, and each
        lot's own trace lists the vessels pooled into it. Each lot is then linked to
        ``anchor`` (the key of the traced vessel or material lot), or else to the biopsy its
        vessel was grown from. ``members``, the same vessels' pool members when a condition on
        ``PoolMember`` names them (by biopsy), spares the lots' query the cultures."""
        if members is None:
            members = col(PoolMember.culture_id).in_(select(Culture.id).where(vessels))
        rows = self.tuples(
            with_dose_counts(
                select(PoolMember.biopsy_id, Lot.id, *LOT)
                .join(Lot, col(Lot.id) == PoolMember.lot_id)
                .where(members)
            )
        )
        biopsy_ids, lot_keys = self.traced_lots(rows)
        lots = select(PoolMember.lot_id).where(members)
        if not self.summarised():
            self.cultures_of(vessels, biopsies)
            return lots
        # those not in the trace already (the vessel traced from, or those using a material)
        listed = bindparam("listed", sorted(self.cultures), expanding=True, literal_execute=True)
        self.t.cultures_omitted = (
            self.s.connection()
            .execute(
                select(func.count())
                .select_from(Culture)
                .where(vessels, col(Culture.id).not_in(listed))
            )
            .scalar_one()
        )
        if anchor is not None:
            self.t.connect(repeat(anchor, len(lot_keys)), lot_keys)
        else:
            by_id = {biopsy_id: self.t.add(node) for biopsy_id, node in biopsies.items()}
            self.t.connect(map(by_id.__getitem__, biopsy_ids), lot_keys)
        return lots

    def traced_lots(self, rows: list[tuple[Any, ...]]) -> tuple[tuple[int, ...], list[str]]:
        """The lots of ``down_from_cultures``' rows (biopsy id, lot id, DIN, status, dose
        status, doses: one row per vessel pooled and dose status), added column-wise, with
        their doses counted; returns the biopsy ids and lot keys, row by row. A donor's lots
        can be 10,000: records are added by ``zip``/``map``, not one Python statement each."""
        if not rows:
            return (), []
        biopsy_ids, lot_ids, dins, statuses, counted, doses = zip(*rows, strict=True)
        self.t.add_many("lot", dins, statuses)
        self.lots.update(zip(lot_ids, dins, strict=True))
        dose_counts = self.t.dose_counts
        for din, status, n in zip(dins, counted, doses, strict=True):
            if status is not None:
                if din in dose_counts:
                    dose_counts[din][status] = n
                else:
                    dose_counts[din] = {status: n}
        return biopsy_ids, keys("lot", dins)

    def cultures_of(self, vessels: ColumnElement[bool], biopsies: dict[int, Node]) -> None:
        """The cultures ``vessels`` selects, each linked to the vessel it was passaged from (or
        its biopsy, in ``biopsies``) and to the lots (traced already) it went into."""
        rows = self.tuples(
            select(
                Culture.id,
                # the parent vessel, or for a primary culture its biopsy (negative id)
                func.coalesce(Culture.parent_id, -col(Culture.biopsy_id)),
                *CULTURE,
                PoolMember.lot_id,
            )
            .outerjoin(PoolMember, col(PoolMember.culture_id) == Culture.id)
            .where(vessels)
        )
        if not rows:
            return
        # one row per culture and lot it went into (a culture not pooled: lot NULL)
        ids, parents, codes, statuses, passages, lot_ids = zip(*rows, strict=True)
        t = self.t
        culture_keys = keys("culture", codes)
        t.add_many("culture", codes, statuses, map(passage_detail, passages))
        by_id = dict(zip(ids, culture_keys, strict=True))
        self.cultures.update(by_id)
        by_id.update((-biopsy_id, t.add(node)) for biopsy_id, node in biopsies.items())
        ups = list(map(by_id.get, parents))  # None: the parent is not traced
        traced = list(map(bool, ups))
        t.connect(compress(ups, traced), compress(culture_keys, traced))
        # Only into the lots read already: on PostgreSQL each statement reads the database as
        # it is when the statement starts, and a vessel pooled in between goes into a lot this
        # trace has not read (SQLite reads the whole transaction as of its first statement).
        traced = self.lots
        pooled = [lot_id in traced for lot_id in lot_ids]
        t.connect(compress(culture_keys, pooled), map(self.lot_key, compress(lot_ids, pooled)))

    def traced_lot(self, lot_id: int, din: str, status: str) -> Node:
        """The node of a lot, recorded as traced."""
        self.lots[lot_id] = din
        return lot_node(din, status)

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
                self.t.dose_counts.setdefault(self.lots[lot_id], {})[status] = n
        summarised = self.t.doses_summarised = self.summarised()
        given = None
        if summarised and lots is not None:
            given = self.infused_of_traced_lots(self.t.doses_total)
        if given is None:  # from the doses: beyond the limit only the infused ones, else all
            statement = select(*DOSE, Dose.lot_id, Patient.code, Patient.status, INFUSED_AT)
            join = statement.join if summarised else statement.outerjoin
            given = self.rows(
                join(Infusion, col(Infusion.dose_id) == Dose.id)
                .join(Patient, col(Patient.id) == Infusion.patient_id, isouter=not summarised)
                .where(where)
            )
        # Of the lots read already: the trial's infusions reach other donors' lots; and on
        # PostgreSQL a lot pooled since was not read (``cultures_of``).
        given = [row for row in given if row[3] in self.lots]
        if given:
            self.given(given)

    def given(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Records and edges of the doses ``doses`` read, column-wise, and of the patients
        they were infused into: a patient's record is dated by the first of its infusions."""
        identifiers, statuses, divisions, lot_ids, patients, patient_statuses, moments = zip(
            *rows, strict=True
        )
        t = self.t
        t.add_many("dose", identifiers, statuses, divisions)
        dose_keys = keys("dose", identifiers)
        lots = {lot_id: self.lot_key(lot_id) for lot_id in set(lot_ids)}
        t.connect(map(lots.get, lot_ids), dose_keys)
        infusions = sorted(
            compress(zip(moments, patients, patient_statuses, dose_keys, strict=True), patients),
            key=itemgetter(0),
        )
        seen = t.statuses["patient"]
        for moment, patient, status, dose in infusions:
            if patient not in seen:
                t.add(Node("patient", patient, status, f"infused {as_utc(moment):%Y-%m-%d}"))
            t.link_keys(dose, key_of("patient", patient))

    def infused_of_traced_lots(self, doses: int) -> Sequence[Row[Any]] | None:
        """The doses given to a patient, as ``doses`` reads them (which keeps those of the
        traced lots), through the trial's infusions when they are few beside the ``doses``
        traced; None when they are not.
        Reading an infused dose through the infusions costs about ``INFUSION_COST`` times
        reading it from its lot's doses (measured on both databases: 15 ms for 1,100 infusions;
        from the lots, 1-6 ms for 1,110 doses, 60-150 ms for 100,000). So one more infusion
        than "few" is read at most, which tells whether they are few without counting them
        first, with its dose and patient. Each database is asked so that it reads those doses
        by primary key: SQLite does for ``IN (subquery)``; PostgreSQL, asked that or a join,
        scanned all 110,000 doses, so it is given the ids as an array (``= ANY(ARRAY(...))``).
        Asked for the traced lots' infused doses in one condition, both walked every dose of
        those lots."""
        few = (doses - 1) // INFUSION_COST if INFUSION_COST else None
        first = select(Infusion.dose_id)
        if few is not None:
            first = first.limit(few + 1)
        if self.s.get_bind().dialect.name == "postgresql":
            chosen = col(Dose.id) == any_(func.array(first.scalar_subquery()))
        else:
            chosen = col(Dose.id).in_(first)
        rows = self.rows(
            select(*DOSE, Dose.lot_id, Patient.code, Patient.status, INFUSED_AT)
            .join(Infusion, col(Infusion.dose_id) == Dose.id)
            .join(Patient, col(Patient.id) == Infusion.patient_id)
            .where(chosen)
        )
        return None if few is not None and len(rows) > few else rows

    # -- material lots -----------------------------------------------------------------------------
    def materials_downstream(self) -> None:
        """The material lots used by the traced vessels' and lots' steps, each linked to the
        record whose step used it; not when the doses are summarised: a donor's 10,000 lots
        have 30,000 such uses, an edge each (each lot's batch record lists its own)."""
        if self.t.doses_summarised:
            self.t.materials_omitted = True
            return
        self.materials_of(lot_ids=sorted(self.lots), culture_ids=sorted(self.cultures))

    def materials_of(self, *, lot_ids: list[int], culture_ids: list[int]) -> None:
        """The material lots used by the cultures' steps and the lots' own steps."""

        def used(step_type: str, step, owner, owners: list[int]) -> Select:
            # written into the statement, as integers read from the database: downstream a
            # trace can hold more vessels than a statement may bind parameters
            ids = bindparam(f"{step_type}_owners", owners, expanding=True, literal_execute=True)
            return (
                select(*MATERIAL, MaterialUse.step_type, owner)
                .join(MaterialUse, col(MaterialUse.material_id) == MaterialLot.id)
                .join(step, col(step.id) == MaterialUse.step_id)
                .where(MaterialUse.step_type == step_type, col(owner).in_(ids))
            )

        statement = union_all(
            used("culture", Culture, Culture.id, culture_ids),
            used("passage", Passage, Passage.culture_id, culture_ids),
            used("lot_passage", LotPassage, LotPassage.lot_id, lot_ids),
            used("harvest", Harvest, Harvest.lot_id, lot_ids),
        )
        for code, status, name, lot_number, step_type, owner_id in self.rows(statement):
            material = self.t.add(material_node(code, status, name, lot_number))
            if step_type in CULTURE_STEPS:
                self.t.link_keys(material, self.cultures[owner_id])
            else:
                self.t.link_keys(material, self.lot_key(owner_id))
