"""Write a large trial (long or wide CSV and its study spec) of about a given size, quickly and in bounded memory.

Used by benchmarks/bench_load_memory.py and runnable on its own, to make the files measured with
``/usr/bin/time -v`` (always under /tmp; delete them after):

    python benchmarks/big_trial.py long 1e9 /tmp/big_long
    python benchmarks/big_trial.py wide 1e9 /tmp/big_wide

The long file has one record per line (``subject,arm,visit,endpoint,value``; 10 endpoints, 4
visits, about 34 bytes a line); the wide file one subject per line (``subject,arm,age,sex`` and
10 endpoints x 4 visits, about 290 bytes a line). Values are numbers with three decimals, 2 % of
them missing (empty). Every number is made up.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

N_ENDPOINTS = 10
VISITS = ("baseline", "week4", "week8", "week12")
#: subjects written per batch (bounds the generator's own memory)
_BATCH = 50_000


def _spec(folder: Path, layout: str) -> Path:
    endpoints = "\n".join(f'[[endpoints]]\nid = "e{j}"\nrange = [-1000, 1000]\n' for j in range(N_ENDPOINTS))
    if layout == "long":
        data = (
            '[data]\nformat = "long"\nsubject = "subject"\npath = "trial.csv"\nvisit = "visit"\n'
            'endpoint = "endpoint"\nvalue = "value"\n'
        )
    else:
        data = '[data]\nformat = "wide"\nsubject = "subject"\npath = "trial.csv"\npattern = "{endpoint}_{visit}"\n'
    spec = folder / "study.toml"
    covariates = (
        '[analysis]\ncovariates = ["age", "sex"]\ncategorical = ["sex"]\n[covariates.sex]\nlevels = ["F", "M"]\n'
        if layout == "wide"
        else ""
    )
    spec.write_text(
        '[study]\nid = "big"\n[arms]\ncolumn = "arm"\ncontrol = "placebo"\nlevels = ["placebo", "active"]\n'
        f'[visits]\nbaseline = "baseline"\norder = {json.dumps(list(VISITS))}\n'
        f"{endpoints}\n{data}{covariates}"
    )
    return spec


def _values(rng: np.random.Generator, n: int) -> pa.Array:
    values = np.round(rng.normal(50, 10, n), 3)
    return pa.array(values, mask=rng.random(n) < 0.02)


def _long_batch(rng: np.random.Generator, first: int, n_subjects: int) -> pa.Table:
    per_subject = N_ENDPOINTS * len(VISITS)
    ids = np.arange(first, first + n_subjects)
    subjects = np.repeat(np.char.add("S", np.char.zfill(ids.astype(str), 8)), per_subject)
    arms = np.repeat(np.where(ids % 2 == 0, "active", "placebo"), per_subject)
    visits = np.tile(np.repeat(np.array(VISITS), N_ENDPOINTS), n_subjects)
    endpoints = np.tile(np.array([f"e{j}" for j in range(N_ENDPOINTS)]), n_subjects * len(VISITS))
    n = len(subjects)
    return pa.table(
        {"subject": subjects, "arm": arms, "visit": visits, "endpoint": endpoints, "value": _values(rng, n)}
    )


def _wide_batch(rng: np.random.Generator, first: int, n_subjects: int) -> pa.Table:
    ids = np.arange(first, first + n_subjects)
    columns: dict[str, object] = {
        "subject": np.char.add("S", np.char.zfill(ids.astype(str), 8)),
        "arm": np.where(ids % 2 == 0, "active", "placebo"),
        "age": rng.integers(18, 90, n_subjects),
        "sex": np.where(rng.random(n_subjects) < 0.5, "F", "M"),
    }
    for j in range(N_ENDPOINTS):
        for visit in VISITS:
            columns[f"e{j}_{visit}"] = _values(rng, n_subjects)
    return pa.table(columns)


def write_trial(folder: Path, layout: str, size: float, seed: int = 1) -> Path:
    """Write ``folder/trial.csv`` of about ``size`` bytes in a layout (long, wide) and its spec; return the spec."""
    if layout not in ("long", "wide"):
        raise ValueError(f"layout must be 'long' or 'wide'; got {layout!r}")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    batch = _long_batch if layout == "long" else _wide_batch
    path = folder / "trial.csv"
    first = 0
    with path.open("wb") as out:
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        while out.tell() < size:
            table = batch(rng, first, _BATCH)
            if first == 0:  # the header unquoted, as people write it
                out.write((",".join(table.column_names) + "\n").encode())
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink, options)
            out.write(sink.getvalue().to_pybytes())
            first += _BATCH
    return _spec(folder, layout)


def main() -> None:
    """Write the trial named on the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("layout", choices=("long", "wide"))
    parser.add_argument("size", type=float, help="bytes (about; whole batches of 50,000 subjects)")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    spec = write_trial(args.folder, args.layout, args.size)
    print(f"{spec.parent / 'trial.csv'}: {(spec.parent / 'trial.csv').stat().st_size:,} bytes; spec {spec}")


if __name__ == "__main__":
    main()
