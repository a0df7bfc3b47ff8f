"""DIN and local-identifier allocation: one sequence per (FIN, year), unique under concurrency."""

import threading

from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.identifiers.allocate import allocate_din, allocate_local
from mfg.models import AllocatedDin, utcnow


def test_dins_count_up_per_fin_and_year(engine, settings) -> None:
    with unit_of_work(engine, settings=settings) as session:
        first = allocate_din(session, kind="biopsy")
        second = allocate_din(session, kind="lot")
        other = allocate_din(session, kind="biopsy", fin="A9998")
    year = utcnow().astimezone(settings.tz).year % 100
    assert (first.fin, first.year, first.sequence) == ("A9999", year, 1)
    assert second.sequence == 2 and other.sequence == 1


def test_an_allocated_din_is_registered_with_its_kind(engine, settings) -> None:
    with unit_of_work(engine, settings=settings) as session:
        din = allocate_din(session, kind="biopsy")
    with Session(engine) as session:
        assert session.get(AllocatedDin, str(din)).kind == "biopsy"


def test_a_rolled_back_allocation_leaves_no_trace(engine, settings) -> None:
    try:
        with unit_of_work(engine, settings=settings) as session:
            allocate_din(session, kind="biopsy")
            raise RuntimeError("creating the record failed")
    except RuntimeError:
        pass
    with unit_of_work(engine, settings=settings) as session:
        assert allocate_din(session, kind="biopsy").sequence == 1


def test_concurrent_din_allocations_are_all_unique(engine, settings) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                with unit_of_work(engine, settings=settings) as session:
                    results.append(str(allocate_din(session, kind="biopsy")))
        except BaseException as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 40 == len(set(results))
    assert sorted(int(d[-6:]) for d in results) == list(range(1, 41))
    with Session(engine) as session:
        assert len(session.exec(select(AllocatedDin)).all()) == 40


def test_concurrent_local_allocations_are_all_unique(engine, settings) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            with unit_of_work(engine, settings=settings) as session:
                results.append(str(allocate_local(session, "CV")))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 30 == len(set(results))
