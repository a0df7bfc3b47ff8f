"""Benchmark: the trace from one donor whose cells reach 10,000 lots and 100,000 doses (issue #11).

    python -m tests.benchmarks.bench_trace [--lots 10000] [--doses-per-lot 10] [--repeat 20]
        [--database-url URL] [--no-http]

A database (a new SQLite file, or the empty database ``--database-url`` names) is migrated and
filled with SQLAlchemy core bulk inserts: one donor whose two biopsies were grown into ``--lots``
culture vessels, each pooled with a vessel of another donor into its own lot of
``--doses-per-lot`` doses, one dose of every tenth lot infused into a trial patient; plus a
hundred unrelated donors whose vessels also fill a tenth as many lots of their own, as noise.

Timed in the same run, alternating, after a warm-up: the product's trace from that donor
(``trace()``, as ``GET /api/trace/{code}`` calls it, in a read-only unit of work like a
request's) and a hand-written ``WITH RECURSIVE`` query returning the same: the downstream lots,
their doses counted by status, and the infused doses with their patients (beyond
``DOSE_NODE_LIMIT`` doses the trace lists only the doses given to a patient).
Both must find the same sets. Targets: trace p99 < 100 ms, and p50 no more than 3 x the query's.
``trace()`` pauses the cyclic garbage collector while it builds its graph, so the query is also
timed with the collector paused, and that ratio printed for information. ``GET /api/trace/{code}``
and the trace page are also timed over the application (in process, no target): their size
grows with the number of doses.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session, col, select

from mfg.auth.passwords import hash_password
from mfg.clinical.patients import arms_of, criteria_of, get_trial
from mfg.config import Settings
from mfg.db import make_engine, unit_of_work, upgrade_database
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.local import LocalId
from mfg.manufacturing.doses import COLLECTION_TYPE, dose_identifier
from mfg.manufacturing.rules import dose_expiry
from mfg.models import (
    AllocatedDin,
    Allocation,
    BedsideCheck,
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    DinSequence,
    Donor,
    DonorStatus,
    Dose,
    DoseOrder,
    DoseStatus,
    Harvest,
    Infusion,
    LocalSequence,
    Lot,
    LotPassage,
    LotStatus,
    MaterialLot,
    MaterialStatus,
    MaterialUse,
    OrderStatus,
    Passage,
    Patient,
    PoolMember,
    User,
    utcnow,
)
from mfg.trace.service import trace

TRACE_TARGET_MS = 100.0
RATIO_TARGET = 3.0
NOISE_DONORS = 100
VESSELS_PER_PASSAGE = 100  # a passaged vessel re-seeded into up to this many
NOISE_LOT_EVERY = 10  # one lot of noise donors only per this many of the donor's lots
INFUSED_EVERY = 10  # one dose of every this many lots is infused
CELLS_PER_DOSE = 100_000_000
PASSWORD = "benchmark-password-1"

# Every lot that the donor's primary cultures reach through any number of passages, its doses
# counted by status (from ``lot_dose_count``, which the database keeps, as the trace reads them),
# and the doses infused with their patients: what the trace shows beyond DOSE_NODE_LIMIT doses.
# Hand-written, as a DBA would: the benchmark's yardstick. CROSS JOIN makes SQLite start from the
# few infusions rather than walk every dose of the reached lots (PostgreSQL plans it as a join).
RECURSIVE_SQL = """
WITH RECURSIVE vessel(id) AS (
    SELECT c.id
    FROM donor AS d
    JOIN biopsy AS b ON b.donor_id = d.id
    JOIN culture AS c ON c.biopsy_id = b.id AND c.parent_id IS NULL
    WHERE d.code = :code
  UNION
    SELECT c.id FROM culture AS c JOIN vessel AS v ON c.parent_id = v.id
),
reached(id) AS (
    SELECT DISTINCT pm.lot_id FROM vessel JOIN pool_member AS pm ON pm.culture_id = vessel.id
)
SELECT lot.din, counted.status, counted.doses, NULL, NULL
FROM reached
JOIN lot ON lot.id = reached.id
JOIN lot_dose_count AS counted ON counted.lot_id = lot.id AND counted.doses > 0
UNION ALL
SELECT lot.din, NULL, NULL, dose.identifier, patient.code
FROM infusion CROSS JOIN dose CROSS JOIN lot CROSS JOIN patient
WHERE dose.id = infusion.dose_id AND lot.id = dose.lot_id AND patient.id = infusion.patient_id
  AND dose.lot_id IN (SELECT id FROM reached)
