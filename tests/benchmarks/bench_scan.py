"""Benchmark: scan parsing throughput, and scan resolution over HTTP against /healthz.

    python -m tests.benchmarks.bench_scan [--doses 100000] [--requests 3000] [--database-url URL]

Parsing: a realistic mix of bench scans (DINs with flags, DIN + product code, product code +
expiry, local codes, the same typed under a Russian layout, hand-typed DINs, a DIN + product code
scanned with Caps Lock on), parsed in one
process. GS1 supplier codes (parsed by biip) are measured and reported apart.

HTTP: a database (a new SQLite file, or the empty database ``--database-url`` names) with
``--doses`` doses in lots of 25, bulk-inserted, served by uvicorn on loopback; the p99 latency of
``GET /api/scan`` for the DataMatrix codes of random doses (DIN + product code + expiry, as their
labels read) is compared with that of ``GET /healthz`` measured in the same run, alternating
requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert

from mfg.auth.passwords import hash_password
from mfg.config import Settings
from mfg.db import make_engine, unit_of_work, upgrade_database
from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from mfg.identifiers.local import LocalId
from mfg.identifiers.scan import parse_scan
from mfg.manufacturing.doses import COLLECTION_TYPE, dose_identifier
from mfg.manufacturing.rules import dose_expiry
from mfg.models import AllocatedDin, DinSequence, Dose, DoseStatus, Lot, LotStatus, User, utcnow
from tests.identifiers.test_scan import typed_in_russian_layout

PARSE_TARGET = 100_000  # scans per second
LATENCY_RATIO_TARGET = 2.0
DOSES_PER_LOT = 25
CELLS_PER_DOSE = 100_000_000


def scan_mix(n: int) -> list[str]:
    rng = random.Random(7)
    scans = []
    for i in range(n):
        din = Din("A9999", 26, rng.randint(1, 999_999))
        code = ProductCode("S1234", "V", ProductCode.division_code(rng.randint(0, 9)))
        local = LocalId(rng.choice(["CV", "QS", "ML", "PT", "DN"]), rng.randint(1, 999_999))
        kind = i % 8
        if kind == 0:
            scans.append(din.barcode_data())
        elif kind == 1:
            scans.append(din.barcode_data() + code.barcode_data())
        elif kind == 2:
            scans.append(code.barcode_data() + "&>0263332359")
        elif kind == 3:
            scans.append(str(local))
        elif kind == 4:
            scans.append(typed_in_russian_layout(din.barcode_data() + code.barcode_data()))
        elif kind == 5:
            scans.append(typed_in_russian_layout(local.eye_readable))
        elif kind == 6:
            scans.append(f"{din.eye_readable} {din.check}")
        else:  # scanned with Caps Lock on
            scans.append((din.barcode_data() + code.barcode_data()).lower())
    return scans


def bench_parse() -> tuple[float, float]:
    scans = scan_mix(70_000)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for raw in scans:
            parse_scan(raw)
        best = max(best, len(scans) / (time.perf_counter() - start))
    gs1 = ["]C10109501101020917172705081" + f"0LOT{i}\x1d21SN{i}" for i in range(5_000)]
    start = time.perf_counter()
    for raw in gs1:
        parse_scan(raw)
    return best, len(gs1) / (time.perf_counter() - start)


def seed(url: str, doses: int, settings: Settings) -> list[str]:
    """A technician, then ``doses`` released doses in lots of DOSES_PER_LOT, bulk-inserted: one
    lot pooled every 2 h until a month ago, its DIN numbered in the year it was pooled, as
    ``allocate_din`` numbers them. Returns the DataMatrix code of each dose's label."""
    engine = make_engine(url)
    upgrade_database(engine)
    tz, now = settings.tz, utcnow()
    lot_count = -(-doses // DOSES_PER_LOT)
    pooled = [now - timedelta(days=30, hours=2 * (lot_count - n)) for n in range(lot_count)]
    last: Counter[int] = Counter()  # the DIN sequence of each year
    dins = []
    for pooled_at in pooled:
        year = pooled_at.astimezone(tz).year % 100
        last[year] += 1
        dins.append(Din(settings.facility_fin, year, last[year]))
    codes, dose_rows = [], []
    with unit_of_work(engine, settings=settings) as session:
        user = {
            "username": "bench",
            "full_name": "Benchmark Technician",
            "roles": "technician",
            "password_hash": hash_password("benchmark-password-1", profile="test"),
        }
        user_id = session.execute(insert(User).returning(User.id), user).scalar_one()
        sequences = [{"fin": settings.facility_fin, "year": y, "last": n} for y, n in last.items()]
        session.execute(insert(DinSequence), sequences)
        session.execute(insert(AllocatedDin), [{"din": str(din), "kind": "lot"} for din in dins])
        lots = [
            {
                "din": str(din),
                "status": LotStatus.RELEASED,
                "pooled_at": pooled_at,
                "total_cells": DOSES_PER_LOT * CELLS_PER_DOSE,
                "created_by_id": user_id,
            }
            for din, pooled_at in zip(dins, pooled, strict=True)
        ]
        lot_ids = session.scalars(
            insert(Lot).returning(Lot.id, sort_by_parameter_order=True), lots
        ).all()
        for lot_id, din, pooled_at in zip(lot_ids, dins, pooled, strict=True):
            filled_at = pooled_at + timedelta(days=21)
            expires_at = dose_expiry(
                filled_at, shelf_life_days=settings.dose_shelf_life_days, tz=tz
            )
            for index in range(min(DOSES_PER_LOT, doses - len(dose_rows))):
                code = ProductCode(
                    settings.product_code, COLLECTION_TYPE, ProductCode.division_code(index)
                )
                dose_rows.append(
                    {
                        "identifier": dose_identifier(str(din), code),
                        "lot_id": lot_id,
                        "product_code": str(code),
                        "division": code.division,
                        "cells": CELLS_PER_DOSE,
                        "volume_ml": 10.0,
                        "container": "CryoMACS 250",
                        "filled_at": filled_at,
                        "expires_at": expires_at,
                        "status": DoseStatus.AVAILABLE,
                        "created_by_id": user_id,
                    }
                )
                codes.append(
                    din.barcode_data() + code.barcode_data() + format_expiry(expires_at, tz)
                )
        session.execute(insert(Dose), dose_rows)
    engine.dispose()
    return codes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=1000)[int(q * 1000) - 1]


