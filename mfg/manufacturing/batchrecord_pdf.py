"""The batch record printed: an A4 PDF, each stage headed, each signature with its validity."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlmodel import Session

from mfg.audit import service as audit
from mfg.config import Settings
from mfg.db import settings_of
from mfg.labeling.pdf import FONTS
from mfg.manufacturing.batchrecord import (
    BatchRecord,
    Step,
    Vessel,
    batch_record,
)
from mfg.models import (
    Lot,
    User,
)
from mfg.signatures.service import ShownSignature


def export_batch_record_pdf(session: Session, *, actor: User, lot: Lot) -> bytes:
    """The batch record as a PDF; each export is audited, with the SHA-256 of the copy issued."""
    record = batch_record(session, actor=actor, lot=lot)
    content = render_batch_record_pdf(record, settings_of(session))
    audit.record(
        session,
        actor=actor,
        action="lot.batch_record_exported",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "pdf_sha256": [None, hashlib.sha256(content).hexdigest()],
            "invalid_signatures": [None, record.invalid_signatures],
        },
    )
    return content


# --- PDF -------------------------------------------------------------------------------------

BODY = ParagraphStyle("body", fontName=FONTS["sans"], fontSize=8.5, leading=10.5)
MONO = ParagraphStyle("mono", parent=BODY, fontName=FONTS["mono"])
BAD = ParagraphStyle("bad", parent=BODY, textColor=colors.HexColor("#b00020"))
H1 = ParagraphStyle("h1", fontName=FONTS["sans-bold"], fontSize=15, leading=19, spaceAfter=4)
H2 = ParagraphStyle("h2", parent=H1, fontSize=11.5, leading=14, spaceBefore=8, keepWithNext=1)
H3 = ParagraphStyle("h3", parent=H2, fontSize=9.5, leading=12, spaceBefore=5, spaceAfter=2)
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
)
_FACTS = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
        ("NOSPLIT", (0, 0), (-1, -1)),
    ]
)
_WIDTH = A4[0] - 30 * mm


def local(value: datetime | None, settings: Settings) -> str:
    """A stored UTC time as the facility reads it, with the zone named."""
    if value is None:
        return "—"
    return f"{value.astimezone(settings.tz):%Y-%m-%d %H:%M} ({settings.timezone})"


def signature_line(shown: ShownSignature, settings: Settings) -> str:
    s = shown.signature
    when = f"{s.signed_at.astimezone(settings.tz):%Y-%m-%d %H:%M:%S} ({settings.timezone})"
    verdict = "VALID" if shown.valid else "INVALID — the record changed after it was signed"
    return f"{s.printed_name} — {s.meaning} — {when} — {verdict}"


def para(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _n(value: float | None, fmt: str = "{:,}") -> str:
    return "—" if value is None else fmt.format(value)


def facts_table(rows: Sequence[tuple[str, object]]) -> Table:
    """One step's facts and signatures, never split across pages (a step is a few rows)."""
    data = [
        [para(label), value if isinstance(value, Paragraph) else para(value)]
        for label, value in rows
    ]
    table = Table(data, colWidths=[45 * mm, _WIDTH - 45 * mm])
    table.setStyle(_FACTS)
    return table


def grid_table(header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float]):
    """A table whose first column holds identifiers, printed in the mono font (0/O, 1/I apart)."""
    body = [[para(v, MONO if i == 0 else BODY) for i, v in enumerate(row)] for row in rows]
    data = [[para(h) for h in header], *body]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(_GRID)
    return table


def _signed(step: Step | None, shown: Sequence[ShownSignature], settings: Settings) -> list:
    rows: list[tuple[str, object]] = []
    if step is not None:
        used = ", ".join(f"{m.code} {m.name} lot {m.lot_number}" for m in step.materials)
        rows.append(("Materials", used or "none recorded"))
    for s in shown:
        rows.append(("Signature", para(signature_line(s, settings), BODY if s.valid else BAD)))
    if not shown:
        rows.append(("Signature", para("NOT SIGNED", BAD)))
    return rows


