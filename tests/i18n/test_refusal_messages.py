"""A refusal's sentence and a page's message are catalog messages, so that each reader gets them
in their language: the first argument of every error of the family, the second of a rule's
reason and of flash(), is a literal with named parameters, never an f-string; and the extraction
knows every error class there is."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import mfg
from mfg.errors import MfgError, RuleViolation
from mfg.i18n import catalogs

PACKAGE = Path(mfg.__file__).parent


def _keywords() -> dict[str, int]:
    """Each marked callable's name and the position (0-based) of its message."""
    found = {}
    for spec in catalogs.REFUSALS + catalogs.REASONS + catalogs.FLASHES:
        name, _, position = spec.partition(":")
        found[name] = int(position or 1) - 1
    return found


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def test_no_refusal_or_page_message_is_an_f_string() -> None:
    keywords = _keywords()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _called(node) not in keywords:
                continue
            position = keywords[_called(node)]
            message = node.args[position] if len(node.args) > position else None
            if isinstance(message, ast.JoinedStr) and any(
                isinstance(v, ast.FormattedValue) for v in message.values
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not found, f"f-string messages (use %(name)s and params): {found[:20]}"


def _subclasses(cls: type) -> set[type]:
    return {c for sub in cls.__subclasses__() for c in {sub, *_subclasses(sub)}}


def test_the_extraction_knows_every_error_class() -> None:
    for module in pkgutil.walk_packages(mfg.__path__, "mfg."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    names = {c.__name__ for c in _subclasses(MfgError)} | {"MfgError"}
    # a RuleViolation's first argument is its reasons, each a Reason marked on its own
    assert names - {RuleViolation.__name__} == set(catalogs.REFUSALS)
