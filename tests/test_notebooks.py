"""docs/notebooks/*.ipynb: committed with their outputs, and they still execute top to bottom.

The committed file is what GitHub and nbviewer show: every code cell ran, no error or warning is
stored, each plotly figure carries a PNG next to its JSON, and the file stays small. Re-executing
it (``make test`` runs ``slow`` tests) must not fail, and the explorer it serves must not outlive
the kernel.
"""

from __future__ import annotations

import re
import socket
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.version import Version

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "docs" / "notebooks").glob("*.ipynb"))
PLOTLY = "application/vnd.plotly.v1+json"
MAX_BYTES = 5_000_000
SERVED = re.compile(r"explorer served on http://127\.0\.0\.1:(\d+)/")


def _outputs(notebook) -> list[dict]:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _problems(notebook) -> list[str]:
    """Error outputs, stderr streams and plotly figures without their static PNG."""
    out = []
    for o in _outputs(notebook):
        if o["output_type"] == "error":
            out.append(f"error {o['ename']}: {o['evalue']}")
        elif o["output_type"] == "stream" and o["name"] == "stderr":
            out.append(f"stderr: {o['text'][:300]}")
        elif PLOTLY in o.get("data", {}) and "image/png" not in o["data"]:
            out.append("a plotly figure without an image/png fallback")
    return out


def _can_draw_pngs() -> None:
    """Skip, saying why, where plotly and kaleido cannot draw the notebook's PNGs."""
    have = {name: version(name) for name in ("plotly", "kaleido")}
    # kaleido 1.x draws for plotly >= 6.1.1 only; the notebook starts kaleido's sync server (1.1)
    if Version(have["plotly"]) < Version("6.1.1") or Version(have["kaleido"]) < Version("1.1"):
        pytest.skip(f"the notebook's PNGs need plotly >= 6.1.1 and kaleido >= 1.1; have {have}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_its_outputs(path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(c.execution_count is not None for c in code), "a code cell was not executed"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not run top to bottom"
    assert not _problems(notebook)
    assert any(PLOTLY in o.get("data", {}) for o in _outputs(notebook))
    assert path.stat().st_size < MAX_BYTES


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning")
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    _can_draw_pngs()
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    assert not _problems(notebook)
    texts = "".join(o.get("text", "") for o in _outputs(notebook) if o["output_type"] == "stream")
    ports = SERVED.findall(texts)
    assert bool(ports) == any("jupyter_mode" in c.source for c in notebook.cells if c.cell_type == "code")
    for port in ports:  # the explorer's server lived in the kernel, which has stopped
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", int(port))) != 0, f"port {port} still served"
