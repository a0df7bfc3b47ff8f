"""Which record a code names, for a trace: anything the scan field accepts, a DIN as stored, or a
dose typed as its 21-character identifier."""

from __future__ import annotations

from sqlmodel import Session, select

from mfg.errors import NotFound
from mfg.identifiers.errors import ScanError
from mfg.identifiers.resolve import Resolver
from mfg.models import Biopsy, Dose, Lot


def resolve_code(resolver: Resolver, session: Session, code: str) -> tuple[str, str]:
    compact = "".join(code.split()).upper()
    if len(compact) == 21:
        dose = session.exec(select(Dose).where(Dose.identifier == compact)).first()
        if dose is not None:
            return "dose", dose.identifier
    if len(compact) == 13:  # a DIN as stored (without its check character)
        for kind, model in (("lot", Lot), ("biopsy", Biopsy)):
            if session.exec(select(model.id).where(model.din == compact)).first() is not None:
                return kind, compact
    try:
        _, found = resolver.resolve(session, code)
    except ScanError as error:
        raise NotFound(
            "Nothing to trace for %(code)s: %(error)s",
            params={"code": repr(code), "error": error},
        ) from error
    return found.kind, found.identifier
