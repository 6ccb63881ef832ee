"""Load + validate a long CSV of 1,000,000 rows; compare with bare ``pandas.read_csv`` of the same file.

Each round times every contender once, in turn, so that all of them meet the same load on a
shared machine; each figure is printed as the median over the rounds (wall-clock time, and the
CPU time of all the process's threads), and as a ratio to the baseline measured in the same
round (median, with the min-max spread over the rounds).

The baseline is ``pandas.read_csv(path)`` with its defaults: the C engine, which in pandas >= 3.1
reads a large local file with one thread per core, and infers each column's type (text columns
become Arrow-backed strings; nothing is checked). The serial C engine and the pyarrow engine are
printed too, for context. Peak memory is the peak resident set size of a fresh process that
imports trialkit and loads the trial (target < 1 GB), beside that of one that reads the file
with pandas.

    python benchmarks/bench_load.py [--rows 1000000] [--rounds 15]

trialkit's figure covers everything :func:`trialkit.load` does: read the spec, hash the inputs,
parse the CSV, check every rule, and build the tidy frame (subject x endpoint x visit grid).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import trialkit as tk

N_ENDPOINTS, VISITS = 10, ("baseline", "week4", "week8", "week12")


def write_trial(folder: Path, rows: int, seed: int = 1) -> Path:
    """Write a long CSV (subject, arm, visit, endpoint, value) of ``rows`` rows and its spec; return the spec."""
    rng = np.random.default_rng(seed)
    per_subject = N_ENDPOINTS * len(VISITS)
    n_subjects = rows // per_subject
    subjects = np.repeat([f"S{i:07d}" for i in range(n_subjects)], per_subject)
    arms = np.repeat(np.where(np.arange(n_subjects) % 2 == 0, "active", "placebo"), per_subject)
    visits = np.tile(np.repeat(VISITS, N_ENDPOINTS), n_subjects)
    endpoints = np.tile([f"e{j}" for j in range(N_ENDPOINTS)], n_subjects * len(VISITS))
    values = np.round(rng.normal(50, 10, len(subjects)), 3)
    values[rng.random(len(values)) < 0.02] = np.nan
    frame = pd.DataFrame({"subject": subjects, "arm": arms, "visit": visits, "endpoint": endpoints, "value": values})
    frame.to_csv(folder / "trial.csv", index=False)
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


def time_rounds(
    contenders: dict[str, Callable[[], object]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time each contender over ``rounds`` rounds, each round running all of them in turn.

    Returns
    -------
    wall, cpu : dict of str to list of float
        Wall-clock seconds, and CPU seconds of the process (every thread), per round.
    """
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate who goes first
            start, start_cpu = time.perf_counter(), time.process_time()
            contenders[name]()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def peak_rss_mb(code: str) -> float:
    """Return the peak resident set size (MB) of a fresh Python process running ``code``.

    Read from the process's own ``VmHWM`` (Linux): ``ru_maxrss`` would include the memory of
    this benchmark process, from which the child is forked.
    """
    script = f"{code}\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    """Write the trial, time the contenders and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_trial(Path(tmp), args.rows)
        csv = Path(tmp) / "trial.csv"
        megabytes = csv.stat().st_size / 1e6
        trial = tk.load(spec)  # warm-up, and a check that the file is valid
        pd.read_csv(csv)

        def serial() -> object:
            with pd.option_context("mode.max_threads", 1):
                return pd.read_csv(csv)

        contenders: dict[str, Callable[[], object]] = {
            "pandas.read_csv(path)": lambda: pd.read_csv(csv),
            "  engine='c', 1 thread": serial,
            "  engine='pyarrow'": lambda: pd.read_csv(csv, engine="pyarrow"),
            "trialkit.load(spec)": lambda: tk.load(spec),
        }
        times, cpu = time_rounds(contenders, args.rounds)
        rss = peak_rss_mb(f"import trialkit as tk; tk.load({str(spec)!r})")
        rss_pandas = peak_rss_mb(f"import pandas as pd; pd.read_csv({str(csv)!r})")
    base = times["pandas.read_csv(path)"]
    print(f"{len(trial.data):,} rows ({megabytes:.0f} MB CSV); {args.rounds} rounds, medians")
    print(f"{'':26s} {'wall':>7s} {'cpu':>7s}   ratio to pandas.read_csv(path) in the same round: median [min-max]")
    for name, values in times.items():
        ratios = [t / b for t, b in zip(values, base, strict=True)]
        spread = f"{statistics.median(ratios):5.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
        print(f"{name:26s} {statistics.median(values):6.3f}s {statistics.median(cpu[name]):6.3f}s   {spread}")
    print(f"peak RSS, fresh process: trialkit.load {rss:.0f} MB (target < 1024), pandas.read_csv {rss_pandas:.0f} MB")
    print("target: trialkit.load within 2x of pandas.read_csv(path)")


if __name__ == "__main__":
    main()
