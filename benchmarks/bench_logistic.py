"""Logistic regression with standardisation: trialkit against statsmodels' GLM, in the same run.

The trial is simulated (seeded): 200,000 subjects in 2 arms, a binary baseline status, two
normal covariates and a 5-level factor (10 model coefficients). trialkit runs
``logistic_arrays`` — the array entry point ``analyze`` uses — which fits the model (R's IRLS path,
one Cholesky solve of X'WX per iteration), reports the conditional odds ratio and standardises:
counterfactual risks per arm, their Ye and Ge covariance matrices (the Ge one needs the HC0
sandwich of the coefficients) and the standardised RD, RR and OR. The baseline is the model fit
alone by ``statsmodels.api.GLM(..., family=Binomial()).fit()`` on the same design matrix (IRLS
with a least-squares solve per iteration) — less work than trialkit does.

Rounds alternate the two; printed are the median seconds of each and the ratio trialkit /
statsmodels, and the largest relative difference of the two sets of coefficients.

    python benchmarks/bench_logistic.py [--subjects 200000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import statsmodels.api as sm

from trialkit.analysis import logistic_arrays

LEVELS = ("a", "b", "c", "d", "e")


def simulate(n: int, seed: int = 20261201) -> dict[str, np.ndarray]:
    """Arm, baseline status, two covariates, a 5-level factor and the outcome, as arrays."""
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat([0, 1], n // 2)).astype(np.int64)
    baseline = rng.binomial(1, 0.4, n).astype(float)
    age = rng.normal(50.0, 10.0, n)
    score = rng.normal(size=n)
    region = rng.integers(0, 5, n).astype(np.int64)
    eta = -2.0 + 0.5 * arm + 1.0 * baseline + 0.02 * age - 0.4 * score + np.array([0, 0.3, -0.2, 0.5, 0.1])[region]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return {"arm": arm, "baseline": baseline, "age": age, "score": score, "region": region, "y": y}


def run_trialkit(d: dict[str, np.ndarray]) -> np.ndarray:
    """Fit and standardise; return the coefficients."""
    fit = logistic_arrays(
        d["arm"],
        d["y"],
        {"baseline": d["baseline"], "age": d["age"], "score": d["score"]},
        {"region": d["region"]},
        arms=("control", "active"),
        levels={"region": LEVELS},
        alpha=0.05,
    )
    return fit.coefficients


def design(d: dict[str, np.ndarray]) -> np.ndarray:
    """Return the same design matrix trialkit builds (treatment coding)."""
    dummies = [(d["region"] == k).astype(float) for k in range(1, 5)]
    return np.column_stack(
        [np.ones(d["y"].size), d["arm"].astype(float), d["baseline"], d["age"], d["score"], *dummies]
    )


def run_statsmodels(d: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Fit the model alone; return the coefficients."""
    return np.asarray(sm.GLM(d["y"], X, family=sm.families.Binomial()).fit().params)


def main() -> None:
    """Run the rounds and print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    d = simulate(args.subjects)
    X = design(d)
    ours, theirs = run_trialkit(d), run_statsmodels(d, X)  # warm: imports, caches
    ours_t: list[float] = []
    theirs_t: list[float] = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        ours = run_trialkit(d)
        ours_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = run_statsmodels(d, X)
        theirs_t.append(time.perf_counter() - start)
    mine, base = statistics.median(ours_t), statistics.median(theirs_t)
    print(f"{args.subjects:,} subjects, {X.shape[1]} coefficients, {args.rounds} rounds (medians)")
    print(f"trialkit logistic_arrays (fit + standardisation, both variances): {mine:8.4f} s")
    print(f"statsmodels GLM Binomial fit (model only):                         {base:8.4f} s")
    print(f"ratio trialkit / statsmodels: {mine / base:.3f}")
    print(f"max relative difference of the coefficients: {float(np.max(np.abs(ours / theirs - 1))):.2e}")


if __name__ == "__main__":
    main()
