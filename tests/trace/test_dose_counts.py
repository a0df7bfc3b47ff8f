"""``lot_dose_count``, each lot's doses per status, is kept by the database itself (migration
0016) in the transaction that changes a dose, whichever code or statement does it; the trace
reads it instead of counting a donor's 100,000 doses."""

import threading

from sqlalchemy import Engine, case, delete, func, insert, update
from sqlmodel import Session, select

from mfg.models import Donor, Dose, DoseStatus, LotDoseCount, PoolMember
from mfg.trace.service import build_trace

ROUNDS = 60


def _kept(engine: Engine) -> dict[tuple[int, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(LotDoseCount.lot_id, LotDoseCount.status, LotDoseCount.doses).where(
                LotDoseCount.doses != 0
            )
        )
        return {(lot, status): n for lot, status, n in rows}


def _counted(engine: Engine) -> dict[tuple[int, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Dose.lot_id, Dose.status, func.count()).group_by(Dose.lot_id, Dose.status)
        )
        return {(lot, status): n for lot, status, n in rows}


def _copies(engine: Engine, dose: Dose, n: int, status: str) -> list[int]:
    """``n`` more doses of ``dose``'s lot, written by plain statements behind the services."""
    row = {c: v for c, v in dose.model_dump().items() if c not in ("id", "tank", "position")}
    rows = [
        {
            **row,
            "identifier": f"{dose.identifier[:13]}X{i:02d}",
            "division": f"Z{i}",
            "status": status,
        }
        for i in range(n)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Dose), rows)
        return list(
            connection.scalars(
                select(Dose.id).where(Dose.lot_id == dose.lot_id, Dose.division.startswith("Z"))
            )
        )


def test_lot_dose_count_follows_every_insert_status_change_and_delete(engine, history) -> None:
    # Filled, released, allocated, issued and infused through the services:
    assert _kept(engine) == _counted(engine)
    lot, dose, _ = history["b"]
    added = _copies(engine, dose, 3, DoseStatus.AVAILABLE)
    assert _kept(engine) == _counted(engine)
    assert _kept(engine)[(lot.id, DoseStatus.AVAILABLE)] >= 3
    with engine.begin() as connection:  # a bulk change, as a look-back hold makes
        connection.execute(update(Dose).where(Dose.id.in_(added)).values(status=DoseStatus.ON_HOLD))
        connection.execute(update(Dose).where(Dose.id == added[0]).values(volume_ml=19))
    assert _kept(engine) == _counted(engine)
    with engine.begin() as connection:
        connection.execute(delete(Dose).where(Dose.id.in_(added[1:])))
    assert _kept(engine) == _counted(engine)
    # a change rolled back leaves the count as it was
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(update(Dose).where(Dose.id == added[0]).values(status="recalled"))
        transaction.rollback()
    assert _kept(engine) == _counted(engine)
    with Session(engine) as session:  # a donor's trace reads the kept counts
        donor = session.exec(
            select(Donor).join(PoolMember).where(PoolMember.lot_id == lot.id)
        ).first()
        counts = build_trace(session, kind="donor", identifier=donor.code).dose_counts
    assert counts[lot.din] == {
        s: n for (lot_id, s), n in _counted(engine).items() if lot_id == lot.id
    }


def test_lot_dose_count_race_opposite_transitions_of_one_lot_neither_deadlock_nor_drift(
    engine, history
) -> None:
    """Holds and releases of holds at once on one lot touch the same two counter rows in
    opposite directions; the triggers take them in one order, so all commit. (With the order
    left to each transition, PostgreSQL reported a deadlock in several of these 60 rounds.)"""
    _, dose, _ = history["b"]
    doses = _copies(engine, dose, 6, DoseStatus.AVAILABLE)
    with engine.begin() as connection:
        connection.execute(
            update(Dose).where(Dose.id.in_(doses[3:])).values(status=DoseStatus.ON_HOLD)
        )
    flip = case(
        (Dose.status == DoseStatus.AVAILABLE, DoseStatus.ON_HOLD), else_=DoseStatus.AVAILABLE
    )
    errors: list[Exception] = []

    def move(dose_id: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            with engine.begin() as connection:
                connection.execute(update(Dose).where(Dose.id == dose_id).values(status=flip))
        except Exception as error:  # a deadlock would be one
            errors.append(error)

    for _ in range(ROUNDS):  # each round three holds and three releases at once
        barrier = threading.Barrier(len(doses))
        threads = [threading.Thread(target=move, args=(i, barrier)) for i in doses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert _kept(engine) == _counted(engine)
