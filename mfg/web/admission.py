"""Admission: a process works on a few requests at once; the others wait their turn, in order.

Without it, fifty requests at once each take a thread and share one interpreter lock: a request
holding SQLite's write lock (or the audit chain's head on PostgreSQL) gets a fiftieth of the
processor, so every writer behind it waits fifty times as long, and the heaviest requests (a
label read back, a certificate) take seconds while others take milliseconds. Admitting a few at
a time (``MFG_ACTIVE_REQUESTS``, first come first served) lets each finish in about its own time;
the rest wait at the door, on the event loop, where waiting costs nothing. A request that is not
admitted within ``MFG_BUSY_TIMEOUT_SECONDS`` is answered 503 with ``Retry-After`` (``Busy``).

One door for all, first come first served, so that a heavy write waits no longer than a read;
but writers hold at most all turns but one. A writer may wait inside for the write lock (or a
row another person holds) without using the processor; were every turn theirs, a few writers
waiting behind a long transaction would stall the reads, which never wait for a lock. A GET that
writes (a label print, an audited export) is a writer.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator

from fastapi import Request

from mfg.errors import Busy
from mfg.web.deps import READ_ONLY_METHODS

NEVER_HELD = frozenset({"/healthz"})


class Gate:
    """The door of one event loop: at most ``limit`` requests inside, writers at most
    ``limit - 1``; the others in one queue, admitted in order of arrival, except that a reader
    may pass a writer who waits only for the writers' share."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inside = 0
        self.writers = 0
        self.queue: deque[tuple[asyncio.Future[None], bool]] = deque()

    def _may_enter(self, writer: bool) -> bool:
        return self.inside < self.limit and (not writer or self.writers < self.limit - 1)

    def _admit_waiting(self) -> None:
        for entry in list(self.queue):
            if self.inside >= self.limit:
                return
            future, writer = entry
            if future.done():  # gave up waiting
                self.queue.remove(entry)
            elif self._may_enter(writer):
                self.queue.remove(entry)
                self.inside += 1
                self.writers += writer
                future.set_result(None)
            elif not writer:
                return

    async def enter(self, *, writer: bool, timeout: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (future, writer)
        self.queue.append(entry)
        self._admit_waiting()
        try:
            async with asyncio.timeout(timeout):
                await future
        except BaseException as error:  # the time ran out, or the request was cancelled
            admitted = future.done() and not future.cancelled()
            if admitted and isinstance(error, TimeoutError):
                return  # admitted as the time ran out
            if admitted:
                self.leave(writer=writer)
                raise
            if entry in self.queue:
                self.queue.remove(entry)
            self._admit_waiting()
            if isinstance(error, TimeoutError):
                raise Busy() from None
            raise

    def leave(self, *, writer: bool) -> None:
        self.inside -= 1
        self.writers -= writer
        self._admit_waiting()


# The gate of each event loop: a test client may run each request in a loop of its own, and
# an asyncio future belongs to its loop.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Gate] = weakref.WeakKeyDictionary()


def _gate(limit: int) -> Gate:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = Gate(limit)
    return _gates[loop]


def is_writer(request: Request) -> bool:
    route = request.scope.get("route")
    return request.method not in READ_ONLY_METHODS or getattr(route, "writes_on_read", False)


async def admit(request: Request) -> AsyncIterator[None]:
    """Wait for a turn (first come, first served), then hold it for the request's work."""
    if request.url.path in NEVER_HELD:
        yield
        return
    settings = request.app.state.settings
    gate = _gate(settings.active_requests)
    writer = is_writer(request)
    await gate.enter(writer=writer, timeout=settings.busy_timeout_seconds)
    try:
        yield
    finally:
        gate.leave(writer=writer)
