"""One raw scan → typed tokens (docs/isbt128.md#scanning-at-the-bench).

Order of work: undo Caps Lock on ISBT 128 data structures, undo a Russian keyboard layout, strip
an AIM symbology identifier, then read GS1 element strings, concatenated ISBT 128 data structures,
a local identifier, or a DIN (alone, or with a dose's product code) typed by hand with its check
character as pages and labels print it. Anything else is refused with a specific error; nothing
else is raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from biip import ParseError
from biip.gs1_messages import GS1Message

from mfg.identifiers import isbt128
from mfg.identifiers.errors import BadCheckCharacter, BadLength, ScanError, UnknownStructure
from mfg.identifiers.keyboard import recover_latin
from mfg.identifiers.local import PREFIXES, canonical_local

MAX_SCAN_LENGTH = 500
GS1_SYMBOLOGIES = frozenset({"C1", "d2", "e0", "Q3", "J1"})
FNC1 = "\x1d"


class TokenKind(StrEnum):
    DIN = "din"
    PRODUCT_CODE = "product_code"
    EXPIRY = "expiry"
    LOCAL = "local"
    GS1 = "gs1"


@dataclass(slots=True)
class Token:
    kind: TokenKind
    value: str
    flags: str | None = None  # DIN flag characters, when the DIN came from a bar code
    hand_typed: bool = False
    data: Mapping[str, str] | None = None  # GS1: AI -> value

    def describe(self) -> str:
        if self.kind is TokenKind.DIN:
            din = isbt128.Din.parse(self.value)
            return f"DIN {din.eye_readable} {din.check}"
        if self.kind is TokenKind.LOCAL:
            return f"{PREFIXES[self.value[:2]]} {self.value[:2]}-{self.value[2:8]}-{self.value[8]}"
        if self.kind is TokenKind.GS1:
            return " ".join(f"({ai}){value}" for ai, value in (self.data or {}).items())
        return f"{self.kind.value.replace('_', ' ')} {self.value}"


@dataclass(slots=True)
class ParsedScan:
    raw: str
    text: str
    tokens: tuple[Token, ...]
    symbology: str | None = None
    layout_recovered: bool = False
    caps_lock_recovered: bool = False

    def first(self, kind: TokenKind) -> Token | None:
        return next((t for t in self.tokens if t.kind is kind), None)

    def kinds(self) -> tuple[TokenKind, ...]:
        return tuple(t.kind for t in self.tokens)


def parse_scan(raw: str) -> ParsedScan:
    """Parse one scan; raises only ``ScanError`` subclasses, whatever the input."""
    if not isinstance(raw, str):
        raise UnknownStructure("A scan is text.")
    text = raw.strip(" \t\r\n")
    if not text:
        raise BadLength("Nothing was scanned.")
    if len(text) > MAX_SCAN_LENGTH:
        raise BadLength(
            "A scan has at most %(limit)s characters.", params={"limit": MAX_SCAN_LENGTH}
        )
    caps_lock = typed_with_caps_lock(text)
    if caps_lock:
        text = text.swapcase()
    text, recovered = recover_latin(text)
    symbology = None
    if text.startswith("]") and len(text) >= 3:
        symbology, text = text[1:3], text[3:]
    try:
        tokens = _tokens(text, symbology)
    except ScanError:
        raise
    except (ValueError, IndexError) as exc:  # defensive: a parser must never leak these
        raise UnknownStructure(
            "%(text)s is not a code the system knows.", params={"text": repr(raw)}
        ) from exc
    return ParsedScan(raw, text, tuple(tokens), symbology, recovered, caps_lock)


def typed_with_caps_lock(text: str) -> bool:
    """Whether a scan is ISBT 128 data structures whose letters arrived in inverted case. A
    keyboard-wedge scanner sends an upper-case letter as Shift + key; with Caps Lock on, the
    computer makes it lower case, in a Cyrillic layout too (where "<" is Shift + Б). The
    structures this system reads and prints have upper-case letters only (a division is
    ``A0``…``ZZ``), so letters all in lower case can only be that; mixed case is left to be
    refused. Other codes (local ones, DINs typed by hand) are read in either case anyway."""
    if not text.islower():  # at least one letter, and none in upper case
        return False
    inverted = recover_latin(text.swapcase())[0]
    if inverted.startswith("]"):
        inverted = inverted[3:]
    return inverted.startswith(("=", "&"))


def _tokens(text: str, symbology: str | None) -> list[Token]:
    if symbology in GS1_SYMBOLOGIES or text.startswith(FNC1):
        return [_gs1(text)]
    if text.startswith(("=", "&")):
        return _isbt(text)
    compact = "".join(text.split())
    if compact.replace("-", "")[:2].upper() in PREFIXES:
        return [Token(TokenKind.LOCAL, canonical_local(compact))]
    typed = isbt128.typed_compact(text)
    if _STARTS_WITH_FIN(typed) and 13 <= len(typed) <= 14:
        return [Token(TokenKind.DIN, isbt128.canonical_typed_din(typed), hand_typed=True)]
    if _STARTS_WITH_FIN(typed) and 21 <= len(typed) <= 22:
        din, product_code = isbt128.split_typed_dose(typed)
        return [
            Token(TokenKind.DIN, din, hand_typed=True),
            Token(TokenKind.PRODUCT_CODE, product_code, hand_typed=True),
        ]
    if compact.isdigit() and compact.startswith(("01", "02")) and len(compact) >= 16:
        return [_gs1(compact)]  # a GS1-128 read by a scanner that sends no AIM prefix
    raise UnknownStructure("%(text)s is not a code the system knows.", params={"text": repr(text)})


def _isbt(text: str) -> list[Token]:
    if " " in text or "\t" in text:
        text = "".join(text.split())
    tokens, i, n = [], 0, len(text)
    while i < n:
        if text.startswith(isbt128.PRODUCT_CODE_START, i):
            tokens.append(_product_code(text[i + 2 : i + 10]))
            i += 10
        elif text.startswith(isbt128.EXPIRY_START, i):
            data = text[i + 2 : i + 12]
            if len(data) != 10 or not data.isdigit():
                raise BadLength("An expiry date-time has 10 digits after '&>' (cyyjjjhhmm).")
            tokens.append(Token(TokenKind.EXPIRY, data))
            i += 12
        elif text[i] == "=":
            tokens.append(_din_structure(text[i + 1 : i + 16]))
            i += 16
        else:
            raise UnknownStructure(
                "Unknown ISBT 128 data structure at %(at)s in %(text)s.",
                params={"at": repr(text[i : i + 2]), "text": repr(text)},
            )
    return tokens


_STARTS_WITH_FIN = re.compile(r"[A-NP-Z1-9][0-9]{4}").match  # a DIN, or a dose, typed by hand
_DIN_WITH_FLAGS = re.compile(r"([A-NP-Z1-9][0-9]{12})([0-9]{2})").fullmatch
_PRODUCT_CODE = re.compile(r"[A-Z][0-9A-Z]{4}[0-9A-Z]{3}").fullmatch


def _din_structure(data: str) -> Token:
    match = _DIN_WITH_FLAGS(data)
    if match is None:  # find out why, for the message
        if len(data) != 15:
            raise BadLength(
                "A DIN bar code has 13 characters and 2 flags after '='; got %(length)s.",
                params={"length": len(data)},
            )
        isbt128.Din.parse(data[:13])
        raise UnknownStructure(
            "The flag characters %(flags)s of a DIN are two digits.",
            params={"flags": repr(data[13:])},
        )
    din13, flags = match.groups()
    if "60" <= flags <= "96" and flags != isbt128.Din.parse(din13).check_flags():
        raise BadCheckCharacter(
            "The check flags %(flags)s do not match DIN %(din)s.",
            params={"flags": flags, "din": din13},
        )
    if din13.endswith("000000"):
        raise UnknownStructure("A DIN's sequence number is never 000000.")
    return Token(TokenKind.DIN, din13, flags=flags)


def _product_code(code: str) -> Token:
    if _PRODUCT_CODE(code) is None:
        isbt128.ProductCode.parse(code)  # raises the specific error
    return Token(TokenKind.PRODUCT_CODE, code)


def _gs1(text: str) -> Token:
    try:  # biip checks the AI formats, FNC1 separators and (17) dates
        message = GS1Message.parse(text.lstrip(FNC1))
    except ParseError as exc:
        raise UnknownStructure(
            "Not a readable GS1 bar code: %(error)s", params={"error": str(exc)}
        ) from exc
    data: dict[str, str] = {}
    for element in message.element_strings:
        if element.gtin_error:
            raise BadCheckCharacter(
                "The GTIN's check digit is wrong: %(error)s", params={"error": element.gtin_error}
            )
        data[element.ai.ai] = element.value
    value = "".join(f"({ai}){val}" for ai, val in data.items())
    return Token(TokenKind.GS1, value, data=data)
