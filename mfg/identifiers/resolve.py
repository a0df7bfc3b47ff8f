"""Resolve a scan to the record it names. Record kinds register their lookups in one place
(``mfg.registry``); this module only dispatches and turns zero or several matches into errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from mfg.identifiers.errors import Ambiguous, ScanNotFound
from mfg.identifiers.scan import ParsedScan, TokenKind, parse_scan


@dataclass(frozen=True)
class Resolution:
    kind: str  # "biopsy", "lot", "dose", "staff", …
    identifier: str
    url: str
    summary: str
    status: str | None = None


Lookup = Callable[[Session, ParsedScan], list[Resolution]]


class Resolver:
    """Lookups by the kind of the scan's first token, or by local-identifier prefix."""

    def __init__(self) -> None:
        self._by_kind: dict[TokenKind, list[Lookup]] = {}
        self._by_prefix: dict[str, Lookup] = {}

    def on_token(self, kind: TokenKind, lookup: Lookup) -> None:
        self._by_kind.setdefault(kind, []).append(lookup)

    def on_prefix(self, prefix: str, lookup: Lookup) -> None:
        if prefix in self._by_prefix:
            raise ValueError(f"prefix {prefix} already has a lookup")
        self._by_prefix[prefix] = lookup

    def _lookups(self, scan: ParsedScan) -> list[Lookup]:
        first = scan.tokens[0]
        if first.kind is TokenKind.LOCAL:
            lookup = self._by_prefix.get(first.value[:2])
            return [lookup] if lookup else []
        return self._by_kind.get(first.kind, [])

    def resolve(self, session: Session, raw: str) -> tuple[ParsedScan, Resolution]:
        """The one record a scan names; ``not_found`` or ``ambiguous`` otherwise."""
        scan = parse_scan(raw)
        found: list[Resolution] = []
        for lookup in self._lookups(scan):
            found.extend(lookup(session, scan))
        unique = list(dict.fromkeys(found))
        described = " + ".join(t.describe() for t in scan.tokens)
        if not unique:
            raise ScanNotFound(f"No record has the code {described}.", details={"code": described})
        if len(unique) > 1:
            raise Ambiguous(
                f"{described} matches {len(unique)} records; scan a more specific label.",
                details={"candidates": [f"{r.kind} {r.identifier}" for r in unique]},
            )
        return scan, unique[0]
