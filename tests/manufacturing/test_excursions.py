"""A biopsy received out of limits, or a step that records viability below the in-process
specification, opens its own deviation; while open, it blocks the release of every lot the cells
reach."""

from datetime import timedelta

from sqlmodel import Session, select

from mfg.deviations import service as deviations
from mfg.manufacturing import cultures, pools
from mfg.manufacturing.schemas import CultureStart
from mfg.models import AuditEvent, Deviation, DeviationStatus, MaterialLot, utcnow
from tests.factories import PASSWORD, log_in
from tests.manufacturing.factories import (
    culture_of_eligible_donor,
    harvest,
    lot_passage,
    passage,
    pool,
    pooled_lot,
    released_medium,
)
from tests.release.factories import blocking_codes

# Biopsies collected (and received 6 hours later) days before their cells are seeded here.
COLLECTED = utcnow() - timedelta(days=6)


def _low_passage(lab, culture, medium: MaterialLot):
    return passage(
        lab,
        culture,
        medium,
        hours_ago=1,
        viability=63.0,
        reseeded=3_000_000,
        deviation_note="Thaw delay of the trypsin; count repeated",
    )


def _deviations(engine) -> list[Deviation]:
    with Session(engine) as session:
        return list(session.exec(select(Deviation).order_by(Deviation.id)).all())


def test_a_passage_below_the_viability_specification_opens_a_deviation_about_the_vessel(
    lab, engine
) -> None:
    medium = released_medium(lab)
    culture = culture_of_eligible_donor(lab, medium)
    _low_passage(lab, culture, medium)
    [deviation] = _deviations(engine)
    assert deviation.status == DeviationStatus.OPEN
    assert (deviation.entity_type, deviation.entity_id) == ("culture", culture.code)
    assert "63 %" in deviation.description and "Thaw delay of the trypsin" in deviation.description
    with Session(engine) as session:
        opened = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "deviation.opened", AuditEvent.entity_id == deviation.code
            )
        ).one()
    assert opened.username == "technician"


def test_an_open_vessel_deviation_blocks_the_release_of_the_lot_its_cells_were_pooled_into(
    lab, engine
) -> None:
    medium = released_medium(lab)
    culture = culture_of_eligible_donor(lab, medium)
    _, children = _low_passage(lab, culture, medium)
    other = culture_of_eligible_donor(lab, medium)
    lot = pool(lab, (children[0], 1_000_000), (other, 1_000_000))
    [deviation] = _deviations(engine)
    assert deviation.lot_id is None  # opened before the lot existed
    with Session(engine) as session:
        found = deviations.open_deviations_of_lot(session, pools.get_lot(session, lot.din))
        assert [d.code for d in found] == [deviation.code]
        assert [d.code for d in deviations.list_all_of_lot(session, lot)] == [deviation.code]
    assert "open_deviation" in blocking_codes(lab, lot)

    unrelated = pooled_lot(lab)
    with Session(engine) as session:
        assert deviations.open_deviations_of_lot(session, unrelated) == []

    lab.run(
        "qa",
        lambda s, a: deviations.investigate(
            s,
            actor=a,
            deviation=deviations.get_deviation(s, deviation.code),
            impact_assessment="Viability recovered at the next passage",
            root_cause="Trypsin left at room temperature",
            corrective_action="Trypsin thawed at 4 °C",
        ),
    )
    lab.run(
        "qa",
        lambda s, a: deviations.close(
            s, actor=a, deviation=deviations.get_deviation(s, deviation.code), password=PASSWORD
        ),
    )
    assert "open_deviation" not in blocking_codes(lab, lot)


def test_a_lot_passage_and_a_harvest_below_specification_open_deviations_on_the_lot(
    lab, engine
) -> None:
    lot = pooled_lot(lab)
    lot_passage(
        lab,
        lot,
        harvested=8_000_000,
        reseeded=4_000_000,
        viability=61,
        deviation_note="DEV",
        hours_ago=100,
    )
    harvest(lab, lot, viability=65, deviation_note="Low after formulation; recount")
    found = _deviations(engine)
    assert [(d.entity_type, d.entity_id, d.lot_id) for d in found] == [
        ("lot", lot.din, lot.id),
        ("lot", lot.din, lot.id),
    ]
    assert "lot passage 1" in found[0].title and "harvest" in found[1].title


def test_a_step_within_the_specification_opens_no_deviation(lab, engine) -> None:
    lot = pooled_lot(lab)
    lot_passage(lab, lot, harvested=8_000_000, reseeded=4_000_000, viability=92, hours_ago=100)
    harvest(lab, lot, viability=93)
    assert _deviations(engine) == []


def test_a_late_or_damaged_biopsy_receipt_opens_a_deviation_that_follows_the_cells_into_the_lot(
    lab, engine
) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy, intact=False, note="Tube cracked, tissue still immersed")
    [deviation] = _deviations(engine)
    assert (deviation.entity_type, deviation.entity_id) == ("biopsy", biopsy.din)
    assert "container not intact" in deviation.title
    assert "Tube cracked" in deviation.description
    medium = released_medium(lab)
    first = lab.run(
        "technician",
        lambda s, a: cultures.start_primary_culture(
            s,
            actor=a,
            command=CultureStart(
                biopsy=biopsy.din,
                vessel_type="T75",
                surface_cm2=75,
                seeded_cells=500_000,
                seeded_at=utcnow() - timedelta(hours=50),
                password=PASSWORD,
                medium_lots=[medium.code],
            ),
        ),
    )
    lot = pool(lab, (first, 1_000_000), (culture_of_eligible_donor(lab, medium), 1_000_000))
    with Session(engine) as session:
        found = deviations.open_deviations_of_lot(session, pools.get_lot(session, lot.din))
    assert [d.code for d in found] == [deviation.code]


def test_a_receipt_within_limits_opens_no_deviation(lab, engine) -> None:
    _, biopsy = lab.eligible_donor(collected_at=COLLECTED)
    lab.receive(biopsy, hours_after=3)
    assert _deviations(engine) == []


def test_the_lot_page_lists_the_open_deviation_of_a_vessel_its_cells_came_through(
    lab, client
) -> None:
    """The page and the release check read the same list (the drift of issue #25: the page
    listed only the deviations opened on the lot itself)."""
    medium = released_medium(lab)
    culture = culture_of_eligible_donor(lab, medium)
    _, children = _low_passage(lab, culture, medium)
    lot = pool(lab, (children[0], 1_000_000), (culture_of_eligible_donor(lab, medium), 1_000_000))
    log_in(client, "technician")
    page = client.get(f"/lots/{lot.din}")
    assert page.status_code == 200
    listed = page.text.split('id="lot-open-deviations"', 1)
    assert len(listed) == 2, "the open vessel deviation is not on the lot page"
    assert "In-process viability below specification" in listed[1].split("</p>", 1)[0]
