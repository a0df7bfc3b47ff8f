"""The trace as a printable graph: server-rendered SVG, one column per kind of record."""

from __future__ import annotations

from xml.sax.saxutils import escape

from mfg import i18n
from mfg.i18n import N_
from mfg.identifiers.display import display_code
from mfg.trace.graph import KINDS, Node, Trace

COLUMN, ROW, BOX_W, BOX_H = 190, 34, 165, 26  # a box fits a dose's 26-character code
BOX_CHARS = 27  # of the 10-point second line that fit in a box; the rest is in its tooltip
DRAWN_NODES = 600  # beyond, a drawing is unreadable on screen and paper: the tables stay


def table_rows(trace: Trace) -> dict[str, list[tuple[str, str, str, str]]]:
    """Each kind's table as rows of link, identifier, status and detail (a lot's: its doses
    counted by status), made here rather than by the template: a donor's trace has 11,500
    rows, and the template's attribute lookups, calls and inner loop per row took 330 of the
    page's 440 ms on the benchmark's donor (then 20,000 rows, with its culture vessels)."""
    counts = trace.dose_counts

    def detail(node: Node) -> str:
        if node.kind != "lot":
            return node.detail
        by_status = sorted((counts.get(node.identifier) or {}).items())
        return ", ".join(f"{n} {_status(status)}" for status, n in by_status)

    return {
        kind: [(n.url, n.identifier, n.status.replace("_", " "), detail(n)) for n in nodes]
        for kind in KINDS
        if (nodes := trace.of_kind(kind))
    }


def _status(status: str) -> str:
    """A status code as the reader's word (the badges' words, lower case)."""
    return i18n.pgettext("status", status.replace("_", " "))


# The drawing's column headings, as the reader says them.
HEADINGS = {
    "donor": N_("donor"),
    "biopsy": N_("biopsy"),
    "material": N_("material"),
    "lot": N_("lot"),
    "dose": N_("dose"),
    "patient": N_("patient"),
}


def _heading(column: str) -> str:
    if column.startswith("culture P"):
        return i18n.localize(N_("culture %(passage)s"), {"passage": column.split()[1]})
    return i18n.raw_gettext(HEADINGS.get(column, column))


def drawable(trace: Trace) -> bool:
    return trace.node_count <= DRAWN_NODES


def drawn_columns(trace: Trace) -> list[tuple[str, list[Node]]]:
    """The drawing's columns, headed: one per kind, in the order of the chain, and one per
    passage for the cultures ("culture P0", "culture P1", ...), so that a vessel is drawn to
    the right of the vessel it was passaged from and no line crosses a column."""
    columns: list[tuple[str, list[Node]]] = []
    for kind in KINDS:
        nodes = trace.of_kind(kind)
        if kind != "culture":
            columns += [(kind, nodes)] if nodes else []
            continue
        by_passage: dict[int, list[Node]] = {}
        for node in nodes:  # a culture's detail is its passage, "P<n>"
            by_passage.setdefault(int(node.detail.removeprefix("P")), []).append(node)
        columns += [(f"culture P{n}", by_passage[n]) for n in sorted(by_passage)]
    return columns


def trace_svg(trace: Trace) -> str:
    """Columns donor → biopsy → culture (one per passage) → material → lot → dose → patient;
    edges as lines from the right side of the upstream record to the left side of the
    downstream one (or the other way round for a material drawn right of its culture)."""
    columns = drawn_columns(trace)
    where: dict[str, tuple[int, int]] = {}
    for x, (_, nodes) in enumerate(columns):
        for y, node in enumerate(nodes):
            where[node.key] = (10 + x * COLUMN, 30 + y * ROW)
    height = 40 + ROW * max((len(nodes) for _, nodes in columns), default=1)
    width = 20 + COLUMN * max(len(columns), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="10" '
        'role="img" aria-label="chain of identity">'
    ]
    for x, (heading, _) in enumerate(columns):
        parts.append(
            f'<text x="{10 + x * COLUMN}" y="16" font-weight="bold">{escape(_heading(heading))}'
            "</text>"
        )
    for upstream, downstream in sorted(trace.edges):
        if upstream in where and downstream in where:
            (x1, y1), (x2, y2) = where[upstream], where[downstream]
            if x1 < x2:
                x1 += BOX_W
            else:
                x2 += BOX_W
            parts.append(
                f'<line x1="{x1}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" '
                'stroke="#555" stroke-width="1"/>'
            )
    for key, (x, y) in where.items():
        node = trace.node(key)
        stroke = "#b00020" if key == trace.root.key else "#333"
        about = f"{_status(node.status)} {node.detail}".strip()
        shown = about if len(about) <= BOX_CHARS else about[: BOX_CHARS - 1] + "…"
        code = escape(display_code(node.identifier))
        parts.append(
            f'<a href="{escape(node.url)}">'
            f'<title data-as-is="">{code}: {escape(about)}</title>'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="3" fill="#fff" '
            f'stroke="{stroke}" stroke-width="{2 if stroke != "#333" else 1}"/>'
            f'<text x="{x + 4}" y="{y + 11}" font-family="DejaVu Sans Mono, monospace">'
            f'{code}</text><text x="{x + 4}" y="{y + 22}" fill="#555" data-as-is="">'
            f"{escape(shown)}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
