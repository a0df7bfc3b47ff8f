"""The rule catalogue: each guard, the rule it states, its codes, its clauses and its tests.

A guard is a public function of a domain's ``mfg/<domain>/rules.py`` that returns blocking
reasons (its return annotation names ``Reason``, or an alias of it such as ``Blocking``; a
function with no return annotation counts too, so that it is seen). Helpers of the same module
that return something else (a number, a date, a text) are not rules and are left out. Its
docstring follows the guard convention (docs/architecture.md#guards):

    first paragraph   the rule, as one sentence a QA person reads
    Code: a, b        the stable codes it returns
    Clause: ...       the regulation clauses it implements, or a dash for a facility rule

The tests that prove a guard carry its name in their own name; they are found by walking
``tests/`` with ``ast``. Nothing here imports the modules it describes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "mfg"
TESTS = ROOT / "tests"
CATALOGUE = ROOT / "docs" / "rules.md"
# The modules the guard convention names: every domain's rules.py, and the *_rules.py a domain
# splits it into (mfg/clinical/bedside_rules.py).
GUARD_MODULES = ("*/rules.py", "*/*_rules.py")
MISSING = "*missing*"
COMMAND = "python -m mfg.docs rules"


@dataclass
class Guard:
    domain: str
    module: str  # dotted, e.g. mfg.qc.rules
    name: str
    rule: str  # the docstring's first paragraph, on one line ("" when absent)
    codes: list[str]
    clauses: list[str]
    tests: list[str] = field(default_factory=list)  # path::name

    @property
    def qualified(self) -> str:
        return f"{self.module}:{self.name}"

    def lacks(self) -> list[str]:
        """What of the convention this guard's docstring and tests do not have."""
        missing = []
        if not self.rule:
            missing.append("first line")
        if not self.codes:
            missing.append("Code:")
        if not self.clauses:
            missing.append("Clause:")
        if not self.tests:
            missing.append("a test named after it")
        return missing


def _field(lines: list[str], key: str) -> list[str]:
    """The values of ``key:``, the lines that continue it (up to a blank line or the next key)
    included: a long list of codes wraps."""
    for index, line in enumerate(lines):
        if line.strip().startswith(f"{key}:"):
            value = line.strip()[len(key) + 1 :].strip()
            for more in lines[index + 1 :]:
                if not more.strip() or more.strip().startswith(("Code:", "Clause:")):
                    break
                value += " " + more.strip()
            sep = ";" if key == "Clause" else ","
            return [part.strip() for part in value.split(sep) if part.strip()]
    return []


def _parse_docstring(text: str | None) -> tuple[str, list[str], list[str]]:
    if not text:
        return "", [], []
    lines = text.splitlines()
    first: list[str] = []
    for line in lines:
        if not line.strip() or line.strip().startswith(("Code:", "Clause:")):
            break
        first.append(line.strip())
    return " ".join(first), _field(lines, "Code"), _field(lines, "Clause")


def _reason_names(tree: ast.Module) -> set[str]:
    """``Reason`` and the module's own aliases of it (``Blocking = Reason``)."""
    names = {"Reason"}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _returns_reasons(node: ast.FunctionDef, reason_names: set[str]) -> bool:
    if node.returns is None:
        return True
    annotation = node.returns
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    return any(isinstance(n, ast.Name) and n.id in reason_names for n in ast.walk(annotation))


def guards_of(path: Path) -> list[Guard]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    reason_names = _reason_names(tree)
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if not _returns_reasons(node, reason_names):
            continue
        rule, codes, clauses = _parse_docstring(ast.get_docstring(node))
        found.append(Guard(path.parent.name, module, node.name, rule, codes, clauses))
    return found


def test_names() -> list[str]:
    """Every test of ``tests/`` as ``path::name`` (``path::Class::name`` for a method)."""
    names = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT).as_posix()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("test"):
                    names.append(f"{where}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                names.extend(
                    f"{where}::{node.name}::{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name.startswith("test")
                )
    return names


def guards() -> list[Guard]:
    """Every guard, domains in alphabetical order and guards in source order, with its tests."""
    tests = test_names()
    found = []
    for path in sorted(p for pattern in GUARD_MODULES for p in PACKAGE.glob(pattern)):
        for guard in guards_of(path):
            guard.tests = [t for t in tests if guard.name in t.rsplit("::", 1)[-1]]
            found.append(guard)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _codes(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) if items else MISSING


def render() -> str:
    """The text of ``docs/rules.md``."""
    lines = [
        "# Rule catalogue",
        "",
        f"Generated from the code by `{COMMAND}`: do not edit it by hand. Each row is a guard, a",
        "pure function in its domain's `rules.py`",
        "(see [the guard convention](architecture.md#guards)):",
        "the rule is its docstring's first line, the codes are the stable codes the API answers,",
        "the clauses are the regulation it implements (`—`: a rule of the facility's process,",
        "[regulation.md](regulation.md) explains each clause), and the tests are those whose name",
        f"contains the guard's name. {MISSING} marks what a guard's docstring or tests still lack.",
        "`tests/test_rule_catalogue.py` fails when this file differs from what the code gives.",
    ]
    by_domain: dict[str, list[Guard]] = {}
    for guard in guards():
        by_domain.setdefault(guard.domain, []).append(guard)
    for domain, members in by_domain.items():
        lines += [
            "",
            f"## {domain}",
            "",
            "| Rule | Guard | Code | Clause | Tests |",
            "|---|---|---|---|---|",
        ]
        for g in members:
            clauses = "; ".join(g.clauses) if g.clauses else MISSING
            tests = "<br>".join(f"`{t}`" for t in g.tests) if g.tests else MISSING
            row = [g.rule or MISSING, f"`{g.qualified}`", _codes(g.codes), clauses, tests]
            lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"
