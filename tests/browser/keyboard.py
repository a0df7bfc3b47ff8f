"""Type into the page the way a keyboard-wedge scanner does under a given keyboard layout.

Chromium's DevTools protocol sends real key events with the physical key (``code``) and the
character the active layout makes of it (``key``/``text``): here, the Russian ЙЦУКЕН layout.
"""

from __future__ import annotations

from playwright.sync_api import Page

from mfg.identifiers.keyboard import RU_TO_US

US_TO_RU = {chr(v): chr(k) for k, v in RU_TO_US.items()}
_SHIFTED_DIGITS = dict(zip(")!@#$%^&*(", "0123456789", strict=True))
_PUNCTUATION = {  # US character -> (code, shifted)
    "-": ("Minus", False),
    "_": ("Minus", True),
    "=": ("Equal", False),
    "+": ("Equal", True),
    "[": ("BracketLeft", False),
    "{": ("BracketLeft", True),
    "]": ("BracketRight", False),
    "}": ("BracketRight", True),
    ";": ("Semicolon", False),
    ":": ("Semicolon", True),
    "'": ("Quote", False),
    '"': ("Quote", True),
    ",": ("Comma", False),
    "<": ("Comma", True),
    ".": ("Period", False),
    ">": ("Period", True),
    "/": ("Slash", False),
    "?": ("Slash", True),
    " ": ("Space", False),
}
SHIFT = 8  # CDP modifier bit


def _key(ch: str) -> tuple[str, bool]:
    if ch.isalpha():
        return f"Key{ch.upper()}", ch.isupper()
    if ch.isdigit():
        return f"Digit{ch}", False
    if ch in _SHIFTED_DIGITS:
        return f"Digit{_SHIFTED_DIGITS[ch]}", True
    return _PUNCTUATION[ch]


def type_with_russian_layout(page: Page, text: str) -> str:
    """Send ``text``'s keys as a scanner would while the Russian layout is active."""
    cdp = page.context.new_cdp_session(page)
    produced = []
    for ch in text:
        code, shifted = _key(ch)
        as_russian = US_TO_RU.get(ch, ch)
        produced.append(as_russian)
        event = {
            "key": as_russian,
            "code": code,
            "text": as_russian,
            "unmodifiedText": as_russian,
            "modifiers": SHIFT if shifted else 0,
        }
        cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", **event})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": as_russian, "code": code})
    cdp.detach()
    return "".join(produced)
