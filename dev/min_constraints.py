"""Print pip constraints that pin vizflow's runtime requirements to the floors pyproject.toml declares.

    python dev/min_constraints.py [--extras viz,dask,calendars] > constraints.txt
    python dev/min_constraints.py [--extras ...] --check   # exit 1 unless each floor is installed

``make test-min`` installs the project with these constraints in a separate venv, checks (with
``--check``, run by that venv's python) that each distribution is installed at its floor, and runs
the test suite there, so each ``>=`` floor in pyproject.toml is a version the suite has passed on.
Every core requirement and every requirement of the chosen extras must state a ``>=`` floor; the
tools of the ``dev`` extra (pytest, ruff, mypy, ...) are not pinned.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_FLOOR = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*>=\s*(?P<floor>[^,;\s]+)")


def floors(project: dict, extras: list[str]) -> dict[str, str]:
    """Map each runtime requirement of ``project`` (core plus ``extras``) to its declared floor.

    A requirement on vizflow itself (``vizflow[viz]``) is skipped. Raises ``ValueError`` naming the
    requirement when one has no ``>=`` floor, and ``KeyError`` for an extra that does not exist.
    """
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        msg = f"min_constraints: unknown extra(s) {unknown}; pyproject declares {sorted(optional)}"
        raise KeyError(msg)
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += optional[extra]
    pins: dict[str, str] = {}
    for requirement in requirements:
        if requirement.split("[")[0].strip() == project["name"]:
            continue
        match = _FLOOR.match(requirement)
        if match is None:
            msg = f"min_constraints: requirement {requirement!r} has no '>=' floor to pin"
            raise ValueError(msg)
        pins[match["name"].lower()] = match["floor"]
    return pins


def mismatches(
    pins: dict[str, str], installed: Callable[[str], str | None]
) -> dict[str, tuple[str, str | None]]:
    """Map each pinned distribution not installed at its floor to ``(floor, installed version or None)``.

    ``installed(name)`` gives the installed version of a distribution, or None. Versions compare as
    versions, so a floor of ``2.0`` is met by ``2.0.0``.
    """
    from packaging.version import Version  # installed with pytest in the venv that runs --check

    found = {name: installed(name) for name in pins}
    return {
        name: (floor, found[name])
        for name, floor in pins.items()
        if found[name] is None or Version(str(found[name])) != Version(floor)
    }


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="", help="comma-separated extras to pin besides the core")
    parser.add_argument("--check", action="store_true", help="check the installed versions instead")
    args = parser.parse_args()
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = [e for e in args.extras.split(",") if e]
    pins = floors(project, extras)
    if args.check:
        wrong = mismatches(pins, _installed)
        for name, (floor, version) in wrong.items():
            print(f"min_constraints: {name} is {version or 'not installed'}; the floor is {floor}")
        sys.exit(1 if wrong else 0)
    for name, floor in pins.items():
        print(f"{name}=={floor}")


if __name__ == "__main__":
    main()
