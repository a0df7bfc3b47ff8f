"""Many people at once, over HTTP against a real server: a request waiting for the database
never stops the others (nothing waits on the event loop), a request that cannot get what it
needs in time is answered 503 with ``Retry-After`` (never left hanging, never 500), and
concurrent GETs that write (first label prints, certificates) all succeed."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx2 as httpx
import pytest
import uvicorn

from mfg.audit import service as audit
from mfg.config import Settings
from mfg.db import make_engine, unit_of_work
from mfg.main import create_app
from mfg.models import User
from tests.conftest import _free_port
from tests.donors.factories import Lab
from tests.factories import PASSWORD
from tests.manufacturing.factories import filled_lot
from tests.qc.factories import lot_sample


@contextmanager
def served(settings: Settings, *, busy_timeout: float = 10.0) -> Iterator[str]:
    """The application under uvicorn in this process, with its own engine."""
    settings = settings.model_copy(update={"busy_timeout_seconds": busy_timeout})
    engine = make_engine(settings.database_url, busy_timeout=busy_timeout)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, engine=engine), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def _token(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@contextmanager
def holding_the_write(engine, settings: Settings, user: User, seconds: float) -> Iterator[None]:
    """Someone else's audited write, left uncommitted for ``seconds``: it holds SQLite's write
    lock, or on PostgreSQL the head of the audit chain, which every audited write needs."""
    started = threading.Event()

    def hold() -> None:
        with unit_of_work(engine, settings=settings) as session:
            audit.record(
                session,
                actor=session.get(User, user.id),
                action="test.held",
                entity_type="test",
                entity_id="held",
            )
            session.flush()
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        thread.join()


def _new_donor(base: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{base}/api/donors", json={"sex": "F", "birth_year": 1980}, headers=headers, timeout=30
    )


@pytest.mark.parametrize("active", [2, 4])
def test_a_write_waiting_for_the_database_does_not_stop_other_requests(
    engine, settings, users, active: int
) -> None:
    """Also when the waiting writers fill the writers' turns (``MFG_ACTIVE_REQUESTS`` but
    one): the last turn is the readers'."""
    # The writers may wait three times as long as the write is held: on a loaded machine the last
    # one's turn can come well after the hold ends, and it must still get it.
    with served(settings.model_copy(update={"active_requests": active}), busy_timeout=30.0) as base:
        tech = _token(base, "technician")
        with (
            holding_the_write(engine, settings, users["admin"], seconds=10.0),
            ThreadPoolExecutor(4) as pool,
        ):
            waiting = [pool.submit(_new_donor, base, tech) for _ in range(3)]
            time.sleep(0.2)  # they are waiting for the write now
            for _ in range(5):
                started = time.monotonic()
                assert httpx.get(f"{base}/healthz", timeout=20).status_code == 200
                page = httpx.get(f"{base}/api/donors", headers=tech, timeout=20)
                assert page.status_code == 200
                # Answered while the writers still wait: not queued behind them (the writers
                # wait 10 s; a blocked event loop would hold these as long).
                assert time.monotonic() - started < 3
                assert not any(w.done() for w in waiting), [w.result().text for w in waiting]
            answers = [w.result() for w in waiting]
        assert [a.status_code for a in answers] == [201, 201, 201]


def test_a_request_that_cannot_get_the_database_in_time_is_answered_503_with_retry_after(
    engine, settings, users
) -> None:
    with served(settings, busy_timeout=0.5) as base:
        tech = _token(base, "technician")
        with holding_the_write(engine, settings, users["admin"], seconds=3.0):
            started = time.monotonic()
            answer = _new_donor(base, tech)
            waited = time.monotonic() - started
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "2"
        assert answer.json()["error"]["code"] == "busy"
        assert waited < 2.5  # refused after the busy timeout, not when the holder let go
        assert _new_donor(base, tech).status_code == 201  # and nothing is stuck afterwards


def test_concurrent_gets_that_write_all_succeed(engine, settings, users) -> None:
    """Twenty first prints of twenty labels and twenty prints of one label at once: every
    new label prints (200), the one label prints once and the others are told a reprint needs
    a reason — no 500, no stall."""
    lab = Lab(engine, settings, users)
    lot, doses = filled_lot(lab, count=5)
    samples = [lot_sample(lab, lot, "VIAB").code for _ in range(15)]
    labels = [("dose", d.identifier) for d in doses] + [("qc-sample", s) for s in samples]
    with served(settings) as base:
        tech = _token(base, "technician")

        def printed(kind: str, identifier: str) -> int:
            url = f"{base}/api/labels/{kind}/{identifier}.pdf"
            return httpx.get(url, headers=tech, timeout=60).status_code

        with ThreadPoolExecutor(40) as pool:
            firsts = list(pool.map(lambda label: printed(*label), labels))
            same = list(pool.map(lambda _: printed(*labels[0]), range(20)))
    assert firsts == [200] * len(labels)
    assert Counter(same) == {422: 20}  # printed once already: a reprint needs a reason


@pytest.mark.parametrize("clients", [20])
def test_many_clients_writing_at_once_get_no_server_error(
    engine, settings, users, clients: int
) -> None:
    with served(settings) as base:
        tech = _token(base, "technician")
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(lambda _: _new_donor(base, tech).status_code, range(clients)))
    assert answers == [201] * clients


def test_a_connection_the_server_dropped_is_answered_503_and_the_next_request_reconnects(
    engine, settings, users
) -> None:
    """No ping before each checkout (mfg.db.make_engine): a pooled connection the database
    server ended (a restart) fails its first statement, answered 503 busy, nothing saved; the
    pool is then renewed and the next request is served."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    with served(settings) as base:
        tech = _token(base, "technician")
        assert _new_donor(base, tech).status_code == 201  # the pool now holds connections
        with engine.connect() as admin:
            ended = admin.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).all()
        assert ended
        answers = [_new_donor(base, tech) for _ in range(2)]
        assert answers[0].status_code == 503, answers[0].text
        assert answers[0].json()["error"]["code"] == "busy"
        assert answers[1].status_code == 201, answers[1].text
