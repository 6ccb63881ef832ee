"""Rubin's rules: one estimate from the analyses of M completed data sets, with Barnard–Rubin df."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import stdtr, stdtrit

from trialkit._checks import check_alpha, check_interval, check_sample
from trialkit._errors import AnalysisError, TrialkitError

__all__ = ["Pooled", "PooledArrays", "pool", "pool_arrays"]

Floats = npt.NDArray[np.float64]

#: mice floors λ at this value inside its Barnard–Rubin df (its reported λ is not floored)
_LAMBDA_FLOOR = 1e-4


@dataclass(frozen=True)
class Pooled:
    """One quantity pooled over M imputations by Rubin's rules.

    Attributes
    ----------
    estimate : float
        Q̄, the mean of the M estimates.
    std_error : float
        √T.
    within, between, total : float
        Ū (mean squared SE), B (variance of the estimates, divisor M − 1), T = Ū + (1 + 1/M) B.
    df : float
        Barnard–Rubin degrees of freedom.
    riv : float
        Relative increase in variance due to missing data, (1 + 1/M) B / Ū.
    lambda_ : float
        Proportion of the total variance due to missing data, (1 + 1/M) B / T.
    fmi : float
        Fraction of missing information, (riv + 2/(df + 3)) / (riv + 1).
    statistic, p_value : float
        t = Q̄ / √T and its two-sided p on ``df``.
    ci_low, ci_high : float
        Q̄ ∓ t(df, 1 − α/2) √T.
    imputations : int
        M.
    """

    estimate: float
    std_error: float
    within: float
    between: float
    total: float
    df: float
    riv: float
    lambda_: float
    fmi: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    imputations: int


@dataclass(frozen=True)
class PooledArrays:
    """The fields of :class:`Pooled` as arrays: one pooled quantity per leading index."""

    estimate: Floats
    std_error: Floats
    within: Floats
    between: Floats
    total: Floats
    df: Floats
    statistic: Floats
    p_value: Floats
    ci_low: Floats
    ci_high: Floats


def _barnard_rubin(m: int, between: Floats, total: Floats, df_complete: float) -> Floats:
    """Return the Barnard–Rubin df as ``mice:::barnard.rubin`` computes it (λ floored at 1e-4)."""
    lam = np.maximum((1.0 + 1.0 / m) * between / total, _LAMBDA_FLOOR)
    df_old = (m - 1) / lam**2
    if math.isinf(df_complete):
        return np.asarray(df_old, dtype=np.float64)
    df_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - lam)
    return np.asarray(df_old * df_obs / (df_old + df_obs), dtype=np.float64)


def pool_arrays(estimates: Floats, variances: Floats, df_complete: float, alpha: float) -> PooledArrays:
    """Pool the last axis (the M imputations) of ``estimates`` and ``variances``; the caller checked them.

    Where every imputation gives the same estimate (B = 0: nothing was imputed that the analysis
    sees), the pooled result is the complete-data one, with ``df_complete`` degrees of freedom.
    """
    m = estimates.shape[-1]
    q = estimates.mean(axis=-1)
    u = variances.mean(axis=-1)
    b = estimates.var(axis=-1, ddof=1)
    same = np.all(estimates == estimates[..., :1], axis=-1)
    b = np.where(same, 0.0, b)
    t = u + (1.0 + 1.0 / m) * b
    df = np.where(same, df_complete, _barnard_rubin(m, b, t, df_complete))
    se = np.sqrt(t)
    stat = q / se
    p = 2.0 * stdtr(df, -np.abs(stat))
    half = stdtrit(df, 1.0 - alpha / 2) * se
    return PooledArrays(q, se, u, b, t, np.asarray(df, dtype=np.float64), stat, p, q - half, q + half)


def pool(
    estimates: npt.ArrayLike, variances: npt.ArrayLike, *, df_complete: float = math.inf, alpha: float = 0.05
) -> Pooled:
    """Pool the analyses of M imputed data sets by Rubin's rules, with Barnard–Rubin degrees of freedom.

    Parameters
    ----------
    estimates : array-like of float, length M ≥ 2
        The complete-data estimate from each imputed data set (on the scale the analysis is
        normal on: log ratios, not ratios).
    variances : array-like of float, length M
        Its squared standard error from each data set (≥ 0).
    df_complete : float
        Degrees of freedom of the complete-data analysis (n − p for a linear model); ``inf``
        (default) for a large-sample analysis.
    alpha : float
        1 − confidence level of the interval, in (0, 1).

    Returns
    -------
    Pooled
        Estimate, standard error, the variance components, Barnard–Rubin df, riv, λ, fmi, t, p and
        the confidence interval.

    Raises
    ------
    AnalysisError
        Fewer than 2 estimates or variances (``term`` names which); every variance 0 and every
        estimate equal (no variance to pool).
    TrialkitError
        A missing or non-finite value, a negative variance, lengths that
        differ, ``df_complete`` not > 0, ``alpha`` outside (0, 1).

    Notes
    -----
    Rubin (1987): Q̄ = mean of the estimates, Ū = mean of the variances, B = their sample variance,
    T = Ū + (1 + 1/M) B; t = Q̄/√T. Degrees of freedom of Barnard & Rubin (1999), as R
    ``mice::pool`` computes them: λ = (1 + 1/M) B / T (floored at 1e-4 inside the formula),
    ν_old = (M − 1)/λ², ν_obs = (ν + 1)/(ν + 3) · ν · (1 − λ) for the complete-data df ν,
    df = ν_old ν_obs / (ν_old + ν_obs) (ν_old when ν is infinite). When all M estimates are equal
    (nothing imputed that the analysis sees) the result is the complete-data analysis: df = ν.
    Checked against ``mice::pool`` in tests/reference/missing/rubin/ (1e-10).

    Examples
    --------
    >>> p = pool([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.04, 0.05, 0.04], df_complete=40)
    >>> round(p.estimate, 3), round(p.std_error, 4), round(p.df, 2)
    (1.1, 0.272, 11.74)
    """
    q = check_sample(estimates, "estimates", minimum=0)
    u = check_sample(variances, "variances", minimum=0)
    for name, values in (("estimates", q), ("variances", u)):
        if values.size < 2:
            raise AnalysisError(f"`{name}` must hold at least 2 values (imputations); got {values.size}.", term=name)
    if q.size != u.size:
        raise TrialkitError(f"`variances` must have one value per estimate ({q.size}); got {u.size}.")
    if (u < 0).any():
        raise TrialkitError(f"`variances` must be >= 0; got {float(u[np.argmax(u < 0)])!r}.")
    nu = check_interval(df_complete, "df_complete", "(0, inf]")
    level = check_alpha(alpha)
    if not (u > 0).any() and (q == q[0]).all():
        raise AnalysisError(
            "`variances` must not all be 0 when every estimate is equal: the pooled estimate has no variance; "
            f"got {u.tolist()!r}.",
            term="variances",
        )
    r = pool_arrays(q, u, nu, level)
    m = q.size
    between, within = float(r.between), float(r.within)
    riv = (1.0 + 1.0 / m) * between / within if within > 0 else math.inf
    df = float(r.df)
    return Pooled(
        estimate=float(r.estimate),
        std_error=float(r.std_error),
        within=within,
        between=between,
        total=float(r.total),
        df=df,
        riv=riv,
        lambda_=(1.0 + 1.0 / m) * between / float(r.total),
        fmi=(riv + 2.0 / (df + 3.0)) / (riv + 1.0),
        statistic=float(r.statistic),
        p_value=float(r.p_value),
        ci_low=float(r.ci_low),
        ci_high=float(r.ci_high),
        imputations=m,
    )
