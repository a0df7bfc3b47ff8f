"""Sign a record with a password and a meaning; tell whether a signature still matches its record.

A signature binds to the SHA-256 of the canonical content of what was signed (21 CFR 11.70): the
caller passes the content when signing and the current content when showing the signature, so a
later change of the record shows the signature as invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.audit.chain import content_hash
from mfg.auth.login import reauthenticate
from mfg.errors import InvalidInput
from mfg.models import Meaning, Signature, User


def sign(
    session: Session,
    *,
    signer: User,
    password: str,
    meaning: Meaning,
    entity_type: str,
    entity_id: str | int,
    content: dict[str, Any],
    comment: str = "",
) -> Signature:
    """Re-authenticate ``signer`` and record their signature of ``content`` with ``meaning``."""
    if not isinstance(meaning, Meaning):
        raise InvalidInput(f"{meaning!r} is not a signature meaning of the controlled list.")
    reauthenticate(session, user=signer, password=password)
    signature = Signature(
        entity_type=entity_type,
        entity_id=str(entity_id),
        meaning=meaning.value,
        user_id=signer.id,
        username=signer.username,
        printed_name=signer.full_name,
        content_hash=content_hash(content),
        comment=comment.strip(),
    )
    session.add(signature)
    session.flush()
    audit.record(
        session,
        actor=signer,
        action="signature.signed",
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes={
            "signature_id": [None, signature.id],
            "meaning": [None, signature.meaning],
            "content_hash": [None, signature.content_hash],
        },
        reason=signature.comment or None,
    )
    return signature


def matches(signature: Signature, content: dict[str, Any]) -> bool:
    """True while the record still has exactly the content that was signed."""
    return signature.content_hash == content_hash(content)


@dataclass(frozen=True)
class ShownSignature:
    """A signature with its verdict, as every page and printout shows it (21 CFR 11.50)."""

    signature: Signature
    valid: bool


def signatures_for(session: Session, *, entity_type: str, entity_id: str | int) -> list[Signature]:
    query = (
        select(Signature)
        .where(Signature.entity_type == entity_type, Signature.entity_id == str(entity_id))
        .order_by(col(Signature.signed_at), col(Signature.id))
    )
    return list(session.exec(query).all())


def shown(
    session: Session, *, entity_type: str, entity_id: str | int, content: dict[str, Any]
) -> list[ShownSignature]:
    return [
        ShownSignature(s, matches(s, content))
        for s in signatures_for(session, entity_type=entity_type, entity_id=entity_id)
    ]
