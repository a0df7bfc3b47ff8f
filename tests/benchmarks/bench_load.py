"""Benchmark: the server under concurrent bench load (scans, reads, audited writes).

    python -m tests.benchmarks.bench_load [--config sqlite|pg1|pg4|all] [--clients 10,50,100]
        [--seconds 30] [--rounds 2] [--postgres-url URL] [--timeout 30] [--keep]

Each configuration starts ``mfg serve --demo`` in its own process on a fresh database (a new
SQLite data directory, or a new PostgreSQL database created on the server ``--postgres-url``
names and dropped afterwards), logs in as demo users of several roles, and builds its scan list
from the API: the DataMatrix codes of the demo's doses and the local codes of its patients,
culture vessels and material lots. Then, for each client count, that many asyncio clients
(each with an ``httpx2.AsyncClient`` of its own, one connection) loop for ``--seconds`` over
the bench mix:

- every step: scan a label (``GET /api/scan?code=…``) and read the record it names (its API
  read, e.g. ``GET /api/doses/{identifier}``), as a technician;
- every fifth step, an audited write, alternately a bedside check as a clinician
  (``POST /api/bedside/checks``, stored pass or fail) and a dose label reprint with a reason
  (``GET /api/labels/dose/{identifier}.pdf?reason=…``);
- every twentieth step, a GET that writes: alternately a lot's release certificate
  (``GET /api/lots/{DIN}/certificate.pdf``) and a dose's FHIR Bundle, both audited.

The client counts run in rounds, every other round in reverse (10, 50, 100, then 100, 50, 10):
every write lengthens the histories later requests read, so a count run later would meet more
data; balanced rounds give each count the same on average. Each count's rounds are merged.

It prints, per client count, requests, throughput, p50/p95/p99/max latency, 5xx, transport
errors and timeouts, 4xx by code, the server's processor time per request; then whether the
audit chain is intact (``GET /api/audit/verify`` as QA, and ``mfg audit verify`` on the same
database once the server is stopped); then the targets at 50 clients, PASS or FAIL each. Exit
status 1 if any is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import httpx2 as httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from mfg.config import Settings
from mfg.identifiers.isbt128 import Din, ProductCode, format_expiry
from tests.benchmarks.bench_scan import free_port, wait_until_serving

CONFIGS = ("sqlite", "pg1", "pg4")
DESCRIPTIONS = {
    "sqlite": "SQLite, one process",
    "pg1": "PostgreSQL, one worker",
    "pg4": "PostgreSQL, four workers (mfg serve --workers 4)",
}
WORKERS = {"sqlite": None, "pg1": None, "pg4": 4}
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5433/postgres"

# Targets, judged at TARGET_CLIENTS clients.
TARGET_CLIENTS = 50
BASELINE_CLIENTS = 10
MAX_LATENCY_S = 3.0
P99_TARGET_S = 1.0

WRITE_EVERY = 5  # an audited write every fifth step
HEAVY_EVERY = 20  # a GET that writes (certificate, FHIR Bundle) every twentieth step
TECHNICIANS = ("tech", "tech2")
CLINICIANS = ("doctor", "doctor2")
AUDITOR = "qa"
# The demo's passwords (mfg/demo/__init__.py); `mfg serve --demo` prints them too.
DEMO_PASSWORDS = {
    "tech": "demo-linden-2026",
    "tech2": "demo-maple-2026",
    "doctor": "demo-willow-2026",
    "doctor2": "demo-rowan-2026",
    "qa": "demo-oak-tree-2026",
}
# The API read of each kind of record a scan names.
READ_PATHS = {
    "dose": "/api/doses/{}",
    "lot": "/api/lots/{}",
    "culture": "/api/cultures/{}",
    "patient": "/api/patients/{}",
    "material": "/api/materials/{}",
}
SERVER_START_TIMEOUT_S = 300  # the demo is loaded before the server listens
SETUP_TIMEOUT_S = 180  # logins, setup reads and the audit verification
IDLE_HEALTHZ_S = 1.0  # the server is idle again when /healthz answers within this


class BenchError(RuntimeError):
    """The benchmark cannot go on (server did not start, login refused, no data to scan)."""


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``mfg serve --demo`` and what the clients need to reach it."""

    process: subprocess.Popen[bytes]
    base_url: str
    env: dict[str, str]
    log_path: Path


