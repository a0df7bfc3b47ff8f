"""Checkpoints of the audit chain for QA to keep outside the database.

A checkpoint names one event of the chain (its seq and hash) and is signed with a key derived
from the secret key. Whoever owns the database can rewind the chain (delete the newest events and
put back an older, correctly MACed head row) and plain verification still passes; verification
against a kept checkpoint does not, as the event it names is gone or different.

Writing a checkpoint is itself audited (``audit.checkpoint_written``): the checkpoint names the
head as it was verified (event N) and the audit event of its writing becomes N + 1, so the chain
moves on and the checkpoint still names an event that must stay exactly as it was.
"""

from __future__ import annotations

import hmac
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import Session

from mfg import __version__
from mfg.audit import service as audit
from mfg.audit.chain import canonical_json, derive_key
from mfg.config import Settings
from mfg.db import describe_database, settings_of
from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.labeling.fonts import FONTS
from mfg.models import AuditEvent, AuditHead, as_utc, utcnow

FORMAT = "mfg-audit-checkpoint/1"
_FIELDS = ("format", "seq", "hash", "created_at", "database", "product_version")


def checkpoint_key(secret: str) -> bytes:
    return derive_key(secret, "audit-checkpoint")


def _mac(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, canonical_json(body).encode("utf-8"), "sha256").hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    created_at: datetime
    database: str
    product_version: str
    mac: str

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "created_at": as_utc(self.created_at).isoformat(),
            "database": self.database,
            "product_version": self.product_version,
        }

    def to_json(self) -> str:
        return json.dumps({**self.body(), "mac": self.mac}, indent=2, ensure_ascii=False) + "\n"


class CheckpointRefused(MfgError):
    code = "audit.checkpoint_refused"
    status_code = 409
    default_message = N_("No checkpoint was written.")


def write_checkpoint(session: Session) -> Checkpoint:
    """Verify the chain, then checkpoint its head; refuse a broken chain. Audited."""
    settings = settings_of(session)
    report = audit.verify_chain(session)
    if not report.ok:
        raise CheckpointRefused(
            "The audit trail is broken (%(problem)s); no checkpoint was written.",
            params={"problem": report.message},
        )
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        raise CheckpointRefused("The audit trail is empty; there is nothing to checkpoint.")
    unsigned = Checkpoint(
        seq=head.seq,
        hash=head.hash,
        created_at=utcnow(),
        database=describe_database(settings.effective_database_url),
        product_version=__version__,
        mac="",
    )
    mac = _mac(checkpoint_key(settings.effective_secret_key()), unsigned.body())
    checkpoint = Checkpoint(**{**vars(unsigned), "mac": mac})
    audit.record(
        session,
        actor=None,
        action="audit.checkpoint_written",
        entity_type="audit_trail",
        entity_id=checkpoint.seq,
        changes={"seq": [None, checkpoint.seq], "hash": [None, checkpoint.hash]},
    )
    return checkpoint


class CheckpointInvalid(MfgError):
    code = "audit.checkpoint_invalid"
    status_code = 422
    default_message = N_("The checkpoint file cannot be trusted.")


def read_checkpoint(text: str, *, secret: str) -> Checkpoint:
    """Parse a checkpoint file and check its signature; refuse one that was altered."""
    try:
        data = json.loads(text)
        body = {k: data[k] for k in _FIELDS}
        mac = str(data["mac"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid("This is not an mfg audit checkpoint file.") from exc
    if body["format"] != FORMAT:
        raise CheckpointInvalid(
            "Unknown checkpoint format %(format)s.", params={"format": repr(body["format"])}
        )
    if not hmac.compare_digest(_mac(checkpoint_key(secret), body), mac):
        raise CheckpointInvalid(
            "The checkpoint's signature does not match: the file was altered, or it was "
            "written with another secret key. It cannot be trusted."
        )
    return Checkpoint(
        seq=int(body["seq"]),
        hash=str(body["hash"]),
        created_at=datetime.fromisoformat(body["created_at"]),
        database=str(body["database"]),
        product_version=str(body["product_version"]),
        mac=mac,
    )


def verify_with_checkpoint(session: Session, checkpoint: Checkpoint) -> audit.ChainReport:
    """The chain holds, still contains the checkpoint's event unchanged, and has not been
    rewound to before it (even if an older head row was put back)."""
    report = audit.verify_chain(session)
    if not report.ok:
        return report
    event = session.get(AuditEvent, checkpoint.seq)
    if event is None or report.events < checkpoint.seq:
        return audit.ChainReport(
            False,
            report.events,
            checkpoint.seq,
            f"event #{checkpoint.seq} named by the checkpoint is missing: the chain was rewound "
            f"to #{report.events}",
        )
    if event.hash != checkpoint.hash:
        return audit.ChainReport(
            False,
            report.events,
            checkpoint.seq,
            f"event #{checkpoint.seq} differs from the checkpoint: the chain was rewritten",
        )
    return audit.ChainReport(
        True,
        report.events,
        None,
        f"{report.message}; checkpoint #{checkpoint.seq} still in the chain",
    )


def _groups(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def checkpoint_pdf(checkpoint: Checkpoint, settings: Settings) -> bytes:
    """One A4 page for QA to print, sign and keep."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"Audit trail checkpoint #{checkpoint.seq}")
    canvas.setAuthor(settings.facility_name)
    left, y = 20 * mm, A4[1] - 25 * mm

    def line(text: str, font: str = "sans", size: float = 10, gap: float = 6) -> None:
        nonlocal y
        canvas.setFont(FONTS[font], size)
        canvas.drawString(left, y, text)
        y -= gap * mm

    created = as_utc(checkpoint.created_at)
    line(settings.facility_name, size=9)
    line("Audit trail checkpoint", "sans-bold", 16, 10)
    line(f"Event (seq): #{checkpoint.seq}", "sans-bold", 12, 8)
    line("Hash of that event:", gap=5)
    hash_groups = _groups(checkpoint.hash)
    line(hash_groups[:79], "mono", 11, 5)
    line(hash_groups[79:], "mono", 11, 8)
    line(f"Written (UTC): {created:%Y-%m-%d %H:%M:%S} UTC")
    line(
        f"Written (facility time): {created.astimezone(settings.tz):%Y-%m-%d %H:%M:%S} "
        f"({settings.timezone})"
    )
    line(f"Database: {checkpoint.database}")
    line(f"Product version: mfg {checkpoint.product_version}", gap=8)
    line("Signature (HMAC-SHA256):", gap=5)
    mac_groups = _groups(checkpoint.mac)
    line(mac_groups[:79], "mono", 11, 5)
    line(mac_groups[79:], "mono", 11, 10)
    line("How to verify", "sans-bold", 12, 7)
    for text in (
        "1. Keep this page and the checkpoint's JSON file outside the database server.",
        "2. Run:  mfg audit verify --checkpoint FILE.json",
        "3. It must exit 0 and say the checkpoint is still in the chain. Any other answer",
        "   (missing or different event, altered file) is a data-integrity deviation: raise it.",
        "4. Compare the seq and hash it reads from the file with this page.",
    ):
        line(text, gap=5)
    y -= 10 * mm
    line("Printed and checked by (QA): ______________________   Date: ____________")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
