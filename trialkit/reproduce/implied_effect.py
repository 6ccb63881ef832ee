r"""What a two-sided p-value and n imply under an assumed t-test, and the converse.

Under a test with df degrees of freedom a published p pins down the statistic,
:math:`|t| = t_{1-p/2,\\,df}` (:func:`t_from_p`), and through n the standardised effect
:math:`d = t \\cdot s` with :math:`s = \\sqrt{1/n_1 + 1/n_0}` for two samples (:func:`d_from_t`),
with its exact CI (:func:`d_interval`) and Hedges' small-sample factor (:func:`hedges_correction`).
:class:`AssumedTest` registers the tests a published p may have come from. Conversely,
:func:`calibrate_difference` gives the mean difference for which Student's t gives a target p, and
:func:`power_two_sample` and :func:`minimal_detectable_effect` what the design could detect.

Pure functions of numbers. Reference values: ``tests/reference/abstract_audit/`` (R 4.2 ``qt``,
``pt`` with ``ncp``, ``power.t.test``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy import stats

from trialkit._errors import TrialkitError
from trialkit.analysis import hedges_correction as _hedges_j
from trialkit.reproduce import _noncentral_t as nct
from trialkit.reproduce._checks import STRICT as check

__all__ = [
    "AssumedTest",
    "DifferenceCalibration",
    "calibrate_difference",
    "d_from_t",
    "d_interval",
    "hedges_correction",
    "minimal_detectable_effect",
    "p_from_t",
    "power_two_sample",
    "t_from_d",
    "t_from_p",
]


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
        :math:`|t| = t_{1-p/2,\\,df}`, the upper p/2 quantile (``stats.t.isf(p / 2, df)``,
        R ``qt(p / 2, df, lower.tail = FALSE)``), so that :func:`p_from_t` returns ``p``.

    Examples
    --------
    >>> round(t_from_p(0.05, 10), 6)
    2.228139
    """
    return float(stats.t.isf(check.interval(p, "p", "(0, 1]") / 2, check.interval(df, "df", "(0, inf]")))


def p_from_t(t: float, df: float) -> float:
    r"""Two-sided p-value of a t statistic: :math:`p = 2\\,P(T_{df} > |t|)`.

    Examples
    --------
    >>> round(p_from_t(2.228138851986274, 10), 12)
    0.05
    """
    return float(2 * stats.t.sf(abs(float(t)), check.interval(df, "df", "(0, inf]")))


def d_from_t(t: float, n_treatment: int, n_control: int) -> float:
    r"""Cohen's d implied by a two-sample t: :math:`d = t\\sqrt{1/n_1 + 1/n_0}`.

    With the pooled SD :math:`s_p`, :math:`t = (\\bar x_1 - \\bar x_0)/(s_p\\sqrt{1/n_1+1/n_0})`,
    so :math:`d = (\\bar x_1 - \\bar x_0)/s_p = t\\sqrt{1/n_1+1/n_0}` exactly.

    Examples
    --------
    >>> round(d_from_t(2.0, 8, 8), 12)
    1.0
    """
    n1, n0 = check.integer(n_treatment, "n_treatment", 1), check.integer(n_control, "n_control", 1)
    return float(t) * math.sqrt(1.0 / n1 + 1.0 / n0)


def t_from_d(d: float, n_treatment: int, n_control: int) -> float:
    r"""Two-sample t of a Cohen's d: :math:`t = d/\\sqrt{1/n_1 + 1/n_0}` (inverse of :func:`d_from_t`)."""
    n1, n0 = check.integer(n_treatment, "n_treatment", 1), check.integer(n_control, "n_control", 1)
    return float(d) / math.sqrt(1.0 / n1 + 1.0 / n0)


