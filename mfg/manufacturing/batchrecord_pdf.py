"""The batch record printed: an A4 PDF, each stage headed, each signature with its validity.

Printouts are in the facility's language (``Settings.language``), not the reader's, each naming
the language it is in, drawn with the DejaVu fonts registered for labels (Cyrillic included);
``a4_pdf`` and the helpers here serve every A4 printout (certificate, notification list, trial
report).
"""

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
from mfg.i18n import (
    LANGUAGES,
    N_,
    SOURCE_LANGUAGE,
    current_language,
    format_number,
    in_language,
    pgettext,
    use_language,
)
from mfg.i18n import gettext as _
from mfg.labeling.fonts import FONTS
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


# --- PDF ---------------------------------------------------------------------------------------

BODY = ParagraphStyle("body", fontName=FONTS["sans"], fontSize=8.5, leading=10.5)
MONO = ParagraphStyle("mono", parent=BODY, fontName=FONTS["mono"])
BAD = ParagraphStyle("bad", parent=BODY, textColor=colors.HexColor("#b00020"))
H1 = ParagraphStyle("h1", fontName=FONTS["sans-bold"], fontSize=15, leading=19, spaceAfter=4)
H2 = ParagraphStyle("h2", parent=H1, fontSize=11.5, leading=14, spaceBefore=8, keepWithNext=1)
H3 = ParagraphStyle("h3", parent=H2, fontSize=9.5, leading=12, spaceBefore=5, spaceAfter=2)
# Tables name the font too: reportlab's cell default (Helvetica) holds no Cyrillic.
_GRID = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONTS["sans"]),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
)
_FACTS = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONTS["sans"]),
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


VALID = N_("VALID")
INVALID = N_("INVALID — the record changed after it was signed")


def both(message: str, /, **params: object) -> str:
    """``message`` in the printout's language followed by its English, where they differ (a
    bilingual printout: "Сертификат выпуска / Certificate of release")."""
    text = _(message, **params)
    english = in_language(SOURCE_LANGUAGE, message, **params)
    return text if text == english else f"{text} / {english}"


def status_word(status: str) -> str:
    """A status code as a printout reads it, in the printout's language ("in process")."""
    return pgettext("status", str(status).replace("_", " "))


def language_line() -> str:
    """The line naming the language a printout is in: "Language: Русский (ru)"."""
    language = current_language()
    return _("Language: %(name)s (%(code)s)", name=LANGUAGES[language], code=language)


def meaning_text(shown: ShownSignature, *, bilingual: bool = False) -> str:
    """A signature's meaning as the signer was shown it; ``bilingual`` adds the English code
    where the two differ ("Выпущено для клинического применения / Released for clinical use")."""
    s = shown.signature
    text = s.meaning_shown or s.meaning
    return f"{text} / {s.meaning}" if bilingual and text != s.meaning else text


def signature_line(shown: ShownSignature, settings: Settings, *, bilingual: bool = False) -> str:
    """The manifestation of 21 CFR 11.50 on paper: printed name, meaning, local time, verdict."""
    s = shown.signature
    when = f"{s.signed_at.astimezone(settings.tz):%Y-%m-%d %H:%M:%S} ({settings.timezone})"
    says = both if bilingual else _
    verdict = (
        says("VALID") if shown.valid else says("INVALID — the record changed after it was signed")
    )
    return f"{s.printed_name} — {meaning_text(shown, bilingual=bilingual)} — {when} — {verdict}"


