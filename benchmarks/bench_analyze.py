"""ANCOVA + Welch + Student t on change for 200,000 subjects x 10 endpoints x 2 follow-up visits.

Compares ``trialkit.analyze`` with a per-endpoint loop of ``statsmodels.formula`` OLS plus
``pingouin.ttest`` (Welch and Student) doing the same analyses, measured in the same run; also
times the full ``analyze`` (every analysis) once.

    python benchmarks/bench_analyze.py [--subjects 200000] [--repeat 3]

Needs ``pingouin`` for the baseline loop (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_ENDPOINTS = 10
VISITS = ("baseline", "week4", "week8")


def write_trial(folder: Path, n_subjects: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n_subjects) % 2 == 0, "active", "placebo")
    cols = {"subject_id": [f"S{i:07d}" for i in range(n_subjects)], "arm": arm}
    for j in range(N_ENDPOINTS):
        base = rng.normal(50, 10, n_subjects)
        cols[f"e{j}_baseline"] = np.round(base, 3)
        for k, v in enumerate(VISITS[1:], start=1):
            effect = np.where(arm == "active", -2.0 * k, 0.0)
            cols[f"e{j}_{v}"] = np.round(0.6 * base + 20 + effect + rng.normal(0, 8, n_subjects), 3)
    pd.DataFrame(cols).to_parquet(folder / "trial.parquet", index=False)
    endpoints = "\n".join(f'[[endpoints]]\nid = "e{j}"\n' for j in range(N_ENDPOINTS))
    spec = folder / "study.toml"
    spec.write_text(
        '[study]\nid = "bench"\n[arms]\ncolumn = "arm"\ncontrol = "placebo"\nlevels = ["placebo", "active"]\n'
        '[visits]\nbaseline = "baseline"\norder = ["baseline", "week4", "week8"]\n'
        f"{endpoints}\n"
        '[data]\nformat = "wide"\nsubject = "subject_id"\npath = "trial.parquet"\npattern = "{endpoint}_{visit}"\n'
    )
    return spec


def baseline_loop(trial) -> int:
    """What a statistician would write without trialkit: one formula fit and two t-tests per cell."""
    import pingouin as pg
    import statsmodels.formula.api as smf

    wide = trial.data.pivot_table(
        index=["subject", "arm", "endpoint"], columns="visit", values="value", observed=True
    ).reset_index()
    n = 0
    for endpoint, part in wide.groupby("endpoint", observed=True):
        for visit in VISITS[1:]:
            d = part[["arm", "baseline", visit]].dropna().rename(columns={visit: "y"})
            d["arm"] = pd.Categorical(d["arm"].astype(str), categories=["placebo", "active"])
            smf.ols("y ~ C(arm) + baseline", data=d).fit().conf_int()
            change = d["y"] - d["baseline"]
            x, c = change[d["arm"] == "active"], change[d["arm"] == "placebo"]
            pg.ttest(x, c, correction=True)
            pg.ttest(x, c, correction=False)
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import trialkit as tk

    subset = ["ancova", "ancova_lsmean", "welch_change", "student_change"]
    with tempfile.TemporaryDirectory() as tmp:
        trial = tk.load(write_trial(Path(tmp), args.subjects))
    tk.analyze(trial, analyses=subset, sweep=False)  # warm-up: imports
    baseline_loop(trial)
    ours, theirs = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        tk.analyze(trial, analyses=subset, sweep=False)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        cells = baseline_loop(trial)
        theirs.append(time.perf_counter() - start)
    start = time.perf_counter()
    full = tk.analyze(trial)
    full_time = time.perf_counter() - start
    o, t = statistics.median(ours), statistics.median(theirs)
    print(
        f"trial: {args.subjects:,} subjects x {N_ENDPOINTS} endpoints x {len(VISITS) - 1} follow-up visits "
        f"({cells} cells), medians of {args.repeat}"
    )
    print(f"statsmodels.formula + pingouin loop : {t:.2f} s")
    print(f"trialkit.analyze (same analyses)    : {o:.2f} s")
    print(f"ratio trialkit / loop               : {o / t:.2f}  (target < 1, and < 10 s)")
    print(f"trialkit.analyze, every analysis    : {full_time:.2f} s ({len(full.table):,} rows)")


if __name__ == "__main__":
    main()