def hedges_correction(df: float) -> float:
    r"""Exact small-sample factor :math:`J(\\nu) = \\Gamma(\\nu/2) / (\\sqrt{\\nu/2}\\,\\Gamma((\\nu-1)/2))`.

    Hedges (1981); g = J·d. The same J as ``trialkit.analysis.effect_size`` (docs/analyses.md).

    Examples
    --------
    >>> round(hedges_correction(41), 6)
    0.981576
    """
    df = check.interval(df, "df", "(0, inf]")
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
        :math:`(\\lambda_L s, \\lambda_U s)` with the noncentrality limits solving
        :math:`P(T'_{\\nu,\\lambda_L} \\le t) = 1-\\alpha/2` and
        :math:`P(T'_{\\nu,\\lambda_U} \\le t) = \\alpha/2` (inversion of the noncentral t:
        Steiger & Fouladi 1997, as ``MBESS::ci.smd``). Matches R ``uniroot`` on
        ``pt(t, df, ncp)`` to 1e-8 relative (tests/reference/abstract_audit/).

    Examples
    --------
    >>> low, high = d_interval(3.301272888859443, 22, 21)
    >>> round(low, 6), round(high, 6)
    (0.365506, 1.637927)
    """
    test = check.member(test, "test", AssumedTest)
    n1, n0 = check.integer(n_treatment, "n_treatment", 2), check.integer(n_control, "n_control", 2)
    return nct.d_limits(float(t), test.df(n1, n0), test.scale(n1, n0), check.interval(level, "level", "(0, 1)"))


# ---------------------------------------------------------------------------------------------
# Power and minimal detectable effect


def power_two_sample(d: float, n_treatment: int, n_control: int, *, alpha: float = 0.05) -> float:
    r"""Power of the two-sided two-sample Student t test for a true standardised difference d.

    Notes
    -----
    With df = n₁ + n₀ − 2, λ = d/√(1/n₁ + 1/n₀) and :math:`q = t_{1-\\alpha/2,\\,df}`:
    :math:`\\text{power} = P(T'_{df,\\lambda} > q) + P(T'_{df,\\lambda} < -q)` (noncentral t,
    ``scipy.stats.nct``; both tails). Equals R ``power.t.test(n, delta = d, strict = TRUE)`` when
    n₁ = n₀ = n (R's default ``strict = FALSE`` drops the far tail).

    Examples
    --------
    >>> round(power_two_sample(0.5, 64, 64), 4)
    0.8015
    """
    n1, n0 = check.integer(n_treatment, "n_treatment", 2), check.integer(n_control, "n_control", 2)
    return nct.power(float(d), n1 + n0 - 2, math.sqrt(1 / n1 + 1 / n0), check.interval(alpha, "alpha", "(0, 1)"))


def minimal_detectable_effect(n_treatment: int, n_control: int, *, power: float = 0.8, alpha: float = 0.05) -> float:
    """Smallest standardised difference d detected with the given power (two-sided Student t).

    Solves :func:`power_two_sample` (d) = power for d > 0 by Brent's method (xtol 1e-14). Equals
    R ``power.t.test(n, delta = NULL, power, strict = TRUE, tol = 1e-12)$delta`` when n₁ = n₀ = n;
    R's default ``tol = .Machine$double.eps^0.25`` (about 1.2e-4) is too coarse to compare with.

    Examples
    --------
    >>> round(minimal_detectable_effect(64, 64), 4)
    0.4991
    """
    n1, n0 = check.integer(n_treatment, "n_treatment", 2), check.integer(n_control, "n_control", 2)
    target = check.interval(power, "power", "(0, 1)")
    return nct.mde(n1 + n0 - 2, math.sqrt(1 / n1 + 1 / n0), target, check.interval(alpha, "alpha", "(0, 1)"))


# ---------------------------------------------------------------------------------------------
# The difference that gives a p


@dataclass(frozen=True)
class DifferenceCalibration:
    """The between-arm mean difference that gives ``p_value`` under Student's t.

    ``estimate`` is that difference (treatment - control), ``std_error`` its pooled standard
    error, ``statistic`` the t value and ``df`` = n_t + n_c - 2.
    """

    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    direction: int


def calibrate_difference(
    p_value: float, *, n_treatment: int, n_control: int, sd_treatment: float, sd_control: float, direction: int
) -> DifferenceCalibration:
    r"""Mean difference in change for which Student's two-sample t-test gives ``p_value``.

    Parameters
    ----------
    p_value : float
        Target two-sided p, in (0, 1).
    n_treatment, n_control : int
        Subjects with a change in each arm (>= 2 each).
    sd_treatment, sd_control : float
        The SDs of change the two samples will have (> 0).
    direction : int
        +1 (treatment higher) or -1.

    Returns
    -------
    DifferenceCalibration

    Notes
    -----
    With :math:`\\nu = n_t + n_c - 2`, :math:`s_p^2 = ((n_t-1)s_t^2 + (n_c-1)s_c^2)/\\nu` and
    :math:`SE = s_p\\sqrt{1/n_t + 1/n_c}`,

    .. math:: t = F^{-1}_{t_\\nu}(1 - p/2), \\qquad \\Delta = \\operatorname{sign} \\cdot t \\cdot SE,

    computed as the inverse survival function at :math:`p/2` so that small p keep their relative
    precision. Samples with these SDs and means differing by :math:`\\Delta` give Student's
    :math:`2\\,(1 - F_{t_\\nu}(|t|)) = p` (R ``t.test(var.equal = TRUE)``).

    Examples
    --------
    >>> c = calibrate_difference(0.05, n_treatment=10, n_control=10, sd_treatment=1.0,
    ...                          sd_control=1.0, direction=1)
    >>> round(c.statistic, 4), round(c.estimate, 4)
    (2.1009, 0.9396)
    """
    check.interval(p_value, "p_value", "(0, 1)")
    for name, n in (("n_treatment", n_treatment), ("n_control", n_control)):
        check.integer(n, name, 2)
    for name, s in (("sd_treatment", sd_treatment), ("sd_control", sd_control)):
        check.interval(s, name, "(0, inf)")
    if direction not in (-1, 1):
        raise TrialkitError(f"`direction` must be +1 or -1; got {direction!r}.")
    df = n_treatment + n_control - 2
    sp2 = ((n_treatment - 1) * sd_treatment**2 + (n_control - 1) * sd_control**2) / df
    se = math.sqrt(sp2 * (1 / n_treatment + 1 / n_control))
    t = t_from_p(p_value, df)
    return DifferenceCalibration(
        estimate=direction * t * se,
        std_error=se,
        df=float(df),
        statistic=direction * t,
        p_value=float(p_value),
        direction=int(direction),
    )
