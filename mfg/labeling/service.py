"""Print a label: build its data, verify every bar code by decoding it, fit every text to its
box, render, read the rendered text back, log, audit. A label is built and rendered in the
facility's language (``Settings.language``), whoever prints it (mfg.labeling.fields).

Record kinds register how their label data is built in one place (``mfg.record_kinds``). A second
print of the same label is a reprint: it needs a reason and carries the ISBT 128 ``05`` flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.chain import content_hash
from mfg.auth.permissions import Action, authorize
from mfg.db import settings_of
from mfg.errors import InvalidInput, NotFound, RuleViolation, reason
from mfg.i18n import use_language
from mfg.identifiers import isbt128
from mfg.labeling.barcodes import scan_back
from mfg.labeling.fields import LabelData
from mfg.labeling.layout import Layout, load_layout
from mfg.labeling.pdf import label_pdf
from mfg.labeling.readback import verify_text
from mfg.labeling.schemas import MAX_COPIES, PrintIn
from mfg.labeling.zpl import label_zpl
from mfg.models import LabelPrint, User

# (session, identifier, flags) -> the label's data, or None when no such record exists
LabelBuilder = Callable[[Session, str, str], LabelData | None]


class ReprintReasonRequired(RuleViolation):
    """A label printed before is printed again only with a reason (the page asks for one)."""

    def __init__(self, kind: str):
        super().__init__(
            reason(
                "reprint_reason_required",
                "This %(kind)s label was printed before: a reprint needs a reason.",
                kind=kind,
            )
        )


class LabelSources:
    """How each record kind builds its label data."""

    def __init__(self) -> None:
        self._builders: dict[str, LabelBuilder] = {}

    def register(self, kind: str, builder: LabelBuilder) -> None:
        load_layout(kind)  # a kind without a valid layout cannot be registered
        self._builders[kind] = builder

    def kinds(self) -> list[str]:
        return sorted(self._builders)

    def build(self, session: Session, kind: str, identifier: str, flags: str) -> LabelData:
        builder = self._builders.get(kind)
        if builder is None:
            raise NotFound(
                "No %(kind)s labels can be printed yet: no record kind provides them.",
                params={"kind": kind},
            )
        data = builder(session, identifier, flags)
        if data is None:
            raise NotFound(
                "No %(kind)s record %(identifier)s.",
                params={"kind": kind, "identifier": repr(identifier)},
            )
        return data


@dataclass(frozen=True)
class PrintedLabel:
    content: bytes
    media_type: str
    filename: str
    log: LabelPrint


def verify_barcodes(layout: Layout, data: LabelData) -> None:
    """Scan-back: every bar code of the label decodes to its data, or nothing is printed."""
    for barcode in layout.barcodes:
        scan_back(barcode.symbology, data[barcode.field])


def canonical_identifier(identifier: str) -> str:
    """A record's identifier as labels are logged under it: DINs, dose identifiers and local
    codes are upper case, without spaces or the hyphens of their eye-readable form."""
    return "".join(identifier.split()).replace("-", "").upper()


def was_printed(session: Session, kind: str, identifier: str) -> bool:
    """Whether this label was printed before (a print now is a reprint): one index probe,
    however often it was reprinted."""
    query = select(exists().where(LabelPrint.kind == kind, LabelPrint.identifier == identifier))
    return bool(session.exec(query).one())


def print_label(
    session: Session,
    *,
    actor: User,
    sources: LabelSources,
    kind: str,
    identifier: str,
    command: PrintIn | None = None,
) -> PrintedLabel:
    """Render a label for printing; logged and audited, a reprint only with a reason."""
    authorize(actor, Action.PRINT_LABELS)
    command = command or PrintIn()
    if not 1 <= command.copies <= MAX_COPIES:
        raise InvalidInput(
            "Copies must be between 1 and %(max)s.",
            params={"max": MAX_COPIES},
            code="copies_out_of_range",
            details={"field": "copies"},
        )
    layout = load_layout(kind)
    # One label, one identifier, however it was typed: else "a9999…" or " A9999…" would print a
    # second original of the same container, with no reprint flag and no reason.
    identifier = canonical_identifier(identifier)
    reprint = was_printed(session, kind, identifier)
    if reprint and not command.reason.strip():
        raise ReprintReasonRequired(kind)
    flags = isbt128.FLAG_REPRINT if reprint else isbt128.FLAG_NONE
    with use_language(settings_of(session).language):  # the facility's, whoever prints it
        data = sources.build(session, kind, identifier, flags)
        verify_barcodes(layout, data)
        content, media_type = _rendered(layout, data, command, title=f"{kind} {identifier}")
    log = _logged(session, actor, kind, identifier, command, reprint=reprint, data=data)
    return PrintedLabel(content, media_type, f"{kind}-{identifier}.{command.output}", log)


def _rendered(
    layout: Layout, data: LabelData, command: PrintIn, *, title: str
) -> tuple[bytes, str]:
    """The label's copies as a PDF whose text is read back, or as ZPL II; with its media type."""
    if command.output == "pdf":
        content = label_pdf(layout, [data] * command.copies, title=title)
        verify_text(content, layout, data)
        return content, "application/pdf"
    return label_zpl(layout, [data], copies=command.copies).encode("utf-8"), "application/zpl"


def _logged(
    session: Session,
    actor: User,
    kind: str,
    identifier: str,
    command: PrintIn,
    *,
    reprint: bool,
    data: LabelData,
) -> LabelPrint:
    """The print's log row and audit event; of two first prints racing, one wins."""
    reason = command.reason.strip()
    log = LabelPrint(
        kind=kind,
        identifier=identifier,
        output_format=command.output,
        copies=command.copies,
        printer=command.printer.strip()[:100],
        reprint=reprint,
        reason=reason,
        data_hash=content_hash(data),
        printed_by_id=actor.id,
    )
    session.add(log)
    try:
        session.flush()
    except IntegrityError as error:  # another first print of this label won meanwhile
        raise RuleViolation.state(
            "reprint_reason_required",
            "This %(kind)s label was printed meanwhile by someone else: a reprint needs a reason.",
            params={"kind": kind},
        ) from error
    audit.record(
        session,
        actor=actor,
        action="label.reprinted" if reprint else "label.printed",
        entity_type=kind,
        entity_id=identifier,
        changes={
            "label_print_id": [None, log.id],
            "copies": [None, command.copies],
            "printer": [None, log.printer],
            "format": [None, command.output],
        },
        reason=reason or None,
        require_reason=reprint,
    )
    return log


def print_history(session: Session, *, kind: str, identifier: str) -> list[tuple[LabelPrint, str]]:
    """Every print of one label, oldest first, with the printed name of who printed it."""
    query = (
        select(LabelPrint, User.full_name)
        .join(User, col(User.id) == LabelPrint.printed_by_id)
        .where(LabelPrint.kind == kind, LabelPrint.identifier == canonical_identifier(identifier))
        .order_by(col(LabelPrint.printed_at), col(LabelPrint.id))
    )
    return [(row[0], row[1]) for row in session.exec(query).all()]
