"""pyproject.toml says what is true: what vizflow imports is declared, and what is declared is used."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vizflow"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME_EXTRAS = [e for e in PROJECT["optional-dependencies"] if e != "dev"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    return _normalise(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])


def _extras_of(requirement: str) -> list[str]:
    found = re.search(r"\[([^\]]*)\]", requirement)
    return [e.strip() for e in found[1].split(",")] if found else []


def _declared(requirements: list[str]) -> set[str]:
    """Distributions the requirements install directly, or through an extra they ask for."""
    names = set()
    for requirement in requirements:
        name = _name(requirement)
        names.add(name)
        for extra in _extras_of(requirement):
            for sub in importlib.metadata.requires(name) or []:
                if re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", sub):
                    names.add(_name(sub))
    return names


CORE = _declared(PROJECT["dependencies"])
EXTRAS = {e: _declared(PROJECT["optional-dependencies"][e]) for e in RUNTIME_EXTRAS}
DISTRIBUTIONS = importlib.metadata.packages_distributions()


def _distribution(module: str) -> str | None:
    """The distribution that installs a top-level module; None for the standard library and vizflow."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "vizflow":
        return None
    return _normalise(DISTRIBUTIONS[top][0])


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(tree: ast.Module) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(modules imported when the module loads, modules imported inside a function, import_optional calls)."""
    eager, lazy, optional = [], [], []

    def visit(node: ast.AST, *, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                    names = [child.module]
                else:
                    names = [a.name for a in getattr(child, "names", []) if isinstance(child, ast.Import)]
                (lazy if in_function else eager).extend(names)
            if isinstance(child, ast.Call) and getattr(child.func, "id", None) == "import_optional":
                extra = next(k.value.value for k in child.keywords if k.arg == "extra")
                optional.append((child.args[0].value, extra))
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_function=nested)

    visit(tree, in_function=False)
    return eager, lazy, optional


IMPORTS = {
    path.relative_to(ROOT).as_posix(): _imports(ast.parse(path.read_text())) for path in PACKAGE.rglob("*.py")
}


def _third_party(modules: list[str]) -> set[str]:
    return {d for d in map(_distribution, modules) if d is not None}


def test_regression_every_core_dependency_is_imported_pyarrow_was_not():
    """pyarrow was a core dependency that vizflow imported nowhere; each core requirement must be used."""
    eager = set().union(*(_third_party(e + lz) for e, lz, _ in IMPORTS.values()))
    unused = {_name(r) for r in PROJECT["dependencies"]} - eager
    assert not unused, f"declared in [project] dependencies but imported nowhere in vizflow/: {unused}"


@pytest.mark.parametrize("path", sorted(IMPORTS))
def test_module_level_imports_are_core_dependencies(path):
    """An extra is never imported when vizflow loads: ``pip install vizflow`` alone must import cleanly."""
    eager, _, _ = IMPORTS[path]
    assert _third_party(eager) <= CORE, path


@pytest.mark.parametrize("path", sorted(IMPORTS))
def test_regression_lazy_imports_are_declared_tqdm_was_not(path):
    """The runner imported tqdm for its progress bar although no requirement installed it."""
    _, lazy, _ = IMPORTS[path]
    declared = CORE.union(*EXTRAS.values())
    assert _third_party(lazy) <= declared, path


@pytest.mark.parametrize("path", sorted(p for p, (_, _, opt) in IMPORTS.items() if opt))
def test_import_optional_names_the_extra_that_installs_the_module(path):
    for module, extra in IMPORTS[path][2]:
        assert extra in EXTRAS, (path, module, extra)
        assert _distribution(module) in EXTRAS[extra], (path, module, extra)


def test_python_classifiers_cover_every_supported_version():
    """requires-python >=3.11, and one classifier for each version the suite runs on: 3.11, 3.12, 3.13."""
    assert PROJECT["requires-python"] == ">=3.11"
    versions = {
        c.rsplit("::", 1)[1].strip()
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert versions == {"3.11", "3.12", "3.13"}


def test_every_runtime_requirement_has_a_floor():
    """``make test-min`` pins each floor; a requirement without one would float and prove nothing."""
    runtime = PROJECT["dependencies"] + [
        r for e in RUNTIME_EXTRAS for r in PROJECT["optional-dependencies"][e]
    ]
    assert [r for r in runtime if ">=" not in r and _name(r) != "vizflow"] == []


def _min_constraints():
    spec = importlib.util.spec_from_file_location("min_constraints", ROOT / "dev" / "min_constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_min_constraints_pin_each_floor_of_the_real_pyproject():
    pins = _min_constraints().floors(PROJECT, RUNTIME_EXTRAS)
    expected = {}
    for requirement in PROJECT["dependencies"] + [
        r for e in RUNTIME_EXTRAS for r in PROJECT["optional-dependencies"][e]
    ]:
        expected[requirement.split("[")[0].split(">=")[0].strip().lower()] = requirement.split(">=")[
            1
        ].strip()
    assert pins == expected
    assert "pytest" not in pins  # dev tools float


def test_min_constraints_on_a_small_project():
    project = {
        "name": "demo",
        "dependencies": ["polars>=1.41.1", "numpy >= 1.26"],
        "optional-dependencies": {"x": ["Dask[distributed]>=2024.1"], "dev": ["demo[x]", "pytest>=8"]},
    }
    floors = _min_constraints().floors
    assert floors(project, []) == {"polars": "1.41.1", "numpy": "1.26"}
    assert floors(project, ["x", "dev"]) == {
        "polars": "1.41.1",
        "numpy": "1.26",
        "dask": "2024.1",
        "pytest": "8",
    }


def test_regression_min_check_refuses_a_version_above_its_floor():
    """polars>=1.41.1 was declared while the suite needed 2.0: ``make test-min`` checks that each
    distribution is installed at its floor itself (2.0 and 2.0.0 are the same version)."""
    check = _min_constraints().mismatches
    installed = {"polars": "2.0.0", "numpy": "2.1.3"}
    assert check({"polars": "2.0", "numpy": "2.1.3"}, installed.get) == {}
    assert check({"polars": "2.0", "numpy": "2.0"}, installed.get) == {"numpy": ("2.0", "2.1.3")}
    assert check({"dash": "4.0"}, installed.get) == {"dash": ("4.0", None)}


def test_min_constraints_refuse_a_requirement_without_floor_and_an_unknown_extra():
    floors = _min_constraints().floors
    project = {"name": "demo", "dependencies": ["polars<3"], "optional-dependencies": {}}
    with pytest.raises(ValueError, match="'polars<3' has no '>=' floor"):
        floors(project, [])
    with pytest.raises(KeyError, match="unknown extra"):
        floors({**project, "dependencies": []}, ["viz"])
