"""Audit anchoring: a signed checkpoint kept outside the database catches a rewound chain; every
GMP record has the audit event of its creation. Run as a user runs it: the ``mfg`` command."""

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from mfg.db import make_engine
from tests.audit.tamper import drop_append_only_triggers, execute
from tests.test_cli import run_mfg


@pytest.fixture
def demo_url(db_factory, tmp_path: Path):
    url = db_factory.empty()
    assert run_mfg("demo", env_extra={"MFG_DATABASE_URL": url}, cwd=tmp_path).returncode == 0
    yield url
    db_factory.drop(url)


def _checkpoint(url: str, tmp_path: Path) -> tuple[Path, dict]:
    out = tmp_path / "kept"
    out.mkdir()
    made = run_mfg(
        "audit",
        "checkpoint",
        "--output",
        str(out),
        env_extra={"MFG_DATABASE_URL": url},
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    (json_file,) = out.glob("*.json")
    return json_file, json.loads(json_file.read_text())


def test_a_checkpoint_is_written_as_signed_json_and_a_one_page_pdf(
    demo_url: str, tmp_path: Path
) -> None:
    json_file, data = _checkpoint(demo_url, tmp_path)
    assert data["seq"] > 0 and len(data["hash"]) == 64 and len(data["mac"]) == 64
    assert data["created_at"].endswith("+00:00") and data["product_version"]
    assert "password" not in data["database"].lower()
    reader = PdfReader(json_file.with_suffix(".pdf"))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert f"#{data['seq']}" in text
    assert data["hash"][:4] + " " + data["hash"][4:8] in text
    assert "".join(text.split()).count(data["hash"]) >= 1
    assert "mfg audit verify --checkpoint" in text


def test_verify_with_a_checkpoint_passes_on_an_intact_chain(demo_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    json_file, data = _checkpoint(demo_url, tmp_path)
    verified = run_mfg(
        "audit", "verify", "--checkpoint", str(json_file), env_extra=env, cwd=tmp_path
    )
    assert verified.returncode == 0, verified.stderr
    assert f"checkpoint #{data['seq']} still in the chain" in verified.stdout


def test_checkpoint_catches_a_rewind_that_restored_an_older_head(
    demo_url: str, tmp_path: Path
) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        from sqlalchemy import text

        saved = conn.execute(text("SELECT seq, hash, mac FROM audit_head WHERE id = 1")).one()
    json_file, data = _checkpoint(demo_url, tmp_path)  # the checkpoint names the head seq
    # ... then someone with database access rewinds the chain to the saved head
    drop_append_only_triggers(engine)
    execute(engine, "DELETE FROM audit_event WHERE seq > :seq", seq=saved.seq - 1)
    older = saved.seq - 1
    with engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": older}).one()
    from mfg.audit.chain import derive_key, head_mac
    from tests.conftest import TEST_SECRET

    mac = head_mac(derive_key(TEST_SECRET, "audit-chain"), older, row.hash)
    execute(
        engine,
        "UPDATE audit_head SET seq = :s, hash = :h, mac = :m WHERE id = 1",
        s=older,
        h=row.hash,
        m=mac,
    )
    engine.dispose()
    assert data["seq"] == saved.seq
    plain = run_mfg("audit", "verify", env_extra=env, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr  # the residual risk the checkpoint closes
    anchored = run_mfg(
        "audit", "verify", "--checkpoint", str(json_file), env_extra=env, cwd=tmp_path
    )
    assert anchored.returncode == 1
    assert f"BROKEN at event #{data['seq']}" in anchored.stderr
    assert "rewound" in anchored.stderr


def test_a_tampered_checkpoint_file_is_refused(demo_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    json_file, data = _checkpoint(demo_url, tmp_path)
    json_file.write_text(json.dumps({**data, "seq": data["seq"] - 1}))
    refused = run_mfg(
        "audit", "verify", "--checkpoint", str(json_file), env_extra=env, cwd=tmp_path
    )
    assert refused.returncode == 1
    assert "signature does not match" in refused.stderr
    assert "audit.checkpoint_invalid" in refused.stderr


def test_no_checkpoint_of_a_broken_chain(demo_url: str, tmp_path: Path) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    engine = make_engine(demo_url)
    drop_append_only_triggers(engine)
    execute(engine, "UPDATE audit_event SET reason = 'edited by hand' WHERE seq = 2")
    engine.dispose()
    refused = run_mfg("audit", "checkpoint", "--output", str(tmp_path), env_extra=env, cwd=tmp_path)
    assert refused.returncode == 1 and "audit.checkpoint_refused" in refused.stderr
    assert not list(tmp_path.glob("*.json"))


def test_verify_names_a_gmp_record_without_its_creation_event(
    demo_url: str, tmp_path: Path
) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    engine = make_engine(demo_url)
    # a donor written behind the services' back: its code names no donor.registered event
    execute(engine, "UPDATE donor SET code = 'DN9999999' WHERE id = (SELECT MIN(id) FROM donor)")
    engine.dispose()
    broken = run_mfg("audit", "verify", env_extra=env, cwd=tmp_path)
    assert broken.returncode == 1
    assert "without the audit event of their creation: donor DN9999999" in broken.stderr


def test_a_checkpoint_that_cannot_be_written_is_not_recorded_in_the_trail(
    demo_url: str, tmp_path: Path
) -> None:
    env = {"MFG_DATABASE_URL": demo_url}
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT MAX(seq) FROM audit_event")).scalar()
    failed = run_mfg(
        "audit",
        "checkpoint",
        "--output",
        str(tmp_path / "no" / "such" / "dir" / "c.json"),
        env_extra=env,
        cwd=tmp_path,
    )
    assert failed.returncode == 1 and "could not be written, nothing was recorded" in failed.stderr
    assert "Traceback" not in failed.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT MAX(seq) FROM audit_event")).scalar() == before
    engine.dispose()
