"""Filling a lot into doses, their labels, cryopreservation in storage positions, and thaw."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from mfg.audit.machines import DOSE
from mfg.db import unit_of_work
from mfg.errors import Conflict, RuleViolation
from mfg.identifiers.isbt128 import Din
from mfg.labeling.service import print_label
from mfg.manufacturing import doses, pools, storage
from mfg.manufacturing.rules import dose_expiry
from mfg.manufacturing.schemas import FillIn, LabelCheckIn, StorageIn, ThawIn
from mfg.models import Dose, DoseStatus, Lot, LotStatus, Meaning, Signature, User, utcnow
from mfg.record_kinds import build_label_sources
from tests.factories import PASSWORD, add_user, bearer
from tests.labeling.helpers import decoded
from tests.manufacturing.factories import cryopreserve, fill, filled_lot, harvest, pooled_lot
from tests.races import race


def test_fill_gives_each_dose_the_lot_din_and_a_division_in_quarantine(lab, engine) -> None:
    lot, filled = filled_lot(lab, count=3)
    assert [d.identifier for d in filled] == [
        f"{lot.din}S1234VA0",
        f"{lot.din}S1234VB0",
        f"{lot.din}S1234VC0",
    ]
    assert {d.status for d in filled} == {DoseStatus.QUARANTINE}
    assert {d.cells for d in filled} == {80_000_000}  # 4 × 10^6 / mL × 20 mL
    with Session(engine) as session:
        assert session.get(Lot, lot.id).status == LotStatus.QUARANTINE
        signature = session.exec(
            select(Signature).where(Signature.entity_type == "fill", Signature.entity_id == lot.din)
        ).one()
        assert signature.meaning == Meaning.PERFORMED


def test_dose_expiry_is_the_end_of_the_last_day_of_the_shelf_life() -> None:
    minsk = ZoneInfo("Europe/Minsk")
    filled = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # already 25 November in Minsk
    expiry = dose_expiry(filled, shelf_life_days=180, tz=minsk)
    assert expiry.astimezone(minsk) == datetime(2027, 5, 24, 23, 59, tzinfo=minsk)


def test_fill_refused_beyond_the_formulated_volume(lab) -> None:
    lot = pooled_lot(lab)
    harvest(lab, lot, volume_ml=100)
    with pytest.raises(RuleViolation, match="the formulated volume is 100 mL"):
        fill(lab, lot, count=6, volume_ml=20)


def test_fill_refused_before_harvest(lab) -> None:
    lot = pooled_lot(lab)
    with pytest.raises(RuleViolation, match="only a harvested lot is filled"):
        fill(lab, lot)


def test_two_technicians_filling_the_same_lot_at_once_cannot_create_duplicate_divisions(
    lab, engine, settings
) -> None:
    lot = pooled_lot(lab)
    harvest(lab, lot)
    second = add_user(engine, settings, "technician-2", "technician")

    def work(session: Session, actor: User) -> None:
        doses.fill_lot(
            session,
            actor=actor,
            lot=pools.get_lot(session, lot.din),
            command=FillIn(
                filled_at=utcnow() - timedelta(minutes=1),
                doses=2,
                volume_ml=25,
                container="bag",
                password=PASSWORD,
            ),
        )

    outcomes = race(engine, settings, (lab.users["technician"], second), work)
    assert outcomes.count("ok") == 1, outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), Conflict | RuleViolation)
    with Session(engine) as session:
        divisions = [d.division for d in session.exec(select(Dose).where(Dose.lot_id == lot.id))]
    assert sorted(divisions) == ["A0", "B0"]


def test_dose_label_scans_back_to_the_din_product_code_and_expiry(lab, engine, settings) -> None:
    lot, filled = filled_lot(lab, count=1)
    dose = filled[0]
    with unit_of_work(engine, settings=settings) as session:
        printed = print_label(
            session,
            actor=session.get(User, lab.users["technician"].id),
            sources=build_label_sources(),
            kind="dose",
            identifier=dose.identifier,
        )
    din = Din.parse(lot.din)
    codes = decoded(printed.content)[0]
    assert din.barcode_data() in codes
    assert "=<S1234VA0" in codes
    assert any(c.startswith("&>") for c in codes)
    assert any(c.startswith(din.barcode_data() + "=<S1234VA0&>") for c in codes)  # DataMatrix


def test_a_scanned_dose_label_finds_the_dose(client, lab) -> None:
    lot, filled = filled_lot(lab, count=2)
    tech = bearer(client, "technician")
    found = client.get("/api/scan", params={"code": f"={lot.din}00=<S1234VB0"}, headers=tech)
    assert found.status_code == 200, found.text
    assert found.json()["kind"] == "dose" and found.json()["identifier"] == filled[1].identifier
    # Scanned with Caps Lock on, the label's letters arrive in lower case: read back.
    caps_lock = f"={lot.din}00=<S1234VB0".lower()
    found = client.get("/api/scan", params={"code": caps_lock}, headers=tech).json()
    assert found["identifier"] == filled[1].identifier and found["caps_lock_recovered"]
    # The DIN alone still names the lot.
    assert (
        client.get("/api/scan", params={"code": f"={lot.din}00"}, headers=tech).json()["kind"]
        == "lot"
    )


def test_cryopreservation_stores_the_doses_in_consecutive_positions(lab, engine) -> None:
    lot, _ = filled_lot(lab, count=3)
    stored = cryopreserve(lab, lot, box="B7", first=4)
    assert [(d.box, d.position) for d in stored] == [("B7", 4), ("B7", 5), ("B7", 6)]
    assert {storage.location_text(d).split(" / ")[0] for d in stored} == {"tank T2"}
    with pytest.raises(RuleViolation, match="no filled dose waiting"):
        cryopreserve(lab, lot)


def test_cryopreservation_refused_in_an_occupied_position(lab) -> None:
    first, _ = filled_lot(lab, count=2)
    cryopreserve(lab, first, box="B1", first=1)
    second, _ = filled_lot(lab, count=2)
    with pytest.raises(RuleViolation, match="Position 2 of box B1 holds dose"):
        cryopreserve(lab, second, box="B1", first=2)


def test_cryopreservation_refused_warmer_than_the_storage_limit(lab) -> None:
    lot, _ = filled_lot(lab, count=1)
    with pytest.raises(RuleViolation, match="warmer than the limit of -150"):
        lab.run(
            "technician",
            lambda s, a: storage.cryopreserve_lot(
                s,
                actor=a,
                lot=pools.get_lot(s, lot.din),
                command=StorageIn(
                    frozen_at=utcnow(),
                    freezing_programme="P1",
                    temperature_c=-80,
                    tank="T1",
                    rack="R1",
                    box="B1",
                    first_position=1,
                    password=PASSWORD,
                ),
            ),
        )


def _allocate(lab, dose: Dose) -> None:
    """Stand-in for release and allocation (later issues): move the dose along its machine."""

    def work(s, a):
        row = doses.get_dose(s, dose.identifier)
        for to in (DoseStatus.AVAILABLE, DoseStatus.ALLOCATED):
            DOSE.move(s, row, to=to, actor=a)

    lab.run("qa", work)


def _thaw(lab, dose: Dose, role: str = "technician") -> Dose:
    return lab.run(
        role,
        lambda s, a: storage.thaw_dose(
            s,
            actor=a,
            dose=doses.get_dose(s, dose.identifier),
            command=ThawIn(thawed_at=utcnow(), password=PASSWORD),
        ),
    )


def test_thaw_refused_for_a_dose_in_quarantine(lab) -> None:
    lot, filled = filled_lot(lab, count=1)
    cryopreserve(lab, lot)
    with pytest.raises(RuleViolation, match="only a dose allocated or issued"):
        _thaw(lab, filled[0])


def test_thaw_of_an_allocated_dose_frees_its_position_once(lab) -> None:
    lot, filled = filled_lot(lab, count=2)
    cryopreserve(lab, lot, box="B9", first=1)
    _allocate(lab, filled[0])
    thawed = _thaw(lab, filled[0], role="clinician")
    assert thawed.thawed_at is not None
    with pytest.raises(RuleViolation, match="already thawed"):
        _thaw(lab, filled[0])
    # Position 1 of box B9 is free again for another lot.
    other, _ = filled_lot(lab, count=1)
    assert cryopreserve(lab, other, box="B9", first=1)[0].position == 1


def test_a_dose_label_is_checked_by_scanning_it_not_by_typing_its_code(lab) -> None:
    """The dose's code typed by hand as the label prints it names the dose, but says nothing of
    what the printed bar codes carry: the label check refuses it."""
    _, filled = filled_lot(lab, count=1)
    din = Din.parse(filled[0].identifier[:13])
    typed = f"{din.eye_readable} {din.check} {filled[0].product_code}"

    def check(s, a):
        dose = doses.get_dose(s, typed)
        assert dose.identifier == filled[0].identifier
        doses.verify_label(s, actor=a, dose=dose, command=LabelCheckIn(scanned=typed))

    with pytest.raises(RuleViolation) as refused:
        lab.run("technician", check)
    assert refused.value.code == "label_typed_by_hand"


def test_a_label_of_another_lots_dose_is_refused_at_this_lots_bench(lab) -> None:
    """The rule "this label belongs to this lot" is the service's (``label_is_of_lot``), not
    only the page's: the label of a dose of another lot is refused, nothing checked."""
    lot, _ = filled_lot(lab, count=1)
    _, others = filled_lot(lab, count=1)
    scanned = LabelCheckIn(scanned=f"={others[0].identifier[:13]}00=<{others[0].product_code}")

    def check(s, a):
        doses.verify_label_of_lot(s, actor=a, lot=pools.get_lot(s, lot.din), command=scanned)

    with pytest.raises(RuleViolation) as refused:
        lab.run("technician", check)
    assert refused.value.code == "label_mismatch" and refused.value.status_code == 422
    assert refused.value.details["field"] == "scanned"
