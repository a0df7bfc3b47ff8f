"""The hash chain itself: canonical event content, keyed hashes, the head's MAC. Pure functions."""

import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from mfg.models.base import as_utc

GENESIS_HASH = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | set | frozenset):
        return str(value) if isinstance(value, Decimal) else sorted(value)
    raise TypeError(f"{type(value).__name__} cannot be put in an audit event")


def canonical_json(value: Any) -> str:
    """One text for one content: sorted keys, no spaces, UTF-8 kept, times in ISO 8601."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def content_hash(content: Any) -> str:
    """SHA-256 of the canonical JSON of ``content`` (what a signature binds to).

    A signed record is rebuilt from its database row to be checked, so one value must always be
    written one way, however it was entered:
    - a number entered as ``75`` reads back from a float column as ``75.0``: integral floats are
      written as integers (as RFC 8785 does);
    - a time typed into a form in the facility's zone (``17:57+03:00``) reads back in UTC
      (``14:57+00:00``): every time is written in UTC, ISO 8601 (a time without a zone is UTC,
      as the database keeps it).
    """
    return hashlib.sha256(canonical_json(signed_form(content)).encode("utf-8")).hexdigest()


def signed_form(value: Any) -> Any:
    """``value`` with its numbers and times in the one form a signature hashes."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dict):
        return {k: signed_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [signed_form(v) for v in value]
    return value


def event_hash(key: bytes, payload: dict[str, Any]) -> str:
    """HMAC-SHA256 over the canonical event payload, which includes the previous hash."""
    return hmac.new(key, canonical_json(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    message = f"audit-head:{seq}:{last_hash}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate key per purpose, so the audit chain never shares a key with cookies."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).digest()
