"""Every notebook in analyses/ runs from top to bottom without an error, in this environment's Python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "analyses").glob("*.ipynb"))
KERNEL = "python3"


def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS, "analyses/ holds no notebook"


@pytest.fixture
def kernel_of_this_python(tmp_path, monkeypatch) -> str:
    """Make a ``python3`` kernelspec that runs this interpreter (the venv's), found before any other."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (trialkit venv)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # searched before user and system paths
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path: Path, kernel_of_this_python: str, tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    workdir = tmp_path / "run"
    workdir.mkdir()
    client = NotebookClient(
        nb,
        kernel_name=kernel_of_this_python,
        timeout=600,
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError at the first cell that fails
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert printed == sys.executable, "the notebook did not run in this environment's Python"
