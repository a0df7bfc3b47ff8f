"""Benchmark: scan parsing throughput, and scan resolution over HTTP against /healthz.

    python -m tests.benchmarks.bench_scan [--records 100000] [--requests 3000]

Parsing: a realistic mix of bench scans (DINs with flags, DIN + product code, product code +
expiry, local codes, the same typed under a Russian layout, hand-typed DINs), parsed in one
process. GS1 supplier codes (parsed by biip) are measured and reported apart.

HTTP: a SQLite database with ``--records`` resolvable records (staff badges: the kind that exists
so far), served by uvicorn on loopback; the p99 latency of ``GET /api/scan`` for random records is
compared with that of ``GET /healthz`` measured in the same run, alternating requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert

from mfg.accounts.scan import staff_code
from mfg.auth.passwords import hash_password
from mfg.config import Settings
from mfg.db import make_engine, unit_of_work, upgrade_database
from mfg.identifiers.isbt128 import Din, ProductCode
from mfg.identifiers.local import LocalId
from mfg.identifiers.scan import parse_scan
from mfg.models import User
from tests.identifiers.test_scan import typed_in_russian_layout

PARSE_TARGET = 100_000  # scans per second
LATENCY_RATIO_TARGET = 2.0


def scan_mix(n: int) -> list[str]:
    rng = random.Random(7)
    scans = []
    for i in range(n):
        din = Din("A9999", 26, rng.randint(1, 999_999))
        code = ProductCode("S1234", "V", ProductCode.division_code(rng.randint(0, 9)))
        local = LocalId(rng.choice(["CV", "QS", "ML", "PT", "DN"]), rng.randint(1, 999_999))
        kind = i % 7
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
        else:
            scans.append(f"{din.eye_readable} {din.check}")
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


def seed(url: str, records: int, settings: Settings) -> list[str]:
    engine = make_engine(url)
    upgrade_database(engine)
    password_hash = hash_password("benchmark-password-1", profile="test")
    rows = [
        {
            "username": f"user{i:06d}",
            "full_name": f"Benchmark User {i}",
            "roles": "technician",
            "password_hash": password_hash,
        }
        for i in range(records)
    ]
    with unit_of_work(engine, settings=settings) as session:
        for start in range(0, records, 5_000):
            session.execute(insert(User), rows[start : start + 5_000])
    engine.dispose()
    return [str(staff_code(User(id=i))) for i in range(1, records + 1)]


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


def bench_http(records: int, requests: int) -> tuple[float, float, float, float]:
    workdir = Path(tempfile.mkdtemp(prefix="mfg-bench-"))
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        data_dir=workdir,
        secret_key="benchmark-secret-key-0123456789-abcdef",
        password_hashing="test",
    )
    codes = seed(settings.effective_database_url, records, settings)
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

    login = {"username": "user000000", "password": "benchmark-password-1"}
    status, data, _ = call("POST", "/api/auth/token", login)
    headers = {"Authorization": f"Bearer {json.loads(data)['access_token']}"}
    for i in range(requests + 200):
        status, _, elapsed_health = call("GET", "/healthz")
        assert status == 200
        query = urlencode({"code": rng.choice(codes)})
        status, data, elapsed_scan = call("GET", f"/api/scan?{query}", headers=headers)
        assert status == 200, data
        if i >= 200:  # warm-up excluded
            health_ms.append(elapsed_health)
            scan_ms.append(elapsed_scan)
    connection.close()
    server.send_signal(signal.SIGINT)
    server.wait(timeout=20)
    return (
        percentile(scan_ms, 0.99),
        percentile(health_ms, 0.99),
        statistics.median(scan_ms),
        statistics.median(health_ms),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3_000)
    args = parser.parse_args()

    rate, gs1_rate = bench_parse()
    print(f"parse+normalise, bench mix : {rate:,.0f} scans/s (target >= {PARSE_TARGET:,})")
    print(f"parse, GS1 supplier codes  : {gs1_rate:,.0f} scans/s (biip; material receipt only)")
    scan_p99, health_p99, scan_p50, health_p50 = bench_http(args.records, args.requests)
    ratio = scan_p99 / health_p99
    print(f"GET /api/scan, {args.records:,} records: p50 {scan_p50:.2f} ms, p99 {scan_p99:.2f} ms")
    print(f"GET /healthz (same run)    : p50 {health_p50:.2f} ms, p99 {health_p99:.2f} ms")
    print(f"p99 ratio scan/healthz     : {ratio:.2f} (target <= {LATENCY_RATIO_TARGET})")
    ok = rate >= PARSE_TARGET and ratio <= LATENCY_RATIO_TARGET
    print("RESULT:", "targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