def _vessel_flow(vessel: Vessel, settings: Settings) -> list:
    c = vessel.culture
    seeded = "explant" if c.seeded_cells is None else f"{c.seeded_cells:,} cells"
    rows: list[tuple[str, object]] = [
        ("Vessel", f"{c.code} — passage {c.passage_number} — {c.vessel_type}, {c.surface_cm2} cm²"),
        ("Seeded", f"{local(c.seeded_at, settings)}, {seeded}; status {c.status}"),
    ]
    if vessel.start is not None:
        rows += _signed(vessel.start, vessel.start.signatures, settings)
    flow: list = [para(f"Culture vessel {c.code}", H3), facts_table(rows)]
    if vessel.passage is not None:
        p = vessel.passage.record
        into = ", ".join(v.code for v in vessel.passage.children)
        rows = [
            ("Passage", f"{local(p.started_at, settings)} – {local(p.ended_at, settings)}"),
            ("Harvested", f"{p.harvested_cells:,} cells, viability {p.viability_pct:g} %"),
            (
                "PD / cumulative PD",
                f"{_n(p.population_doublings, '{:.2f}')} / {_n(p.cumulative_pd, '{:.2f}')}",
            ),
            ("Re-seeded", f"{p.reseeded_cells:,} cells into {into}"),
        ]
        if p.deviation_note:
            rows.append(("Deviation", p.deviation_note))
        flow += [
            Spacer(0, 2),
            facts_table(
                rows + _signed(vessel.passage.step, vessel.passage.step.signatures, settings)
            ),
        ]
    return flow


def _members_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para("1. Donors, biopsies and cultures", H2)]
    for m in record.members:
        b = m.biopsy
        flow += [
            para(f"Donor {m.donor.code} ({m.donor.status}) — biopsy {b.din}", H3),
            facts_table(
                [
                    ("Biopsy collected", f"{local(b.collected_at, settings)}, {b.site}"),
                    ("Biopsy received", local(b.received_at, settings)),
                    ("Cells into the pool", f"{m.member.cells_contributed:,}"),
                ]
            ),
        ]
        for vessel in m.vessels:
            flow += _vessel_flow(vessel, settings)
    return flow


def _pool_flow(record: BatchRecord, settings: Settings) -> list:
    lot = record.lot
    return [
        para("2. Pooling", H2),
        facts_table(
            [
                ("Pooled", local(lot.pooled_at, settings)),
                ("Cells pooled", f"{lot.total_cells:,}"),
                (
                    "Members",
                    "; ".join(
                        f"{m.donor.code} {m.biopsy.din} {m.vessels[-1].culture.code}: "
                        f"{m.member.cells_contributed:,} cells"
                        for m in record.members
                    ),
                ),
                *_signed(None, record.pool, settings),
            ]
        ),
    ]


def _expansion_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para("3. Lot expansion", H2)]
    if not record.lot_passages:
        flow.append(para("No lot passage recorded."))
    for item in record.lot_passages:
        r = item.record
        rows = [
            (
                "Passage",
                f"P{r.passage_number}: {local(r.started_at, settings)} – "
                f"{local(r.ended_at, settings)}",
            ),
            (
                "Seeded / harvested",
                f"{r.seeded_cells:,} / {r.harvested_cells:,} cells, "
                f"viability {r.viability_pct:g} %",
            ),
            (
                "PD / cumulative PD",
                f"{_n(r.population_doublings, '{:.2f}')} / {_n(r.cumulative_pd, '{:.2f}')}",
            ),
            ("Re-seeded", f"{r.reseeded_cells:,} cells into {r.vessels} × {r.vessel_type}"),
        ]
        if r.deviation_note:
            rows.append(("Deviation", r.deviation_note))
        flow += [
            facts_table(rows + _signed(item.step, item.step.signatures, settings)),
            Spacer(0, 3),
        ]
    return flow


