"""Dunnett critical values: the one-factor integral against the root on ``dunnett_p``, in the same run.

The baseline is how ``trialkit.power`` found the Dunnett critical value before: Brent's root (xtol
1e-12) of ``dunnett_p([c] * k, R, df) - alpha``, bracketed by the unadjusted and the Bonferroni
critical values (nested Gauss-Legendre quadrature for k <= 4, scrambled-Sobol' QMC for k >= 5).
The new path is ``dunnett_quantile`` (a two-dimensional integral for any k, module docstring of
``trialkit.analysis._dunnett``). For each k the sizes are those of the 0.8-power ANCOVA sample size
at effect 0.6, rho 0.5 (equal arms); rounds alternate the two; medians, their ratio and the
difference between the two critical values are printed.

    python benchmarks/bench_dunnett_quantile.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import optimize, stats

from trialkit.analysis import dunnett_p
from trialkit.analysis._dunnett import dunnett_quantile

#: k arms against control -> control size of the ANCOVA sample size above (each arm the same)
CASES = {2: 45, 3: 44, 4: 46, 5: 48}


def _baseline(sizes: tuple[int, ...], df: float, alpha: float) -> float:
    k = len(sizes) - 1
    share = np.sqrt(np.asarray(sizes[1:], dtype=float) / (np.asarray(sizes[1:], dtype=float) + sizes[0]))
    r = np.outer(share, share)
    np.fill_diagonal(r, 1.0)
    low, high = float(stats.t.isf(alpha / 2, df)), float(stats.t.isf(alpha / (2 * k), df))
    return float(
        optimize.brentq(
            lambda c: float(dunnett_p([c] * k, r, df)[0]) - alpha, low, high, xtol=1e-12, rtol=4 * np.finfo(float).eps
        )
    )


def main() -> None:
    """Time both paths per k and print medians, ratios and the largest difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'k':>2} {'baseline s':>11} {'quantile s':>11} {'ratio':>8} {'|difference|':>13}")
    for k, n in CASES.items():
        sizes = (n,) * (k + 1)
        df = float(sum(sizes) - len(sizes) - 1)
        old, new = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            c_old = _baseline(sizes, df, 0.05)
            old.append(time.perf_counter() - start)
            start = time.perf_counter()
            c_new = dunnett_quantile(0.05, sizes, df)
            new.append(time.perf_counter() - start)
        a, b = statistics.median(old), statistics.median(new)
        print(f"{k:>2} {a:>11.3f} {b:>11.4f} {a / b:>8.0f} {abs(c_old - c_new):>13.1e}", flush=True)


if __name__ == "__main__":
    main()
