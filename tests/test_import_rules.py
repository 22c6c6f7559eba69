"""The layers import one way (README, *Layout*): a test over the project's own import graph.

Every import counts, at module level or inside a function (a deferred import is still a
dependency). `from package import module` counts as importing that module, not the package.

    function_app → api, orchestrators, activities, timers   (registers them, nothing else)
    api          → core, tools                               (HTTP: parse, authorize, call, render)
    activities   → core, tools                               (the engine's I/O)
    timers       → core                                      (scheduled work)
    orchestrators→ core's pure decisions only                (deterministic: no storage, no model, no clock)
    tools        → core                                      (plug-ins, sandboxes, business tools)
    core         → nothing of the above                      (the domain; its edges receive tools by injection)
    devhost      → anything (it is the host); nothing in the app imports devhost

No cycle among modules, and none among a layer's subpackages either (each taken as one node: core.repositories
uses core.run_events, core.wire and core.file_search, never the reverse).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "core", "activities", "orchestrators", "tools", "timers", "devhost")
MAY_IMPORT = {
    "function_app": {"api", "orchestrators", "activities", "timers", "core"},
    "api": {"core", "tools"},
    "activities": {"core", "tools"},
    "timers": {"core"},
    "orchestrators": {"core"},
    "tools": {"core"},
    "core": set(),
    "devhost": {"core", "api", "activities", "orchestrators", "tools", "timers", "function_app"},
}
# What an orchestrator may use of core: decisions and payloads, never storage, model or clock.
ORCHESTRATOR_CORE = ("core.run_machine", "core.run_protocol", "core.ingestion_protocol", "core.run_bookkeeping")


def project_modules() -> dict[str, Path]:
    found = {"function_app": ROOT / "function_app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names
                          if f"{node.module}.{alias.name}" in modules]
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(node.module)
    return {name for name in found if name in modules}


MODULES = project_modules()
GRAPH = {name: imports_of(path, MODULES) - {name} for name, path in MODULES.items()}


def layer(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_each_layer_imports_only_what_it_may(module):
    allowed = MAY_IMPORT[layer(module)] | {layer(module)}
    wrong = sorted(target for target in GRAPH[module] if layer(target) not in allowed)
    assert wrong == [], f"{module} may import only {sorted(allowed)}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if layer(m) == "orchestrators"))
def test_orchestrators_use_only_pure_decisions(module):
    impure = sorted(target for target in GRAPH[module]
                    if layer(target) == "core" and not target.startswith(ORCHESTRATOR_CORE))
    assert impure == []


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of `graph` larger than one node: its import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_there_is_no_import_cycle():
    """No cycle among modules: no strongly connected component larger than one module."""
    assert cycles_in(GRAPH) == []


# Subpackages of a layer (core.repositories, core.run_events, core.wire, core.file_search, tools.plugins, …),
# each taken as one node: a module of one importing a module of another and back is a cycle between them
# even when no module imports itself (core.repositories.runs → core.run_events.log → core.repositories.threads).
SUBPACKAGES = sorted({name for name, path in MODULES.items() if path.name == "__init__.py" and name.count(".") == 1})


def package_of(module: str) -> str:
    """The subpackage `module` belongs to, or the module itself (a layer's own modules stay apart)."""
    return next((package for package in SUBPACKAGES if module == package or module.startswith(package + ".")), module)


def test_there_is_no_import_cycle_between_subpackages():
    graph: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        graph.setdefault(package_of(module), set()).update(package_of(target) for target in targets)
    graph = {node: targets - {node} for node, targets in graph.items()}
    assert {"core.repositories", "core.run_events", "core.wire", "core.file_search", "tools.plugins"} <= set(SUBPACKAGES)
    assert cycles_in(graph) == []


def test_the_graph_is_read_at_all():
    """The rules above would pass on an empty graph: make sure imports are found."""
    assert "core.run_machine" in GRAPH["orchestrators.runs"]
    assert {"api", "orchestrators.runs"} <= GRAPH["function_app"]
