"""Multiple imputation: trialkit against a per-imputation statsmodels loop, in the same run.

A simulated 2-arm trial (1,000 subjects, 10 post-baseline visits, AR(1)-like correlation, MAR
monotone dropout and a few intermittent gaps, baseline and age as covariates). trialkit runs
``tk.analysis.multiple_imputation`` with 1,000 imputations under MAR (its M data-augmentation chains
side by side as arrays). The baseline does the same statistical work the way a Python user without
trialkit would write it, one imputation at a time: a data-augmentation chain of the same number of
iterations (I-step: conditional-normal draws, vectorised over the subjects of each missingness
pattern; P-step: the multivariate regression by ``statsmodels.api.OLS``, Σ from
``scipy.stats.invwishart``, B from its matrix normal), then the ANCOVA of the completed data set by
``statsmodels`` OLS, then Rubin's rules. The loop is timed on ``--baseline-imputations`` imputations
and scaled to M (its cost is linear in M), which the output says. Printed: data shape, dropout,
medians of the rounds, the projected baseline for M imputations, the ratio, and both pooled
estimates (they estimate the same quantity: they differ by Monte Carlo error).

    python benchmarks/bench_mi.py [--subjects 1000] [--visits 10] [--imputations 1000]
                                  [--burn-in 200] [--baseline-imputations 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

import trialkit as tk


def simulate(subjects: int, visits: int, seed: int = 1) -> pd.DataFrame:
    """Return a wide trial: arm, baseline, age and one column per visit (NaN = missing)."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(["placebo", "active"], subjects // 2)
    base = rng.normal(20, 4, subjects)
    age = rng.normal(65, 8, subjects)
    lag = np.abs(np.subtract.outer(np.arange(visits), np.arange(visits)))
    cov = 9 * 0.6**lag
    effect = -3.0 * np.arange(1, visits + 1) / visits
    y = 0.7 * base[:, None] + 6 + 0.02 * (age[:, None] - 65) + effect * (arm == "active")[:, None]
    y += rng.multivariate_normal(np.zeros(visits), cov, subjects)
    for i in range(subjects):
        for j in range(1, visits):
            if rng.random() < 0.02 + 0.02 * (y[i, j - 1] > 22):
                y[i, j:] = np.nan
                break
    gaps = rng.choice(subjects, subjects // 50, replace=False)
    y[gaps, rng.integers(0, visits - 1, gaps.size)] = np.nan
    frame = pd.DataFrame({"arm": arm, "baseline": base, "age": age})
    for j in range(visits):
        frame[f"v{j + 1}"] = y[:, j]
    return frame


def statsmodels_loop(frame: pd.DataFrame, visits: list[str], imputations: int, burn_in: int, seed: int) -> tuple:
    """Return per-imputation estimates and variances of the arm effect at the last visit, one chain at a time."""
    rng = np.random.default_rng(seed)
    x = sm.add_constant(np.column_stack([frame["arm"].eq("active"), frame["baseline"], frame["age"]]).astype(float))
    y = frame[visits].to_numpy()
    n, p = x.shape
    t = y.shape[1]
    miss = np.isnan(y)
    keys = miss @ (1 << np.arange(t))
    patterns = [np.flatnonzero(keys == k) for k in np.unique(keys[keys > 0])]
    estimates, variances = [], []
    for _ in range(imputations):
        filled = np.where(miss, np.nanmean(y, axis=0), y)
        for _ in range(burn_in):
            fit = sm.OLS(filled, x).fit()  # multivariate: one column of coefficients per visit
            b_hat = fit.params
            resid = filled - x @ b_hat
            sigma = stats.invwishart.rvs(df=n - p, scale=resid.T @ resid, random_state=rng)
            xtx_inv = np.linalg.inv(x.T @ x)
            b = b_hat + np.linalg.cholesky(xtx_inv) @ rng.standard_normal((p, t)) @ np.linalg.cholesky(sigma).T
            mu = x @ b
            for pattern in patterns:  # subjects sharing a pattern of missing visits, as a vectorised user would
                rows, m = pattern, miss[pattern[0]]
                o = ~m
                if o.any():
                    coef = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)])
                    mean = mu[np.ix_(rows, m)] + (y[np.ix_(rows, o)] - mu[np.ix_(rows, o)]) @ coef
                    cov = sigma[np.ix_(m, m)] - sigma[np.ix_(m, o)] @ coef
                else:
                    mean, cov = mu[np.ix_(rows, m)], sigma[np.ix_(m, m)]
                noise = rng.standard_normal(mean.shape) @ np.linalg.cholesky(cov).T
                filled[np.ix_(rows, m)] = mean + noise
        ancova = sm.OLS(filled[:, -1], x).fit()
        estimates.append(ancova.params[1])
        variances.append(ancova.bse[1] ** 2)
    return np.array(estimates), np.array(variances)


def main() -> None:
    """Time both, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--imputations", type=int, default=1000)
    parser.add_argument("--burn-in", type=int, default=200)
    parser.add_argument("--baseline-imputations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    frame = simulate(args.subjects, args.visits)
    visits = [f"v{j + 1}" for j in range(args.visits)]
    missing = frame[visits].isna()
    print(
        f"trial: {args.subjects} subjects x {args.visits} post-baseline visits; "
        f"{missing.to_numpy().mean():.1%} of values missing, {missing[visits[-1]].mean():.1%} at the last visit"
    )
    ours, theirs = [], []
    fit = None
    est = var = None
    for r in range(args.rounds):
        start = time.perf_counter()
        fit = tk.analysis.multiple_imputation(
            frame,
            arms=["placebo", "active"],
            visits=visits,
            numeric=["age"],
            methods=["mi_mar"],
            imputations=args.imputations,
            burn_in=args.burn_in,
            seed=r + 1,
        )
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        est, var = statsmodels_loop(frame, visits, args.baseline_imputations, args.burn_in, seed=r + 1)
        theirs.append((time.perf_counter() - start) / args.baseline_imputations)
        print(f"  round {r + 1}: trialkit {ours[-1]:.2f} s; statsmodels loop {theirs[-1]:.2f} s per imputation")
    assert fit is not None and est is not None and var is not None
    t_ours = statistics.median(ours)
    per = statistics.median(theirs)
    projected = per * args.imputations
    print(
        f"trialkit, {args.imputations} imputations (burn-in {args.burn_in}): {t_ours:.2f} s (median of {args.rounds})"
    )
    print(
        f"statsmodels loop: {per:.3f} s per imputation (median over rounds of {args.baseline_imputations} "
        f"imputations), projected {projected:.0f} s for {args.imputations}"
    )
    print(f"ratio trialkit / statsmodels loop: {t_ours / projected:.4f}")
    mar = fit.estimates[0]
    pooled = tk.analysis.pool(est, var, df_complete=args.subjects - 4)
    print(
        f"pooled arm effect at {visits[-1]}: trialkit {mar.estimate:.3f} (SE {mar.std_error:.3f}); "
        f"statsmodels loop {pooled.estimate:.3f} (SE {pooled.std_error:.3f}, only "
        f"{args.baseline_imputations} imputations: Monte Carlo SE ~ {math.sqrt(pooled.between / len(est)):.3f})"
    )


if __name__ == "__main__":
    main()
