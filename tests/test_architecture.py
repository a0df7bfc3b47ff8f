"""docs/architecture.md (layers, unit of work, state machines), enforced: layers, thin routers,
one place that commits."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import SQLModel

import mfg.models  # noqa: F401  (every table in the registry)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mfg"
ROUTER_MODULES = {"api", "pages"}  # or a use case's own: "<use case>_api", "<use case>_pages"


def _is_router_module(name: str) -> bool:
    return name in ROUTER_MODULES or name.endswith(("_api", "_pages"))


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_import_layers_follow_design_section_3() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_main_imports_routers() -> None:
    for name, tree in _modules().items():
        if name == "mfg.main":
            continue
        routers = {
            imported
            for imported in _imports(tree)
            if imported.startswith("mfg.") and _is_router_module(imported.rsplit(".", 1)[-1])
        }
        assert not routers, f"{name} imports routers {sorted(routers)}"


def test_only_the_unit_of_work_commits() -> None:
    for name, tree in _modules().items():
        if name in {"mfg.db"}:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                raise AssertionError(f"{name}:{node.lineno} calls commit(); services never commit")


def test_the_application_never_calls_create_all() -> None:
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "create_all":
                raise AssertionError(f"{name}:{node.lineno}: the schema comes from migrations")


MACHINES_MODULE = "mfg.audit.machines"  # the one module that changes a status


def _status_writes(tree: ast.Module) -> list[tuple[int, str]]:
    """Where a module writes a status other than through a state machine: an assignment to
    ``.status`` (also augmented or annotated), ``setattr(row, "status", …)``, or an
    ``update(…)….values(status=…)`` (or ``.values({"status": …})``) statement."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == "status":
                        found.append((node.lineno, "assigns .status"))
        elif not isinstance(node, ast.Call):
            continue
        elif (
            isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            found.append((node.lineno, 'setattr(…, "status", …)'))
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            table = _updated_table(node.func.value)
            if table is not None and _sets_status(node, stateful=table in _STATEFUL):
                found.append((node.lineno, "update(…).values(status=…)"))
    return found


# The tables with a status column: a ``**values`` in their UPDATE may hold a status.
_STATEFUL = {
    mapper.class_.__name__
    for mapper in SQLModel._sa_registry.mappers  # type: ignore[attr-defined]
    if "status" in mapper.columns
}


def _sets_status(call: ast.Call, *, stateful: bool) -> bool:
    if any(k.arg == "status" or (k.arg is None and stateful) for k in call.keywords):
        return True
    return any(
        isinstance(a, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "status" for k in a.keys)
        for a in call.args
    )


def _updated_table(node: ast.expr) -> str | None:
    """The table a statement chain (``update(X).where(…)…``) updates: its name as written,
    ``""`` when not a plain name, None when the chain is no ``update``."""
    while True:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "update":
                target = node.args[0] if node.args else None
                return target.id if isinstance(target, ast.Name) else ""
            node = func.value if isinstance(func, ast.Attribute) else func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return None


def test_status_is_written_only_by_the_state_machines() -> None:
    """docs/architecture.md#state-machines: a status changes only through its table's machine
    (``move()``, compare-and-set and audit event), never by an assignment or an UPDATE of its
    own."""
    offenders = [
        f"{name}:{line} {what}"
        for name, tree in _modules().items()
        if name != MACHINES_MODULE
        for line, what in _status_writes(tree)
    ]
    assert offenders == []


def test_the_status_write_detector_finds_each_shape() -> None:
    """The test above would pass on an empty package: this one proves it sees each way of
    writing a status, and leaves alone what only reads one or inserts a row."""
    writes = ast.parse(
        "lot.status = 'released'\n"
        "row.status: str = 'x'\n"
        "setattr(dose, 'status', 'on_hold')\n"
        "session.execute(update(Biopsy).where(Biopsy.id == 1).values(status='pooled'))\n"
        "sa.update(Lot).values(**values)\n"
        "update(Dose).where(Dose.id == 2).values({'status': 'issued'})\n"
    )
    assert sorted(line for line, _ in _status_writes(writes)) == [1, 2, 3, 4, 5, 6]
    reads = ast.parse(
        "x = lot.status\n"
        "select(Lot).where(Lot.status == 'released')\n"
        "insert(Lot).values(status='in_process')\n"
        "update(User).values(failed_logins=User.failed_logins + 1)\n"
        "update(AdverseEvent).values(**changed, version=2)\n"
        "d.values()\n"
    )
    assert _status_writes(reads) == []


def test_every_route_ends_its_unit_of_work_in_its_own_thread(app) -> None:
    """Every route of the application is a ``UnitOfWorkRoute``: a synchronous endpoint commits
    in its own thread, so a transaction holding the write lock never waits for the event loop;
    an asynchronous endpoint hands its database work to ``run_work``."""
    from fastapi.routing import APIRoute

    from mfg.web.deps import UnitOfWorkRoute

    def api_routes(routes):  # included routers are kept whole (FastAPI ≥ 0.16x)
        for route in routes:
            if hasattr(route, "original_router"):
                yield from api_routes(route.original_router.routes)
            elif isinstance(route, APIRoute):
                yield route

    routes = list(api_routes(app.routes))
    assert len(routes) > 100 and all(isinstance(r, UnitOfWorkRoute) for r in routes), [
        r.path for r in routes if not isinstance(r, UnitOfWorkRoute)
    ]


def test_asynchronous_endpoints_do_no_database_work_on_the_event_loop() -> None:
    """An ``async def`` endpoint or dependency that takes the request's session passes it only
    to ``run_db``/``run_work`` (the thread pool): a query there would stop every other request."""
    offenders = []
    for file in sorted((ROOT / "mfg").rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            names = {a.arg for a in node.args.args + node.args.kwonlyargs}
            if "session" not in names:
                continue
            for call in ast.walk(node):
                if not isinstance(call, ast.Call) or any(
                    isinstance(p, ast.FunctionDef | ast.Lambda) and call in ast.walk(p)
                    for p in ast.walk(node)
                    if p is not node
                ):
                    continue
                passes = [a for a in call.args if isinstance(a, ast.Name) and a.id == "session"]
                passes += [
                    k.value
                    for k in call.keywords
                    if isinstance(k.value, ast.Name) and k.value.id == "session"
                ]
                callee = ast.unparse(call.func)
                if passes and callee not in ("run_db", "run_work"):
                    offenders.append(f"{file.relative_to(ROOT)}:{call.lineno} {callee}")
    assert offenders == []


# docs/architecture.md#view-models: what a page offers comes from a view builder; a router only
# refuses a request it must not serve (``Allow(Action.…)``, ``authorize(…)``, ``require(…)``).
OFFER_CALLS = {"may": "asks may(…): offers come from a view builder (views.py)"}
SIGNATURE_CALLS = {"shown": "shows signatures itself: a view builder or service does"}


def _offer_calls(tree: ast.Module) -> list[tuple[int, str]]:
    """Where a router computes what a page offers or which signatures it shows: a call of
    ``may(…)`` (bare or ``permissions.may``) or of ``signatures.shown(…)`` (bare or as an
    attribute of any module)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in OFFER_CALLS:
            found.append((node.lineno, OFFER_CALLS[name]))
        elif name in SIGNATURE_CALLS:
            found.append((node.lineno, SIGNATURE_CALLS[name]))
    return found


def test_routers_ask_view_builders_what_a_page_offers() -> None:
    routers = {
        name: tree
        for name, tree in _modules().items()
        if _is_router_module(name.rsplit(".", 1)[-1]) and name.count(".") == 2
    }
    assert len(routers) > 20  # every pages.py, *_pages.py, api.py and *_api.py of mfg/<domain>/
    found = [
        f"{name}:{line} {what}"
        for name, tree in routers.items()
        for line, what in _offer_calls(tree)
    ]
    assert found == []


def test_the_offer_detector_finds_each_shape_and_leaves_refusals_alone() -> None:
    source = """
may(actor, Action.X)
permissions.may(actor, Action.X)
signatures.shown(session, entity_type="lot", entity_id=1)
shown(session, entity_type="lot", entity_id=1)
authorize(actor, Action.X)
require(actor, Action.X)
Allow(Action.X)
signatures.signed_and_matching(session, entity_type="lot", entity_id=1)
"""
    assert [line for line, _ in _offer_calls(ast.parse(source))] == [2, 3, 4, 5]


def test_templates_ask_offers_not_permission_flags() -> None:
    """A template asks ``"x" in offers``; no ``may_x`` flag or ``may.X`` table is handed to it
    (``may_trace``, the layout's link to the chain of identity, is the web layer's own)."""
    flag = re.compile(r"\bmay(?:_(?!trace\b)\w+|\.[A-Z_]+)")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if flag.search(line)
    ]
    assert found == []
