"""Cultures and passages: guards at the start, growth figures, signed steps
(docs/process.md#population-doublings)."""

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.errors import RuleViolation, SignatureRefused
from mfg.manufacturing import cultures, materials
from mfg.manufacturing.rules import cumulative_pd, doubling_time_hours, population_doublings
from mfg.manufacturing.schemas import CultureStart, MaterialCreate, MaterialDecision, PassageIn
from mfg.models import Biopsy, BiopsyStatus, CultureStatus, Signature, utcnow
from tests.donors.factories import Lab
from tests.factories import PASSWORD

# Biopsies collected (and received 6 hours later) days before their cells are seeded here.
COLLECTED = utcnow() - timedelta(days=6)


def test_pd_and_doubling_time_match_hand_computed_examples() -> None:
    # 0.5 million seeded, 4 million harvested after 96 h: 3 doublings, 32 h each
    assert population_doublings(4_000_000, 500_000) == pytest.approx(3.0)
    assert doubling_time_hours(96, 4_000_000, 500_000) == pytest.approx(32.0)
    # 1.0e6 → 2.5e6 in 60 h: PD = log2(2.5) = 1.3219; Td = 60 × ln2 / ln2.5 = 45.39 h
    assert population_doublings(2_500_000, 1_000_000) == pytest.approx(1.321928, abs=1e-6)
    assert doubling_time_hours(60, 2_500_000, 1_000_000) == pytest.approx(45.388, abs=1e-3)
    assert cumulative_pd(3.0, 1.5) == 4.5 and cumulative_pd(None, 2.0) == 2.0


def test_growth_is_unknown_for_an_explant_and_without_growth() -> None:
    assert population_doublings(1_000_000, None) is None
    assert doubling_time_hours(48, 900_000, 1_000_000) is None
    assert cumulative_pd(2.0, None) == 2.0


@given(st.integers(1, 10**9), st.integers(1, 10**9))
def test_pd_is_the_base_two_logarithm_of_the_expansion(harvested: int, seeded: int) -> None:
    assert 2 ** population_doublings(harvested, seeded) == pytest.approx(
        harvested / seeded, rel=1e-9
    )


@given(st.floats(1, 1000), st.integers(2, 10**8))
def test_doubling_time_times_pd_is_the_culture_time(hours: float, seeded: int) -> None:
    harvested = seeded * 3
    pd = population_doublings(harvested, seeded)
    assert doubling_time_hours(hours, harvested, seeded) * pd == pytest.approx(hours, rel=1e-9)
    assert math.isfinite(pd)


@pytest.fixture
def lab(engine, settings, users):
    lab = Lab(engine, settings, users)

    def lot(name, release=True, expiry=date(2031, 1, 1)):
        lot = lab.run(
            "technician",
            lambda s, a: materials.register_material(
                s,
                actor=a,
                command=MaterialCreate(
                    name=name, supplier="S", catalogue_number=name, lot_number=name, expiry=expiry
                ),
            ),
        )
        if release:
            lab.run(
                "qa",
                lambda s, a: materials.decide_material(
                    s,
                    actor=a,
                    lot=materials.get_material(s, lot.code),
                    command=MaterialDecision(release=True, password=PASSWORD),
                ),
            )
        return lot

    lab.lot = lot
    return lab


def start(lab, biopsy, lots, seeded=500_000, hours_ago=100):
    return lab.run(
        "technician",
        lambda s, a: cultures.start_primary_culture(
            s,
            actor=a,
            command=CultureStart(
                biopsy=biopsy.din,
                vessel_type="T75 flask",
                surface_cm2=75,
                seeded_at=utcnow() - timedelta(hours=hours_ago),
                seeded_cells=seeded,
                password=PASSWORD,
                medium_lots=[lot.code for lot in lots],
            ),
        ),
    )


def passage(
    lab,
    culture,
    lots,
    *,
    viability=92.0,
    note="",
    harvested=4_000_000,
    reseeded=3_000_000,
    password=PASSWORD,
    hours_ago=(2.0, 1.0),
):
    """A passage that started and ended ``hours_ago``."""
    return lab.run(
        "technician",
        lambda s, a: cultures.record_passage(
            s,
            actor=a,
            culture=cultures.get_culture(s, culture.code),
            command=PassageIn(
                started_at=utcnow() - timedelta(hours=hours_ago[0]),
                ended_at=utcnow() - timedelta(hours=hours_ago[1]),
                harvested_cells=harvested,
                viability_pct=viability,
                reseeded_cells=reseeded,
                new_vessels=3,
                vessel_type="T175 flask",
                surface_cm2=175,
                reagent_lots=[lot.code for lot in lots],
                password=password,
                deviation_note=note,
            ),
        ),
    )


