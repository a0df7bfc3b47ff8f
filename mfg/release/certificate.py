"""The release certificate: an A4 PDF of what QA certified, each decision with its signature
manifestation (21 CFR 11.50), whether the data changed after it was signed, and the lot DIN as
an ISBT 128 bar code. Each copy issued is audited with its SHA-256."""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
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
from mfg.i18n import N_, format_number, gettext, pgettext, pgettext_noop, use_language
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
    both,
    facts_table,
    grid_table,
    language_line,
    local,
    meaning_text,
    millilitres,
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
    Decision.RELEASED: N_("Certificate of release"),
    Decision.RELEASE_COMPLETED: N_("Certificate of release"),
    Decision.HOLD_LIFTED: N_("Certificate of release"),
    Decision.CONDITIONALLY_RELEASED: N_("Certificate of conditional release — sterility pending"),
    Decision.REJECTED: N_("Record of rejection — not for clinical use"),
    Decision.ON_HOLD: N_("Record of hold — not for use while on hold"),
    Decision.RECALLED: N_("Record of recall — not for clinical use"),
}
# The words the certificate prints for a decision and a test's verdict (pgettext in context).
DECISION_WORDS = (
    pgettext_noop("decision", "released"),
    pgettext_noop("decision", "conditionally released"),
    pgettext_noop("decision", "release completed"),
    pgettext_noop("decision", "rejected"),
    pgettext_noop("decision", "on hold"),
    pgettext_noop("decision", "hold lifted"),
    pgettext_noop("decision", "recalled"),
)
VERDICT_WORDS = (
    pgettext_noop("verdict", "pass"),
    pgettext_noop("verdict", "fail"),
    pgettext_noop("verdict", "awaiting verification"),
    pgettext_noop("verdict", "missing"),
    pgettext_noop("verdict", "not tested (not required)"),
)


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
            "Lot %(din)s has no release decision: there is no certificate yet.",
            params={"din": lot.din},
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


# --- PDF ---------------------------------------------------------------------------------------

_DIN_BLOCK_MM = (110.0, 26.0)
_DIN_TEXT_PT = 14.0
# Whether the certificate being rendered is bilingual (MFG_CERTIFICATE_BILINGUAL): set for the
# rendering by render_certificate_pdf, read by _() and _word().
_bilingual: ContextVar[bool] = ContextVar("certificate_bilingual", default=False)


def _(message: str, /, **params: object) -> str:
    """``message`` in the facility's language, and in English after it on a bilingual copy."""
    return both(message, **params) if _bilingual.get() else gettext(message, **params)


def _word(context: str, word: str) -> str:
    """A controlled word (a status, a decision, a verdict) in the facility's language, and in
    English after it on a bilingual copy."""
    word = str(word).replace("_", " ")
    text = pgettext(context, word)
    return f"{text} / {word}" if _bilingual.get() and text != word else text


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


def _title(c: Certificate) -> str:
    return _(TITLES[Decision(c.newest.decision)])


def _header_flow(c: Certificate, settings: Settings) -> list:
    shown = c.decisions[-1].signature
    heading = _("%(title)s — lot %(din)s", title=_title(c), din=c.din.eye_readable)
    flow: list = [para(heading, H1)]
    if settings.is_test_facility:
        flow.append(para(_(TEST_NOTICE), BAD))
    newest = _word("decision", c.newest.decision)
    if shown:
        newest += " — " + meaning_text(shown, bilingual=_bilingual.get())
    else:
        newest += " — " + _("by the system")
    rows: list[tuple[str, object]] = [
        (_("Facility"), f"{settings.facility_name} (FIN {settings.facility_fin})"),
        (
            _("Product"),
            _(
                "%(name)s (product code %(code)s)",
                name=settings.product_name,
                code=settings.product_code,
            ),
        ),
        (_("Clinical trial"), TRIAL),
        (
            _("Lot DIN"),
            _("%(din)s (check character %(check)s)", din=c.lot.din, check=c.din.check),
        ),
        (_("Lot status"), _word("status", c.lot.status)),
        (_("Newest decision"), newest),
    ]
    return [*flow, _DinBlock(c.din), Spacer(0, 3), facts_table(rows)]


def _dates_flow(c: Certificate, settings: Settings) -> list:
    filled = min((d.filled_at for d in c.doses), default=None)
    expiry = min((d.expires_at for d in c.doses), default=None)
    return [
        para(_("Dates"), H2),
        facts_table(
            [
                (_("Pooled"), local(c.lot.pooled_at, settings)),
                (_("Harvested"), local(c.harvest.ended_at if c.harvest else None, settings)),
                (_("Filled"), local(filled, settings)),
                (_("Dose expiry (earliest)"), local(expiry, settings)),
            ]
        ),
    ]


def _result_text(row: TestStanding) -> str:
    if row.result is not None:
        return shown_value(row.result)
    readings = "; ".join(f"{r.reading}: {shown_value(r)}" for r in row.preliminary)
    return "— (" + _("preliminary %(readings)s", readings=readings) + ")" if readings else "—"


