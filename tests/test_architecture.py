"""docs/architecture.md (layers, unit of work, state machines), enforced: layers, thin routers,
one place that commits."""

import ast
import subprocess
import sys
from pathlib import Path

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


def test_status_is_assigned_only_by_transition_functions() -> None:
    """docs/architecture.md#state-machines: ``.status`` is written in one place per state
    machine."""
    allowed: set[str] = set()  # the transition function of each state machine, as they come
    for name, tree in _modules().items():
        if name in allowed:
            continue
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    raise AssertionError(f"{name}:{node.lineno} assigns .status directly")


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
