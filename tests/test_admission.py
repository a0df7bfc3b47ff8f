"""Admission (mfg.web.admission): a process works on a few requests at once, writers in all
turns but one; the others wait in order of arrival, and one not admitted within the busy
timeout is answered 503 busy."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from mfg.config import Settings
from mfg.errors import Busy
from mfg.web.admission import admit, is_writer


def _request(method: str, path: str, *, active: int = 2, timeout: float = 0.3) -> Request:
    settings = Settings(active_requests=active, busy_timeout_seconds=timeout)
    app = SimpleNamespace(state=SimpleNamespace(settings=settings))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
        "scheme": "http",
        "app": app,
    }
    return Request(scope)


def _run(scenario):  # type: ignore[no-untyped-def]
    """``asyncio.run(scenario())`` in a thread of its own: a test run before this one in the
    same worker may have left an event loop running in this thread."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(scenario())))
    thread.start()
    thread.join()
    assert result, "the scenario failed"
    return result[0]


async def _enter(request: Request):  # type: ignore[no-untyped-def]
    held = admit(request)
    await held.__anext__()
    return held


async def _leave(held) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StopAsyncIteration):
        await held.__anext__()


def test_requests_beyond_the_active_limit_wait_their_turn_in_order_of_arrival() -> None:
    async def scenario() -> list[int]:
        first = await _enter(_request("GET", "/api/donors", timeout=5))
        second = await _enter(_request("POST", "/api/donors", timeout=5))
        admitted: list[int] = []

        async def wait(n: int) -> None:
            held = await _enter(_request("GET", "/api/donors", timeout=5))
            admitted.append(n)
            await asyncio.sleep(0.01)
            await _leave(held)

        waiting = []
        for n in range(5):
            waiting.append(asyncio.create_task(wait(n)))
            await asyncio.sleep(0.01)  # they arrive one after the other
        await asyncio.sleep(0.05)
        assert admitted == []  # nobody passes the two who are inside
        await _leave(first)
        await _leave(second)
        await asyncio.gather(*waiting)
        return admitted

    assert _run(scenario) == [0, 1, 2, 3, 4]


def test_a_request_not_admitted_within_the_busy_timeout_is_answered_busy() -> None:
    async def scenario() -> float:
        inside = [await _enter(_request("GET", "/api/donors")) for _ in range(2)]
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(Busy):
            await _enter(_request("POST", "/api/donors", timeout=0.3))
        waited = loop.time() - started
        for held in inside:
            await _leave(held)
        await _leave(await _enter(_request("POST", "/api/donors")))  # the turn was not lost
        return waited

    assert 0.25 <= _run(scenario) < 2


def test_writers_never_hold_the_last_turn() -> None:
    async def scenario() -> None:
        writers = [await _enter(_request("POST", "/api/donors", active=4)) for _ in range(3)]
        with pytest.raises(Busy):  # three writers inside: the fourth turn is not theirs
            await _enter(_request("POST", "/api/donors", active=4))
        reader = await _enter(_request("GET", "/api/donors", active=4))  # it is a reader's
        with pytest.raises(Busy):
            await _enter(_request("GET", "/api/donors", active=4))  # all four taken now
        await _leave(reader)
        for writer in writers:
            await _leave(writer)

    _run(scenario)


def test_healthz_is_never_held_at_the_door() -> None:
    async def scenario() -> None:
        inside = await _enter(_request("GET", "/api/donors"))
        await _leave(await _enter(_request("GET", "/healthz")))
        await _leave(inside)

    _run(scenario)


def test_a_get_that_writes_goes_through_the_writers_door(client) -> None:  # type: ignore[no-untyped-def]
    routes = {
        (route.path, method): route
        for route in client.app.router.routes
        for method in getattr(route, "methods", ())
    }
    label = routes.get(("/api/labels/{kind}/{identifier}.pdf", "GET"))
    donors = routes.get(("/api/donors", "GET"))
    if label is None or donors is None:  # routers kept whole: look inside them
        flat = {}
        for route in client.app.router.routes:
            for inner in getattr(getattr(route, "original_router", None), "routes", ()):
                for method in getattr(inner, "methods", ()):
                    flat[(inner.path, method)] = inner
        label = flat[("/api/labels/{kind}/{identifier}.pdf", "GET")]
        donors = flat[("/api/donors", "GET")]
    assert label.writes_on_read and not donors.writes_on_read
    request = _request("GET", "/api/labels/dose/X.pdf")
    request.scope["route"] = label
    assert is_writer(request)
    request.scope["route"] = donors
    assert not is_writer(request)
