r"""Output layer: write a :class:`~trialkit.simulate.Simulation` as files with their provenance.

Every byte written is fixed by the simulation: numbers are printed with the digits each column was
rounded to, lines end in ``\\n``, text is UTF-8 without a byte-order mark, so the same design and
seed give byte-identical CSV and spec files on every machine. ``MANIFEST.json`` records what made
them (seed, design hash, command, versions) and the SHA-256 of each file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from trialkit._errors import TrialkitError
from trialkit._simulate import Simulation

__all__ = ["MANIFEST", "SPEC", "format_frame", "write_simulation"]

SPEC = "study.toml"
MANIFEST = "MANIFEST.json"
_VERSIONED = ("trialkit", "numpy", "pandas", "scipy")


def format_frame(frame: pd.DataFrame, decimals: Mapping[str, int]) -> str:
    """CSV text of ``frame``: columns in ``decimals`` printed with that many digits, NaN as empty.

    Other columns (subject ids, categories, integer-typed covariates) are printed as they are.
    """
    out = frame.copy()
    for col, d in decimals.items():
        if col in out.columns:
            values = out[col].to_numpy(dtype="float64")
            out[col] = np.array(["" if np.isnan(v) else f"{v:.{d}f}" for v in values], dtype=object)
    return out.to_csv(index=False, lineterminator="\n")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover - trialkit always installed in practice
        return None


def write_simulation(
    sim: Simulation,
    out_dir: str | Path,
    *,
    design_path: str | Path | None = None,
    seed: int | None = None,
    command: str | Sequence[str] | None = None,
) -> list[Path]:
    """Write one CSV per arm, ``study.toml`` and ``MANIFEST.json`` into ``out_dir``.

    Parameters
    ----------
    sim : Simulation
        From :func:`trialkit.simulate.simulate`.
    out_dir : path
        Created when absent; files of the same names are replaced.
    design_path : path, optional
        The design file the simulation came from; its path (as given) and SHA-256 go into the
        manifest. It is read before anything is written.
    seed : int, optional
        The seed, for callers that want it checked: it must equal ``sim.seed``.
    command : str or sequence of str, optional
        The command line that made the files, recorded in the manifest (a sequence is joined with
        shell quoting).

    Returns
    -------
    list of Path
        The files written: the arm CSVs (design order), the spec, the manifest.

    Raises
    ------
    TrialkitError
        When ``seed`` differs from ``sim.seed`` or ``design_path`` cannot be read (nothing is
        written then).
    """
    if seed is not None and seed != sim.seed:
        raise TrialkitError(f"`seed` = {seed!r} differs from the simulation's seed {sim.seed}.")
    design = None
    if design_path is not None:
        try:
            design_sha = _sha256(Path(design_path).read_bytes())
        except OSError as exc:
            raise TrialkitError(f"cannot read the design file {str(design_path)!r}: {exc}.") from exc
        design = {"path": Path(design_path).as_posix(), "sha256": design_sha}
    contents: dict[str, bytes] = {}
    for arm, frame in sim.frames.items():
        contents[sim.files[arm]] = format_frame(frame, sim.decimals).encode("utf-8")
    contents[SPEC] = sim.spec_toml.encode("utf-8")
    if not isinstance(command, (str, type(None))):
        command = shlex.join(list(command))
    manifest = {
        "generator": "trialkit.simulate",
        "study": sim.design.study_id,
        "seed": sim.seed,
        "design": design,
        "command": command,
        "files": {name: _sha256(data) for name, data in contents.items()},
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in _VERSIONED}},
    }
    contents[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in contents.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written
