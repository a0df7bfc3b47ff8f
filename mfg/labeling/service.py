"""Print a label: build its data, verify every bar code by decoding it, fit every text to its
box, render, read the rendered text back, log, audit.

Record kinds register how their label data is built in one place (``mfg.record_kinds``). A second
print of the same label is a reprint: it needs a reason and carries the ISBT 128 ``05`` flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.chain import content_hash
from mfg.auth.permissions import Action, authorize
from mfg.errors import InvalidInput, NotFound, Reason, RuleViolation
from mfg.identifiers import isbt128
from mfg.labeling.barcodes import scan_back
from mfg.labeling.fields import LabelData
from mfg.labeling.layout import Layout, load_layout
from mfg.labeling.pdf import label_pdf
from mfg.labeling.readback import verify_text
from mfg.labeling.zpl import label_zpl
from mfg.models import LabelPrint, User

MAX_COPIES = 50
# (session, identifier, flags) -> the label's data, or None when no such record exists
LabelBuilder = Callable[[Session, str, str], LabelData | None]
OutputFormat = Literal["pdf", "zpl"]


class ReprintReasonRequired(RuleViolation):
    """A label printed before is printed again only with a reason (the page asks for one)."""

    def __init__(self, kind: str):
        super().__init__(
            Reason(
                "reprint_reason_required",
                f"This {kind} label was printed before: a reprint needs a reason.",
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
            raise NotFound(f"No {kind} labels can be printed yet: no record kind provides them.")
        data = builder(session, identifier, flags)
        if data is None:
            raise NotFound(f"No {kind} record {identifier!r}.")
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
    output: OutputFormat = "pdf",
    copies: int = 1,
    printer: str = "",
    reason: str = "",
) -> PrintedLabel:
    """Render a label for printing; logged and audited, a reprint only with a reason."""
    authorize(actor, Action.PRINT_LABELS)
    if not 1 <= copies <= MAX_COPIES:
        raise InvalidInput(
            f"Copies must be between 1 and {MAX_COPIES}.",
            code="copies_out_of_range",
            details={"field": "copies"},
        )
    layout = load_layout(kind)
    # One label, one identifier, however it was typed: else "a9999…" or " A9999…" would print a
    # second original of the same container, with no reprint flag and no reason.
    identifier = canonical_identifier(identifier)
    reprint = was_printed(session, kind, identifier)
    reason = reason.strip()
    if reprint and not reason:
        raise ReprintReasonRequired(kind)
    flags = isbt128.FLAG_REPRINT if reprint else isbt128.FLAG_NONE
    data = sources.build(session, kind, identifier, flags)
    verify_barcodes(layout, data)
    if output == "pdf":
        content = label_pdf(layout, [data] * copies, title=f"{kind} {identifier}")
        verify_text(content, layout, data)
        media_type = "application/pdf"
    else:
        content = label_zpl(layout, [data], copies=copies).encode("utf-8")
        media_type = "application/zpl"
    log = LabelPrint(
        kind=kind,
        identifier=identifier,
        output_format=output,
        copies=copies,
        printer=printer.strip()[:100],
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
            f"This {kind} label was printed meanwhile by someone else: a reprint needs a reason.",
        ) from error
    audit.record(
        session,
        actor=actor,
        action="label.reprinted" if reprint else "label.printed",
        entity_type=kind,
        entity_id=identifier,
        changes={
            "label_print_id": [None, log.id],
            "copies": [None, copies],
            "printer": [None, log.printer],
            "format": [None, output],
        },
        reason=reason or None,
        require_reason=reprint,
    )
    return PrintedLabel(content, media_type, f"{kind}-{identifier}.{output}", log)


def print_history(session: Session, *, kind: str, identifier: str) -> list[tuple[LabelPrint, str]]:
    """Every print of one label, oldest first, with the printed name of who printed it."""
    query = (
        select(LabelPrint, User.full_name)
        .join(User, col(User.id) == LabelPrint.printed_by_id)
        .where(LabelPrint.kind == kind, LabelPrint.identifier == canonical_identifier(identifier))
        .order_by(col(LabelPrint.printed_at), col(LabelPrint.id))
    )
    return [(row[0], row[1]) for row in session.exec(query).all()]
