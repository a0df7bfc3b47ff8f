"""Resolve a scan to the record it names. Record kinds register their lookups in one place
(``mfg.record_kinds``); this module only dispatches and turns zero or several matches into errors.

A lookup that is a single statement (``RowLookup``) can carry another one-row read along (a
``Rider``: the scan's login check), so that the check and the lookup cost one round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, select, true
from sqlmodel import Session

from mfg.identifiers.errors import Ambiguous, ScanError, ScanNotFound
from mfg.identifiers.scan import ParsedScan, TokenKind, parse_scan


@dataclass(frozen=True)
class Resolution:
    kind: str  # "biopsy", "lot", "dose", "staff", …
    identifier: str
    url: str
    summary: str
    status: str | None = None


Lookup = Callable[[Session, ParsedScan], list[Resolution]]
Applies = Callable[[ParsedScan], bool]


@dataclass(frozen=True)
class RowLookup:
    """A lookup that is one statement, built once with its values as bind parameters.

    ``params(scan)``: the values for this scan, or None when the scan does not name this kind.
    ``found(row, scan)``: the record one row names (the row's columns in the statement's order).
    """

    statement: Select[Any]
    params: Callable[[ParsedScan], dict[str, Any] | None]
    found: Callable[[Sequence[Any], ParsedScan], Resolution]

    def __call__(self, session: Session, scan: ParsedScan) -> list[Resolution]:
        values = self.params(scan)
        if values is None:
            return []
        rows = session.connection().execute(self.statement, values).all()
        return [self.found(row, scan) for row in rows]


@dataclass(frozen=True)
class Rider:
    """A read of at most one row that must come before the lookup and may refuse it.

    ``statement`` is built once; ``check(row)`` gets its row (None when there is none) and raises
    to refuse. Runs in the lookup's own statement when one ``RowLookup`` serves the scan.
    """

    statement: Select[Any]
    params: dict[str, Any]
    check: Callable[[Row[Any] | None], object]

    def run_alone(self, session: Session) -> None:
        self.check(session.connection().execute(self.statement, self.params).first())


class Resolver:
    """Lookups by the kind of the scan's first token, or by local-identifier prefix."""

    def __init__(self) -> None:
        self._by_kind: dict[TokenKind, list[tuple[Lookup, Applies | None]]] = {}
        self._by_prefix: dict[str, Lookup] = {}
        self._folded: dict[tuple[int, int], tuple[Select[Any], Select[Any], Select[Any]]] = {}

    def on_token(self, kind: TokenKind, lookup: Lookup, *, when: Applies | None = None) -> None:
        """``when``: the scans the lookup can name anything for (say it, so that the resolver
        knows, without running it, that a scan needs only one statement)."""
        self._by_kind.setdefault(kind, []).append((lookup, when))

    def on_prefix(self, prefix: str, lookup: Lookup) -> None:
        if prefix in self._by_prefix:
            raise ValueError(f"prefix {prefix} already has a lookup")
        self._by_prefix[prefix] = lookup

    def _lookups(self, scan: ParsedScan) -> list[Lookup]:
        first = scan.tokens[0]
        if first.kind is TokenKind.LOCAL:
            lookup = self._by_prefix.get(first.value[:2])
            return [lookup] if lookup else []
        entries = self._by_kind.get(first.kind, [])
        return [lookup for lookup, when in entries if when is None or when(scan)]

    def resolve(
        self, session: Session, raw: str, *, rider: Rider | None = None
    ) -> tuple[ParsedScan, Resolution]:
        """The one record a scan names; ``not_found`` or ``ambiguous`` otherwise.

        A ``rider`` is checked before anything about the scan is said, even that it is malformed.
        """
        try:
            scan = parse_scan(raw)
        except ScanError:
            if rider is not None:
                rider.run_alone(session)
            raise
        lookups = self._lookups(scan)
        found = self._with_rider(session, scan, lookups, rider) if rider is not None else None
        if found is None:
            if rider is not None:
                rider.run_alone(session)
            found = [resolution for lookup in lookups for resolution in lookup(session, scan)]
        return scan, _the_one(scan, found)

    def _with_rider(
        self, session: Session, scan: ParsedScan, lookups: list[Lookup], rider: Rider
    ) -> list[Resolution] | None:
        """The lookup and the rider in one statement, or None when the scan needs more than one
        ``RowLookup``."""
        if len(lookups) != 1 or not isinstance(lookup := lookups[0], RowLookup):
            return None
        values = lookup.params(scan)
        if values is None:
            return None
        statement = self._fold(rider.statement, lookup.statement)
        rows = session.connection().execute(statement, {**rider.params, **values}).all()
        rider.check(rows[0] if rows else None)
        width = len(rider.statement.selected_columns)
        # The last column is the lookup's marker: NULL when the rider's row found no partner.
        return [lookup.found(row[width:-1], scan) for row in rows if row[-1] is not None]

    def _fold(self, ride: Select[Any], look: Select[Any]) -> Select[Any]:
        """``ride LEFT JOIN look ON true``, built once per pair (both statements are built once):
        the rider's row whether or not the lookup finds anything."""
        key = (id(ride), id(look))
        if key not in self._folded:
            if ride.compile().params.keys() & look.compile().params.keys():
                raise ValueError("a rider and a lookup must not share parameter names")
            left = ride.subquery("rider")
            right = look.add_columns(true().label("found")).subquery("lookup")
            folded = select(*left.c, *right.c).select_from(left.outerjoin(right, true()))
            self._folded[key] = (ride, look, folded)  # holding both keeps their ids unique
        return self._folded[key][2]


def _the_one(scan: ParsedScan, found: list[Resolution]) -> Resolution:
    unique = list(dict.fromkeys(found))
    if len(unique) == 1:
        return unique[0]
    described = " + ".join(t.describe() for t in scan.tokens)
    if not unique:
        raise ScanNotFound(
            "No record has the code %(code)s.",
            params={"code": described},
            details={"code": described},
        )
    raise Ambiguous(
        "%(code)s matches %(count)s records; scan a more specific label.",
        params={"code": described, "count": len(unique)},
        details={"candidates": [f"{r.kind} {r.identifier}" for r in unique]},
    )


def din_alone(scan: ParsedScan) -> bool:
    """A DIN scanned or typed on its own (a biopsy's or a lot's code, not a dose's)."""
    return scan.kinds() == (TokenKind.DIN,)
