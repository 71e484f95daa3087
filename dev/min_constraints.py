"""Print pip constraints that pin vizflow's runtime requirements to the floors pyproject.toml declares.

    python dev/min_constraints.py [--extras viz,dask,calendars] > constraints.txt

``make test-min`` installs the project with these constraints in a separate venv and runs the test
suite there, so each ``>=`` floor in pyproject.toml is a version the suite has passed on. Every core
requirement and every requirement of the chosen extras must state a ``>=`` floor; the tools of the
``dev`` extra (pytest, ruff, mypy, ...) are not pinned.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="", help="comma-separated extras to pin besides the core")
    args = parser.parse_args()
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = [e for e in args.extras.split(",") if e]
    for name, floor in floors(project, extras).items():
        print(f"{name}=={floor}")


if __name__ == "__main__":
    main()
