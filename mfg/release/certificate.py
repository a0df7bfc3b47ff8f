"""The release certificate: an A4 PDF of what QA certified, each decision with its signature
manifestation (21 CFR 11.50), whether the data changed after it was signed, and the lot DIN as
an ISBT 128 bar code. Each copy issued is audited with its SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Spacer
from sqlmodel import Session

from mfg.audit import service as audit
from mfg.audit.chain import content_hash
from mfg.auth.permissions import Action, authorize
from mfg.config import Settings
from mfg.db import settings_of
from mfg.deviations import service as deviations
from mfg.errors import RuleViolation
from mfg.identifiers.isbt128 import Din
from mfg.labeling.barcodes import scan_back
from mfg.labeling.fields import TEST_NOTICE, din_fields
from mfg.labeling.layout import BarcodeElement, Layout, TextElement
from mfg.labeling.pdf import FONTS, draw_label
from mfg.manufacturing import doses, lots, pools
from mfg.manufacturing.batchrecord_pdf import (
    BAD,
    BODY,
    H1,
    H2,
    MONO,
    a4_pdf,
    facts_table,
    grid_table,
    local,
    para,
    signature_line,
)
from mfg.models import (
    Decision,
    Deviation,
    Donor,
    Dose,
    Harvest,
    Lot,
    QcResult,
    QcResultStatus,
    QcSample,
    ReleaseDecision,
    User,
    utcnow,
)
from mfg.qc.results import shown_value
from mfg.qc.summary import MISSING, LotQc, TestStanding, lot_qc, lot_results
from mfg.release import service
from mfg.signatures.service import ShownSignature

TRIAL = "NCT04382547"
TITLES = {
    Decision.RELEASED: "Certificate of release",
    Decision.RELEASE_COMPLETED: "Certificate of release",
    Decision.HOLD_LIFTED: "Certificate of release",
    Decision.CONDITIONALLY_RELEASED: "Certificate of conditional release — sterility pending",
    Decision.REJECTED: "Record of rejection — not for clinical use",
    Decision.ON_HOLD: "Record of hold — not for use while on hold",
    Decision.RECALLED: "Record of recall — not for clinical use",
}


@dataclass
class SignedDecision:
    decision: ReleaseDecision
    signature: ShownSignature | None  # None: a decision the system took (a safety stop)


@dataclass
class Certificate:
    """Everything the certificate prints, loaded once; rendering needs no database."""

    lot: Lot
    din: Din
    decisions: list[SignedDecision]
    qc: LotQc
    donors: list[Donor]
    deviations: list[Deviation]
    harvest: Harvest | None
    doses: list[Dose]
    current_hash: str  # SHA-256 of the content a decision would certify now
    invalidated: list[tuple[QcResult, QcSample]]
    reentered: int
    issued_at: datetime
    issued_to: str

    @property
    def newest(self) -> ReleaseDecision:
        return self.decisions[-1].decision

    @property
    def changed(self) -> bool:
        """The content certified now differs from what the newest decision signed."""
        return self.current_hash != self.newest.content_hash


def certificate_pdf(session: Session, *, actor: User, lot: Lot) -> bytes:
    """The certificate of the lot's decisions as a PDF, refused before the first decision;
    each export is audited with the SHA-256 of the copy issued."""
    authorize(actor, Action.VIEW_RELEASE)
    certificate = build_certificate(session, actor=actor, lot=lot)
    content = render_certificate_pdf(certificate, settings_of(session))
    audit.record(
        session,
        actor=actor,
        action="lot.certificate_exported",
        entity_type="lot",
        entity_id=lot.din,
        changes={
            "pdf_sha256": [None, hashlib.sha256(content).hexdigest()],
            "certified_sha256": [None, certificate.newest.content_hash],
            "changed_after_signing": [None, certificate.changed],
        },
    )
    return content


def build_certificate(session: Session, *, actor: User, lot: Lot) -> Certificate:
    decisions = service.decisions_of(session, lot)
    if not decisions:
        raise RuleViolation.state(
            "no_release_decision",
            f"Lot {lot.din} has no release decision: there is no certificate yet.",
        )
    results = lot_results(session, lot)
    invalidated = [(r, s) for r, s in results if r.status == QcResultStatus.INVALIDATED]
    return Certificate(
        lot=lot,
        din=Din.parse(lot.din),
        decisions=[_signed(session, d) for d in decisions],
        qc=lot_qc(session, lot),
        donors=[donor for _, _, _, donor in pools.member_rows(session, lot)],
        deviations=deviations.list_all_of_lot(session, lot),
        harvest=lots.harvest_of(session, lot),
        doses=doses.doses_of(session, lot),
        current_hash=content_hash(service.certified_content(session, lot)),
        invalidated=invalidated,
        reentered=sum(1 for r, _ in invalidated if _reentered(r, results)),
        issued_at=utcnow(),
        issued_to=actor.full_name,
    )


def _signed(session: Session, decision: ReleaseDecision) -> SignedDecision:
    """A signature is valid while it binds the very content the decision certified (11.70)."""
    signature = service.release_signature(session, decision)
    if signature is None:
        return SignedDecision(decision, None)
    return SignedDecision(
        decision, ShownSignature(signature, signature.content_hash == decision.content_hash)
    )


def _reentered(result: QcResult, results: list[tuple[QcResult, QcSample]]) -> bool:
    """A later result of the same test and reading replaced the invalidated one."""
    return any(
        other.id > result.id
        and other.test_code == result.test_code
        and other.reading == result.reading
        and other.status != QcResultStatus.INVALIDATED
        for other, _ in results
    )


# --- PDF -------------------------------------------------------------------------------------

_DIN_BLOCK_MM = (110.0, 26.0)
_DIN_TEXT_PT = 14.0


class _DinBlock(Flowable):
    """The lot DIN as on a container label: Code 128 of ``=`` + DIN + flags, the eye-readable
    DIN and its boxed check character, drawn by the label renderer from modules that were
    decoded back first, as for every label."""

    def __init__(self, din: Din) -> None:
        super().__init__()
        self.data = din_fields(din)
        scan_back("code128", self.data["din_barcode"])
        text_width = pdfmetrics.stringWidth(din.eye_readable, FONTS["mono-bold"], _DIN_TEXT_PT)
        width, height = _DIN_BLOCK_MM
        self.layout = Layout(
            kind="lot-certificate",
            title="Lot DIN",
            width_mm=width,
            height_mm=height,
            barcodes=[
                BarcodeElement(
                    field="din_barcode",
                    symbology="code128",
                    x_mm=0,
                    y_mm=1,
                    module_mm=0.33,
                    height_mm=14,
                )
            ],
            texts=[
                TextElement(
                    field="din_eye_readable",
                    font="mono-bold",
                    x_mm=3.3,
                    y_mm=18,
                    size_pt=_DIN_TEXT_PT,
                ),
                TextElement(
                    field="din_check",
                    font="mono-bold",
                    x_mm=3.3 + text_width / mm + 3,
                    y_mm=18,
                    size_pt=_DIN_TEXT_PT,
                    boxed=True,
                ),
            ],
        )
        self.width, self.height = width * mm, height * mm

    def draw(self) -> None:
        draw_label(self.canv, self.layout, self.data)


def _header_flow(c: Certificate, settings: Settings) -> list:
    meaning = c.decisions[-1].signature
    flow: list = [para(f"{TITLES[Decision(c.newest.decision)]} — lot {c.din.eye_readable}", H1)]
    if settings.is_test_facility:
        flow.append(para(TEST_NOTICE, BAD))
    rows: list[tuple[str, object]] = [
        ("Facility", f"{settings.facility_name} (FIN {settings.facility_fin})"),
        ("Product", f"{settings.product_name} (product code {settings.product_code})"),
        ("Clinical trial", TRIAL),
        ("Lot DIN", f"{c.lot.din} (check character {c.din.check})"),
        ("Lot status", c.lot.status.replace("_", " ")),
        (
            "Newest decision",
            f"{c.newest.decision.replace('_', ' ')}"
            + (f" — {meaning.signature.meaning}" if meaning else " — by the system"),
        ),
    ]
    return [*flow, _DinBlock(c.din), Spacer(0, 3), facts_table(rows)]


def _dates_flow(c: Certificate, settings: Settings) -> list:
    filled = min((d.filled_at for d in c.doses), default=None)
    expiry = min((d.expires_at for d in c.doses), default=None)
    return [
        para("Dates", H2),
        facts_table(
            [
                ("Pooled", local(c.lot.pooled_at, settings)),
                ("Harvested", local(c.harvest.ended_at if c.harvest else None, settings)),
                ("Filled", local(filled, settings)),
                ("Dose expiry (earliest)", local(expiry, settings)),
            ]
        ),
    ]


def _result_text(row: TestStanding) -> str:
    if row.result is not None:
        return shown_value(row.result)
    readings = "; ".join(f"{r.reading}: {shown_value(r)}" for r in row.preliminary)
    return f"— (preliminary {readings})" if readings else "—"


def _qc_flow(c: Certificate) -> list:
    rows = [
        [r.test.code, r.test.name, _result_text(r), r.limit, r.sample_code or "—", _verdict(r)]
        for r in c.qc.rows
    ]
    header = ["Test", "Name", "Result", "Limit", "Sample", "Verdict"]
    return [
        para(f"Quality control — specification version {c.qc.spec.version}", H2),
        grid_table(header, rows, [21, 47, 32, 30, 24, 26]),
    ]


def _verdict(row: TestStanding) -> str:
    """A test the specification does not require for release is not "missing" when untested."""
    if row.state == MISSING and not row.test.required:
        return "not tested (not required)"
    return row.state


def _lot_flow(c: Certificate, settings: Settings) -> list:
    donors = [[d.code, d.status] for d in c.donors]
    found = [
        [d.code, d.title, d.status, local(d.closed_at, settings) if d.closed_at else "not closed"]
        for d in c.deviations
    ]
    issued = [
        [d.identifier, f"{d.cells:,}", f"{d.volume_ml:g} mL", local(d.expires_at, settings)]
        for d in c.doses
    ]
    flow: list = [
        para("Pooled donors", H2),
        grid_table(["Donor", "Eligibility"], donors, [60, 120]),
        para("Deviations", H2),
    ]
    if found:
        flow.append(grid_table(["Deviation", "Title", "Status", "Closed"], found, [24, 86, 24, 46]))
    else:
        flow.append(para("No deviation recorded for this lot."))
    return [
        *flow,
        para("Doses", H2),
        grid_table(["Dose", "Cells", "Volume", "Expires"], issued, [60, 36, 24, 60]),
    ]


def _decisions_flow(c: Certificate, settings: Settings) -> list:
    flow: list = [para("Decisions and signatures", H2)]
    for number, item in enumerate(c.decisions, 1):
        d, shown = item.decision, item.signature
        signed = (
            para(signature_line(shown, settings), BODY if shown.valid else BAD)
            if shown
            else para("No signature: decided by the system, " + local(d.decided_at, settings))
        )
        rows: list[tuple[str, object]] = [
            ("Decision", f"{number}. {d.decision.replace('_', ' ')}"),
            ("Reason", d.reason or "—"),
            ("Signature", signed),
            ("Certified content SHA-256", para(d.content_hash, MONO)),
        ]
        flow += [facts_table(rows), Spacer(0, 3)]
    return flow


def _changes_flow(c: Certificate, settings: Settings) -> list:
    if c.changed:
        verdict = para(
            "YES — the content certified now differs from what the newest decision signed "
            f"(now SHA-256 {c.current_hash}).",
            BAD,
        )
    else:
        verdict = para("No — the content certified now is the content the newest decision signed.")
    corrected = f"{len(c.invalidated)} invalidated, {c.reentered} re-entered"
    rows = [("Certified data changed", verdict), ("QC results", corrected)]
    rows += [
        (
            f"Invalidated {r.test_code}",
            f"{shown_value(r)} on sample {s.code}, {local(r.invalidated_at, settings)}: "
            f"{r.invalidation_reason}",
        )
        for r, s in c.invalidated
    ]
    return [
        para("Data changed after first entry", H2),
        facts_table(rows),
        para("Certified content", H2),
        facts_table([("SHA-256", para(c.newest.content_hash, MONO))]),
    ]


def render_certificate_pdf(c: Certificate, settings: Settings) -> bytes:
    """The certificate on A4, every page headed with the lot and numbered."""
    issued = local(c.issued_at, settings)
    title = TITLES[Decision(c.newest.decision)]

    flow = [
        *_header_flow(c, settings),
        *_dates_flow(c, settings),
        *_qc_flow(c),
        *_lot_flow(c, settings),
        *_decisions_flow(c, settings),
        *_changes_flow(c, settings),
    ]
    return a4_pdf(
        flow,
        settings=settings,
        title=f"{title} {c.lot.din}",
        heading=f"{title} — lot {c.lot.din}",
        footer=f"Issued {issued} to {c.issued_to}",
    )
