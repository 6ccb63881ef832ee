"""The one solver behind :mod:`trialkit.power`: the smallest n reaching a power, and the effect at a power.

Power is monotone in the sample size and in the size of the effect, so the smallest integer n is
found by doubling until the power reaches the target and then bisecting on the integers (every
candidate is evaluated exactly; no rounding of a continuous root), and the effect by Brent's method
on a bracket found by doubling.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from trialkit._errors import TrialkitError

__all__ = ["MAX_N", "smallest_n", "solve_effect"]

#: the largest control-arm size the search tries before it reports that no n reaches the power
MAX_N = 10_000_000


def smallest_n(power_at: Callable[[int], float], target: float, minimum: int = 2) -> int:
    """Return the smallest integer n >= ``minimum`` with ``power_at(n) >= target``.

    Examples
    --------
    >>> smallest_n(lambda n: 1 - 1 / n, 0.9)
    10
    """
    if power_at(minimum) >= target:
        return minimum
    low, high = minimum, 2 * minimum  # power_at(low) < target throughout
    while power_at(high) < target:
        if high >= MAX_N:
            raise TrialkitError(f"`power` must be reachable with at most {MAX_N} per arm; got {target!r}.")
        low, high = high, min(2 * high, MAX_N)
    while high - low > 1:
        mid = (low + high) // 2
        if power_at(mid) >= target:
            high = mid
        else:
            low = mid
    return high


def solve_effect(power_of: Callable[[float], float], target: float, start: float) -> float:
    """Return the effect e > 0 with ``power_of(e) == target``, by Brent's method (xtol 1e-12 relative to ``start``).

    ``power_of`` increases with e from its value at 0 (the size of the test) towards 1.

    Examples
    --------
    >>> round(solve_effect(lambda e: 1 - 2.0**-e, 0.75, 1.0), 6)
    2.0
    """
    high = start
    while power_of(high) < target:
        high *= 2
    return float(
        optimize.brentq(
            lambda e: power_of(e) - target, 0.0, high, xtol=1e-12 * start, rtol=4 * np.finfo(float).eps, maxiter=500
        )
    )