def serve_supports_workers() -> bool:
    """Whether ``mfg serve --help`` lists ``--workers``."""
    result = subprocess.run(
        [sys.executable, "-m", "mfg.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--workers" in result.stdout


def start_server(workdir: Path, database_url: str | None, workers: int | None) -> Server:
    """``mfg serve --demo`` in its own process, as users run it, on ``database_url`` (or a new
    SQLite file in ``workdir``); its output goes to ``workdir/server.log``."""
    port = free_port()
    env = {
        **os.environ,
        "MFG_DATA_DIR": str(workdir),
        "MFG_SECRET_KEY": secrets.token_urlsafe(48),  # the same for every worker
    }
    env.pop("MFG_DATABASE_URL", None)
    if database_url:
        env["MFG_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "mfg.cli", "serve", "--demo", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(port, timeout=SERVER_START_TIMEOUT_S)
    except RuntimeError:
        stop_server(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        raise BenchError(f"the server did not start; its output ends with:\n{tail}") from None
    if process.poll() is not None:
        raise BenchError(f"the server exited at start (status {process.returncode})")
    return Server(process, f"http://127.0.0.1:{port}", env, log_path)


def process_tree_cpu_s(pid: int) -> float:
    """Processor time (user + system) used so far by process ``pid`` and its descendants (the
    workers), from ``/proc``; 0 where there is no ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the command name may hold spaces: the fields after it start at the last ")"
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / tick
    tree, pending = {pid}, [pid]
    while pending:
        parent = pending.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                pending.append(child)
    return sum(times.get(p, 0.0) for p in tree)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, as a user stops it; killed if it has not stopped 20 s later."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server ``admin_url`` connects to; dropped on exit."""
    name = f"bench_load_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_log_errors(log_path: Path) -> Counter[str]:
    """The exceptions the server logged: the last line of each traceback, by count."""
    errors: Counter[str] = Counter()
    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Locked)\w*)(: .*)?$")
    for line in log_path.read_text(errors="replace").splitlines():
        match = pattern.match(line.strip())
        if match:
            errors[line.strip()[:160]] += 1
    return errors


def audit_verify_cli(server: Server) -> tuple[bool, str]:
    """``mfg audit verify`` against the server's database (run once the server is stopped)."""
    result = subprocess.run(
        [sys.executable, "-m", "mfg.cli", "audit", "verify"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


# --------------------------------------------------------------------------------------------
# Setup over the API: tokens and the scan list
# --------------------------------------------------------------------------------------------


def login(client: httpx.Client, username: str) -> str:
    """A bearer token for a demo user. One attempt only: a wrong password counts towards the
    lockout, so a refusal stops the benchmark with the server's reason."""
    response = client.post(
        "/api/auth/token", json={"username": username, "password": DEMO_PASSWORDS[username]}
    )
    if response.status_code != 200:
        raise BenchError(f"login of {username} refused: {response.status_code} {response.text}")
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Workload:
    """What the clients scan, read and write: all checked once over the API before timing."""

    scans: list[tuple[str, str]]  # (code as scanned, API read path of the record it names)
    dose_labels: list[str]  # DataMatrix codes of doses, for bedside checks
    wristbands: list[str]  # patient codes
    reprints: list[str]  # dose identifiers whose label was printed once already
    heavy: list[str]  # certificate and FHIR paths that answered 200


def dose_datamatrix(dose: dict, settings: Settings) -> str:
    """The code a dose's label carries: DIN + flags, product code, expiry."""
    expires_at = datetime.fromisoformat(dose["expires_at"])
    return (
        Din.parse(dose["identifier"][:13]).barcode_data()
        + ProductCode.parse(dose["product_code"]).barcode_data()
        + format_expiry(expires_at, settings.tz)
    )


def build_workload(client: httpx.Client, tech: str) -> Workload:
    """The doses, patients, culture vessels and material lots of the demo, read as a
    technician; each scan resolved once, each dose label printed once (so that every print
    under load is a reprint, which needs a reason), each certificate and Bundle fetched once."""
    headers = bearer(tech)
    settings = Settings()

    def items(path: str) -> list[dict]:
        response = client.get(path, params={"limit": 500}, headers=headers)
        response.raise_for_status()
        return response.json()["items"]

    doses = items("/api/doses")
    patients = [p["code"] for p in items("/api/patients")]
    local_codes = patients + [c["code"] for c in items("/api/cultures")]
    local_codes += [m["code"] for m in items("/api/materials")]
    dose_labels = [dose_datamatrix(d, settings) for d in doses]
    scans = []
    for code in dose_labels + local_codes:
        response = client.get("/api/scan", params={"code": code}, headers=headers)
        if response.status_code != 200:
            print(f"  (setup) scan of {code!r} answered {response.status_code}: left out")
            continue
        found = response.json()
        if found["kind"] in READ_PATHS:
            scans.append((code, READ_PATHS[found["kind"]].format(quote(found["identifier"]))))
    reprints = []
    for dose in doses:
        path = f"/api/labels/dose/{quote(dose['identifier'])}.pdf"
        reason = {"reason": "benchmark setup: first print"}
        if client.get(path, params=reason, headers=headers).status_code == 200:
            reprints.append(dose["identifier"])
    heavy = []
    for lot in items("/api/lots"):
        heavy.append(f"/api/lots/{quote(lot['din'])}/certificate.pdf")
    heavy = [path for path in heavy if client.get(path, headers=headers).status_code == 200]
    bundles = [f"/api/fhir/doses/{quote(d['identifier'])}" for d in doses]
    bundles = [path for path in bundles if client.get(path, headers=headers).status_code == 200]
    # alternate certificates and Bundles
    heavy = [p for pair in itertools.zip_longest(heavy, bundles) for p in pair if p]
    if not scans or not dose_labels or not patients or not reprints:
        raise BenchError("the demo data gave nothing to scan, check or reprint")
    return Workload(scans, dose_labels, patients, reprints, heavy)


# --------------------------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # scan, read, bedside, reprint, certificate, fhir
    status: int | None  # None: no response (transport error or timeout)
    seconds: float
    error: str = ""  # the API's error code, or the transport error's class


@dataclass
class LevelResult:
    clients: int
    wall_s: float
    client_cpu_s: float
    load_average: float  # of the last minute, at the end of the level
    samples: list[Sample] = field(default_factory=list)
    drain_s: float = 0.0  # how long the server stayed busy once the clients stopped
    server_cpu_s: float = 0.0  # processor time of the server's processes during the level

    def merged(self, other: LevelResult) -> LevelResult:
        """This level and another run of the same client count, as one measurement."""
        return LevelResult(
            self.clients,
            self.wall_s + other.wall_s,
            self.client_cpu_s + other.client_cpu_s,
            max(self.load_average, other.load_average),
            self.samples + other.samples,
            max(self.drain_s, other.drain_s),
            self.server_cpu_s + other.server_cpu_s,
        )

    @property
    def latencies(self) -> list[float]:
        return sorted(s.seconds for s in self.samples)

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall_s

    def quantile(self, q: float) -> float:
        ordered = self.latencies
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.samples if s.status is not None and s.status >= 500)

    @property
    def timeouts(self) -> int:
        return sum(1 for s in self.samples if s.status is None and "Timeout" in s.error)

    @property
    def transport_errors(self) -> int:
        return sum(1 for s in self.samples if s.status is None and "Timeout" not in s.error)

    def client_errors(self) -> Counter[str]:
        return Counter(
            f"{s.status} {s.error}" for s in self.samples if s.status and 400 <= s.status < 500
        )

    def failures(self) -> Counter[str]:
        """Failed requests by kind and cause: 5xx with the API's code, transport errors."""
        return Counter(
            f"{s.kind}: {s.status or 'no response'} {s.error}".rstrip()
            for s in self.samples
            if s.status is None or s.status >= 500
        )


async def timed(
    client: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs: object
) -> tuple[Sample, httpx.Response | None]:
    """One request, its latency and outcome; errors are recorded, never raised."""
    start = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        return Sample(kind, None, time.perf_counter() - start, type(exc).__name__), None
    elapsed = time.perf_counter() - start
    error = ""
    if response.status_code >= 400:
        try:
            error = response.json().get("error", {}).get("code", "")
        except ValueError:
            error = "(not JSON)"
    return Sample(kind, response.status_code, elapsed, error), response


async def bench_client(
    index: int,
    client: httpx.AsyncClient,
    tokens: dict[str, str],
    work: Workload,
    deadline: float,
    samples: list[Sample],
) -> None:
    """One bench: scan and read until the deadline, with its writes; technician and clinician
    accounts shared out among the clients by their index."""
    rng = random.Random(index)
    tech = bearer(tokens[TECHNICIANS[index % len(TECHNICIANS)]])
    doctor = bearer(tokens[CLINICIANS[index % len(CLINICIANS)]])
    # Each bench enters the cycle of twenty steps at a point of its own: people at different
    # benches do not write in step (started in step, fifty clients sent their writes at once).
    for step in itertools.count(1 + rng.randrange(HEAVY_EVERY)):
        if time.perf_counter() >= deadline:
            return
        code, read_path = rng.choice(work.scans)
        sample, response = await timed(
            client, "scan", "GET", "/api/scan", params={"code": code}, headers=tech
        )
        samples.append(sample)
        if response is not None and response.status_code == 200:
            sample, _ = await timed(client, "read", "GET", read_path, headers=tech)
            samples.append(sample)
        if step % WRITE_EVERY == 0:
            if (step // WRITE_EVERY) % 2:
                body = {
                    "wristband": rng.choice(work.wristbands),
                    "dose": rng.choice(work.dose_labels),
                }
                sample, _ = await timed(
                    client, "bedside", "POST", "/api/bedside/checks", json=body, headers=doctor
                )
            else:
                path = f"/api/labels/dose/{quote(rng.choice(work.reprints))}.pdf"
                reason = {"reason": f"benchmark reprint: label damaged (client {index})"}
                sample, _ = await timed(client, "reprint", "GET", path, params=reason, headers=tech)
            samples.append(sample)
        if step % HEAVY_EVERY == 0 and work.heavy:
            path = work.heavy[(step // HEAVY_EVERY + index) % len(work.heavy)]
            kind = "certificate" if path.endswith("certificate.pdf") else "fhir"
            sample, _ = await timed(client, kind, "GET", path, headers=tech)
            samples.append(sample)


async def run_level(
    base_url: str,
    tokens: dict[str, str],
    work: Workload,
    clients: int,
    seconds: float,
    timeout: float,
) -> LevelResult:
    """``clients`` benches at once for ``seconds``, each with a client and a connection of its
    own, as each bench's scanner terminal has; requests in flight at the end are waited for and
    counted. (One client shared by all would scan its whole connection pool for each request:
    the client's own processor time per request would grow with the number of clients, on the
    processors the server shares.)"""
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        benches = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout), limits=limits)
            )
            for _ in range(clients)
        ]
        cpu, start = time.process_time(), time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(
            *(
                bench_client(i, bench, tokens, work, deadline, samples)
                for i, bench in enumerate(benches)
            )
        )
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return LevelResult(clients, wall, cpu, os.getloadavg()[0], samples)


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


HEADER = (
    f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
    f"{'max ms':>7} {'5xx':>5} {'transp':>6} {'timeout':>7} {'4xx':>5} "
    f"{'client CPU':>10} {'server CPU':>10} {'ms CPU/req':>10} {'load':>5}"
)


def level_row(result: LevelResult) -> str:
    ms = 1000
    return (
        f"{result.clients:>7} {len(result.samples):>8} {result.throughput:>7.1f} "
        f"{result.quantile(0.50) * ms:>7.0f} {result.quantile(0.95) * ms:>7.0f} "
        f"{result.quantile(0.99) * ms:>7.0f} {result.quantile(1.0) * ms:>7.0f} "
        f"{result.server_errors:>5} {result.transport_errors:>6} {result.timeouts:>7} "
        f"{sum(result.client_errors().values()):>5} "
        f"{result.client_cpu_s / result.wall_s:>10.0%} "
        f"{result.server_cpu_s / result.wall_s:>10.0%} "
        f"{result.server_cpu_s * ms / max(1, len(result.samples)):>10.2f} "
        f"{result.load_average:>5.1f}"
    )


def level_details(result: LevelResult) -> list[str]:
    """Per kind of request: count and p99; then 4xx by code and failures by kind."""
    lines = []
    kinds = sorted({s.kind for s in result.samples})
    per_kind = []
    for kind in kinds:
        times = sorted(s.seconds for s in result.samples if s.kind == kind)
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        per_kind.append(f"{kind} {len(times)} (p99 {p99 * 1000:.0f} ms)")
    lines.append(f"          by kind: {', '.join(per_kind)}")
    if result.drain_s >= IDLE_HEALTHZ_S:
        lines.append(
            f"          server still busy {result.drain_s:.1f} s after the clients stopped"
        )
    if result.client_errors():
        codes = ", ".join(f"{k} x{n}" for k, n in result.client_errors().most_common())
        lines.append(f"          4xx: {codes}")
    if result.failures():
        failed = ", ".join(f"{k} x{n}" for k, n in result.failures().most_common(8))
        lines.append(f"          failed: {failed}")
    return lines


@dataclass
class ConfigResult:
    name: str
    levels: list[LevelResult]
    audit_ok: bool
    audit_message: str
    skipped: str = ""  # why the configuration was not run
    error: str = ""  # why it stopped before measuring


def judge(result: ConfigResult) -> list[tuple[str, bool | None]]:
    """The targets of one configuration: (description, met; None when not measured)."""
    by_clients = {level.clients: level for level in result.levels}
    at = by_clients.get(TARGET_CLIENTS)
    base = by_clients.get(BASELINE_CLIENTS)
    n = TARGET_CLIENTS
    checks: list[tuple[str, bool | None]] = []
    if at is None:
        checks.append((f"targets at {n} clients (not run)", None))
    else:
        errors = at.server_errors + at.transport_errors + at.timeouts
        checks += [
            (f"0 server or transport errors at {n} clients (saw {errors})", errors == 0),
            (
                f"no request over {MAX_LATENCY_S:.0f} s at {n} clients "
                f"(max {at.quantile(1.0):.2f} s)",
                at.quantile(1.0) <= MAX_LATENCY_S,
            ),
            (
                f"p99 <= {P99_TARGET_S:.0f} s at {n} clients (p99 {at.quantile(0.99):.2f} s)",
                at.quantile(0.99) <= P99_TARGET_S,
            ),
        ]
        if base is None:
            checks.append((f"throughput at {n} >= at {BASELINE_CLIENTS} (not run)", None))
        else:
            checks.append(
                (
                    f"throughput at {n} clients >= at {BASELINE_CLIENTS} "
                    f"({at.throughput:.1f} vs {base.throughput:.1f} req/s)",
                    at.throughput >= base.throughput,
                )
            )
    checks.append((f"audit chain intact ({result.audit_message})", result.audit_ok))
    return checks


def print_config(result: ConfigResult) -> bool:
    """Print a configuration's table and its targets; True when none judged was missed."""
    print(f"\n== {DESCRIPTIONS[result.name]} [{result.name}]")
    if result.skipped:
        print(f"   SKIPPED: {result.skipped}")
        return True
    print(HEADER)
    for level in result.levels:
        print(level_row(level))
        for line in level_details(level):
            print(line)
    ok = True
    if result.error:
        print(f"   FAIL the benchmark stopped: {result.error}")
        ok = False
    for description, met in judge(result):
        verdict = "n/a " if met is None else ("PASS" if met else "FAIL")
        print(f"   {verdict} {description}")
        ok = ok and met is not False
    return ok


# --------------------------------------------------------------------------------------------
# One configuration
# --------------------------------------------------------------------------------------------


def run_config(name: str, args: argparse.Namespace) -> ConfigResult:
    """Start the server of configuration ``name`` on a fresh database, run every client count
    against it, verify the audit chain, stop it and clean up."""
    workers = WORKERS[name]
    if workers is not None and not serve_supports_workers():
        return ConfigResult(
            name, [], False, "", skipped="`mfg serve --help` does not list --workers yet"
        )
    workdir = Path(tempfile.mkdtemp(prefix=f"mfg-bench-load-{name}-"))
    try:
        if name == "sqlite":
            return run_against(name, workdir, None, workers, args)
        with postgres_database(args.postgres_url) as url:
            return run_against(name, workdir, url, workers, args)
    finally:
        if args.keep:
            print(f"   (kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_against(
    name: str,
    workdir: Path,
    database_url: str | None,
    workers: int | None,
    args: argparse.Namespace,
) -> ConfigResult:
    """Serve, measure each client count, verify the audit chain; a server too stalled to log
    in or verify ends the configuration with what was measured so far."""
    print(f"\n-- {DESCRIPTIONS[name]}: starting mfg serve --demo", flush=True)
    started = time.perf_counter()
    server = start_server(workdir, database_url, workers)
    print(f"   serving after {time.perf_counter() - started:.0f} s (demo loaded)", flush=True)
    levels: list[LevelResult] = []
    # The API's verification is not reached when the server stalls: the CLI's still judges.
    error, api_ok, api_message = "", True, "API: not reached"
    try:
        # Setup, logins and the verification wait longer than the clients: after a level the
        # server may still be working through requests whose clients gave up.
        with httpx.Client(base_url=server.base_url, timeout=SETUP_TIMEOUT_S) as client:
            work = build_workload(client, login(client, TECHNICIANS[0]))
            print(
                f"   scan list: {len(work.scans)} codes; {len(work.reprints)} dose labels; "
                f"{len(work.heavy)} certificates and Bundles",
                flush=True,
            )
            for clients in level_order(args.clients, args.rounds):
                # Fresh tokens for each level: a token lives token_lifetime_minutes.
                tokens = {u: login(client, u) for u in TECHNICIANS + CLINICIANS}
                server_cpu = process_tree_cpu_s(server.process.pid)
                level = asyncio.run(
                    run_level(server.base_url, tokens, work, clients, args.seconds, args.timeout)
                )
                level.server_cpu_s = process_tree_cpu_s(server.process.pid) - server_cpu
                level.drain_s = wait_until_idle(client)
                levels.append(level)
                print(
                    f"   {clients} clients: {len(level.samples)} requests, "
                    f"{level.throughput:.1f} req/s; /healthz answered in under "
                    f"{IDLE_HEALTHZ_S:g} s {level.drain_s:.1f} s after the level",
                    flush=True,
                )
            response = client.get("/api/audit/verify", headers=bearer(login(client, AUDITOR)))
        api_ok = response.status_code == 200 and response.json()["ok"]
        api_message = (
            f"API: {response.json()['events']} events, {response.json()['message']}"
            if response.status_code == 200
            else f"API answered {response.status_code}"
        )
    except (httpx.HTTPError, BenchError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        print(f"   stopped: {error}", flush=True)
    finally:
        stop_server(server.process)
    cli_ok, cli_message = audit_verify_cli(server)
    errors = server_log_errors(server.log_path)
    if errors:
        print("   exceptions in the server's log (last line of each traceback):")
        for line, count in errors.most_common(8):
            print(f"     {count:>5} x {line}")
    return ConfigResult(
        name,
        merge_rounds(levels),
        api_ok and cli_ok,
        f"{api_message}; CLI: {cli_message}",
        error=error,
    )


def level_order(clients: list[int], rounds: int) -> list[int]:
    """The client counts of every round, every other round in reverse (10, 50, 100, 100, 50,
    10): each write adds to the histories the next requests read, so a level run later meets
    more data; in balanced rounds every count meets on average the same."""
    order: list[int] = []
    for round_number in range(rounds):
        order += clients if round_number % 2 == 0 else clients[::-1]
    return order


def merge_rounds(levels: list[LevelResult]) -> list[LevelResult]:
    """One result per client count, its rounds merged, in the order first run."""
    merged: dict[int, LevelResult] = {}
    for level in levels:
        merged[level.clients] = (
            merged[level.clients].merged(level) if level.clients in merged else level
        )
    return list(merged.values())


def wait_until_idle(client: httpx.Client) -> float:
    """Seconds until ``GET /healthz`` answers within IDLE_HEALTHZ_S again (at most
    SETUP_TIMEOUT_S): how long the server stayed busy with a level's requests after it ended."""
    start = time.perf_counter()
    while time.perf_counter() - start < SETUP_TIMEOUT_S:
        try:
            if client.get("/healthz", timeout=IDLE_HEALTHZ_S).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------


def client_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive client counts")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=(*CONFIGS, "all"), default="all")
    parser.add_argument(
        "--clients", type=client_counts, default=[10, 50, 100], help="e.g. 10,50,100"
    )
    parser.add_argument("--seconds", type=float, default=30, help="per client count and round (30)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds over the client counts, every other one in reverse order (2)",
    )
    parser.add_argument("--timeout", type=float, default=30, help="client timeout, s (30)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a PostgreSQL server to create each run's database on (and drop it from)",
    )
    parser.add_argument("--keep", action="store_true", help="keep data dirs and server logs")
    args = parser.parse_args()

    names = CONFIGS if args.config == "all" else (args.config,)
    results = []
    for name in names:
        try:
            results.append(run_config(name, args))
        except BenchError as exc:
            print(f"   {name}: {exc}", file=sys.stderr)
            results.append(ConfigResult(name, [], False, "", error=str(exc)))
    print(
        f"\nLoad benchmark: {args.seconds:g} s per client count in each of {args.rounds} "
        f"rounds (every other reversed, merged per count), client timeout "
        f"{args.timeout:g} s, {os.cpu_count()} CPUs (clients and server share them), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    ok = all([print_config(result) for result in results])
    unjudged = any(met is None for r in results if not r.skipped for _, met in judge(r))
    if not ok:
        print("\nRESULT: TARGET MISSED")
    elif unjudged:
        print(
            f"\nRESULT: no target missed, some not judged (run {BASELINE_CLIENTS},{TARGET_CLIENTS})"
        )
    else:
        print("\nRESULT: targets met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