def test_a_primary_culture_starts_from_a_received_biopsy_of_an_eligible_donor(lab, engine) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    culture = start(lab, biopsy, [lab.lot("medium")])
    assert culture.code.startswith("CV") and culture.passage_number == 0
    with Session(engine) as session:
        assert session.get(Biopsy, biopsy.id).status == BiopsyStatus.IN_CULTURE
        signature = session.exec(select(Signature).where(Signature.entity_type == "culture")).one()
    assert signature.meaning == "Performed"


def test_a_quarantined_biopsy_cannot_start_a_culture(lab) -> None:
    donor = lab.donor()
    biopsy = lab.receive(lab.biopsy(donor))
    with pytest.raises(RuleViolation, match="quarantine"):
        start(lab, biopsy, [lab.lot("medium")])


def test_a_culture_cannot_use_an_unreleased_medium(lab) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    with pytest.raises(RuleViolation, match="quarantined"):
        start(lab, biopsy, [lab.lot("medium", release=False)])


def test_a_passage_computes_pd_and_seeds_labelled_vessels(lab, engine) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    culture = start(lab, biopsy, [lab.lot("medium")])
    record, children = passage(lab, culture, [lab.lot("trypsin")])
    assert record.population_doublings == pytest.approx(3.0)
    assert record.cumulative_pd == pytest.approx(3.0)
    assert record.doubling_time_h == pytest.approx(99 / 3, rel=0.02)
    assert len(children) == 3 and {c.passage_number for c in children} == {1}
    assert all(
        c.seeded_cells == 1_000_000 and c.cumulative_pd == pytest.approx(3.0) for c in children
    )
    second, _ = passage(  # the new vessel, seeded as the first passage ended an hour ago
        lab,
        children[0],
        [lab.lot("trypsin2")],
        harvested=2_000_000,
        reseeded=1_500_000,
        hours_ago=(0.5, 0.1),
    )
    assert second.cumulative_pd == pytest.approx(4.0)


def test_low_in_process_viability_is_flagged_and_needs_a_deviation_note(lab) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    culture = start(lab, biopsy, [lab.lot("medium")])
    with pytest.raises(RuleViolation, match="below the in-process specification"):
        passage(lab, culture, [lab.lot("trypsin")], viability=64.0)
    record, _ = passage(
        lab, culture, [lab.lot("trypsin2")], viability=64.0, note="DEV-7: thaw delay"
    )
    assert record.viability_below_spec and record.deviation_note == "DEV-7: thaw delay"


def test_a_passage_with_a_wrong_password_changes_nothing(lab, engine) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    culture = start(lab, biopsy, [lab.lot("medium")])
    with pytest.raises(SignatureRefused):
        passage(lab, culture, [lab.lot("trypsin")], password="wrong")
    with unit_of_work(engine, settings=lab.settings) as session:
        assert cultures.get_culture(session, culture.code).status == CultureStatus.IN_PROCESS
        assert cultures.children_of(session, cultures.get_culture(session, culture.code)) == []


def test_cultures_over_the_api(client, lab) -> None:
    from tests.factories import bearer

    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy)
    medium = lab.lot("medium")
    tech = bearer(client, "technician")
    started = client.post(
        "/api/cultures",
        headers=tech,
        json={
            "biopsy": f"={biopsy.din}00",
            "vessel_type": "T25 flask",
            "surface_cm2": 25,
            "seeded_cells": 250_000,
            "seeded_at": (utcnow() - timedelta(hours=72)).isoformat(),
            "medium_lots": [medium.code],
            "password": PASSWORD,
        },
    )
    assert started.status_code == 201, started.text
    code = started.json()["identifier"]
    passaged = client.post(
        f"/api/cultures/{code}/passage",
        headers=tech,
        json={
            "started_at": (utcnow() - timedelta(hours=2)).isoformat(),
            "ended_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "harvested_cells": 1_000_000,
            "viability_pct": 95,
            "reseeded_cells": 900_000,
            "new_vessels": 3,
            "vessel_type": "T75 flask",
            "surface_cm2": 75,
            "password": PASSWORD,
        },
    )
    assert passaged.status_code == 201, passaged.text
    assert passaged.json()["population_doublings"] == pytest.approx(2.0)
    assert len(passaged.json()["new_vessels"]) == 3
    listing = client.get("/api/cultures", params={"status": "in_process"}, headers=tech).json()
    assert listing["total"] == 3
    found = client.get("/api/scan", params={"code": code}, headers=tech).json()
    assert found["kind"] == "culture" and found["url"] == f"/cultures/{code}"
    label = client.get(f"/api/labels/culture/{code}.pdf", headers=tech)
    assert label.status_code == 200
