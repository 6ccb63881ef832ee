"""trialkit.analyze on 200,000 subjects x 10 endpoints x 2 follow-up visits, against a baseline loop.

The baseline is what a statistician would write without trialkit: per endpoint and visit one
``statsmodels.formula`` OLS (ANCOVA) and two ``pingouin.ttest`` calls (Welch, Student) on change.
Measured in the same run, alternating, median over ``--repeat`` rounds:

* trialkit doing the same analyses (``ancova``, ``ancova_lsmean``, ``welch_change``,
  ``student_change``) as a ratio to the baseline loop;
* the full ``analyze`` (every analysis: rank tests with Hodges–Lehmann intervals, Hedges' g,
  responders, the MCID sweep, Table 1) as a ratio to the same baseline, and its absolute median
  (issue 8 asks for under 10 s on this trial).

    python benchmarks/bench_analyze.py [--subjects 200000] [--repeat 3]

Needs ``pingouin`` for the baseline loop (``pip install -e '.[bench]'``). The machine's load
moves every timing; the ratios, measured side by side, move much less.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_ENDPOINTS = 10
VISITS = ("baseline", "week4", "week8")
SAME_ANALYSES = ["ancova", "ancova_lsmean", "welch_change", "student_change"]


def write_trial(folder: Path, n_subjects: int, seed: int = 7) -> Path:
    """Write a two-arm trial (wide parquet, values to 3 decimals) and its study.toml; return the spec."""
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n_subjects) % 2 == 0, "active", "placebo")
    cols: dict[str, Any] = {"subject_id": [f"S{i:07d}" for i in range(n_subjects)], "arm": arm}
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


def baseline_loop(trial: Any) -> int:
    """One formula fit and two t-tests per endpoint and visit; return the number of cells."""
    import pingouin as pg
    import statsmodels.formula.api as smf

    wide = trial.data.pivot_table(
        index=["subject", "arm", "endpoint"], columns="visit", values="value", observed=True
    ).reset_index()
    n = 0
    for _, part in wide.groupby("endpoint", observed=True):
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


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Time the three workloads alternately and print medians and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import trialkit as tk

    with tempfile.TemporaryDirectory() as tmp:
        trial = tk.load(write_trial(Path(tmp), args.subjects))
    cells = baseline_loop(trial)  # warm-up: imports, caches
    full = tk.analyze(trial)
    same, loop, every = [], [], []
    for _ in range(args.repeat):
        same.append(_timed(lambda: tk.analyze(trial, analyses=SAME_ANALYSES, sweep=False)))
        loop.append(_timed(lambda: baseline_loop(trial)))
        every.append(_timed(lambda: tk.analyze(trial)))
    s, b, f = (statistics.median(t) for t in (same, loop, every))
    print(
        f"trial: {args.subjects:,} subjects x {N_ENDPOINTS} endpoints x {len(VISITS) - 1} follow-up visits "
        f"({cells} cells); medians of {args.repeat} alternating rounds"
    )
    print(f"baseline loop (statsmodels.formula OLS + 2 pingouin t-tests per cell): {b:7.2f} s")
    print(f"trialkit.analyze, same analyses                                      : {s:7.2f} s")
    print(f"trialkit.analyze, every analysis ({len(full.table):,} rows)                         : {f:7.2f} s")
    print(f"ratio same analyses / baseline loop  : {s / b:.2f}  (target < 1)")
    print(f"ratio every analysis / baseline loop : {f / b:.2f}")
    print(f"every analysis, absolute median      : {f:.2f} s  (target < 10 s)")


if __name__ == "__main__":
    main()
