"""Multiple imputation: trialkit against a per-imputation statsmodels loop, in the same run.

The trial is simulated (seeded): 2 arms, 1,000 subjects, 10 post-baseline visits with AR(1)-like
correlation, baseline and age as covariates, monotone dropout that depends on the last observed
value (missing at random; about a quarter gone by the last visit) and a few intermittent gaps.

trialkit runs ``tk.analysis.multiple_imputation(..., methods=["mi_mar"])`` with 1,000 imputations:
M data-augmentation chains of ``--burn-in`` iterations side by side as arrays, the ANCOVA at the
last visit on each completed data set, Rubin's rules. The baseline does the same statistical work
the way a Python user without trialkit would write it, one imputation at a time: a chain started
where trialkit starts it (per-visit least squares, diagonal Σ), each iteration an I-step (the
conditional-normal draw of the missing values given the observed ones, numpy, vectorised over the
subjects sharing a missingness pattern) and a P-step (the multivariate regression by
``statsmodels.api.OLS`` on the 2-D response, Σ by ``scipy.stats.invwishart``, B by
``scipy.stats.matrix_normal``), then a last I-step, the ANCOVA of the completed data set by
``statsmodels`` OLS, and Rubin's rules with Barnard–Rubin df (written out, as mice pools).

The loop's cost is linear in the imputations, and 1,000 of them take several minutes, so each
round times it on ``--baseline-imputations`` imputations and scales the time per imputation to M;
the output says so. Rounds alternate trialkit and the loop; medians are printed, and the ratio
trialkit / loop. Before timing, a small trial is imputed by both with the same M, and their pooled
estimates are printed with the Monte Carlo error of their difference: the two are the same
algorithm with different random numbers, so they differ by Monte Carlo error only.

    python benchmarks/bench_mi.py [--subjects 1000] [--visits 10] [--imputations 1000] [--burn-in 200]
                                  [--baseline-imputations 20] [--rounds 3] [--check-imputations 200]
                                  [--profile N]

``--profile N`` runs trialkit once under cProfile, prints the N costliest functions and stops.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import statistics
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

import trialkit as tk

ARMS = ["placebo", "active"]


def simulate(subjects: int, visits: int, seed: int = 1) -> pd.DataFrame:
    """Return a wide trial: arm, baseline, age and one column per post-baseline visit (NaN = missing)."""
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(subjects) % 2 == 0, ARMS[0], ARMS[1])
    base = rng.normal(20, 4, subjects)
    age = rng.normal(65, 8, subjects)
    lag = np.abs(np.subtract.outer(np.arange(visits), np.arange(visits)))
    cov = 9 * 0.6**lag
    effect = -3.0 * np.arange(1, visits + 1) / visits  # grows to -3 at the last visit
    y = 6 + 0.7 * base[:, None] + 0.02 * (age[:, None] - 65) + effect * (arm == ARMS[1])[:, None]
    y += rng.multivariate_normal(np.zeros(visits), cov, subjects)
    # monotone dropout after visit j - 1, likelier after a high value there: missing at random
    gone = np.zeros(subjects, dtype=bool)
    for j in range(1, visits):
        gone |= rng.random(subjects) < np.where(y[:, j - 1] > 22, 0.055, 0.025)
        y[gone, j] = np.nan
    # intermittent gaps: one earlier visit missed by a few subjects seen at the last visit
    completers = np.flatnonzero(~gone)
    gaps = rng.choice(completers, max(1, subjects // 40), replace=False)
    y[gaps, rng.integers(0, visits - 1, gaps.size)] = np.nan
    frame = pd.DataFrame({"arm": arm, "baseline": base, "age": age})
    for j in range(visits):
        frame[f"v{j + 1}"] = y[:, j]
    return frame


def trialkit_mi(frame: pd.DataFrame, visits: list[str], imputations: int, burn_in: int, seed: int) -> tk.analysis.MIFit:
    """Run trialkit's MAR multiple imputation, ANCOVA at the last visit."""
    return tk.analysis.multiple_imputation(
        frame,
        arms=ARMS,
        visits=visits,
        numeric=["age"],
        methods=["mi_mar"],
        imputations=imputations,
        burn_in=burn_in,
        seed=seed,
    )


# --- the baseline: what a statsmodels user writes, one imputation at a time ---------------------


@dataclass(frozen=True)
class Pooled:
    """Rubin's rules: the pooled estimate, its standard error, between-imputation variance, df."""

    estimate: float
    std_error: float
    between: float
    df: float
    p_value: float
    imputations: int