def para(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _n(value: float | None, digits: int | None = None) -> str:
    return "—" if value is None else format_number(value, digits)


def cells(value: float) -> str:
    return _("%(cells)s cells", cells=format_number(value))


def millilitres(value: float) -> str:
    return _("%(volume)s mL", volume=format_number(value))


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
        used = ", ".join(
            _("%(code)s %(name)s lot %(lot)s", code=m.code, name=m.name, lot=m.lot_number)
            for m in step.materials
        )
        rows.append((_("Materials"), used or _("none recorded")))
    for s in shown:
        rows.append((_("Signature"), para(signature_line(s, settings), BODY if s.valid else BAD)))
    if not shown:
        rows.append((_("Signature"), para(_("NOT SIGNED"), BAD)))
    return rows


def _viability(value: float) -> str:
    return _("viability %(pct)s %%", pct=format_number(value))


def _pd(first: float | None, second: float | None) -> str:
    return f"{_n(first, 2)} / {_n(second, 2)}"


def _vessel_flow(vessel: Vessel, settings: Settings) -> list:
    c = vessel.culture
    seeded = _("explant") if c.seeded_cells is None else cells(c.seeded_cells)
    rows: list[tuple[str, object]] = [
        (
            _("Vessel"),
            _(
                "%(code)s — passage %(passage)s — %(vessel)s, %(surface)s cm²",
                code=c.code,
                passage=c.passage_number,
                vessel=c.vessel_type,
                surface=format_number(c.surface_cm2),
            ),
        ),
        (
            _("Seeded"),
            _(
                "%(time)s, %(seeded)s; status %(status)s",
                time=local(c.seeded_at, settings),
                seeded=seeded,
                status=status_word(c.status),
            ),
        ),
    ]
    if vessel.start is not None:
        rows += _signed(vessel.start, vessel.start.signatures, settings)
    flow: list = [para(_("Culture vessel %(code)s", code=c.code), H3), facts_table(rows)]
    if vessel.passage is not None:
        p = vessel.passage.record
        into = ", ".join(v.code for v in vessel.passage.children)
        rows = [
            (_("Passage"), f"{local(p.started_at, settings)} – {local(p.ended_at, settings)}"),
            (_("Harvested"), f"{cells(p.harvested_cells)}, {_viability(p.viability_pct)}"),
            (_("PD / cumulative PD"), _pd(p.population_doublings, p.cumulative_pd)),
            (
                _("Re-seeded"),
                _("%(cells)s into %(vessels)s", cells=cells(p.reseeded_cells), vessels=into),
            ),
        ]
        if p.deviation_note:
            rows.append((_("Deviation"), p.deviation_note))
        flow += [
            Spacer(0, 2),
            facts_table(
                rows + _signed(vessel.passage.step, vessel.passage.step.signatures, settings)
            ),
        ]
    return flow


def _members_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para(_("1. Donors, biopsies and cultures"), H2)]
    for m in record.members:
        b = m.biopsy
        heading = _(
            "Donor %(donor)s (%(status)s) — biopsy %(din)s",
            donor=m.donor.code,
            status=status_word(m.donor.status),
            din=b.din,
        )
        flow += [
            para(heading, H3),
            facts_table(
                [
                    (_("Biopsy collected"), f"{local(b.collected_at, settings)}, {b.site}"),
                    (_("Biopsy received"), local(b.received_at, settings)),
                    (_("Cells into the pool"), format_number(m.member.cells_contributed)),
                ]
            ),
        ]
        for vessel in m.vessels:
            flow += _vessel_flow(vessel, settings)
    return flow


def _pool_flow(record: BatchRecord, settings: Settings) -> list:
    lot = record.lot
    return [
        para(_("2. Pooling"), H2),
        facts_table(
            [
                (_("Pooled"), local(lot.pooled_at, settings)),
                (_("Cells pooled"), format_number(lot.total_cells)),
                (
                    _("Members"),
                    "; ".join(
                        f"{m.donor.code} {m.biopsy.din} {m.vessels[-1].culture.code}: "
                        f"{cells(m.member.cells_contributed)}"
                        for m in record.members
                    ),
                ),
                *_signed(None, record.pool, settings),
            ]
        ),
    ]


def _expansion_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para(_("3. Lot expansion"), H2)]
    if not record.lot_passages:
        flow.append(para(_("No lot passage recorded.")))
    for item in record.lot_passages:
        r = item.record
        rows = [
            (
                _("Passage"),
                f"P{r.passage_number}: {local(r.started_at, settings)} – "
                f"{local(r.ended_at, settings)}",
            ),
            (
                _("Seeded / harvested"),
                f"{format_number(r.seeded_cells)} / {cells(r.harvested_cells)}, "
                f"{_viability(r.viability_pct)}",
            ),
            (_("PD / cumulative PD"), _pd(r.population_doublings, r.cumulative_pd)),
            (
                _("Re-seeded"),
                _(
                    "%(cells)s into %(count)s × %(vessel)s",
                    cells=cells(r.reseeded_cells),
                    count=r.vessels,
                    vessel=r.vessel_type,
                ),
            ),
        ]
        if r.deviation_note:
            rows.append((_("Deviation"), r.deviation_note))
        flow += [
            facts_table(rows + _signed(item.step, item.step.signatures, settings)),
            Spacer(0, 3),
        ]
    return flow


def _harvest_flow(record: BatchRecord, settings: Settings) -> list:
    flow: list = [para(_("4. Harvest and formulation"), H2)]
    if record.harvest is None:
        return [*flow, para(_("Not harvested."))]
    h, step = record.harvest.record, record.harvest.step
    rows = [
        (
            _("Harvest"),
            _(
                "%(start)s – %(end)s, passage %(passage)s",
                start=local(h.started_at, settings),
                end=local(h.ended_at, settings),
                passage=h.passage_number,
            ),
        ),
        (_("Harvested"), f"{cells(h.harvested_cells)}, {_viability(h.viability_pct)}"),
        (_("Cumulative PD"), _n(h.cumulative_pd, 2)),
        (
            _("Formulated"),
            _(
                "%(volume)s at %(concentration)s cells/mL",
                volume=millilitres(h.final_volume_ml),
                concentration=format_number(h.concentration_per_ml, 0),
            ),
        ),
    ]
    if h.deviation_note:
        rows.append((_("Deviation"), h.deviation_note))
    return [*flow, facts_table(rows + _signed(step, step.signatures, settings))]