def bench_http(
    doses: int, requests: int, database_url: str | None
) -> tuple[float, float, float, float]:
    workdir = Path(tempfile.mkdtemp(prefix="mfg-bench-"))
    settings = Settings(
        database_url=database_url or f"sqlite:///{workdir / 'bench.db'}",
        data_dir=workdir,
        secret_key="benchmark-secret-key-0123456789-abcdef",
        password_hashing="test",
    )
    codes = seed(settings.effective_database_url, doses, settings)
    port = free_port()
    env = {
        **os.environ,
        "MFG_DATABASE_URL": settings.effective_database_url,
        "MFG_SECRET_KEY": settings.secret_key,
        "MFG_DATA_DIR": str(workdir),
    }
    # The server runs as users run it (`mfg serve`), in its own process: the client's work must
    # not share the server's interpreter lock.
    server = subprocess.Popen(
        [sys.executable, "-m", "mfg.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_serving(port)
    rng = random.Random(11)
    scan_ms, health_ms = [], []
    connection = http.client.HTTPConnection("127.0.0.1", port)  # one kept-alive connection

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None):
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        start = time.perf_counter()
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - start) * 1000

    try:  # the server stops even when a request fails
        login = {"username": "bench", "password": "benchmark-password-1"}
        status, data, _ = call("POST", "/api/auth/token", login)
        headers = {"Authorization": f"Bearer {json.loads(data)['access_token']}"}
        for i in range(requests + 200):
            status, _, elapsed_health = call("GET", "/healthz")
            assert status == 200
            query = urlencode({"code": rng.choice(codes)})
            status, data, elapsed_scan = call("GET", f"/api/scan?{query}", headers=headers)
            assert status == 200 and json.loads(data)["kind"] == "dose", data
            if i >= 200:  # warm-up excluded
                health_ms.append(elapsed_health)
                scan_ms.append(elapsed_scan)
    finally:
        connection.close()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    return (
        percentile(scan_ms, 0.99),
        percentile(health_ms, 0.99),
        statistics.median(scan_ms),
        statistics.median(health_ms),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument(
        "--database-url", help="an empty database to use instead of a new SQLite file"
    )
    args = parser.parse_args()

    rate, gs1_rate = bench_parse()
    print(f"parse+normalise, bench mix : {rate:,.0f} scans/s (target >= {PARSE_TARGET:,})")
    print(f"parse, GS1 supplier codes  : {gs1_rate:,.0f} scans/s (biip; material receipt only)")
    scan_p99, health_p99, scan_p50, health_p50 = bench_http(
        args.doses, args.requests, args.database_url
    )
    load = os.getloadavg()[0]  # the ratio means little on a busy machine: say how busy it was
    ratio = scan_p99 / health_p99
    print(f"GET /api/scan, {args.doses:,} doses : p50 {scan_p50:.2f} ms, p99 {scan_p99:.2f} ms")
    print(f"GET /healthz (same run)    : p50 {health_p50:.2f} ms, p99 {health_p99:.2f} ms")
    print(f"p99 ratio scan/healthz     : {ratio:.2f} (target <= {LATENCY_RATIO_TARGET})")
    print(f"p50 ratio scan/healthz     : {scan_p50 / health_p50:.2f} (no target)")
    print(f"load average, last minute  : {load:.2f} on {os.cpu_count()} CPUs")
    ok = rate >= PARSE_TARGET and ratio <= LATENCY_RATIO_TARGET
    print("RESULT:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
