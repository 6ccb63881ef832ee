r"""What a two-sided p-value and n imply under an assumed t-test, and the converse.

Under a test with df degrees of freedom a published p pins down the statistic,
:math:`|t| = t_{1-p/2,\,df}` (:func:`t_from_p`), and through n the standardised effect
:math:`d = t \cdot s` with :math:`s = \sqrt{1/n_1 + 1/n_0}` for two samples (:func:`d_from_t`),
with its exact CI (:func:`d_interval`) and Hedges' small-sample factor (:func:`hedges_correction`).
:class:`AssumedTest` registers the tests a published p may have come from;
:func:`power_two_sample` and :func:`minimal_detectable_effect` say what the design could detect.
The noncentral t behind the exact CIs, the power and the minimal detectable effect is computed once
here (:func:`ncp_limit`, :func:`d_limits`, :func:`mde_t`; the power :func:`power_t` comes from
:mod:`trialkit.power`), for the abstract-level
audit too.

Pure functions of numbers. Reference values: ``tests/reference/abstract_audit/`` (R 4.2 ``qt``,
``pt`` with ``ncp``, ``power.t.test``).
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
from scipy import optimize, stats

from trialkit._checks import check_in, check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.analysis import hedges_correction as _hedges_j
from trialkit.power._continuous import power_t

# ---------------------------------------------------------------------------------------------
# Registry


class AssumedTest(StrEnum):
    """Registry of the tests a published p-value may have come from (one row each in the audit)."""

    STUDENT_END = "student_end"
    STUDENT_CHANGE = "student_change"
    WELCH_MIN_DF = "welch_min_df"
    PAIRED = "paired"

    @property
    def assumption(self) -> str:
        """What the row assumes, and what its d means."""
        return _ASSUMPTIONS[self]

    def df(self, n_treatment: int, n_control: int) -> float:
        """Degrees of freedom of the test."""
        if self is AssumedTest.PAIRED:
            return float(n_treatment - 1)
        if self is AssumedTest.WELCH_MIN_DF:
            return float(min(n_treatment, n_control) - 1)
        return float(n_treatment + n_control - 2)

    def scale(self, n_treatment: int, n_control: int) -> float:
        """Factor s with d = t·s: √(1/n₁ + 1/n₀) for two samples, 1/√n for paired."""
        if self is AssumedTest.PAIRED:
            return 1.0 / math.sqrt(n_treatment)
        return math.sqrt(1.0 / n_treatment + 1.0 / n_control)

    def pooled_df(self, n_treatment: int, n_control: int) -> float:
        """Df of the SD that standardises d (for Hedges' J): n₁+n₀−2, or n−1 for paired."""
        if self is AssumedTest.PAIRED:
            return float(n_treatment - 1)
        return float(n_treatment + n_control - 2)


_ASSUMPTIONS: dict[AssumedTest, str] = {
    AssumedTest.STUDENT_END: (
        "independent two-sample Student t on end-of-trial values (pooled SD), df = n1 + n0 - 2; "
        "d = (difference of end means) / (pooled SD of end values)"
    ),
    AssumedTest.STUDENT_CHANGE: (
        "independent two-sample Student t on change from baseline (pooled SD), df = n1 + n0 - 2; "
        "d = (difference of mean changes) / (pooled SD of change). Not on the scale of the end-value d: "
        "with equal SDs at both visits and pre-post correlation r, SD(change) = SD * sqrt(2(1 - r)), so "
        "the end-value d is this d * sqrt(2(1 - r)), smaller than it when r > 0.5"
    ),
    AssumedTest.WELCH_MIN_DF: (
        "Welch t (end or change values) at its smallest possible df, min(n1, n0) - 1 (one arm's "
        "variance dominates); the Welch df lies between this and n1 + n0 - 2, so this row and "
        "student_end bracket the implied t. d = difference / sqrt((s1^2 + s0^2)/2), which equals the "
        "pooled-SD d when n1 = n0"
    ),
    AssumedTest.PAIRED: (
        "paired t on within-subject differences (crossover), df = n - 1; d_z = (mean difference) / "
        "(SD of the differences) = t / sqrt(n), not comparable with a between-subject d"
    ),
}


# ---------------------------------------------------------------------------------------------
# The noncentral t (each function takes the test's df and the scale s with d = t·s, already checked)


#: |t| from which :func:`ncp_limit` takes the limit of the noncentral t for large t (scipy's cdf is NaN from ~1e5)
_LARGE_T = 1e4


def ncp_limit(t: float, df: float, target: float) -> float:
    """Return the noncentrality λ with P(T'(df, λ) <= t) = target (decreasing in λ, so unique).

    For |t| >= ``_LARGE_T`` (a published p of about 1e-30 or less) λ = t·f with f from the limit of the
    noncentral t: T' = (Z + λ)/√(V/df) with V ~ χ²(df), so for λ = t·f and t → ∞, P(T' <= t) →
    P(V >= df·f²) (t > 0; P(V <= df·f²) for t < 0), and f = √(χ²_{df}⁻¹(1 − target)/df) (or of ``target``).
    The relative error is of order 1/t (under 1e-6 in the probability at t = 1e4); scipy's noncentral t
    itself returns NaN from about t = 1e5.

    Examples
    --------
    >>> round(ncp_limit(2.0, 9.0, 0.5), 4)
    1.9418
    >>> f = ncp_limit(1e13, 9.0, 0.975) / 1e13
    >>> round(f, 6) == round(math.sqrt(stats.chi2.isf(0.975, 9) / 9), 6)
    True
    """
    if abs(t) >= _LARGE_T:
        v = stats.chi2.isf(target, df) if t > 0 else stats.chi2.ppf(target, df)
        return float(t * math.sqrt(v / df))

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
    """Return the exact CI at ``level`` of d = λ·s from an observed t (noncentral-t inversion)."""
    tail = (1 - level) / 2
    return (ncp_limit(t, df, 1 - tail) * scale, ncp_limit(t, df, tail) * scale)


def mde_t(df: float, scale: float, target: float, alpha: float) -> float:
    """Return the effect > 0 at which :func:`power_t` is ``target``, by Brent's method (xtol 1e-14)."""
    if target <= alpha:
        raise TrialkitError(f"`power` must exceed `alpha` ({alpha}); got {target!r}.")
    hi = 1.0
    while power_t(hi, df, scale, alpha) < target:
        hi *= 2
    return float(
        optimize.brentq(
            lambda e: power_t(e, df, scale, alpha) - target,
            0.0,
            hi,
            xtol=1e-14,
            rtol=4 * np.finfo(float).eps,
            maxiter=500,
        )
    )


# ---------------------------------------------------------------------------------------------
# p <-> t <-> d


def t_from_p(p: float, df: float) -> float:
    r"""Absolute t statistic implied by a two-sided p-value.

    Parameters
    ----------
    p : float
        Two-sided p-value, in (0, 1].
    df : float
        Degrees of freedom of the t distribution (> 0).

    Returns
    -------
    float
        :math:`|t| = t_{1-p/2,\,df}`, the upper p/2 quantile (``stats.t.isf(p / 2, df)``,
        R ``qt(p / 2, df, lower.tail = FALSE)``), so that :func:`p_from_t` returns ``p``.

    Examples
    --------
    >>> round(t_from_p(0.05, 10), 6)
    2.228139
    """
    return float(stats.t.isf(check_interval(p, "p", "(0, 1]") / 2, check_interval(df, "df", "(0, inf]")))


def p_from_t(t: float, df: float) -> float:
    r"""Two-sided p-value of a t statistic: :math:`p = 2\,P(T_{df} > |t|)`.

    Parameters
    ----------
    t : float
        The t statistic (its sign does not matter).
    df : float
        Degrees of freedom (> 0).

    Returns
    -------
    float
        ``2 * stats.t.sf(|t|, df)``, R ``2 * pt(-abs(t), df)``.

    Examples
    --------
    >>> round(p_from_t(2.228138851986274, 10), 12)
    0.05
    """
    return float(2 * stats.t.sf(abs(float(t)), check_interval(df, "df", "(0, inf]")))


def d_from_t(t: float, n_treatment: int, n_control: int) -> float:
    r"""Cohen's d implied by a two-sample t: :math:`d = t\sqrt{1/n_1 + 1/n_0}`.

    With the pooled SD :math:`s_p`, :math:`t = (\bar x_1 - \bar x_0)/(s_p\sqrt{1/n_1+1/n_0})`,
    so :math:`d = (\bar x_1 - \bar x_0)/s_p = t\sqrt{1/n_1+1/n_0}` exactly.

    Parameters
    ----------
    t : float
        Two-sample t statistic (signed).
    n_treatment, n_control : int
        Group sizes (>= 1).

    Returns
    -------
    float
        Cohen's d, signed as ``t``.

    Examples
    --------
    >>> round(d_from_t(2.0, 8, 8), 12)
    1.0
    """
    n1, n0 = check_integer(n_treatment, "n_treatment", 1), check_integer(n_control, "n_control", 1)
    return float(t) * math.sqrt(1.0 / n1 + 1.0 / n0)


def t_from_d(d: float, n_treatment: int, n_control: int) -> float:
    r"""Two-sample t of a Cohen's d: :math:`t = d/\sqrt{1/n_1 + 1/n_0}` (inverse of :func:`d_from_t`).

    Parameters
    ----------
    d : float
        Cohen's d (signed).
    n_treatment, n_control : int
        Group sizes (>= 1).

    Returns
    -------
    float
        The two-sample t, signed as ``d``.

    Examples
    --------
    >>> round(t_from_d(1.0, 8, 8), 12)
    2.0
    """
    n1, n0 = check_integer(n_treatment, "n_treatment", 1), check_integer(n_control, "n_control", 1)
    return float(d) / math.sqrt(1.0 / n1 + 1.0 / n0)


def hedges_correction(df: float) -> float:
    r"""Exact small-sample factor :math:`J(\nu) = \Gamma(\nu/2) / (\sqrt{\nu/2}\,\Gamma((\nu-1)/2))`.

    Hedges (1981); g = J·d. The same J as ``trialkit.analysis.effect_size`` (docs/analyses.md).

    Parameters
    ----------
    df : float
        Degrees of freedom of the SD that standardises d (> 1).

    Returns
    -------
    float
        J, in (0, 1).

    Examples
    --------
    >>> round(hedges_correction(41), 6)
    0.981576
    """
    df = check_interval(df, "df", "(0, inf]")
    if df <= 1:
        raise TrialkitError(f"Hedges' correction needs df > 1; got {df!r}.")
    return _hedges_j(df)


def d_interval(
    t: float,
    n_treatment: int,
    n_control: int,
    *,
    level: float = 0.95,
    test: AssumedTest | str = AssumedTest.STUDENT_END,
) -> tuple[float, float]:
    r"""Exact confidence interval of the standardised difference from an observed t.

    Parameters
    ----------
    t : float
        Observed t statistic (signed).
    n_treatment, n_control : int
        Group sizes (for ``paired``, both are the number of subjects).
    level : float
        Confidence level in (0, 1).
    test : AssumedTest
        Gives df ν = ``test.df(n₁, n₀)`` and scale s = ``test.scale(n₁, n₀)``
        (default two-sample Student: ν = n₁ + n₀ − 2, s = √(1/n₁ + 1/n₀)).

    Returns
    -------
    (float, float)
        :math:`(\lambda_L s, \lambda_U s)` with the noncentrality limits solving
        :math:`P(T'_{\nu,\lambda_L} \le t) = 1-\alpha/2` and
        :math:`P(T'_{\nu,\lambda_U} \le t) = \alpha/2` (inversion of the noncentral t:
        Steiger & Fouladi 1997, as ``MBESS::ci.smd``). Matches R ``uniroot`` on
        ``pt(t, df, ncp)`` to 1e-8 relative (tests/reference/abstract_audit/).

    Examples
    --------
    >>> low, high = d_interval(3.301272888859443, 22, 21)
    >>> round(low, 6), round(high, 6)
    (0.365506, 1.637927)
    """
    test = check_in(test, "test", AssumedTest)
    n1, n0 = check_integer(n_treatment, "n_treatment", 2), check_integer(n_control, "n_control", 2)
    return d_limits(float(t), test.df(n1, n0), test.scale(n1, n0), check_interval(level, "level", "(0, 1)"))


# ---------------------------------------------------------------------------------------------
# Power and minimal detectable effect


def power_two_sample(d: float, n_treatment: int, n_control: int, *, alpha: float = 0.05) -> float:
    r"""Power of the two-sided two-sample Student t test for a true standardised difference d.

    Parameters
    ----------
    d : float
        True standardised difference.
    n_treatment, n_control : int
        Group sizes (>= 2).
    alpha : float, default 0.05
        Two-sided significance level.

    Returns
    -------
    float
        The power, in (0, 1).

    Notes
    -----
    With df = n₁ + n₀ − 2, λ = d/√(1/n₁ + 1/n₀) and :math:`q = t_{1-\alpha/2,\,df}`:
    :math:`\text{power} = P(T'_{df,\lambda} > q) + P(T'_{df,\lambda} < -q)` (noncentral t,
    ``scipy.stats.nct``; both tails). Equals R ``power.t.test(n, delta = d, strict = TRUE)`` when
    n₁ = n₀ = n (R's default ``strict = FALSE`` drops the far tail).

    Examples
    --------
    >>> round(power_two_sample(0.5, 64, 64), 4)
    0.8015
    """
    n1, n0 = check_integer(n_treatment, "n_treatment", 2), check_integer(n_control, "n_control", 2)
    return power_t(float(d), n1 + n0 - 2, math.sqrt(1 / n1 + 1 / n0), check_interval(alpha, "alpha", "(0, 1)"))


def minimal_detectable_effect(n_treatment: int, n_control: int, *, power: float = 0.8, alpha: float = 0.05) -> float:
    """Smallest standardised difference d detected with the given power (two-sided Student t).

    Solves :func:`power_two_sample` (d) = power for d > 0 by Brent's method (xtol 1e-14). Equals
    R ``power.t.test(n, delta = NULL, power, strict = TRUE, tol = 1e-12)$delta`` when n₁ = n₀ = n;
    R's default ``tol = .Machine$double.eps^0.25`` (about 1.2e-4) is too coarse to compare with.

    Parameters
    ----------
    n_treatment, n_control : int
        Group sizes (>= 2).
    power : float, default 0.8
        Target power, in (alpha, 1).
    alpha : float, default 0.05
        Two-sided significance level.

    Returns
    -------
    float
        The smallest d > 0 with that power.

    Examples
    --------
    >>> round(minimal_detectable_effect(64, 64), 4)
    0.4991
    """
    n1, n0 = check_integer(n_treatment, "n_treatment", 2), check_integer(n_control, "n_control", 2)
    target = check_interval(power, "power", "(0, 1)")
    return mde_t(n1 + n0 - 2, math.sqrt(1 / n1 + 1 / n0), target, check_interval(alpha, "alpha", "(0, 1)"))
