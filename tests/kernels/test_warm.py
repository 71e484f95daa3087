"""warm_kernels compiles every library kernel before a batch fans out (numba's disk cache can race)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

KERNELS = Path(__file__).resolve().parents[2] / "vizflow" / "kernels"

# In a fresh interpreter (so that no earlier test compiled anything): every cached library kernel
# (user rules' kernels in running.py compile per rule, uncached) must hold a compiled signature.
_SCRIPT = """
import importlib, json, pkgutil
import vizflow.kernels as kernels
from vizflow.runner.executors import warm_kernels
warm_kernels()
cold = []
for info in pkgutil.iter_modules(kernels.__path__):
    module = importlib.import_module(f"vizflow.kernels.{info.name}")
    for name, obj in vars(module).items():
        cached = type(getattr(obj, "_cache", None)).__name__ not in ("NoneType", "NullCache")
        if name.endswith("_nb") and not name.startswith("_") and cached and not obj.signatures:
            cold.append(f"{info.name}.{name}")
print(json.dumps(cold))
"""


def test_regression_warm_kernels_compiles_every_library_kernel():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_every_module_with_cached_kernels_has_a_warm_up():
    for path in sorted(KERNELS.glob("*.py")):
        text = path.read_text()
        if re.search(r"^@njit\(cache=True", text, re.MULTILINE):
            assert re.search(r"^def warm_up\(\) -> None:", text, re.MULTILINE), path.name
