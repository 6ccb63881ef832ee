"""Negative-binomial fit times: trialkit against statsmodels on the same data, in the same run.

The trial is simulated (seeded): 200,000 subjects, 2 arms, exposure uniform on 0.5–2 years
(offset log exposure), a log baseline rate, two numeric covariates and a five-level factor; counts
NB2 with θ = 1.8 (9 model terms). Four timings of the same model:

- ``trialkit``: ``tk.analysis.negative_binomial`` on the frame (argument and column checks, the
  design matrix, ML θ by ``MASS::glm.nb``'s alternation — the estimate a user gets);
- ``trialkit arrays``: ``count_arrays`` on the arm and factor codes and numeric arrays, what
  ``tk.analyze`` calls (the same fit without reading the frame's text columns);
- ``sm.NegativeBinomial``: ``statsmodels.discrete.discrete_model.NegativeBinomial`` (NB2,
  ``offset``), ``fit()`` with its defaults: coefficients and α = 1/θ jointly by maximum
  likelihood — how statsmodels users estimate the dispersion, the same job as trialkit's;
- ``GLM at ML α``: ``sm.GLM(family=NegativeBinomial(alpha=1/θ̂))`` with trialkit's θ̂, one IRLS
  fit at a known dispersion — less work than either (it needs θ̂ from elsewhere), printed as a
  floor.

The design matrices for statsmodels are built once, outside the clock. Rounds alternate the
programs; the medians are printed with the ratios of both trialkit timings to each, and the
relative differences between the programs' rate ratios and θ, to show they fitted the same model.

    python benchmarks/bench_counts.py [--subjects 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial

import trialkit as tk
from trialkit.analysis._counts import count_arrays

LEVELS = ("a", "b", "c", "d", "e")


def simulate(n: int, seed: int = 20261201) -> pd.DataFrame:
    """Return the simulated trial: one row per subject."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    site = rng.integers(0, 5, n)
    years = rng.uniform(0.5, 2.0, n)
    log_base = np.log(rng.gamma(2.0, 3.0, n) + 0.5)
    x1, x2 = rng.normal(size=n), rng.uniform(20, 80, n)
    eta = np.log(years) + 0.2 - 0.3 * arm + 0.6 * log_base + 0.1 * x1 + 0.005 * x2
    mu = np.exp(eta + np.array([0.0, 0.1, -0.1, 0.2, 0.05])[site])
    theta = 1.8
    y = rng.negative_binomial(theta, theta / (theta + mu))
    return pd.DataFrame(
        {
            "arm": np.where(arm == 1, "active", "control"),
            "y": y,
            "years": years,
            "log_base": log_base,
            "x1": x1,
            "x2": x2,
            "site": np.asarray(LEVELS)[site],
        }
    )


def design(frame: pd.DataFrame) -> np.ndarray:
    """Return the model matrix in trialkit's column order (treatment coding)."""
    columns = [np.ones(len(frame)), (frame.arm == "active").to_numpy(float)]
    columns += [frame[c].to_numpy(float) for c in ("log_base", "x1", "x2")]
    columns += [(frame.site == level).to_numpy(float) for level in LEVELS[1:]]
    return np.column_stack(columns)


def seconds(fit: Callable[[], object]) -> tuple[float, object]:
    """Time one call."""
    start = time.perf_counter()
    out = fit()
    return time.perf_counter() - start, out


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    frame = simulate(args.subjects)
    X, y, offset = design(frame), frame.y.to_numpy(float), np.log(frame.years.to_numpy())

    def ours() -> tk.analysis.CountFit:
        return tk.analysis.negative_binomial(
            frame,
            arms=["control", "active"],
            numeric=["log_base", "x1", "x2"],
            categorical={"site": LEVELS},
            exposure="years",
        )

    def discrete() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels' convergence chatter; convergence is printed
            return NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(disp=0)

    arm_codes = (frame.arm == "active").to_numpy(np.int64)
    site_codes = pd.Index(LEVELS).get_indexer(frame.site).astype(np.int64)
    numeric = {c: frame[c].to_numpy(float) for c in ("log_base", "x1", "x2")}

    def ours_arrays() -> tk.analysis.CountFit:
        return count_arrays(
            arm_codes,
            y,
            offset,
            numeric,
            {"site": site_codes},
            arms=("control", "active"),
            levels={"site": LEVELS},
            alpha=0.05,
            family="negative_binomial",
        )

    fit = ours()  # warm: imports
    theta = fit.dispersion

    def glm_at_alpha() -> object:
        return sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=1.0 / theta), offset=offset).fit()

    runs = {
        "trialkit": ours,
        "trialkit arrays": ours_arrays,
        "sm.NegativeBinomial": discrete,
        "GLM at ML alpha": glm_at_alpha,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(args.rounds):
        for name, run in runs.items():
            t, results[name] = seconds(run)
            times[name].append(t)

    nb = results["sm.NegativeBinomial"]
    glm = results["GLM at ML alpha"]
    rr_ours = fit.ratios[0].estimate
    rr_nb, theta_nb = float(np.exp(nb.params[1])), 1.0 / float(nb.params[-1])  # type: ignore[attr-defined]
    rr_glm = float(np.exp(glm.params[1]))  # type: ignore[attr-defined]
    print(f"{args.subjects:,} subjects, {X.shape[1]} terms, {args.rounds} rounds (median seconds per fit)")
    print(f"{'fit':<22} {'median':>9} {'trialkit / this':>16} {'arrays / this':>14}  rate ratio, theta")
    mine = statistics.median(times["trialkit"])
    mine_arrays_t = statistics.median(times["trialkit arrays"])
    mine_arrays = results["trialkit arrays"]
    rr_arrays, theta_arrays = mine_arrays.ratios[0].estimate, mine_arrays.dispersion  # type: ignore[attr-defined]
    shown = {
        "trialkit": (rr_ours, theta),
        "trialkit arrays": (rr_arrays, theta_arrays),
        "sm.NegativeBinomial": (rr_nb, theta_nb),
        "GLM at ML alpha": (rr_glm, theta),
    }
    for name, values in times.items():
        m = statistics.median(values)
        rr, th = shown[name]
        print(f"{name:<22} {m:>8.3f}s {mine / m:>16.3f} {mine_arrays_t / m:>14.3f}  {rr:.10f}, {th:.8f}")
    converged = nb.mle_retvals["converged"]  # type: ignore[attr-defined]
    print(
        f"sm.NegativeBinomial converged: {converged}; relative differences to trialkit: rate ratio "
        f"{abs(rr_nb / rr_ours - 1):.1e}, theta {abs(theta_nb / theta - 1):.1e}; GLM at ML alpha: rate ratio "
        f"{abs(rr_glm / rr_ours - 1):.1e}"
    )


if __name__ == "__main__":
    main()
