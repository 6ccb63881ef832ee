"""Load + validate a long-format CSV of 1,000,000 rows; compare with a bare ``pandas.read_csv``.

Prints the median wall time of each over several repetitions, their ratio (target <= 2) and the
peak resident memory of a fresh process doing the trialkit load (target < 1 GB).

    python benchmarks/bench_load.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_ENDPOINTS, VISITS = 10, ("baseline", "week4", "week8", "week12")


def write_trial(folder: Path, rows: int, seed: int = 1) -> Path:
    """A long CSV (subject, arm, visit, endpoint, value) with ``rows`` rows, and its spec."""
    rng = np.random.default_rng(seed)
    per_subject = N_ENDPOINTS * len(VISITS)
    n_subjects = rows // per_subject
    subjects = np.repeat([f"S{i:07d}" for i in range(n_subjects)], per_subject)
    arms = np.repeat(np.where(np.arange(n_subjects) % 2 == 0, "active", "placebo"), per_subject)
    visits = np.tile(np.repeat(VISITS, N_ENDPOINTS), n_subjects)
    endpoints = np.tile([f"e{j}" for j in range(N_ENDPOINTS)], n_subjects * len(VISITS))
    values = np.round(rng.normal(50, 10, len(subjects)), 3)
    values[rng.random(len(values)) < 0.02] = np.nan
    pd.DataFrame({"subject": subjects, "arm": arms, "visit": visits, "endpoint": endpoints, "value": values}).to_csv(
        folder / "trial.csv", index=False
    )
    endpoints_toml = "\n".join(f'[[endpoints]]\nid = "e{j}"\nrange = [0, 200]\n' for j in range(N_ENDPOINTS))
    spec = folder / "study.toml"
    spec.write_text(
        '[study]\nid = "bench"\n[arms]\ncolumn = "arm"\ncontrol = "placebo"\nlevels = ["placebo", "active"]\n'
        f'[visits]\nbaseline = "baseline"\norder = {json.dumps(list(VISITS))}\n'
        f"{endpoints_toml}\n"
        '[data]\nformat = "long"\nsubject = "subject"\npath = "trial.csv"\nvisit = "visit"\n'
        'endpoint = "endpoint"\nvalue = "value"\n'
    )
    return spec


def _time(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def peak_rss_mb(spec: Path) -> float:
    """Peak resident set size (MB) of a fresh Python process that loads the trial."""
    code = (
        "import resource, trialkit as tk; tk.load({!r}); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)".format(str(spec))
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import trialkit as tk

    with tempfile.TemporaryDirectory() as tmp:
        spec = write_trial(Path(tmp), args.rows)
        csv = Path(tmp) / "trial.csv"
        trial = tk.load(spec)  # warm-up, and a check that the file is valid
        n = len(trial.data)
        bare = _time(lambda: pd.read_csv(csv), args.repeat)
        ours = _time(lambda: tk.load(spec), args.repeat)
        rss = peak_rss_mb(spec)
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"rows: {n:,} ({csv.name}, {args.repeat} repetitions, medians)")
    print(f"pandas.read_csv        : {b:.3f} s")
    print(f"trialkit.load+validate : {o:.3f} s")
    print(f"ratio                  : {o / b:.2f}  (target <= 2)")
    print(f"peak RSS of tk.load    : {rss:.0f} MB  (target < 1024 MB)")


if __name__ == "__main__":
    main()
