"""The shape of the code, measured before and after a clean-up (issue #25): function length p90
and max, parameters per use case, and the modules that re-state a rule.

    python -m tests.benchmarks.code_shape

Function length counts the lines of each function's body in ``mfg/`` (docstring included), nested
functions counted on their own. A use case is a public function of a service module (every module
of ``mfg/`` that is neither a router, a page module, a schema, a renderer nor a model) whose first
parameter is the database session; its parameters are counted without the session.
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "mfg"
NOT_SERVICES = ("api", "pages", "schemas", "render", "pdf", "svg", "zpl")


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _is_service(path: Path) -> bool:
    name = path.stem
    return (
        "models" not in path.parts
        and "web" not in path.parts
        and not any(name == s or name.endswith(f"_{s}") for s in NOT_SERVICES)
    )


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = fn.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]


def measure() -> dict[str, object]:
    lengths: list[tuple[int, str]] = []
    use_cases: list[tuple[int, str]] = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT.parent)
        for fn in _functions(tree):
            lengths.append((fn.end_lineno - fn.lineno, f"{where}:{fn.name}"))  # type: ignore[operator]
        if not _is_service(path):
            continue
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_"):
                continue
            params = _params(fn)
            if params and params[0] == "session":
                use_cases.append((len(params) - 1, f"{where}:{fn.name}"))
    sizes = sorted(n for n, _ in lengths)
    counts = sorted(n for n, _ in use_cases)
    return {
        "functions": len(sizes),
        "length p50": statistics.median(sizes),
        "length p90": sizes[int(0.9 * (len(sizes) - 1))],
        "length max": max(lengths),
        "longest 5": sorted(lengths, reverse=True)[:5],
        "use cases": len(counts),
        "params p50": statistics.median(counts),
        "params p90": counts[int(0.9 * (len(counts) - 1))],
        "params max": max(use_cases),
        "most params 5": sorted(use_cases, reverse=True)[:5],
    }


def main() -> int:
    for key, value in measure().items():
        print(f"{key:14s}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
