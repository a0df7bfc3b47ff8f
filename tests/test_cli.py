"""The ``mfg`` command, run as a user runs it: a real process with the environment as config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from mfg.db import make_engine, unit_of_work
from mfg.models import Installation
from tests.conftest import TEST_SECRET


def run_mfg(*args: str, env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFG_")}
    env.update({"MFG_SECRET_KEY": TEST_SECRET, "MFG_PASSWORD_HASHING": "test", **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "mfg.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def empty_url(db_factory):
    url = db_factory.empty()
    yield url
    db_factory.drop(url)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["demo"],
        ["user", "add"],
        ["audit", "verify"],
        ["audit", "checkpoint"],
        ["trace"],
        ["export", "fhir"],
    ],
    ids=" ".join,
)
def test_every_command_has_help(command: list[str], capsys) -> None:
    from mfg.cli import main

    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: mfg" in capsys.readouterr().out


def test_db_upgrade_migrates_an_empty_database_and_says_where_it_is(
    empty_url: str, tmp_path: Path
) -> None:
    result = run_mfg("db", "upgrade", env_extra={"MFG_DATABASE_URL": empty_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema empty ->" in result.stdout
    again = run_mfg("db", "upgrade", env_extra={"MFG_DATABASE_URL": empty_url}, cwd=tmp_path)
    assert "up to date" in again.stdout


def test_a_reader_that_stops_reading_ends_the_command_without_a_traceback(
    empty_url: str, tmp_path: Path
) -> None:
    """``mfg trace CODE | head``: the reader goes away before the command has written all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFG_")}
    env.update(MFG_SECRET_KEY=TEST_SECRET, MFG_PASSWORD_HASHING="test", MFG_DATABASE_URL=empty_url)
    command = subprocess.Popen(
        [sys.executable, "-m", "mfg.cli", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    command.stdout.close()  # before the command writes its first line
    errors = command.stderr.read()
    assert command.wait(timeout=120) == 1
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert (
        "up to date"
        in run_mfg("db", "upgrade", env_extra={"MFG_DATABASE_URL": empty_url}, cwd=tmp_path).stdout
    )


def test_demo_fills_an_empty_database_once(empty_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": empty_url}
    first = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Demonstration data: loaded" in first.stdout
    second = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert second.returncode == 0 and "already present" in second.stdout
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT demo FROM installation")).scalar() in (True, 1)
    engine.dispose()


def test_demo_refuses_a_database_that_holds_real_data(empty_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": empty_url}
    assert run_mfg("db", "upgrade", env_extra=env, cwd=tmp_path).returncode == 0
    engine = make_engine(empty_url)
    with unit_of_work(engine) as session:
        session.add(Installation(facility_fin="A9999", demo=False))
    engine.dispose()
    result = run_mfg("demo", env_extra=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "holds real data" in result.stderr


def test_default_database_is_a_sqlite_file_under_var_of_the_working_directory(
    tmp_path: Path,
) -> None:
    result = run_mfg("db", "upgrade", env_extra={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "mfg.db").exists()
    assert str(tmp_path / "var" / "mfg.db") in result.stdout


def test_a_bad_setting_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = run_mfg("db", "upgrade", env_extra={"MFG_FACILITY_FIN": "O0000"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "Traceback" not in result.stderr


def test_user_add_creates_a_user_whose_password_comes_from_the_environment(
    empty_url: str, tmp_path: Path
) -> None:
    env = {"MFG_DATABASE_URL": empty_url, "MFG_NEW_PASSWORD": "first admin secret 1"}
    result = run_mfg(
        "user",
        "add",
        "boss",
        "--full-name",
        "Bella Boss",
        "--role",
        "admin",
        "--role",
        "qa",
        env_extra=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Created user boss (Bella Boss): admin,qa" in result.stdout
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT must_change_password FROM app_user")).one()
    engine.dispose()
    assert row[0] in (False, 0)  # the person at the terminal chose the password themself


def test_user_add_refuses_a_weak_password_and_says_why(empty_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": empty_url, "MFG_NEW_PASSWORD": "short"}
    result = run_mfg(
        "user", "add", "boss", "--full-name", "B", "--role", "admin", env_extra=env, cwd=tmp_path
    )
    assert result.returncode == 1 and "at least 12 characters" in result.stderr


def test_audit_verify_exits_zero_on_an_intact_chain_and_non_zero_after_a_raw_edit(
    empty_url: str, tmp_path: Path
) -> None:
    from tests.audit.tamper import drop_append_only_triggers, execute

    env = {"MFG_DATABASE_URL": empty_url}
    assert run_mfg("demo", env_extra=env, cwd=tmp_path).returncode == 0
    intact = run_mfg("audit", "verify", env_extra=env, cwd=tmp_path)
    assert intact.returncode == 0 and "intact" in intact.stdout
    engine = make_engine(empty_url)
    drop_append_only_triggers(engine)
    execute(engine, "UPDATE audit_event SET reason = 'edited by hand' WHERE seq = 2")
    engine.dispose()
    broken = run_mfg("audit", "verify", env_extra=env, cwd=tmp_path)
    assert broken.returncode == 1 and "BROKEN at event #2" in broken.stderr


def test_serve_demo_prints_the_demo_logins(empty_url: str, tmp_path: Path) -> None:
    """`mfg serve --demo` loads the demo and prints one login per role before serving."""
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("MFG_")}
    env.update({"MFG_SECRET_KEY": TEST_SECRET, "MFG_DATABASE_URL": empty_url})
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mfg.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 180  # the demo is made through the services: slow
        while time.monotonic() < deadline:  # on a loaded machine
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("Serving on"):
                break
        output = "".join(lines)
        assert f"http://localhost:{port}/" in output
        for role in ("admin", "technician", "qc", "qa", "clinician"):
            assert f" {role} " in output, output
        assert "password: demo-" in output
        _wait_until_serving(port, deadline=time.monotonic() + 60)
    finally:
        # Ctrl+C once it serves, as a user would; the rest of its output is read meanwhile,
        # so that a full pipe cannot hold it up.
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
            pytest.fail(f"mfg serve did not stop on Ctrl+C within 30 s:\n{rest[-2000:]}")


def _wait_until_serving(port: int, *, deadline: float) -> None:
    import time
    import urllib.request

    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_freezes_the_start_up_objects_out_of_the_collector_before_serving(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import uvicorn

    from mfg import cli

    monkeypatch.setenv("MFG_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("MFG_DATABASE_URL", empty_url)
    cli.get_settings.cache_clear()
    served = []

    def serving(app, **options) -> None:  # the server's loop, which would not return
        served.append((gc.get_freeze_count(), gc.get_count()[0], options["port"]))

    monkeypatch.setattr(uvicorn, "run", serving)
    try:
        assert cli.main(["serve", "--port", "8765"]) == 0
    finally:
        gc.unfreeze()
        cli.get_settings.cache_clear()
    ((frozen, young, port),) = served
    assert frozen > 10_000 and young < 100 and port == 8765  # collected, then frozen


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_with_several_workers_is_refused_on_sqlite(tmp_path: Path) -> None:
    """SQLite has one writer at a time: one process queues its writers best."""
    env = {"MFG_SECRET_KEY": TEST_SECRET, "MFG_DATABASE_URL": f"sqlite:///{tmp_path}/w.db"}
    refused = run_mfg("serve", "--workers", "2", env_extra=env, cwd=tmp_path)
    assert refused.returncode == 2 and "several workers need PostgreSQL" in refused.stderr


def _connections_held_by_children(parent: int, port: int) -> list[int]:
    """For each child process of ``parent``, the established connections it holds on ``port``
    (Linux: read from /proc)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if state == "01" and local_port == port:
                established.add(f"socket:[{inode}]")
    held = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            links = [os.readlink(fd) for fd in (stat.parent / "fd").iterdir()]
        except OSError:
            continue  # the process ended meanwhile
        held.append(sum(1 for link in links if link in established))
    return held


def test_several_workers_serve_one_database_consistently(empty_url: str, tmp_path: Path) -> None:
    """`mfg serve --workers 3` on PostgreSQL: a login made by one worker is honoured by the
    others, twenty donors registered at once through them all get twenty distinct codes, the
    audit chain holds, and kept-alive connections are spread over the workers."""
    import signal
    import socket
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx2 as httpx

    if empty_url.startswith("sqlite"):
        pytest.skip("several workers serve PostgreSQL only")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFG_")}
    env.update(
        {
            "MFG_SECRET_KEY": TEST_SECRET,
            "MFG_DATABASE_URL": empty_url,
            "MFG_PASSWORD_HASHING": "test",
            "MFG_NEW_PASSWORD": "Workers-share-one-db-2026",
        }
    )
    made = subprocess.run(
        [sys.executable, "-m", "mfg.cli", "db", "upgrade"], env=env, cwd=tmp_path, check=False
    )
    assert made.returncode == 0
    for name, role in (("tech", "technician"), ("auditor", "qa")):
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "mfg.cli",
                "user",
                "add",
                name,
                "--full-name",
                name.title(),
                "--role",
                role,
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 0, added.stderr
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mfg.cli", "serve", "--workers", "3", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def call(method: str, path: str, body: dict | None = None, token: str = "") -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.request(method, base + path, json=body, headers=headers, timeout=60)
        assert answer.status_code < 300, answer.text
        return answer.json()

    try:
        _wait_until_serving(port, deadline=time.monotonic() + 240)
        token = call(
            "POST", "/api/auth/token", {"username": "tech", "password": env["MFG_NEW_PASSWORD"]}
        )["access_token"]
        with ThreadPoolExecutor(20) as pool:
            codes = list(
                pool.map(
                    lambda _: call("POST", "/api/donors", {"sex": "F", "birth_year": 1980}, token)[
                        "code"
                    ],
                    range(20),
                )
            )
        assert len(set(codes)) == 20
        qa = call(
            "POST", "/api/auth/token", {"username": "auditor", "password": env["MFG_NEW_PASSWORD"]}
        )["access_token"]
        assert call("GET", "/api/audit/verify", token=qa)["ok"]
        # Sixteen terminals connecting in the same instant and keeping their connections open
        # are spread over the workers, not all accepted by the one that woke first.
        terminals = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        try:
            for terminal in terminals:
                terminal.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert all(t.recv(4096).startswith(b"HTTP/1.1 200") for t in terminals)
            held = _connections_held_by_children(process.pid, port)
            assert sum(held) == 16 and len([n for n in held if n]) >= 2, held
        finally:
            for terminal in terminals:
                terminal.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
