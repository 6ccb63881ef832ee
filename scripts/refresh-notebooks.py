"""Re-run the notebooks in analyses/ and store them with their outputs.

Usage::

    python scripts/refresh-notebooks.py                 # every notebook in analyses/
    python scripts/refresh-notebooks.py analyses/x.ipynb

(`make notebooks` runs it in the project's virtual environment.) The notebooks are committed with
their outputs, so that a reader sees the results without running anything, and
``tests/test_notebooks.py`` runs each one the same way and checks that the stored outputs are still
what it prints. Run this after a change that alters a notebook's output, and commit the notebooks.

A run is made repeatable: the kernel is this interpreter; it starts in an empty temporary folder;
``SOURCE_DATE_EPOCH`` fixes the time stamps trialkit writes; ``PYTHONHASHSEED`` fixes the order of
sets; matplotlib draws inline with a fixed SVG hash salt. The notebooks seed their own random
numbers. What still differs between two runs (temporary paths, memory addresses, times) is
replaced by :func:`normalise` before outputs are compared.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "analyses").glob("*.ipynb"))
KERNEL = "python3"
#: the kernelspec stored in every notebook, whatever machine ran it
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": KERNEL}
#: 2012-11-04, the date the bundled trial's seed is named after: a fixed "now" for time stamps
SOURCE_DATE_EPOCH = "1351987200"
#: output MIME types compared as text, and those compared only by their presence (figures)
TEXT_TYPES = ("text/plain", "text/html")
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")


@contextlib.contextmanager
def kernel_environment() -> Iterator[dict[str, str]]:
    """Set up, for the duration of the block, a kernel of this interpreter and a repeatable environment.

    Yields the environment the kernel is started with; the process's own environment is restored
    afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="trialkit-notebooks-") as tmp:
        spec_dir = Path(tmp, "jupyter", "kernels", KERNEL)
        spec_dir.mkdir(parents=True)
        kernel = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNELSPEC["display_name"],
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
        rc = Path(tmp, "matplotlibrc")
        rc.write_text("svg.hashsalt: trialkit-notebooks\n", encoding="utf-8")
        settings = {
            "JUPYTER_PATH": str(Path(tmp, "jupyter")),  # searched before the user's and the system's kernels
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MATPLOTLIBRC": str(rc),
        }
        saved = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        try:
            yield dict(os.environ)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def nbformat() -> Any:
    """Return the nbformat module, typed Any: its functions carry no type hints."""
    return importlib.import_module("nbformat")


def execute(path: Path, extra_cells: tuple[str, ...] = ()) -> Any:
    """Run the notebook at ``path`` from top to bottom in a fresh kernel; return it with its outputs.

    ``extra_cells`` are appended as code cells before the run (a test's probes). Raises
    ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.
    """
    from nbclient import NotebookClient

    nb = nbformat().read(path, as_version=4)
    nb.cells.extend(nbformat().v4.new_code_cell(source) for source in extra_cells)
    with kernel_environment() as env, tempfile.TemporaryDirectory(prefix="trialkit-notebook-run-") as workdir:
        client = NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=600,
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": workdir}},
        )
        client.execute(env=env)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _coalesced(cell.outputs)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}  # no version: the same file from every machine
    return nb


def _coalesced(outputs: list[Any]) -> list[Any]:
    """Join consecutive printed text of one stream into one output, as it reads (a kernel splits it at random)."""
    joined: list[Any] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] = _joined(previous["text"]) + _joined(output["text"])
        else:
            joined.append(output)
    return joined


def _placeholders() -> list[tuple[re.Pattern[str], str]]:
    tmp = re.escape(tempfile.gettempdir().rstrip("/"))
    found = importlib.util.find_spec("trialkit")
    package = (
        []
        if found is None or found.origin is None
        else [(re.compile(re.escape(str(Path(found.origin).parent))), "<trialkit>")]
    )
    return [
        *package,  # where trialkit is installed (the source tree or site-packages): its bundled files
        (re.compile(re.escape(str(ROOT))), "<repository>"),
        (re.compile(re.escape(sys.prefix)), "<python>"),
        (re.compile(rf"{tmp}/[^\s'\"<>)]*"), "<temporary path>"),
        (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x<address>"),
        (
            re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?\b"),
            "<time>",
        ),
    ]


def normalise(text: str) -> str:
    """Replace what differs between two runs of the same notebook: paths, memory addresses, times.

    Paths of the package itself become ``<trialkit>``, of the repository ``<repository>``, of the
    interpreter ``<python>``, and temporary ones ``<temporary path>``.
    """
    for pattern, replacement in _placeholders():
        text = pattern.sub(replacement, text)
    return text


def comparable(nb: Any) -> list[list[tuple[str, str]]]:
    """Return each code cell's outputs as (kind, normalised text) pairs.

    Consecutive printed text of one stream counts as one output (a kernel may send it in several
    messages); a figure is ``("image", "figure")``, whatever its bytes.
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown: list[tuple[str, str]] = []
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream":
                name = f"stream:{output['name']}"
                if shown and shown[-1][0] == name:  # how a kernel splits printed text into messages varies
                    shown[-1] = (name, shown[-1][1] + output["text"])
                else:
                    shown.append((name, output["text"]))
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                shown += [(mime, normalise(_joined(data[mime]))) for mime in TEXT_TYPES if mime in data]
                if any(mime in data for mime in IMAGE_TYPES):
                    shown.append(("image", "figure"))
            else:
                shown.append((kind, normalise(f"{output.get('ename')}: {output.get('evalue')}")))
        cells.append([(kind, normalise(text)) if kind.startswith("stream:") else (kind, text) for kind, text in shown])
    return cells


def _joined(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def refresh(path: Path) -> None:
    """Run the notebook at ``path`` and write it back with its outputs."""
    nb = execute(path)
    nbformat().write(nb, path)


def main(argv: list[str] | None = None) -> int:
    """Refresh the notebooks named on the command line, or every one in analyses/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to refresh (default: analyses/*.ipynb)")
    args = parser.parse_args(argv)
    for path in args.notebooks or NOTEBOOKS:
        print(f"running {path} ...", flush=True)
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
