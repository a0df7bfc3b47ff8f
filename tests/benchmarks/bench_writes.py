"""Benchmark: audited writes per second at one and at four workers on PostgreSQL.

Every audited write appends to the one hash chain and holds its head until it commits, so writes
are serialised whatever the number of workers; this measures what that costs. ``--clients``
threads register donors (``POST /api/donors``: an identifier allocated, a row and an audit
event) for ``--seconds`` against ``mfg serve --demo --workers N``, N = 1 and 4, each on a new
database. Prints writes/s, p50 and p99; no target (a figure for the README's production section).

    .venv/bin/python -m tests.benchmarks.bench_writes [--clients 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx

from tests.benchmarks.bench_load import (
    bearer,
    login,
    postgres_database,
    start_server,
    stop_server,
)


def measure(workers: int, args: argparse.Namespace) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as workdir, postgres_database(args.postgres_url) as url:
        server = start_server(Path(workdir), url, workers)
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                headers = bearer(login(client, "tech"))
            deadline = time.monotonic() + args.seconds
            latencies: list[float] = []
            errors = 0

            def writer(_: int) -> None:
                nonlocal errors
                with httpx.Client(base_url=server.base_url, timeout=30) as client:
                    while time.monotonic() < deadline:
                        started = time.monotonic()
                        answer = client.post(
                            "/api/donors", json={"sex": "F", "birth_year": 1980}, headers=headers
                        )
                        latencies.append(time.monotonic() - started)
                        errors += answer.status_code != 201

            started = time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(writer, range(args.clients)))
            elapsed = time.monotonic() - started
        finally:
            stop_server(server.process)
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return len(latencies) / elapsed, statistics.median(ordered) * 1000, p99 * 1000, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5433/postgres")
    args = parser.parse_args()
    print(f"{args.clients} writers, {args.seconds:g} s each; POST /api/donors (audited)")
    print("workers  writes/s  p50 ms  p99 ms  errors")
    for workers in (1, 4):
        rate, p50, p99, errors = measure(workers, args)
        print(f"{workers:>7}  {rate:8.1f}  {p50:6.0f}  {p99:6.0f}  {errors:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