def _harvest_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para("4. Harvest and formulation", H2)]
    if record.harvest is None:
        return [*flow, para("Not harvested.")]
    h, step = record.harvest.record, record.harvest.step
    rows = [
        (
            "Harvest",
            f"{local(h.started_at, settings)} – {local(h.ended_at, settings)}, "
            f"passage {h.passage_number}",
        ),
        ("Harvested", f"{h.harvested_cells:,} cells, viability {h.viability_pct:g} %"),
        ("Cumulative PD", _n(h.cumulative_pd, "{:.2f}")),
        ("Formulated", f"{h.final_volume_ml:g} mL at {h.concentration_per_ml:,.0f} cells/mL"),
    ]
    if h.deviation_note:
        rows.append(("Deviation", h.deviation_note))
    return [*flow, facts_table(rows + _signed(step, step.signatures, settings))]


def _doses_flow(record: BatchRecord, settings: Settings) -> list:
    filled = [
        [
            d.identifier,
            d.division,
            f"{d.cells:,}",
            f"{d.volume_ml:g} mL",
            d.container,
            local(d.expires_at, settings),
            d.status,
        ]
        for d in (r.dose for r in record.doses)
    ]
    stored = [
        [
            r.dose.identifier,
            local(r.dose.frozen_at, settings),
            r.dose.freezing_programme or "—",
            _n(r.dose.storage_temp_c, "{:g} °C"),
            r.location,
        ]
        for r in record.doses
    ]
    header = ["Dose", "Div.", "Cells", "Volume", "Container", "Expires", "Status"]
    flow: list = [
        para("5. Fill", H2),
        grid_table(header, filled, [46, 11, 22, 17, 28, 34, 22]),
        facts_table(_signed(None, record.fill, settings)),
        para("6. Cryopreservation and storage", H2),
        grid_table(
            ["Dose", "Frozen", "Programme", "Temp.", "Location"], stored, [46, 36, 30, 18, 50]
        ),
        facts_table(_signed(None, record.storage, settings)),
        para("7. Thaw", H2),
    ]
    thawed = [r for r in record.doses if r.dose.thawed_at is not None or r.thaw]
    if not thawed:
        flow.append(para("No dose thawed."))
    for r in thawed:
        rows = [("Dose", r.dose.identifier), ("Thawed", local(r.dose.thawed_at, settings))]
        flow += [facts_table(rows + _signed(None, r.thaw, settings)), Spacer(0, 3)]
    return flow


class NumberedCanvas(Canvas):
    """Writes "Page N of M" once the number of pages is known (reportlab's two-pass recipe)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self.setFont(FONTS["sans"], 8)
            self.drawRightString(A4[0] - 15 * mm, 10 * mm, f"Page {number} of {len(self._pages)}")
            super().showPage()
        super().save()


def a4_pdf(flow: list, *, settings: Settings, title: str, heading: str, footer: str) -> bytes:
    """A numbered A4 document: the facility and ``heading`` atop every page, ``footer`` below."""

    def page_frame(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONTS["sans"], 8)
        canvas.drawString(15 * mm, A4[1] - 10 * mm, settings.facility_name)
        canvas.drawRightString(A4[0] - 15 * mm, A4[1] - 10 * mm, heading)
        canvas.drawString(15 * mm, 10 * mm, footer)
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=settings.facility_name,
    )
    document.build(
        flow, onFirstPage=page_frame, onLaterPages=page_frame, canvasmaker=NumberedCanvas
    )
    return buffer.getvalue()


def render_batch_record_pdf(record: BatchRecord, settings: Settings) -> bytes:
    """The batch record on A4: one heading per stage, each signature with its verdict."""
    din = record.din.eye_readable
    generated = local(record.generated_at, settings)

    lot = record.lot
    flow: list = [
        para(f"Electronic batch record — lot {din}", H1),
        facts_table(
            [
                ("Lot DIN", f"{lot.din} (check character {record.din.check})"),
                ("Status", lot.status),
                ("Facility", f"{settings.facility_name} (FIN {settings.facility_fin})"),
                ("Generated", generated),
            ]
        ),
        *_members_flow(record, settings),
        *_pool_flow(record, settings),
        *_expansion_flow(record, settings),
        *_harvest_flow(record, settings),
        *_doses_flow(record, settings),
    ]
    return a4_pdf(
        flow,
        settings=settings,
        title=f"Batch record {lot.din}",
        heading=f"Batch record — lot {din}",
        footer=f"Generated {generated}",
    )
