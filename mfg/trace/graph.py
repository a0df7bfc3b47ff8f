"""The chain of identity as a graph: nodes ("kind:identifier") and edges (upstream to
downstream), with a lot's doses counted by status where there are too many to list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from mfg.web.urls import RECORD_PAGES

KINDS = ("donor", "biopsy", "culture", "material", "lot", "dose", "patient")


class Node(NamedTuple):
    """One record of the chain. A named tuple rather than a frozen dataclass: a donor's trace
    holds one per dose, and a tuple is built in half the time."""

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


@dataclass
class Trace:
    root: Node
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    # Every downstream dose counted per lot and status; beyond DOSE_NODE_LIMIT doses only those
    # given to a patient (and the root) are nodes, the rest are these counts.
    dose_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    doses_summarised: bool = False
    _sorted: dict[str, tuple[int, list[Node]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def add(self, node: Node) -> str:
        key = node.key
        self.nodes.setdefault(key, node)
        return key

    def link(self, upstream: Node, downstream: Node) -> None:
        up, down = upstream.key, downstream.key
        self.nodes.setdefault(up, upstream)
        self.nodes.setdefault(down, downstream)
        self.edges.add((up, down))

    @property
    def doses_total(self) -> int:
        return sum(map(sum, map(dict.values, self.dose_counts.values())))

    def of_kind(self, kind: str) -> list[Node]:
        """The nodes of one kind by identifier; sorted once for as long as no node is added
        (a page asks for the same kind several times)."""
        count, nodes = self._sorted.get(kind, (-1, []))
        if count != len(self.nodes):
            nodes = sorted(
                (n for n in self.nodes.values() if n.kind == kind), key=lambda n: n.identifier
            )
            self._sorted[kind] = (len(self.nodes), nodes)
        return list(nodes)


# The node of each kind, made of the columns it shows (``builder``).
def donor_node(code: str, status: str) -> Node:
    return Node("donor", code, status)


def biopsy_node(din: str, status: str) -> Node:
    return Node("biopsy", din, status)


def culture_node(code: str, status: str, passage_number: int) -> Node:
    return Node("culture", code, status, f"P{passage_number}")


def lot_node(din: str, status: str) -> Node:
    return Node("lot", din, status)


def dose_node(identifier: str, status: str, division: str) -> Node:
    return Node("dose", identifier, status, division)


def material_node(code: str, status: str, name: str, lot_number: str) -> Node:
    return Node("material", code, status, f"{name} {lot_number}")