def rubin(estimates: np.ndarray, variances: np.ndarray, df_complete: float, alpha: float = 0.05) -> Pooled:
    """Pool by Rubin's rules with the Barnard–Rubin df, as mice::pool does."""
    m = estimates.size
    q = float(estimates.mean())
    within = float(variances.mean())
    between = float(estimates.var(ddof=1))
    total = within + (1 + 1 / m) * between
    lam = max((1 + 1 / m) * between / total, 1e-4)
    df_old = (m - 1) / lam**2
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    df = df_old * df_obs / (df_old + df_obs)
    se = math.sqrt(total)
    return Pooled(q, se, between, df, float(2 * stats.t.sf(abs(q / se), df)), m)


def impute(
    y: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    patterns: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
) -> np.ndarray:
    """I-step: draw every missing value from its normal distribution given the subject's observed values."""
    out = y.copy()
    for rows, m in patterns:
        o = ~m
        centre = mean[np.ix_(rows, m)]
        cov = sigma[np.ix_(m, m)]
        if o.any():
            coef = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)])  # Σ_oo⁻¹ Σ_om
            centre = centre + (y[np.ix_(rows, o)] - mean[np.ix_(rows, o)]) @ coef
            cov = cov - sigma[np.ix_(m, o)] @ coef
        noise = rng.multivariate_normal(np.zeros(m.sum()), cov, size=rows.size, method="cholesky")
        out[np.ix_(rows, m)] = centre + noise
    return out


def draw_parameters(completed: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """P-step: draw (B, Σ) from their complete-data posterior under the Jeffreys prior."""
    n, p = x.shape
    t = completed.shape[1]
    fit = sm.OLS(completed, x).fit()  # 2-D response: one column of coefficients per visit
    resid = completed - x @ fit.params
    sigma = np.atleast_2d(stats.invwishart.rvs(df=n - p, scale=resid.T @ resid, random_state=rng))
    b = stats.matrix_normal.rvs(mean=fit.params, rowcov=fit.normalized_cov_params, colcov=sigma, random_state=rng)
    return np.reshape(b, (p, t)), sigma


def statsmodels_mi(frame: pd.DataFrame, visits: list[str], imputations: int, burn_in: int, seed: int) -> Pooled:
    """Impute and analyse one data set at a time: a chain of ``burn_in`` iterations per imputation."""
    rng = np.random.default_rng(seed)
    x = sm.add_constant(np.column_stack([frame["arm"].eq(ARMS[1]), frame["baseline"], frame["age"]]).astype(float))
    y = frame[visits].to_numpy(dtype=float)
    n, p = x.shape
    missing = np.isnan(y)
    kinds, which = np.unique(missing, axis=0, return_inverse=True)
    patterns = [(np.flatnonzero(which == k), kind) for k, kind in enumerate(kinds) if kind.any()]
    # starting values as trialkit takes them: least squares per visit on its observed subjects, Σ diagonal
    start_b = np.empty((p, y.shape[1]))
    start_var = np.empty(y.shape[1])
    for j in range(y.shape[1]):
        seen = ~missing[:, j]
        fit = sm.OLS(y[seen, j], x[seen]).fit()
        start_b[:, j], start_var[j] = fit.params, fit.scale
    estimates, variances = np.empty(imputations), np.empty(imputations)
    for i in range(imputations):
        b, sigma = start_b, np.diag(start_var)
        for _ in range(burn_in):
            b, sigma = draw_parameters(impute(y, x @ b, sigma, patterns, rng), x, rng)
        completed = impute(y, x @ b, sigma, patterns, rng)
        ancova = sm.OLS(completed[:, -1], x).fit()
        estimates[i], variances[i] = ancova.params[1], ancova.bse[1] ** 2
    return rubin(estimates, variances, df_complete=n - p)


# --- the run --------------------------------------------------------------------------------------


def describe(frame: pd.DataFrame, visits: list[str]) -> str:
    """Return one line on the shape and the missing values of a trial."""
    y = frame[visits].to_numpy()
    seen = ~np.isnan(y)
    last = np.where(seen.any(axis=1), y.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1), -1)
    intermittent = int((~seen & (np.arange(y.shape[1]) < last[:, None])).sum())
    patterns = len(np.unique(seen, axis=0))
    return (
        f"{len(frame):,} subjects ({(frame['arm'] == ARMS[0]).sum()} {ARMS[0]}, {(frame['arm'] == ARMS[1]).sum()} "
        f"{ARMS[1]}) x {len(visits)} post-baseline visits, covariates baseline and age; "
        f"{np.isnan(y[:, -1]).mean():.1%} missing at the last visit ({(last < y.shape[1] - 1).mean():.1%} dropped "
        f"out), {intermittent} intermittent gaps, {np.isnan(y).mean():.1%} of all values, {patterns} patterns"
    )