"""


@dataclass
class Seeded:
    donor_code: str
    qa_id: int
    lots: int
    doses: int
    infusions: int
    patients: int
    seconds: float


class Numbers:
    """DINs and local identifiers numbered as ``allocate_din``/``allocate_local`` would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.din_last: Counter[int] = Counter()
        self.local_last: Counter[str] = Counter()
        self.dins: list[dict] = []

    def din(self, kind: str, at: datetime) -> str:
        year = at.astimezone(self.settings.tz).year % 100
        self.din_last[year] += 1
        din = str(Din(self.settings.facility_fin, year, self.din_last[year]))
        self.dins.append({"din": din, "kind": kind, "allocated_at": at})
        return din

    def local(self, prefix: str) -> str:
        self.local_last[prefix] += 1
        return str(LocalId(prefix, self.local_last[prefix]))

    def write(self, session: Session) -> None:
        fin = self.settings.facility_fin
        session.execute(insert(AllocatedDin), self.dins)
        session.execute(
            insert(DinSequence),
            [{"fin": fin, "year": y, "last": n} for y, n in self.din_last.items()],
        )
        session.execute(
            insert(LocalSequence),
            [{"prefix": p, "last": n} for p, n in self.local_last.items()],
        )


def insert_ids(session: Session, model, rows: list[dict]) -> list[int]:
    """Bulk insert, returning the new ids in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows).all())


class Seeder:
    """Realistic, valid rows for one history, inserted table by table."""

    def __init__(self, session: Session, settings: Settings, *, start: datetime) -> None:
        self.s, self.settings, self.start = session, settings, start
        self.numbers = Numbers(settings)
        self.users = self._users()
        self.medium, self.lysate, self.trypsin = self._materials()

    def _users(self) -> dict[str, int]:
        rows = [
            ("bench-tech", "Benchmark Technician", "technician"),
            ("bench-qa", "Benchmark QA", "qa"),
            ("bench-clin", "Benchmark Clinician", "clinician"),
            ("bench-clin2", "Benchmark Second Clinician", "clinician"),
        ]
        hashed = hash_password(PASSWORD, profile="test")
        ids = insert_ids(
            self.s,
            User,
            [
                {"username": u, "full_name": n, "roles": r, "password_hash": hashed}
                for u, n, r in rows
            ],
        )
        return {u: i for (u, _, _), i in zip(rows, ids, strict=True)}

    @property
    def tech(self) -> int:
        return self.users["bench-tech"]

    def donors(self, n: int) -> list[int]:
        rows = [
            {
                "code": self.numbers.local("DN"),
                "sex": "FM"[i % 2],
                "birth_year": 1960 + i % 40,
                "status": DonorStatus.ELIGIBLE,
                "consent_date": (self.start - timedelta(days=2)).date(),
                "consent_recorded_by_id": self.tech,
                "screening_outcome": "passed",
                "screening_recorded_by_id": self.tech,
                "created_by_id": self.tech,
            }
            for i in range(n)
        ]
        return insert_ids(self.s, Donor, rows)

    def biopsies(self, donor_ids: list[int]) -> list[int]:
        at = self.start
        rows = [
            {
                "din": self.numbers.din("biopsy", at),
                "donor_id": d,
                "status": BiopsyStatus.POOLED,
                "collected_at": at,
                "site": "Olfactory mucosa, left",
                "collected_by": "Dr. ENT Surgeon",
                "registered_by_id": self.tech,
                "received_at": at + timedelta(hours=3),
                "receipt_entered_at": at + timedelta(hours=3),
                "received_by_id": self.tech,
                "transport_temperature_c": 4.0,
                "container_intact": True,
                "hours_in_transit": 3.0,
            }
            for d in donor_ids
        ]
        return insert_ids(self.s, Biopsy, rows)

    def cultures(self, parents: list[tuple[int, int | None]], *, generation: int) -> list[int]:
        """One vessel per (biopsy, parent vessel): primaries have no parent."""
        seeded = self.start + timedelta(days=1 + 7 * generation)
        rows = [
            {
                "code": self.numbers.local("CV"),
                "biopsy_id": biopsy_id,
                "parent_id": parent_id,
                "passage_number": generation,
                "vessel_type": "T75 flask" if generation else "T25 flask",
                "surface_cm2": 75.0 if generation else 25.0,
                "seeded_cells": 500_000 * generation or None,
                "explant": generation == 0,
                "seeded_at": seeded,
                "status": CultureStatus.IN_PROCESS,
                "created_by_id": self.tech,
            }
            for biopsy_id, parent_id in parents
        ]
        ids = insert_ids(self.s, Culture, rows)
        if generation == 0:
            self.use([self.medium, self.lysate], "culture", [(i, seeded) for i in ids])
        return ids

    def passage(self, children: dict[int, int], *, generation: int) -> None:
        """Each parent vessel passaged into ``children[parent]`` new vessels."""
        started = self.start + timedelta(days=1 + 7 * generation)
        rows = [
            {
                "culture_id": parent,
                "started_at": started + timedelta(days=6),
                "ended_at": started + timedelta(days=6, hours=2),
                "harvested_cells": 2_000_000 * n,
                "viability_pct": 94.0,
                "reseeded_cells": 500_000 * n,
                "new_vessels": n,
                "split_ratio": f"1:{n}",
                "performed_by_id": self.tech,
            }
            for parent, n in children.items()
        ]
        passage_ids = insert_ids(self.s, Passage, rows)
        self.use(
            [self.trypsin, self.medium],
            "passage",
            [(p, started + timedelta(days=6)) for p in passage_ids],
        )

    def lots(self, n: int, *, first: datetime, every: timedelta) -> list[tuple[int, str, datetime]]:
        rows = []
        for i in range(n):
            pooled = first + i * every
            rows.append(
                {
                    "din": self.numbers.din("lot", pooled),
                    "status": LotStatus.RELEASED,
                    "spec_version": 1,
                    "pooled_at": pooled,
                    "total_cells": 2 * 5_000_000,
                    "passage_number": 2,
                    "seeded_cells": 80_000_000,
                    "seeded_at": pooled + timedelta(days=10),
                    "created_by_id": self.tech,
                }
            )
        ids = insert_ids(self.s, Lot, rows)
        return [(i, r["din"], r["pooled_at"]) for i, r in zip(ids, rows, strict=True)]

    def pool(self, lot_id: int, vessels: list[tuple[int, int, int]], rows: list[dict]) -> None:
        for culture_id, biopsy_id, donor_id in vessels:
            rows.append(
                {
                    "lot_id": lot_id,
                    "culture_id": culture_id,
                    "biopsy_id": biopsy_id,
                    "donor_id": donor_id,
                    "cells_contributed": 5_000_000,
                }
            )

    def use(self, materials: list[int], step_type: str, steps: list[tuple[int, datetime]]) -> None:
        """The material lots each step (id, when) used."""
        rows = [
            {
                "material_id": m,
                "step_type": step_type,
                "step_id": step,
                "used_at": at,
                "used_by_id": self.tech,
            }
            for step, at in steps
            for m in materials
        ]
        self.s.execute(insert(MaterialUse), rows)

    def harvest_and_fill(
        self, lots: list[tuple[int, str, datetime]], doses_per_lot: int
    ) -> list[tuple[int, int, datetime]]:
        """A passage of each lot at day 10, its harvest at day 20, doses filled from it; returns
        the first dose (id, lot id, filled at) of each lot."""
        tz, passages, harvests, doses = self.settings.tz, [], [], []
        for lot_id, _, pooled in lots:
            passages.append(
                {
                    "lot_id": lot_id,
                    "passage_number": 1,
                    "started_at": pooled + timedelta(days=10),
                    "ended_at": pooled + timedelta(days=10, hours=2),
                    "seeded_cells": 10_000_000,
                    "harvested_cells": 80_000_000,
                    "viability_pct": 95.0,
                    "reseeded_cells": 80_000_000,
                    "vessels": 4,
                    "vessel_type": "CellSTACK 5",
                    "performed_by_id": self.tech,
                }
            )
            harvests.append(
                {
                    "lot_id": lot_id,
                    "started_at": pooled + timedelta(days=20),
                    "ended_at": pooled + timedelta(days=20, hours=3),
                    "passage_number": 2,
                    "harvested_cells": doses_per_lot * CELLS_PER_DOSE,
                    "viability_pct": 93.0,
                    "final_volume_ml": 10.0 * doses_per_lot,
                    "concentration_per_ml": CELLS_PER_DOSE / 10.0,
                    "performed_by_id": self.tech,
                }
            )
        passage_ids = insert_ids(self.s, LotPassage, passages)
        self.use(
            [self.medium, self.lysate],
            "lot_passage",
            [(p, r["started_at"]) for p, r in zip(passage_ids, passages, strict=True)],
        )
        harvest_ids = insert_ids(self.s, Harvest, harvests)
        self.use(
            [self.trypsin],
            "harvest",
            [(h, r["started_at"]) for h, r in zip(harvest_ids, harvests, strict=True)],
        )
        for lot_id, din, pooled in lots:
            filled = pooled + timedelta(days=21)
            expires = dose_expiry(filled, shelf_life_days=self.settings.dose_shelf_life_days, tz=tz)
            for index in range(doses_per_lot):
                code = ProductCode(
                    self.settings.product_code, COLLECTION_TYPE, ProductCode.division_code(index)
                )
                doses.append(
                    {
                        "identifier": dose_identifier(din, code),
                        "lot_id": lot_id,
                        "product_code": str(code),
                        "division": code.division,
                        "cells": CELLS_PER_DOSE,
                        "volume_ml": 10.0,
                        "container": "CryoMACS 250",
                        "filled_at": filled,
                        "expires_at": expires,
                        "status": DoseStatus.AVAILABLE,
                        "created_by_id": self.tech,
                    }
                )
        dose_ids = insert_ids(self.s, Dose, doses)
        return [
            (dose_ids[k * doses_per_lot], lot_id, pooled + timedelta(days=21))
            for k, (lot_id, _, pooled) in enumerate(lots)
        ]

    def _materials(self) -> list[int]:
        names = [
            ("Culture medium DMEM/F12", "Gibco"),
            ("Human platelet lysate", "Stemulate"),
            ("TrypLE Select", "Gibco"),
        ]
        rows = [
            {
                "code": self.numbers.local("ML"),
                "name": name,
                "supplier": supplier,
                "catalogue_number": f"CAT-{i + 1:04d}",
                "lot_number": f"L{2400 + i}",
                "expiry": (self.start + timedelta(days=900)).date(),
                "status": MaterialStatus.RELEASED,
                "received_at": self.start - timedelta(days=30),
                "registered_by_id": self.tech,
                "decided_by_id": self.users["bench-qa"],
                "decided_at": self.start - timedelta(days=29),
            }
            for i, (name, supplier) in enumerate(names)
        ]
        return insert_ids(self.s, MaterialLot, rows)

    def infuse(self, doses: list[tuple[int, int, datetime]]) -> tuple[int, int]:
        """Trial patients of the treated arm, two of the doses each: order, allocation, issue,
        bedside check and infusion; the doses end infused. Returns (patients, infusions)."""
        trial = get_trial(self.s)
        arm = next(a for a in arms_of(self.s, trial) if a.code == "MSC")
        criteria = [[kind, text, kind == "I"] for kind, text in criteria_of(trial)]
        clinician, second = self.users["bench-clin"], self.users["bench-clin2"]
        pairs = [doses[i : i + 2] for i in range(0, len(doses), 2)]
        enrolled = [min(d[2] for d in pair) - timedelta(days=1) for pair in pairs]
        codes = [self.numbers.local("PT") for _ in pairs]
        patient_ids = insert_ids(
            self.s,
            Patient,
            [
                {
                    "code": code,
                    "trial_id": trial.id,
                    "arm_id": arm.id,
                    "sex": "MF"[i % 2],
                    "age": 30 + i % 40,
                    "weight_kg": 70.0,
                    "weight_entered_by_id": clinician,
                    "weight_verified_by_id": second,
                    "weight_verified_at": at,
                    "eligibility": json.dumps(criteria),
                    "enrolled_on": at.date(),
                    "arm_assigned_by_id": clinician,
                    "created_at": at,
                }
                for i, (code, at) in enumerate(zip(codes, enrolled, strict=True))
            ],
        )
        order_ids = insert_ids(
            self.s,
            DoseOrder,
            [
                {
                    "patient_id": p,
                    "cells_per_kg": trial.cells_per_kg,
                    "infusions": len(pair),
                    "weight_kg": 70.0,
                    "cells_per_infusion": int(70 * trial.cells_per_kg),
                    "status": OrderStatus.COMPLETED,
                    "ordered_by_id": clinician,
                    "ordered_at": at,
                }
                for p, pair, at in zip(patient_ids, pairs, enrolled, strict=True)
            ],
        )
        given = [
            (patient, code, order, dose_id, self._infused_at(filled))
            for patient, code, order, pair in zip(patient_ids, codes, order_ids, pairs, strict=True)
            for dose_id, _, filled in pair
        ]
        self._allocate_and_infuse(given)
        return len(patient_ids), len(given)

    def _infused_at(self, filled: datetime) -> datetime:
        return min(filled + timedelta(days=7), utcnow() - timedelta(hours=1))

    def _allocate_and_infuse(self, given: list[tuple[int, str, int, int, datetime]]) -> None:
        tech, clinician = self.tech, self.users["bench-clin"]
        self.s.execute(
            insert(Allocation),
            [
                {
                    "dose_id": dose,
                    "order_id": order,
                    "patient_id": patient,
                    "allocated_by_id": tech,
                    "allocated_at": at - timedelta(hours=4),
                    "issued_by_id": tech,
                    "received_by_id": clinician,
                    "issued_at": at - timedelta(hours=2),
                    "transport_temp_c": -150.0,
                }
                for patient, _, order, dose, at in given
            ],
        )
        ok = json.dumps([["patient", True, ""], ["dose", True, ""], ["expiry", True, ""]])
        check_ids = insert_ids(
            self.s,
            BedsideCheck,
            [
                {
                    "wristband_scan": code,
                    "dose_scan": str(dose),
                    "patient_id": patient,
                    "dose_id": dose,
                    "passed": True,
                    "results": ok,
                    "checked_by_id": clinician,
                    "checked_at": at - timedelta(minutes=10),
                }
                for patient, code, _, dose, at in given
            ],
        )
        vitals = json.dumps({m: {"heart_rate": "80", "spo2": "96"} for m in ("before", "after")})
        self.s.execute(
            insert(Infusion),
            [
                {
                    "dose_id": dose,
                    "patient_id": patient,
                    "bedside_check_id": check,
                    "started_at": at,
                    "stopped_at": at + timedelta(minutes=20),
                    "volume_ml": 10.0,
                    "complete": True,
                    "bag_inspected": True,
                    "vitals": vitals,
                    "recorded_by_id": clinician,
                    "recorded_at": at + timedelta(minutes=25),
                }
                for (patient, _, _, dose, at), check in zip(given, check_ids, strict=True)
            ],
        )
        self.s.execute(  # ORM bulk UPDATE by primary key
            update(Dose),
            [
                {
                    "id": dose,
                    "status": DoseStatus.INFUSED,
                    "thawed_at": at - timedelta(minutes=30),
                    "thawed_by_id": clinician,
                }
                for _, _, _, dose, at in given
            ],
        )


def vessel_tree(biopsies: int, vessels: int) -> list[int]:
    """Children per parent vessel at each passage: as many passages as needed with at most
    VESSELS_PER_PASSAGE children each, the same fan-out at each, ``vessels`` in the end."""
    per_primary = vessels / biopsies
    generations = 1
    while VESSELS_PER_PASSAGE**generations < per_primary:
        generations += 1
    fan_out = 1
    while fan_out**generations < per_primary:
        fan_out += 1
    return [fan_out] * generations


def grow(seeder: Seeder, biopsy_ids: list[int], vessels: int) -> list[tuple[int, int]]:
    """Primary cultures of the biopsies, passaged into ``vessels`` vessels: (culture, biopsy)."""
    frontier = list(
        zip(seeder.cultures([(b, None) for b in biopsy_ids], generation=0), biopsy_ids, strict=True)
    )
    fan_outs = vessel_tree(len(biopsy_ids), vessels)
    for generation, fan_out in enumerate(fan_outs, start=1):
        wanted = vessels if generation == len(fan_outs) else len(frontier) * fan_out
        share, extra = divmod(wanted, len(frontier))
        children = {c: share + (i < extra) for i, (c, _) in enumerate(frontier)}
        children = {c: n for c, n in children.items() if n}
        seeder.passage(children, generation=generation)
        parents = [(b, c) for c, b in frontier for _ in range(children.get(c, 0))]
        ids = seeder.cultures(parents, generation=generation)
        frontier = [(c, b) for c, (b, _) in zip(ids, parents, strict=True)]
    return frontier


def seed(engine: Engine, settings: Settings, *, lots: int, doses_per_lot: int) -> Seeded:
    """The donor's history and the noise around it (see the module docstring)."""
    began = time.perf_counter()
    upgrade_database(engine)
    now = utcnow()
    noise_lots = max(1, lots // NOISE_LOT_EVERY)
    total = lots + noise_lots
    noise_at = {(k + 1) * total // noise_lots - 1 for k in range(noise_lots)}
    first, every = now - timedelta(days=161), timedelta(days=140) / total
    with unit_of_work(engine, settings=settings) as session:
        seeder = Seeder(session, settings, start=first - timedelta(days=30))
        donor_ids = seeder.donors(1 + NOISE_DONORS)
        biopsy_donors = [donor_ids[0], donor_ids[0], *donor_ids[1:]]
        donor_of = dict(zip(seeder.biopsies(biopsy_donors), biopsy_donors, strict=True))
        biopsies = list(donor_of)
        mine = iter(grow(seeder, biopsies[:2], lots))
        others = iter(grow(seeder, biopsies[2:], lots + 2 * noise_lots))
        lot_rows = seeder.lots(total, first=first, every=every)
        members: list[dict] = []
        for i, (lot_id, _, _) in enumerate(lot_rows):
            vessels = [next(others), next(others)] if i in noise_at else [next(mine), next(others)]
            seeder.pool(lot_id, [(c, b, donor_of[b]) for c, b in vessels], members)
        session.execute(insert(PoolMember), members)
        for status, steps in (
            (CultureStatus.PASSAGED, select(Passage.culture_id)),
            (CultureStatus.POOLED, select(PoolMember.culture_id)),
        ):
            session.execute(update(Culture).where(col(Culture.id).in_(steps)).values(status=status))
        first_doses = seeder.harvest_and_fill(lot_rows, doses_per_lot)
        mine_first = [d for i, d in enumerate(first_doses) if i not in noise_at]
        noise_first = [d for i, d in enumerate(first_doses) if i in noise_at]
        patients, infusions = seeder.infuse(mine_first[::INFUSED_EVERY])
        seeder.infuse(noise_first[::INFUSED_EVERY])
        seeder.numbers.write(session)
        donor_code = session.get(Donor, donor_ids[0]).code
        qa_id = seeder.users["bench-qa"]
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":  # what autovacuum would have done by now
            connection.exec_driver_sql("ANALYZE")
        else:  # the seed's 48 MB of write-ahead log copied into the database, as a database in
            # service is kept by SQLite's automatic checkpoints; else every read of a page
            # looks it up in the log first
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seeded(
        donor_code,
        qa_id,
        lots,
        lots * doses_per_lot,
        infusions,
        patients,
        time.perf_counter() - began,
    )


@dataclass
class Found:
    lots: set[str]
    counts: dict[tuple[str, str], int]  # (lot DIN, dose status) -> doses
    doses: set[str]  # those listed one by one: the infused ones
    patients: set[str]


def product_trace(
    engine: Engine, settings: Settings, seeded: Seeded
) -> Callable[[], tuple[float, Found]]:
    """The service the API calls, in a read-only unit of work as a GET request opens."""

    def run() -> tuple[float, Found]:
        with unit_of_work(engine, settings=settings, write=False) as session:
            actor = session.get(User, seeded.qa_id)
            start = time.perf_counter()
            result = trace(session, actor=actor, kind="donor", identifier=seeded.donor_code)
            elapsed = time.perf_counter() - start
        assert result.doses_summarised
        counts = {
            (din, status): n
            for din, by_status in result.dose_counts.items()
            for status, n in by_status.items()
        }
        kinds = ("lot", "dose", "patient")
        lots, doses, patients = ({n.identifier for n in result.of_kind(k)} for k in kinds)
        return elapsed, Found(lots, counts, doses, patients)

    return run


def recursive_sql(engine: Engine, seeded: Seeded) -> Callable[[], tuple[float, Found]]:
    def run() -> tuple[float, Found]:
        with engine.connect() as connection:
            start = time.perf_counter()
            rows = connection.execute(text(RECURSIVE_SQL), {"code": seeded.donor_code}).all()
            elapsed = time.perf_counter() - start
        counts = {(din, status): n for din, status, n, _, _ in rows if status is not None}
        infused = [(dose, patient) for _, status, _, dose, patient in rows if status is None]
        lots = {din for din, _ in counts}
        return elapsed, Found(lots, counts, {d for d, _ in infused}, {p for _, p in infused})

    return run


Run = Callable[[], tuple[float, Found]]


def timed(runs: dict[str, Run], repeat: int) -> dict[str, tuple[list[float], Found]]:
    """Milliseconds of ``repeat`` runs of each, after two warm-up rounds, and what each found.
    The runs alternate, so that a change in the machine's load weighs on all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    found: dict[str, Found] = {}
    for round_ in range(repeat + 2):
        for name, run in runs.items():
            elapsed, found[name] = run()
            if round_ >= 2:
                samples[name].append(elapsed * 1000)
    return {name: (samples[name], found[name]) for name in runs}


def collector_paused(run: Run) -> Run:
    """``run`` with the cyclic garbage collector paused, as ``trace()`` pauses it."""

    def paused() -> tuple[float, Found]:
        gc.disable()
        try:
            return run()
        finally:
            gc.enable()

    return paused


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[round(q * 100) - 1]


def figures(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):8.1f} ms, p99 {percentile(samples, 0.99):8.1f} ms, "
        f"max {max(samples):8.1f} ms"
    )


def bench_http(engine: Engine, settings: Settings, seeded: Seeded) -> Iterator[str]:
    """``GET /api/trace/{code}`` and the trace page through the application, in process: one
    warm-up, then the best of three, with the size of the response."""
    from fastapi.testclient import TestClient

    from mfg.main import create_app
    from tests.factories import log_in

    with TestClient(create_app(settings, engine=engine)) as client:
        login = {"username": "bench-qa", "password": PASSWORD}
        token = client.post("/api/auth/token", json=login).json()["access_token"]
        api = (f"/api/trace/{seeded.donor_code}", {"Authorization": f"Bearer {token}"})
        for name, (path, headers) in (("GET /api/trace/{code}", api),):
            yield _timed_get(client, name, path, headers)
        log_in(client, "bench-qa", PASSWORD)
        yield _timed_get(client, "GET /trace/{code} (page)", f"/trace/{seeded.donor_code}", {})


def _timed_get(client, name: str, path: str, headers: dict) -> str:
    samples, size = [], 0
    for i in range(4):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.text[:500]
        size = len(response.content)
        if i:
            samples.append(elapsed)
    return f"{name:32}: best {min(samples):8.1f} ms, {size / 1e6:.1f} MB (no target)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=10_000)
    parser.add_argument("--doses-per-lot", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--database-url", help="an empty database to use instead of a new SQLite file"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the API and page timings")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mfg-bench-"))
    settings = Settings(
        database_url=args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        data_dir=workdir,
        secret_key="benchmark-secret-key-0123456789-abcdef",
        password_hashing="test",
    )
    engine = make_engine(settings.effective_database_url)
    try:
        seeded = seed(engine, settings, lots=args.lots, doses_per_lot=args.doses_per_lot)
        ok = report(engine, settings, seeded, args)
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def report(engine: Engine, settings: Settings, seeded: Seeded, args: argparse.Namespace) -> bool:
    print(
        f"database                        : {engine.dialect.name}, seeded in {seeded.seconds:.1f} s"
    )
    print(
        f"donor {seeded.donor_code}              : {seeded.lots:,} lots, {seeded.doses:,} doses, "
        f"{seeded.infusions:,} infused into {seeded.patients:,} patients "
        f"(+ {NOISE_DONORS} other donors, {max(1, seeded.lots // NOISE_LOT_EVERY):,} lots of "
        "their own)"
    )
    results = timed(
        {
            "trace": product_trace(engine, settings, seeded),
            "sql": recursive_sql(engine, seeded),
            "sql paused": collector_paused(recursive_sql(engine, seeded)),
        },
        args.repeat,
    )
    (product, found), (sql, expected), (sql_paused, _) = results.values()
    assert found == expected, "the trace and the recursive query disagree"
    assert (len(found.lots), sum(found.counts.values())) == (seeded.lots, seeded.doses)
    assert (len(found.doses), len(found.patients)) == (seeded.infusions, seeded.patients)
    print(f"trace(), the API's service      : {figures(product)} ({args.repeat} runs)")
    print(f"hand-written WITH RECURSIVE     : {figures(sql)} ({args.repeat} runs)")
    print(f"  the same, collector paused    : {figures(sql_paused)} (information)")
    print(
        f"both found                      : {len(found.lots):,} lots, "
        f"{sum(found.counts.values()):,} doses counted by lot and status, {len(found.doses):,} "
        f"infused doses listed, {len(found.patients):,} patients"
    )
    ratio = statistics.median(product) / statistics.median(sql)
    paused = statistics.median(product) / statistics.median(sql_paused)
    p99 = percentile(product, 0.99)
    fast, close = p99 < TRACE_TARGET_MS, ratio <= RATIO_TARGET
    print(
        f"trace p99                       : {p99:.1f} ms (target < {TRACE_TARGET_MS:.0f} ms) "
        f"{'PASS' if fast else 'MISS'}"
    )
    print(
        f"p50 ratio trace / SQL           : {ratio:.2f} (target <= {RATIO_TARGET:.0f}) "
        f"{'PASS' if close else 'MISS'}"
    )
    print(f"  with the collector paused too : {paused:.2f} (information)")
    if not args.no_http:
        for line in bench_http(engine, settings, seeded):
            print(line)
    print("RESULT:", "targets met" if fast and close else "TARGET MISSED")
    return fast and close


if __name__ == "__main__":
    sys.exit(main())
