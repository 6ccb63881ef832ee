"""Brent's root finder, step for step as R's ``uniroot`` runs it (``R_zeroin2`` in R's stats).

The rank tests find their Hodges–Lehmann estimate and interval as roots of a step function of the
shift. A step function has whole flat stretches of roots, and which point of a stretch a root
finder returns depends on every iterate; to return R's answer the iteration must be R's, down to
the order of the floating-point operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["ROOT_TOL", "root_tol", "zeroin"]

#: tolerance of the rank tests' root searches (R ``wilcox.test``'s ``tol.root``)
ROOT_TOL = 1e-4
_EPS = 2.220446049250313e-16  # DBL_EPSILON
#: the narrowest search range that keeps R's absolute tolerance (:func:`root_tol`)
_NARROW = 2.0**-4


def root_tol(lo: float, hi: float) -> float:
    """Return the tolerance of a root search over [lo, hi]: ``ROOT_TOL``, scaled down for a very narrow range.

    R's absolute ``tol.root`` (1e-4) presumes data on a scale of about 1: over a range of 1e-6 its
    first step already meets it, and the Hodges–Lehmann estimate is wherever the search began. Over a
    range of ``_NARROW`` (2**-4, 0.0625) or more the tolerance is R's, and so are the results; below it
    the tolerance shrinks with the range (by the power of two at or below it), so data on any smaller
    scale are searched as if expressed in a unit where their range is about 0.06: to within about
    0.2% of the range, as R searches data on that scale.

    Examples
    --------
    >>> root_tol(-3.0, 5.0), root_tol(0.0, 0.1), root_tol(0.0, 1e-6) == 1e-4 * 2.0**-16
    (0.0001, 0.0001, True)
    """
    _, exponent = math.frexp(hi - lo)  # hi - lo = m * 2**exponent with 0.5 <= m < 1
    return ROOT_TOL * min(1.0, math.ldexp(1.0, exponent - 1) / _NARROW)


def zeroin(
    fn: Callable[[float], float],
    lo: float,
    hi: float,
    f_lo: float,
    f_hi: float,
    tol: float = ROOT_TOL,
    max_iter: int = 1000,
) -> float:
    """Return a root of ``fn`` in [lo, hi], where ``f_lo = fn(lo)`` and ``f_hi = fn(hi)`` differ in sign.

    Brent (1973), *Algorithms for Minimization without Derivatives*, ch. 4: bisection, secant
    and inverse quadratic interpolation, stopping when the bracket is within
    ``2 eps |b| + tol / 2``; R's ``uniroot(f, lower = lo, upper = hi, f.lower = f_lo,
    f.upper = f_hi, tol = tol)``.
    """
    a, b, fa, fb = lo, hi, f_lo, f_hi
    c, fc = a, fa
    if fa == 0:
        return a
    if fb == 0:
        return b
    for _ in range(max_iter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # b must be the best approximation
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # two points: secant
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:  # three points: inverse quadratic interpolation
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = fn(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
