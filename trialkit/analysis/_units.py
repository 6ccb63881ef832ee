"""Units of its own for data of extreme magnitude: centred, and divided by a power of two (exact).

A model with an intercept, or a comparison of two means, is the same in any unit and about any
centre; but its arithmetic is not: values such as 1e15 + noise lose their noise in sums and
products, and values of 1e-60 or 1e60 underflow or overflow in squares of squares. Ordinary values
(the data of every real trial) are taken as they are, so their results do not change at all.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["ORDINARY", "in_own_unit", "own_unit"]

#: the deviations taken as they are (:func:`own_unit`); a mean may be up to the upper bound times them
ORDINARY = (2.0**-20, 2.0**20)
#: above this deviation there is no power of two above it to use as a unit
_LARGEST_UNIT = 2.0**1023


def _power_of_two_above(x: float) -> float:
    """Return the power of two at or above ``x`` (1 for 0): a unit that divides exactly."""
    if not x > 0:
        return 1.0
    mantissa, exponent = math.frexp(x)  # x = mantissa * 2**exponent, 0.5 <= mantissa < 1
    return math.ldexp(1.0, exponent - 1) if mantissa == 0.5 else math.ldexp(1.0, exponent)


def own_unit(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Return the centre and unit in which a model should take ``values``: (0, 1) for ordinary ones.

    Values whose largest deviation from their mean is outside ``ORDINARY`` (2**-20 to 2**20), or whose
    mean is more than 2**20 such deviations from 0 (1e15 + noise), are better taken as
    ``(x - centre) / unit``: the mean, and the power of two at or above the largest deviation (so the
    division is exact). A model with an intercept is the same model in that unit (the intercept absorbs
    the centre, a coefficient the unit), but its products and rank checks then neither overflow, underflow
    nor round the noise away. Ordinary values are taken as they are, so their fits do not change at all.
    NaN values are ignored; values whose mean or deviation overflows are left as they are.

    Examples
    --------
    >>> own_unit(np.array([1.0, 2.0, 4.0]))
    (0.0, 1.0)
    >>> own_unit(np.array([2.0**50, 2.0**50 + 1.0, np.nan]))
    (1125899906842624.5, 0.5)
    """
    seen = values[~np.isnan(values)]
    if seen.size == 0:
        return 0.0, 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        centre = float(seen.mean())
        deviation = float(np.abs(seen - centre).max())
    if not (math.isfinite(centre) and deviation < _LARGEST_UNIT):
        return 0.0, 1.0  # values the arithmetic cannot carry: analyze refuses them (docs/limits.md)
    unit = _power_of_two_above(deviation)
    if ORDINARY[0] <= unit <= ORDINARY[1] and abs(centre) <= ORDINARY[1] * unit:
        return 0.0, 1.0
    return centre, unit


def in_own_unit(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return ``values`` in their own unit (:func:`own_unit`): a covariate as a regression should take it.

    Ordinary values are returned as they are (the same array).

    Examples
    --------
    >>> in_own_unit(np.array([2.0**50 - 1.0, 2.0**50 + 1.0])).tolist()
    [-1.0, 1.0]
    """
    centre, unit = own_unit(values)
    return values if (centre, unit) == (0.0, 1.0) else (values - centre) / unit
