"""The chain of identity as a graph: nodes ("kind:identifier") and edges (upstream to
downstream), with a lot's doses counted by status where there are too many to list.

A donor's trace has 11,500 records and 13,000 edges (the benchmark's: 10,000 lots). They are
kept by columns: per kind, each record's status (and detail, where it has one) by identifier, in
dictionaries of strings, and the edges as two parallel lists of keys. Building them takes no
object per record, and none of them is tracked by the cyclic garbage collector, which had to walk
40,000 tuples (15-30 ms) after every such trace when a record was a named tuple and an edge a
pair (and the trace listed the donor's 10,000 culture vessels too). ``Node`` objects, ``nodes``
and ``edges`` are made when they are read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from mfg.web.urls import RECORD_PAGES

KINDS = ("donor", "biopsy", "culture", "material", "lot", "dose", "patient")


class Node(NamedTuple):
    """One record of the chain, as it is read from a ``Trace``."""

    kind: str
    identifier: str
    status: str
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.identifier}"

    @property
    def url(self) -> str:
        return RECORD_PAGES[self.kind].format(self.identifier)


def key_of(kind: str, identifier: str) -> str:
    return f"{kind}:{identifier}"


def _columns() -> dict[str, dict[str, str]]:
    return {kind: {} for kind in KINDS}


@dataclass
class Trace:
    root: Node
    # kind -> identifier -> status; and the same for the details that are not empty
    statuses: dict[str, dict[str, str]] = field(default_factory=_columns)
    details: dict[str, dict[str, str]] = field(default_factory=_columns)
    # edge i goes from the record keyed ups[i] to the one keyed downs[i]; repeats allowed
    ups: list[str] = field(default_factory=list)
    downs: list[str] = field(default_factory=list)
    # Every downstream dose counted per lot and status; beyond DOSE_NODE_LIMIT doses only those
    # given to a patient (and the root) are nodes, the rest are these counts.
    dose_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    doses_summarised: bool = False
    # true: the material lots used downstream of the root are not in the trace (too many uses)
    materials_omitted: bool = False
    # the culture vessels downstream of the root counted, not listed (beyond DOSE_NODE_LIMIT
    # doses): each lot is then linked to the biopsy, vessel or material lot traced from
    cultures_omitted: int = 0
    _sorted: dict[str, tuple[int, list[Node]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _edges: tuple[int, set[tuple[str, str]]] = field(
        default_factory=lambda: (-1, set()), init=False, repr=False, compare=False
    )

    # -- building --------------------------------------------------------------------------
    def add(self, node: Node) -> str:
        """The record, unless it is in already (its first reading stays); returns its key."""
        statuses = self.statuses[node.kind]
        if node.identifier not in statuses:
            statuses[node.identifier] = node.status
            if node.detail:
                self.details[node.kind][node.identifier] = node.detail
        return node.key

    def add_many(
        self,
        kind: str,
        identifiers: Sequence[str],
        statuses: Iterable[str],
        details: Iterable[str] | None = None,
    ) -> None:
        """Records of one kind, column by column, as one query read them (a record read twice
        in a trace reads the same: it is one transaction)."""
        self.statuses[kind].update(zip(identifiers, statuses, strict=True))
        if details is not None:
            self.details[kind].update(zip(identifiers, details, strict=True))

    def link(self, upstream: Node, downstream: Node) -> None:
        self.ups.append(self.add(upstream))
        self.downs.append(self.add(downstream))

    def link_keys(self, upstream: str, downstream: str) -> None:
        """An edge between two records added already, by their keys."""
        self.ups.append(upstream)
        self.downs.append(downstream)

    def connect(self, ups: Iterable[str], downs: Iterable[str]) -> None:
        """Edges between records added already, by their keys, pairwise."""
        self.ups.extend(ups)
        self.downs.extend(downs)
        if len(self.ups) != len(self.downs):
            raise ValueError("an edge needs both its ends")

    # -- reading ---------------------------------------------------------------------------
    @property
    def node_count(self) -> int:
        return sum(map(len, self.statuses.values()))

    @property
    def doses_total(self) -> int:
        return sum(map(sum, map(dict.values, self.dose_counts.values())))

    def node(self, key: str) -> Node:
        kind, _, identifier = key.partition(":")
        return Node(
            kind,
            identifier,
            self.statuses[kind][identifier],
            self.details[kind].get(identifier, ""),
        )

    def identifiers(self, kind: str) -> list[str]:
        """The identifiers of one kind's records, sorted."""
        return sorted(self.statuses[kind])

    def of_kind(self, kind: str) -> list[Node]:
        """The records of one kind by identifier; made once for as long as none is added (a
        page asks for the same kind several times)."""
        statuses = self.statuses[kind]
        count, nodes = self._sorted.get(kind, (-1, []))
        if count != len(statuses):
            details = self.details[kind]
            nodes = [Node(kind, i, statuses[i], details.get(i, "")) for i in self.identifiers(kind)]
            self._sorted[kind] = (len(statuses), nodes)
        return list(nodes)

    @property
    def nodes(self) -> dict[str, Node]:
        """Every record by its key."""
        return {node.key: node for kind in KINDS for node in self.of_kind(kind)}

    @property
    def edges(self) -> set[tuple[str, str]]:
        """Every edge once, as (upstream key, downstream key)."""
        count, edges = self._edges
        if count != len(self.ups):
            edges = set(zip(self.ups, self.downs, strict=True))
            self._edges = (len(self.ups), edges)
        return edges


# The node of each kind, made of the columns it shows (``builder``).
def donor_node(code: str, status: str) -> Node:
    return Node("donor", code, status)


def biopsy_node(din: str, status: str) -> Node:
    return Node("biopsy", din, status)


def culture_node(code: str, status: str, passage_number: int) -> Node:
    return Node("culture", code, status, passage_detail(passage_number))


def passage_detail(passage_number: int) -> str:
    return f"P{passage_number}"


def lot_node(din: str, status: str) -> Node:
    return Node("lot", din, status)


def dose_node(identifier: str, status: str, division: str) -> Node:
    return Node("dose", identifier, status, division)


def material_node(code: str, status: str, name: str, lot_number: str) -> Node:
    return Node("material", code, status, f"{name} {lot_number}")


def keys(kind: str, identifiers: Iterable[str]) -> list[str]:
    """The keys of records of one kind."""
    prefix = f"{kind}:"
    return [prefix + identifier for identifier in identifiers]
