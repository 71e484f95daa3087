"""Kernels import only numpy, numba and math (the Polars/numba dividing line, style.md 3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KERNELS = Path(__file__).resolve().parents[2] / "vizflow" / "kernels"
ALLOWED = {"numpy", "numba", "math", "__future__"}


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*.py")), ids=lambda p: p.name)
def test_kernel_modules_import_only_numpy_numba_math(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= ALLOWED, f"{path.name}:{node.lineno} imports {roots - ALLOWED}"


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*.py")), ids=lambda p: p.name)
def test_kernels_are_named_nb(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            (isinstance(d, ast.Name) and d.id == "njit")
            or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "njit")
            for d in node.decorator_list
        ):
            assert node.name.endswith("_nb"), f"{path.name}: kernel {node.name} should end in _nb"
