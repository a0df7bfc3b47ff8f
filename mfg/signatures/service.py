"""Sign a record with a password and a meaning; tell whether a signature still matches its record.

A signature binds to the SHA-256 of the canonical content of what was signed (21 CFR 11.70). Each
signed record type has one function that gives that content from the record as stored
(``@signs("lot_passage")``, beside the record's service); signing and showing a signature both
name the record (type and id) and call it, so a later change of the record shows the signature
as invalid, and nothing else — a router, a page, a form's own copy of a value — ever builds
signed content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from mfg import i18n
from mfg.audit import service as audit
from mfg.audit.chain import content_hash
from mfg.auth.login import reauthenticate
from mfg.errors import InvalidInput
from mfg.models import Meaning, Signature, User

SignedContent = Callable[[Session, str], dict[str, Any]]
_CONTENT: dict[str, SignedContent] = {}


def signs(entity_type: str) -> Callable[[SignedContent], SignedContent]:
    """Register the one function giving what a record of ``entity_type`` signs, from the record
    as stored: ``content(session, entity_id)``, canonical (``content_hash`` writes its times in
    UTC and its numbers in one form)."""

    def register(content: SignedContent) -> SignedContent:
        known = _CONTENT.get(entity_type)
        if known is not None and known is not content:
            raise RuntimeError(f"signed content of {entity_type!r} is defined twice")
        _CONTENT[entity_type] = content
        return content

    return register


def signed_types() -> frozenset[str]:
    """Every record type that has its signed content (all of them once the domains are loaded)."""
    return frozenset(_CONTENT)


def content_of(session: Session, *, entity_type: str, entity_id: str | int) -> dict[str, Any]:
    """What a signature of this record binds to, read from the record as it is now."""
    content = _CONTENT.get(entity_type)
    if content is None:
        raise LookupError(f"no signed content is defined for records of type {entity_type!r}")
    return content(session, str(entity_id))


def sign(
    session: Session,
    *,
    signer: User,
    password: str,
    meaning: Meaning,
    entity_type: str,
    entity_id: str | int,
    comment: str = "",
) -> Signature:
    """Re-authenticate ``signer`` and record their signature of the record with ``meaning``.

    The record (and what it refers to) is flushed first, and its content is read by the same
    function that will read it back to show the signature; ``content_hash`` writes times in
    UTC and numbers in one form, so a value signed as typed hashes as the value stored."""
    if not isinstance(meaning, Meaning):
        raise InvalidInput(
            "%(meaning)s is not a signature meaning of the controlled list.",
            params={"meaning": repr(meaning)},
        )
    reauthenticate(session, user=signer, password=password)
    session.flush()
    content = content_of(session, entity_type=entity_type, entity_id=entity_id)
    signature = Signature(
        entity_type=entity_type,
        entity_id=str(entity_id),
        meaning=meaning.value,
        # the dialog showed the meaning in the language of the signer's request
        meaning_shown=i18n.gettext(meaning.value),
        language=i18n.current_language(),
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
            "meaning_shown": [None, signature.meaning_shown],
            "content_hash": [None, signature.content_hash],
        },
        reason=signature.comment or None,
    )
    return signature


def matches(signature: Signature, content: dict[str, Any]) -> bool:
    """True while the record still has exactly the content that was signed."""
    return signature.content_hash == content_hash(content)


def is_valid(session: Session, signature: Signature) -> bool:
    """True while the signature's record still has exactly the content that was signed."""
    content = content_of(session, entity_type=signature.entity_type, entity_id=signature.entity_id)
    return matches(signature, content)


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


def shown(session: Session, *, entity_type: str, entity_id: str | int) -> list[ShownSignature]:
    """The record's signatures, each with whether the record still matches what it signed."""
    found = signatures_for(session, entity_type=entity_type, entity_id=entity_id)
    if not found:
        return []
    content = content_of(session, entity_type=entity_type, entity_id=entity_id)
    return [ShownSignature(s, matches(s, content)) for s in found]


def signed_and_matching(session: Session, *, entity_type: str, entity_id: str | int) -> bool:
    """The record carries a signature, and every signature of it still matches the record (the
    ``signature_valid`` of an API answer)."""
    found = shown(session, entity_type=entity_type, entity_id=entity_id)
    return bool(found) and all(s.valid for s in found)