def _qc_flow(c: Certificate) -> list:
    rows = [
        [r.test.code, r.test.name, _result_text(r), r.limit, r.sample_code or "—", _verdict(r)]
        for r in c.qc.rows
    ]
    header = [_("Test"), _("Name"), _("Result"), _("Limit"), _("Sample"), _("Verdict")]
    return [
        para(
            _("Quality control — specification version %(version)s", version=c.qc.spec.version), H2
        ),
        grid_table(header, rows, [21, 43, 30, 28, 24, 34]),
    ]


def _verdict(row: TestStanding) -> str:
    """A test the specification does not require for release is not "missing" when untested."""
    if row.state == MISSING and not row.test.required:
        return _word("verdict", "not tested (not required)")
    return _word("verdict", row.state)


def _lot_flow(c: Certificate, settings: Settings) -> list:
    donors = [[d.code, _word("status", d.status)] for d in c.donors]
    found = [
        [
            d.code,
            d.title,
            _word("status", d.status),
            local(d.closed_at, settings) if d.closed_at else _("not closed"),
        ]
        for d in c.deviations
    ]
    issued = [
        [
            d.identifier,
            format_number(d.cells),
            millilitres(d.volume_ml),
            local(d.expires_at, settings),
        ]
        for d in c.doses
    ]
    flow: list = [
        para(_("Pooled donors"), H2),
        grid_table([_("Donor"), _("Eligibility")], donors, [60, 120]),
        para(_("Deviations"), H2),
    ]
    if found:
        header = [_("Deviation"), _("Title"), _("Status"), _("Closed")]
        flow.append(grid_table(header, found, [24, 86, 24, 46]))
    else:
        flow.append(para(_("No deviation recorded for this lot.")))
    return [
        *flow,
        para(_("Doses"), H2),
        grid_table([_("Dose"), _("Cells"), _("Volume"), _("Expires")], issued, [60, 36, 24, 60]),
    ]


def _decisions_flow(c: Certificate, settings: Settings) -> list:
    flow: list = [para(_("Decisions and signatures"), H2)]
    bilingual = _bilingual.get()
    for number, item in enumerate(c.decisions, 1):
        d, shown = item.decision, item.signature
        signed = (
            para(
                signature_line(shown, settings, bilingual=bilingual),
                BODY if shown.valid else BAD,
            )
            if shown
            else para(
                _(
                    "No signature: decided by the system, %(time)s",
                    time=local(d.decided_at, settings),
                )
            )
        )
        rows: list[tuple[str, object]] = [
            (_("Decision"), f"{number}. {_word('decision', d.decision)}"),
            (_("Reason"), d.reason or "—"),
            (_("Signature"), signed),
            (_("Certified content SHA-256"), para(d.content_hash, MONO)),
        ]
        flow += [facts_table(rows), Spacer(0, 3)]
    return flow


def _changes_flow(c: Certificate, settings: Settings) -> list:
    if c.changed:
        verdict = para(
            _(
                "YES — the content certified now differs from what the newest decision signed "
                "(now SHA-256 %(sha256)s).",
                sha256=c.current_hash,
            ),
            BAD,
        )
    else:
        verdict = para(
            _("No — the content certified now is the content the newest decision signed.")
        )
    corrected = _(
        "%(invalidated)s invalidated, %(reentered)s re-entered",
        invalidated=len(c.invalidated),
        reentered=c.reentered,
    )
    rows = [(_("Certified data changed"), verdict), (_("QC results"), corrected)]
    rows += [
        (
            _("Invalidated %(test)s", test=r.test_code),
            _(
                "%(value)s on sample %(sample)s, %(time)s: %(reason)s",
                value=shown_value(r),
                sample=s.code,
                time=local(r.invalidated_at, settings),
                reason=r.invalidation_reason,
            ),
        )
        for r, s in c.invalidated
    ]
    return [
        para(_("Data changed after first entry"), H2),
        facts_table(rows),
        para(_("Certified content"), H2),
        facts_table([("SHA-256", para(c.newest.content_hash, MONO))]),
    ]


def render_certificate_pdf(c: Certificate, settings: Settings) -> bytes:
    """The certificate on A4, every page headed with the lot and numbered, in the facility's
    language (and in English beside it when ``MFG_CERTIFICATE_BILINGUAL`` says so)."""
    with use_language(settings.language):
        token = _bilingual.set(settings.certificate_bilingual)
        try:
            return _certificate_pdf(c, settings)
        finally:
            _bilingual.reset(token)


def _certificate_pdf(c: Certificate, settings: Settings) -> bytes:
    issued = local(c.issued_at, settings)
    title = _title(c)
    flow = [
        *_header_flow(c, settings),
        *_dates_flow(c, settings),
        *_qc_flow(c),
        *_lot_flow(c, settings),
        *_decisions_flow(c, settings),
        *_changes_flow(c, settings),
    ]
    language = language_line()
    if _bilingual.get():
        language = f"{language} + English (en)" if settings.language != "en" else language
    return a4_pdf(
        flow,
        settings=settings,
        title=f"{title} {c.lot.din}",
        heading=_("%(title)s — lot %(din)s", title=title, din=c.lot.din),
        footer=_("Issued %(time)s to %(name)s", time=issued, name=c.issued_to),
        language=language,
    )
