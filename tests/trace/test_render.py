"""The trace page's tables, made by ``render.table_rows``."""

from sqlmodel import Session, select

from mfg.models import Donor, PoolMember
from mfg.trace import lookback
from mfg.trace.graph import KINDS
from mfg.trace.render import table_rows, trace_svg
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
