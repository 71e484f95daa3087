"""The package's shape: no import cycle and no private name imported across modules.

Imports inside functions count: a deferred import hides a cycle from linters and readers, so the
graph below reads every ``import`` statement of every module, at any depth.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vizflow

ROOT = Path(vizflow.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every vizflow import in module ``name``."""
    return _imports_in(MODULES[name].read_text())


def _imports_in(source: str) -> list[tuple[str, str | None, int]]:
    tree = ast.parse(source)
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("vizflow"):
            found += [(node.module or "", alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.startswith("vizflow")]
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        for module, imported, _ in _imports(name):
            if imported is not None and f"{module}.{imported}" in MODULES:
                graph[name].add(f"{module}.{imported}")  # `from vizflow.ops import forward`
            elif module in MODULES:
                graph[name].add(module)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), plus self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_package_of(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def test_no_import_cycle_between_vizflow_modules():
    # A package's __init__ re-exports its modules: the edge module -> its own package's
    # __init__ is a real import too, and counts.
    assert _cycles(_graph()) == []


def test_no_private_name_is_imported_across_modules():
    crossings = [
        f"{name}:{line} imports {imported} from {module}"
        for name in MODULES
        for module, imported, line in _imports(name)
        if imported is not None and imported.startswith("_") and not imported.startswith("__")
    ]
    assert crossings == []


def test_the_checker_sees_a_cycle_through_a_deferred_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_checker_reads_imports_inside_functions():
    source = (
        "import os\n\ndef f():\n    if True:\n        from vizflow.ops.time import _guard\n"
        "    import vizflow.market\n"
    )
    assert sorted(_imports_in(source), key=lambda i: i[2]) == [
        ("vizflow.ops.time", "_guard", 5),
        ("vizflow.market", None, 6),
    ]
