"""Every notebook in analyses/ runs from top to bottom in this environment's Python, and its stored outputs are current.

The notebooks are committed with their outputs. Each is run here as ``scripts/refresh-notebooks.py``
runs it, and every code cell's outputs are compared with the stored ones: text, HTML and printed
streams after the parts that differ between runs (temporary paths, memory addresses, times) are
normalised, and figures by their presence in the same cells. When a change alters what a notebook
shows, ``make notebooks`` stores the new outputs.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "analyses").glob("*.ipynb"))
PROBE = "import sys; print(sys.executable)"


def _refresher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_notebooks", ROOT / "scripts" / "refresh-notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresher = _refresher()


def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS, "analyses/ holds no notebook"


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def run(request: pytest.FixtureRequest) -> tuple[Path, Any, Any]:
    """Return a notebook's path, the notebook as stored and the notebook as run now (with the probe cell last)."""
    path: Path = request.param
    return path, refresher.nbformat().read(path, as_version=4), refresher.execute(path, extra_cells=(PROBE,))


def test_notebook_runs_without_errors_in_this_python(run: tuple[Path, Any, Any]) -> None:
    _, _, executed = run
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs).strip()
    assert printed == sys.executable, "the notebook did not run in this environment's Python"


def test_notebook_is_stored_with_its_outputs(run: tuple[Path, Any, Any]) -> None:
    path, stored, _ = run
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), f"{path.name} is stored without running it"
    assert any(c.outputs for c in code), f"{path.name} is stored without outputs"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: cells were not run once each from the top"


def test_stored_outputs_are_what_the_notebook_prints_now(run: tuple[Path, Any, Any]) -> None:
    path, stored, executed = run
    executed.cells.pop()  # the probe
    now, before = refresher.comparable(executed), refresher.comparable(stored)
    assert len(now) == len(before)
    for number, (new, old) in enumerate(zip(now, before, strict=True), start=1):
        if new != old:
            diff = "\n".join(
                difflib.unified_diff(
                    [f"{kind}: {line}" for kind, text in old for line in text.splitlines()],
                    [f"{kind}: {line}" for kind, text in new for line in text.splitlines()],
                    "stored",
                    "now",
                    lineterm="",
                )
            )
            pytest.fail(
                f"{path.name}, code cell {number}: the stored outputs are out of date; run `make notebooks` "
                f"(scripts/refresh-notebooks.py) and commit the notebook.\n{diff[:4000]}"
            )


def test_normalise_replaces_what_differs_between_runs() -> None:
    import tempfile

    import trialkit

    tmp = tempfile.gettempdir()
    text = (
        f"wrote {tmp}/trialkit-walkthrough-k2j3/study.toml at 2024-05-01T12:30:05+00:00 "
        f"<object at 0x7f3a2b1c9d80> from {ROOT}/analyses, {Path(trialkit.__file__).parent}/datasets"
    )
    assert refresher.normalise(text) == (
        "wrote <temporary path> at <time> <object at 0x<address>> from <repository>/analyses, <trialkit>/datasets"
    )
    assert refresher.normalise("p = 0.006, n = 46, 1351987200") == "p = 0.006, n = 46, 1351987200"


def test_outputs_compare_by_text_and_figures_by_presence() -> None:
    nbformat = refresher.nbformat()

    def notebook(image: str) -> Any:
        cell = nbformat.v4.new_code_cell("plot()")
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="n = "),
            nbformat.v4.new_output("stream", name="stdout", text="46\n"),
            nbformat.v4.new_output("display_data", data={"image/png": image, "text/plain": "<Figure size 640x480>"}),
        ]
        return nbformat.v4.new_notebook(cells=[cell])

    assert refresher.comparable(notebook("AAAA")) == refresher.comparable(notebook("BBBB"))
    assert refresher.comparable(notebook("AAAA")) == [
        [("stream:stdout", "n = 46\n"), ("text/plain", "<Figure size 640x480>"), ("image", "figure")]
    ]
