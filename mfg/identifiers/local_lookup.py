"""The record a local code names, however it was scanned or typed."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mfg.errors import NotFound
from mfg.identifiers.errors import ScanError
from mfg.identifiers.local import canonical_local


def by_local_code(session: Session, model: Any, code: str, *, noun: str) -> Any:
    """The ``model`` row whose ``code`` is ``code`` once made canonical (case, separators,
    keyboard layout); ``NotFound`` naming the ``noun`` when the code is malformed or unknown."""
    try:
        code = canonical_local(code)
    except ScanError as error:
        raise NotFound(
            "No %(noun)s %(code)s: %(error)s",
            params={"noun": noun, "code": repr(code), "error": error},
        ) from error
    row = session.exec(select(model).where(model.code == code)).first()
    if row is None:
        raise NotFound("No %(noun)s %(code)s.", params={"noun": noun, "code": code})
    return row
