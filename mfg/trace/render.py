"""The trace as a printable graph: server-rendered SVG, one column per kind of record."""

from __future__ import annotations

from xml.sax.saxutils import escape

from mfg.trace.graph import KINDS, Node, Trace

COLUMN, ROW, BOX_W, BOX_H = 170, 34, 150, 26
DRAWN_NODES = 600  # beyond, a drawing is unreadable on screen and paper: the tables stay


def table_rows(trace: Trace) -> dict[str, list[tuple[str, str, str, str]]]:
    """Each kind's table as rows of link, identifier, status and detail (a lot's: its doses
    counted by status), made here rather than by the template: a donor's trace has 20,000
    rows, and the template's attribute lookups, calls and inner loop per row took 330 of the
    page's 440 ms on the benchmark's donor."""
    counts = trace.dose_counts

    def detail(node: Node) -> str:
        if node.kind != "lot":
            return node.detail
        by_status = sorted((counts.get(node.identifier) or {}).items())
        return ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in by_status)

    return {
        kind: [(n.url, n.identifier, n.status.replace("_", " "), detail(n)) for n in nodes]
        for kind in KINDS
        if (nodes := trace.of_kind(kind))
    }


def drawable(trace: Trace) -> bool:
    return len(trace.nodes) <= DRAWN_NODES


def trace_svg(trace: Trace) -> str:
    """Columns donor → biopsy → culture → material → lot → dose → patient; edges as lines."""
    columns = [k for k in KINDS if trace.of_kind(k)]
    where: dict[str, tuple[int, int]] = {}
    for x, kind in enumerate(columns):
        for y, node in enumerate(trace.of_kind(kind)):
            where[node.key] = (10 + x * COLUMN, 30 + y * ROW)
    height = 40 + ROW * max((len(trace.of_kind(k)) for k in columns), default=1)
    width = 20 + COLUMN * max(len(columns), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10" '
        'role="img" aria-label="chain of identity">'
    ]
    for x, kind in enumerate(columns):
        parts.append(f'<text x="{10 + x * COLUMN}" y="16" font-weight="bold">{kind}</text>')
    for upstream, downstream in sorted(trace.edges):
        if upstream in where and downstream in where:
            (x1, y1), (x2, y2) = where[upstream], where[downstream]
            parts.append(
                f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" '
                'stroke="#555" stroke-width="1"/>'
            )
    for key, (x, y) in where.items():
        node = trace.nodes[key]
        stroke = "#b00020" if key == trace.root.key else "#333"
        parts.append(
            f'<a href="{escape(node.url)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="3" fill="#fff" stroke="{stroke}" stroke-width="{2 if stroke != "#333" else 1}"/>'
            f'<text x="{x + 4}" y="{y + 11}" font-family="DejaVu Sans Mono, monospace">'
            f"{escape(node.identifier)}</text>"
            f'<text x="{x + 4}" y="{y + 22}" fill="#555">{escape(node.status.replace("_", " "))} '
            f"{escape(node.detail)}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
