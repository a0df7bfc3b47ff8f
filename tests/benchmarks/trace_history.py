"""The history ``bench_trace`` times the trace over, written with SQLAlchemy core bulk inserts:
one donor whose two biopsies were grown into ``lots`` culture vessels, each pooled with a vessel
of another donor into its own lot of ``doses_per_lot`` doses, one dose of every tenth lot infused
into a trial patient; plus a hundred unrelated donors whose vessels also fill a tenth as many
lots of their own, as noise. Numbered, dated and linked as the services would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, insert, update
from sqlmodel import col, select

from mfg.config import Settings
from mfg.db import unit_of_work, upgrade_database
from mfg.models import (
    Culture,
    CultureStatus,
    Donor,
    Passage,
    PoolMember,
    utcnow,
)
from tests.benchmarks.trace_infusions import infuse
from tests.benchmarks.trace_seeder import Seeder

NOISE_DONORS = 100
VESSELS_PER_PASSAGE = 100  # a passaged vessel re-seeded into up to this many
NOISE_LOT_EVERY = 10  # one lot of noise donors only per this many of the donor's lots
INFUSED_EVERY = 10  # one dose of every this many lots is infused


@dataclass
class Seeded:
    donor_code: str
    other_code: str  # a donor of the noise, whose cells reach about a hundred lots
    qa_id: int
    lots: int
    doses: int
    infusions: int
    patients: int
    seconds: float


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
        patients, infusions = infuse(seeder, mine_first[::INFUSED_EVERY])
        infuse(seeder, noise_first[::INFUSED_EVERY])
        seeder.numbers.write(session)
        donor_code, other_code = (session.get(Donor, i).code for i in donor_ids[:2])
        qa_id = seeder.users["bench-qa"]
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            # What autovacuum would have done by now. The seed marks every culture vessel
            # passaged or pooled once it exists, leaving as many dead row versions as live ones;
            # analysed only, the timed reads walked them, until autovacuum woke up midway.
            connection.exec_driver_sql("VACUUM ANALYZE")
        else:  # the seed's 48 MB of write-ahead log copied into the database, as a database in
            # service is kept by SQLite's automatic checkpoints; else every read of a page
            # looks it up in the log first
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seeded(
        donor_code,
        other_code,
        qa_id,
        lots,
        lots * doses_per_lot,
        infusions,
        patients,
        time.perf_counter() - began,
    )
