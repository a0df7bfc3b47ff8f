"""Several worker processes for ``mfg serve --workers N`` (PostgreSQL), each listening on the
same port with a socket of its own (docs/decisions.md#workers-each-with-a-socket-of-their-own).

With one listening socket shared by every worker, the worker that woke first accepted every
pending connection at once (asyncio accepts up to its backlog in one go): fifty terminals that
keep their connections open were all served by one worker, on one core, while three idled. With
``SO_REUSEPORT`` each worker has its own socket and the kernel spreads new connections evenly
over them.

The supervisor starts the workers, replaces one that dies, and on Ctrl+C or SIGTERM asks each to
finish its requests and stop. Each worker builds the application from the same environment
(``MFG_*`` variables): sessions, tokens and CSRF are signed with the one secret key, and the audit
chain and the identifier allocators are held by the database, so any worker may serve any request.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

# A worker that stops on its own within this long of starting is not restarted: it cannot start
# (a port taken, a configuration error), and restarting it would only repeat the error.
START_GRACE_S = 10.0
STOP_TIMEOUT_S = 30.0


def can_share_a_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` that other workers may bind too."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def run_worker(host: str, port: int, log_level: str) -> None:
    """One worker: its own socket, the application built once, then served until stopped."""
    import uvicorn

    from mfg.cli import freeze_start_up_objects
    from mfg.main import create_app

    sock = listening_socket(host, port)
    app = create_app()
    freeze_start_up_objects()
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level))
    server.run(sockets=[sock])


class Supervisor:
    """Starts ``workers`` processes, keeps that many running, stops them on a signal."""

    def __init__(self, host: str, port: int, workers: int, log_level: str = "warning") -> None:
        self.target: Callable[..., None] = run_worker
        self.args = (host, port, log_level)
        self.workers = workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[BaseProcess, float]] = []
        self.stopping = False

    def _start_one(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(target=self.target, args=self.args, name="mfg-worker")
        process.start()
        return process, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until a signal; the exit status is 1 when a worker could not start."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self.processes = [self._start_one() for _ in range(self.workers)]
        failed = False
        while not self.stopping and not failed:
            time.sleep(0.5)
            failed = self._replace_dead()
        self._stop_all()
        return 1 if failed else 0

    def _replace_dead(self) -> bool:
        """Replace each worker that died; True when one died at start (give up)."""
        for index, (process, started) in enumerate(self.processes):
            if process.is_alive() or self.stopping:
                continue
            if time.monotonic() - started < START_GRACE_S:
                print(f"mfg: a worker could not start (exit {process.exitcode})", file=sys.stderr)
                return True
            print(f"mfg: worker {process.pid} ended (exit {process.exitcode}); restarting it")
            self.processes[index] = self._start_one()
        return False

    def _stop_all(self) -> None:
        """SIGTERM to each worker: uvicorn finishes the requests in flight, then stops. (Not
        SIGINT: a Ctrl+C in the terminal has already sent each worker one, and a second SIGINT
        makes uvicorn drop its requests.)"""
        for process, _started in self.processes:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process, _started in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
