"""The trace page's tables, made by ``render.table_rows``."""

import re

from sqlmodel import Session, select

from mfg.models import Donor, PoolMember
from mfg.trace import lookback
from mfg.trace.graph import (
    KINDS,
    Trace,
    biopsy_node,
    culture_node,
    donor_node,
    lot_node,
    material_node,
)
from mfg.trace.render import BOX_W, COLUMN, drawn_columns, table_rows, trace_svg
from mfg.trace.service import build_trace
from tests.factories import PASSWORD


def test_the_trace_tables_and_drawing_show_each_record_and_a_lots_doses_by_status(
    lab, engine, history
) -> None:
    lot, dose, patient = history["b"]
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id).code
    lab.run(
        "qa",
        lambda s, a: lookback.hold_affected(
            s, actor=a, kind="donor", identifier=donor, reason="donor recalled", password=PASSWORD
        ),
    )
    with Session(engine) as session:
        trace = build_trace(session, kind="lot", identifier=lot.din)
    rows = table_rows(trace)
    assert list(rows) == [kind for kind in KINDS if trace.of_kind(kind)]
    for kind, kind_rows in rows.items():
        assert [identifier for _, identifier, _, _ in kind_rows] == [
            n.identifier for n in trace.of_kind(kind)
        ]
    held = trace.dose_counts[lot.din]["on_hold"]
    assert held > 0 and rows["lot"] == [
        (f"/lots/{lot.din}", lot.din, "released", f"1 infused, {held} on hold")
    ]
    assert (f"/doses/{dose.identifier}", dose.identifier, "infused", dose.division) in rows["dose"]
    assert "on hold" in {status for _, _, status, _ in rows["dose"]}
    assert {row[1] for row in rows["patient"]} == {patient.code}
    drawn = trace_svg(trace)  # the drawing writes statuses as the tables do
    assert "on hold B" in drawn and "on_hold" not in drawn


def test_the_drawing_gives_each_passage_a_column_and_draws_no_line_within_a_column() -> None:
    donor, biopsy = donor_node("DN000001H", "eligible"), biopsy_node("A999926000001", "pooled")
    primary = culture_node("CV000001Q", "passaged", 0)
    vessels = [culture_node(f"CV00000{n}", "pooled", 1) for n in (2, 3)]
    medium, lot = (
        material_node("ML0000014", "released", "Alpha-MEM culture medium", "AM26-1187"),
        lot_node("A1", "released"),
    )
    trace = Trace(root=donor)
    trace.link(donor, biopsy)
    trace.link(biopsy, primary)
    for vessel in vessels:
        trace.link(primary, vessel)
        trace.link(vessel, lot)
    trace.link(medium, primary)  # a material is drawn right of the cultures it went into
    headings = [heading for heading, _ in drawn_columns(trace)]
    assert headings == ["donor", "biopsy", "culture P0", "culture P1", "material", "lot"]
    sides = {10 + i * COLUMN + side for i in range(len(headings)) for side in (0, BOX_W)}
    lines = re.findall(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"', trace_svg(trace))
    assert len(lines) == len(trace.edges) == 7
    for x1, x2 in ((float(a), float(b)) for a, b in lines):
        assert x1 in sides and x2 in sides and abs(x2 - x1) >= COLUMN - BOX_W  # no box crossed
    drawn = trace_svg(trace)  # a long detail is cut to its box, and whole in the tooltip
    assert ">released Alpha-MEM culture…</text>" in drawn
    assert ">ML-000001-4: released Alpha-MEM culture medium AM26-1187</title>" in drawn
    (material_line,) = [line for line in lines if float(line[0]) == 10 + 4 * COLUMN]
    assert float(material_line[1]) == 10 + 2 * COLUMN + BOX_W  # to the primary's right side