def _doses_flow(record: BatchRecord, settings: Settings) -> list:
    filled = [
        [
            d.identifier,
            d.division,
            format_number(d.cells),
            millilitres(d.volume_ml),
            d.container,
            local(d.expires_at, settings),
            status_word(d.status),
        ]
        for d in (r.dose for r in record.doses)
    ]
    stored = [
        [
            r.dose.identifier,
            local(r.dose.frozen_at, settings),
            r.dose.freezing_programme or "—",
            "—" if r.dose.storage_temp_c is None else f"{format_number(r.dose.storage_temp_c)} °C",
            r.location,
        ]
        for r in record.doses
    ]
    header = [_("Dose"), _("Div."), _("Cells"), _("Volume"), _("Container"), _("Expires")]
    header.append(_("Status"))
    flow: list = [
        para(_("5. Fill"), H2),
        grid_table(header, filled, [46, 11, 22, 17, 28, 34, 22]),
        facts_table(_signed(None, record.fill, settings)),
        para(_("6. Cryopreservation and storage"), H2),
        grid_table(
            [_("Dose"), _("Frozen"), _("Programme"), _("Temp."), _("Location")],
            stored,
            [46, 36, 30, 18, 50],
        ),
        facts_table(_signed(None, record.storage, settings)),
        para(_("7. Thaw"), H2),
    ]
    thawed = [r for r in record.doses if r.dose.thawed_at is not None or r.thaw]
    if not thawed:
        flow.append(para(_("No dose thawed.")))
    for r in thawed:
        rows = [(_("Dose"), r.dose.identifier), (_("Thawed"), local(r.dose.thawed_at, settings))]
        flow += [facts_table(rows + _signed(None, r.thaw, settings)), Spacer(0, 3)]
    return flow


class NumberedCanvas(Canvas):
    """Writes "Page N of M" once the number of pages is known (reportlab's two-pass recipe)."""

    def __init__(self, *args, **kwargs) -> None:
        # the DejaVu fonts from the first operator on (reportlab's default is Helvetica)
        super().__init__(*args, **{**kwargs, "initialFontName": FONTS["sans"]})
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self.setFont(FONTS["sans"], 8)
            page = _("Page %(number)s of %(count)s", number=number, count=len(self._pages))
            self.drawRightString(A4[0] - 15 * mm, 10 * mm, page)
            super().showPage()
        super().save()


def a4_pdf(
    flow: list,
    *,
    settings: Settings,
    title: str,
    heading: str,
    footer: str,
    language: str | None = None,
) -> bytes:
    """A numbered A4 document: the facility and ``heading`` atop every page, ``footer`` below,
    and the language it is in (``language``, else the current one's line: render within
    ``use_language``)."""
    language = language or language_line()

    def page_frame(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONTS["sans"], 8)
        canvas.drawString(15 * mm, A4[1] - 10 * mm, settings.facility_name)
        canvas.drawRightString(A4[0] - 15 * mm, A4[1] - 10 * mm, heading)
        canvas.drawString(15 * mm, 10 * mm, footer)
        canvas.drawString(15 * mm, 6 * mm, language)
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
        lang=current_language(),
    )
    document.build(
        flow, onFirstPage=page_frame, onLaterPages=page_frame, canvasmaker=NumberedCanvas
    )
    return buffer.getvalue()


def render_batch_record_pdf(record: BatchRecord, settings: Settings) -> bytes:
    """The batch record on A4, in the facility's language: one heading per stage, each
    signature with its verdict."""
    with use_language(settings.language):
        return _batch_record_pdf(record, settings)


def _batch_record_pdf(record: BatchRecord, settings: Settings) -> bytes:
    din = record.din.eye_readable
    generated = local(record.generated_at, settings)

    lot = record.lot
    flow: list = [
        para(_("Electronic batch record — lot %(din)s", din=din), H1),
        facts_table(
            [
                (
                    _("Lot DIN"),
                    _("%(din)s (check character %(check)s)", din=lot.din, check=record.din.check),
                ),
                (_("Status"), status_word(lot.status)),
                (_("Facility"), f"{settings.facility_name} (FIN {settings.facility_fin})"),
                (_("Generated"), generated),
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
        title=_("Batch record %(din)s", din=lot.din),
        heading=_("Batch record — lot %(din)s", din=din),
        footer=_("Generated %(time)s", time=generated),
    )
