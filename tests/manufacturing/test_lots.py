"""Lot expansion, harvest and formulation, with the passage and cumulative-PD limits."""

import math
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mfg.errors import Conflict, RuleViolation
from mfg.manufacturing import lots, pools
from mfg.manufacturing.rules import harvest_limit_problems, pooled_growth
from mfg.manufacturing.schemas import LotPassageIn
from mfg.models import AuditEvent, Culture, Harvest, Lot, LotPassage, LotStatus, User, utcnow
from tests.factories import PASSWORD, add_user
from tests.manufacturing.factories import harvest, lot_passage, pooled_lot
from tests.races import race


def test_pooled_lot_grows_at_the_next_passage_from_its_oldest_member() -> None:
    young = Culture(passage_number=0, seeded_cells=500_000, cumulative_pd=None)
    old = Culture(passage_number=2, seeded_cells=1_000_000, cumulative_pd=5.0)
    passage, cpd = pooled_growth([(young, 2_000_000), (old, 4_000_000)])
    assert passage == 3
    assert cpd == pytest.approx(7.0)  # 5 + log2(4e6 / 1e6); the young member is at 2.0


def test_lot_passage_moves_the_lot_on_with_its_population_doublings(lab, engine) -> None:
    lot = pooled_lot(lab)
    assert lot.passage_number == 1 and lot.cumulative_pd == pytest.approx(2.0)
    record = lot_passage(lab, lot, harvested=32_000_000, reseeded=8_000_000, hours_ago=100)
    assert record.population_doublings == pytest.approx(math.log2(32e6 / 4e6))  # 3.0
    assert record.cumulative_pd == pytest.approx(5.0)
    # Seeded 240 h ago, harvested 100 h ago: 140 h for 3 doublings.
    assert record.doubling_time_h == pytest.approx(140 / 3, rel=1e-3)
    with Session(engine) as session:
        moved = session.get(Lot, lot.id)
        assert (moved.passage_number, moved.seeded_cells) == (2, 8_000_000)
        assert moved.cumulative_pd == pytest.approx(5.0)
        assert session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "lot.passaged", AuditEvent.entity_id == lot.din
            )
        ).one()


def test_lot_passage_below_viability_specification_needs_a_deviation(lab) -> None:
    lot = pooled_lot(lab)
    with pytest.raises(RuleViolation, match="deviation note is required"):
        lot_passage(lab, lot, harvested=8_000_000, reseeded=4_000_000, viability=61)
    record = lot_passage(
        lab,
        lot,
        harvested=8_000_000,
        reseeded=4_000_000,
        viability=61,
        deviation_note="DEV-2026-014: count repeated, low viability confirmed",
    )
    assert record.viability_below_spec


def test_harvest_records_concentration_and_moves_the_lot_to_harvested(lab, engine) -> None:
    lot = pooled_lot(lab)
    record = harvest(lab, lot, cells=400_000_000, volume_ml=100)
    assert record.concentration_per_ml == pytest.approx(4_000_000)
    assert record.population_doublings == pytest.approx(math.log2(400e6 / 4e6))
    with Session(engine) as session:
        assert session.get(Lot, lot.id).status == LotStatus.HARVESTED
    with pytest.raises(RuleViolation, match="in process"):
        harvest(lab, lot)


def test_harvest_refused_beyond_the_passage_limit(lab, settings) -> None:
    settings.max_harvest_passage = 2
    lot = pooled_lot(lab)  # growing at passage 1
    lot_passage(lab, lot, harvested=16_000_000, reseeded=4_000_000, hours_ago=150)
    lot_passage(lab, lot, harvested=16_000_000, reseeded=4_000_000, hours_ago=50)
    with pytest.raises(RuleViolation, match="no clinical harvest beyond passage 2"):
        harvest(lab, lot, cells=16_000_000)


def test_harvest_refused_beyond_the_cumulative_pd_limit(lab, settings) -> None:
    settings.max_cumulative_pd = 8
    lot = pooled_lot(lab)  # cumulative PD 2 at pooling
    # log2(4e9 / 4e6) ≈ 9.97 more doublings in the final growth.
    with pytest.raises(RuleViolation, match="exceed the limit of 8"):
        harvest(lab, lot, cells=4_000_000_000)


def test_harvest_limit_rules_name_each_limit() -> None:
    assert (
        harvest_limit_problems(
            passage_number=5, cumulative=20.0, max_passage=5, max_cumulative_pd=30
        )
        == []
    )
    both = harvest_limit_problems(
        passage_number=6, cumulative=31.5, max_passage=5, max_cumulative_pd=30
    )
    assert len(both) == 2 and "passage 6" in both[0].message and "31.50" in both[1].message
    assert {b.code for b in both} == {"limit_exceeded"}
    assert [b.conflict for b in both] == [True, False]  # the lot's passage; the counted cells


def test_two_technicians_recording_the_same_lot_passage_cannot_both_win(
    lab, engine, settings
) -> None:
    lot = pooled_lot(lab)
    second = add_user(engine, settings, "technician-2", "technician")

    def work(session: Session, actor: User) -> None:
        lots.record_lot_passage(
            session,
            actor=actor,
            lot=pools.get_lot(session, lot.din),
            command=LotPassageIn(
                passage_number=1,
                started_at=utcnow() - timedelta(hours=1),
                ended_at=utcnow(),
                harvested_cells=10_000_000,
                viability_pct=90,
                reseeded_cells=5_000_000,
                vessels=2,
                vessel_type="T175",
                password=PASSWORD,
            ),
        )

    outcomes = race(engine, settings, (lab.users["technician"], second), work)
    assert outcomes.count("ok") == 1, outcomes
    assert any(isinstance(o, Conflict) for o in outcomes), outcomes
    with Session(engine) as session:
        assert len(session.exec(select(LotPassage).where(LotPassage.lot_id == lot.id)).all()) == 1
        assert session.get(Lot, lot.id).passage_number == 2
        assert session.exec(select(Harvest)).first() is None
