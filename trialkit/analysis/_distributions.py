"""The distribution functions the analyses need, from ``scipy.special`` alone.

``scipy.stats`` costs most of a second to import and its distribution objects add overhead to
every call; the analyses need only a few quantiles and tail areas, which ``scipy.special``
computes with the same code ``scipy.stats`` calls (``stats.t.ppf(q, df)`` is ``stdtrit(df, q)``,
``stats.norm.isf(q)`` is ``-ndtri(q)``, ``stats.hypergeom.logpmf`` is the ``betaln`` sum below),
so the numbers are those of ``scipy.stats`` to the last bit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, chdtrc, fdtrc, ndtr, ndtri, stdtr, stdtrit

__all__ = [
    "chi2_upper_tail",
    "f_upper_tail",
    "hypergeom_logpmf",
    "normal_quantile",
    "normal_two_sided_p",
    "normal_upper_quantile",
    "t_two_sided_p",
    "t_upper_quantile",
]


def t_upper_quantile(level: float, df: float) -> float:
    """Return the ``1 - level`` quantile of Student's t on ``df`` degrees of freedom (R ``qt(1 - level, df)``)."""
    return float(stdtrit(df, 1.0 - level))


def t_two_sided_p(t: float, df: float) -> float:
    """Return ``2 P(T_df > |t|)`` (R ``2 * pt(-abs(t), df)``)."""
    return float(2.0 * stdtr(df, -abs(t)))


def normal_quantile(p: float) -> float:
    """Return z with ``P(Z <= z) = p`` (R ``qnorm(p)``)."""
    return float(ndtri(p))


def normal_upper_quantile(level: float) -> float:
    """Return z with ``P(Z > z) = level`` (R ``qnorm(level, lower.tail = FALSE)``)."""
    return float(-ndtri(level))


def normal_two_sided_p(z: float) -> float:
    """Return ``2 P(Z > |z|)``, at most 1 (R ``2 * pnorm(-abs(z))``)."""
    return float(min(1.0, 2.0 * ndtr(-abs(z))))


def f_upper_tail(f: float, df_numerator: float, df_denominator: float) -> float:
    """Return ``P(F > f)`` on (``df_numerator``, ``df_denominator``) degrees of freedom (R ``pf(lower = FALSE)``)."""
    return float(fdtrc(df_numerator, df_denominator, f))


def chi2_upper_tail(x: float, df: float) -> float:
    """Return ``P(X > x)`` for chi-square on ``df`` degrees of freedom (R ``pchisq(lower = FALSE)``)."""
    return float(chdtrc(df, x))


def hypergeom_logpmf(k: npt.NDArray[np.int64], total: int, good: int, drawn: int) -> npt.NDArray[np.float64]:
    """Return log P(K = k) for K the number of good items in ``drawn`` draws from ``total`` holding ``good``.

    The log binomial coefficients are written with ``betaln``, as ``scipy.stats.hypergeom.logpmf``
    computes them.
    """
    bad = total - good
    out = (
        betaln(good + 1, 1)
        + betaln(bad + 1, 1)
        + betaln(total - drawn + 1, drawn + 1)
        - betaln(k + 1, good - k + 1)
        - betaln(drawn - k + 1, bad - drawn + k + 1)
        - betaln(total + 1, 1)
    )
    return np.asarray(out, dtype=np.float64)
