"""The noncentral t behind power, the minimal detectable effect and exact CIs of a standardised effect.

Shared by :mod:`~trialkit.reproduce.implied_effect` and :mod:`~trialkit.reproduce.abstract_audit`:
each function takes the test's df and the scale s with d = t·s (√(1/n₁ + 1/n₀) for two samples,
1/√n paired), already checked.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from trialkit._errors import TrialkitError


def ncp_limit(t: float, df: float, target: float) -> float:
    """The noncentrality λ with P(T'(df, λ) <= t) = target (decreasing in λ, so unique)."""

    def gap(ncp: float) -> float:
        return float(stats.nct.cdf(t, df, ncp)) - target

    width = 2.0 + abs(t)
    lo, hi = t - width, t + width
    while gap(lo) < 0:
        lo -= width
        width *= 2
    while gap(hi) > 0:
        hi += width
        width *= 2
    return float(optimize.brentq(gap, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))


def d_limits(t: float, df: float, scale: float, level: float) -> tuple[float, float]:
    """The exact CI at ``level`` of d = λ·s from an observed t (noncentral-t inversion)."""
    tail = (1 - level) / 2
    return (ncp_limit(t, df, 1 - tail) * scale, ncp_limit(t, df, tail) * scale)


def power(effect: float, df: float, scale: float, alpha: float) -> float:
    """Power of the two-sided t-test at ``alpha`` for the standardised effect ``effect`` (both tails)."""
    ncp = effect / scale
    q = stats.t.isf(alpha / 2, df)
    return float(stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp))


def mde(df: float, scale: float, target: float, alpha: float) -> float:
    """The effect > 0 at which :func:`power` is ``target``, by Brent's method (xtol 1e-14)."""
    if target <= alpha:
        raise TrialkitError(f"`power` must exceed `alpha` ({alpha}); got {target!r}.")
    hi = 1.0
    while power(hi, df, scale, alpha) < target:
        hi *= 2
    return float(
        optimize.brentq(
            lambda e: power(e, df, scale, alpha) - target,
            0.0,
            hi,
            xtol=1e-14,
            rtol=4 * np.finfo(float).eps,
            maxiter=500,
        )
    )
