"""Bulk inserts of a manufacturing history for ``bench_trace``: users, donors, biopsies, culture
vessels and their passages, lots pooled from them, harvests, fills and the material lots used,
numbered as the services would number them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from mfg.auth.passwords import hash_password
from mfg.config import Settings
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.local import LocalId
from mfg.manufacturing.doses import COLLECTION_TYPE, dose_identifier
from mfg.manufacturing.rules import dose_expiry
from mfg.models import (
    AllocatedDin,
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    DinSequence,
    Donor,
    DonorStatus,
    Dose,
    DoseStatus,
    Harvest,
    LocalSequence,
    Lot,
    LotPassage,
    LotStatus,
    MaterialLot,
    MaterialStatus,
    MaterialUse,
    Passage,
    User,
)

CELLS_PER_DOSE = 100_000_000
PASSWORD = "benchmark-password-1"


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