def check(args: argparse.Namespace) -> None:
    """Impute a small trial by both, with the same M, and print the pooled estimates side by side."""
    frame = simulate(args.check_subjects, args.check_visits, seed=2)
    visits = [f"v{j + 1}" for j in range(args.check_visits)]
    m = args.check_imputations
    ours = trialkit_mi(frame, visits, m, args.burn_in, seed=11).estimates[0]
    theirs = statsmodels_mi(frame, visits, m, args.burn_in, seed=11)
    # the Monte Carlo SE of a pooled estimate is √(B/M); trialkit's B from its pooled T and Ū is not
    # exposed, so the loop's B stands for both (the same quantity, estimated twice)
    mc = math.sqrt(2 * theirs.between / m)
    print(f"check: {describe(frame, visits)}")
    print(
        f"  arm effect at {visits[-1]}, {m} imputations each, burn-in {args.burn_in}: "
        f"trialkit {ours.estimate:.4f} (SE {ours.std_error:.4f}, df {ours.df:.0f}); "
        f"statsmodels loop {theirs.estimate:.4f} (SE {theirs.std_error:.4f}, df {theirs.df:.0f})"
    )
    print(
        f"  difference {ours.estimate - theirs.estimate:+.4f} = {(ours.estimate - theirs.estimate) / mc:+.2f} x its "
        f"Monte Carlo SE ({mc:.4f}); SE ratio trialkit / loop {ours.std_error / theirs.std_error:.3f}"
    )


def profile(args: argparse.Namespace, frame: pd.DataFrame, visits: list[str]) -> None:
    """Run trialkit once under cProfile and print its costliest functions (own time)."""
    trialkit_mi(frame, visits, 2, 1, seed=1)  # imports, caches
    profiler = cProfile.Profile()
    profiler.enable()
    trialkit_mi(frame, visits, args.imputations, args.burn_in, seed=1)
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(args.profile)


def main() -> None:
    """Check agreement, then time both in alternating rounds and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--imputations", type=int, default=1000)
    parser.add_argument("--burn-in", type=int, default=200, help="data-augmentation iterations (trialkit's default)")
    parser.add_argument("--baseline-imputations", type=int, default=20, help="imputations the loop is timed on")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check-subjects", type=int, default=200)
    parser.add_argument("--check-visits", type=int, default=4)
    parser.add_argument("--check-imputations", type=int, default=200, help="0: no agreement check")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile trialkit, print N lines, stop")
    args = parser.parse_args()

    frame = simulate(args.subjects, args.visits)
    visits = [f"v{j + 1}" for j in range(args.visits)]
    print(f"trial: {describe(frame, visits)}")
    if args.profile:
        profile(args, frame, visits)
        return
    if args.check_imputations:
        check(args)

    trialkit_mi(frame, visits, 2, 1, seed=1)  # warm-up: imports, caches
    statsmodels_mi(frame, visits, 2, 1, seed=1)
    ours: list[float] = []
    per_imputation: list[float] = []
    for r in range(args.rounds):
        start = time.perf_counter()
        fit = trialkit_mi(frame, visits, args.imputations, args.burn_in, seed=r + 1)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        loop = statsmodels_mi(frame, visits, args.baseline_imputations, args.burn_in, seed=r + 1)
        per_imputation.append((time.perf_counter() - start) / args.baseline_imputations)
        print(
            f"  round {r + 1}: trialkit {ours[-1]:.2f} s for {args.imputations}; statsmodels loop "
            f"{per_imputation[-1]:.3f} s per imputation (timed on {args.baseline_imputations})"
        )
    mine = statistics.median(ours)
    per = statistics.median(per_imputation)
    projected = per * args.imputations
    rows = [
        (f"trialkit, {args.imputations} imputations", f"{mine:9.2f} s"),
        ("statsmodels loop, per imputation", f"{per:9.3f} s  (timed on {args.baseline_imputations} per round)"),
        (
            f"statsmodels loop, {args.imputations} imputations",
            f"{projected:9.1f} s  (projected: per-imputation time x {args.imputations}; the loop is linear in M)",
        ),
        ("ratio trialkit / statsmodels loop", f"{mine / projected:9.4f}    (the loop {projected / mine:.0f} x slower)"),
    ]
    print(f"medians of {args.rounds} alternating rounds, burn-in {args.burn_in}:")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}} : {value}")
    est = fit.estimates[0]
    print(
        f"pooled arm effect at {visits[-1]} (last round): trialkit {est.estimate:.3f} (SE {est.std_error:.3f}, "
        f"{args.imputations} imputations); statsmodels loop {loop.estimate:.3f} (SE {loop.std_error:.3f}, "
        f"{args.baseline_imputations} imputations, Monte Carlo SE {math.sqrt(loop.between / loop.imputations):.3f})"
    )


if __name__ == "__main__":
    main()
