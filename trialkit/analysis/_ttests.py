"""t-based comparisons of change: Welch and Student between arms, paired within an arm."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit._checks import check_alpha, check_bool, check_interval, check_number
from trialkit._errors import AnalysisError
from trialkit.analysis._arguments import sample
from trialkit.analysis._distributions import t_two_sided_p, t_upper_quantile
from trialkit.analysis._units import own_unit

__all__ = ["TTest", "paired_t", "t_inference", "two_sample_t"]


@dataclass(frozen=True)
class TTest:
    """A t-based estimate and its inference.

    Attributes
    ----------
    estimate : float
        Mean difference (or mean change), in the units of the data.
    std_error : float
        Its standard error.
    df : float
        Degrees of freedom of the t reference distribution.
    statistic : float
        t = estimate / std_error.
    p_value : float
        Two-sided p-value.
    ci_low, ci_high : float
        Limits of the 1 - alpha confidence interval.
    """

    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float


def t_inference(est: float, se: float, df: float, alpha: float) -> TTest:
    """Return t, the two-sided p-value and the t confidence interval of an estimate.

    Parameters
    ----------
    est : float
        The estimate.
    se : float
        Its standard error (> 0).
    df : float
        Degrees of freedom (> 0; need not be an integer).
    alpha : float
        1 - confidence level, in (0, 1).

    Returns
    -------
    TTest
        ``statistic = est / se``, ``p_value = 2 P(T_df > |t|)``, CI ``est ± t_{1-alpha/2, df} se``.

    Raises
    ------
    TrialkitError
        A non-finite estimate, ``se <= 0``, ``df <= 0`` or ``alpha`` outside (0, 1).

    Notes
    -----
    R: ``2 * pt(-abs(t), df)`` and ``est + c(-1, 1) * qt(1 - alpha / 2, df) * se``; the quantile
    and tail come from ``scipy.special`` (``stdtrit``, ``stdtr``). Every t-based row of
    tests/reference/analyses/<case>/expected.csv goes through it (1e-8 relative).

    Examples
    --------
    >>> r = t_inference(2.0, 1.0, 10, 0.05)
    >>> round(r.p_value, 6), round(r.ci_low, 6)
    (0.073388, -0.228139)
    """
    est = check_number(est, "est")
    se = check_interval(se, "se", "(0, inf)", "a standard error")
    df = check_interval(df, "df", "(0, inf)", "a number of degrees of freedom")
    alpha = check_alpha(alpha)
    return _inference(est, se, df, alpha)


def _inference(est: float, se: float, df: float, alpha: float) -> TTest:
    t = est / se
    q = t_upper_quantile(alpha / 2, df)
    return TTest(est, se, float(df), t, t_two_sided_p(t, df), est - q * se, est + q * se)


def _finish(est: float, se: float, df: float, alpha: float, what: str, scale: float) -> TTest:
    # a spread at the level of rounding noise of the values is no spread: t would be noise / noise
    if not se > 64 * np.finfo(float).eps * max(scale, 1e-300):
        raise AnalysisError(f"{what}: zero variance, the t statistic is undefined.", term="value")
    return _inference(est, se, df, alpha)


def two_sample_t(x: npt.ArrayLike, y: npt.ArrayLike, *, equal_var: bool, alpha: float = 0.05) -> TTest:
    """Compare the means of two independent samples with Student's or Welch's t-test.

    Parameters
    ----------
    x, y : array_like of float
        The two samples (e.g. changes from baseline in the treatment and control arms); no
        missing values.
    equal_var : bool
        True: Student's pooled-variance test; False: Welch's test.
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    TTest
        ``estimate = mean(x) - mean(y)`` with its SE, df, t, two-sided p and CI.

    Raises
    ------
    TrialkitError
        A sample that is not a flat sequence of finite numbers, a non-bool ``equal_var``, or
        ``alpha`` outside (0, 1).
    AnalysisError
        Fewer than 2 values in a sample (``term`` = ``x`` or ``y``), or zero variance
        (``term`` = ``value``).

    Notes
    -----
    Student: SE = s_p √(1/n_x + 1/n_y), s_p² = ((n_x − 1)s_x² + (n_y − 1)s_y²)/(n_x + n_y − 2),
    df = n_x + n_y − 2. Welch: SE = √(s_x²/n_x + s_y²/n_y), df by Welch–Satterthwaite
    (s_x²/n_x + s_y²/n_y)² / ((s_x²/n_x)²/(n_x − 1) + (s_y²/n_y)²/(n_y − 1)).
    Matches R ``t.test(x, y, var.equal = equal_var)`` to 1e-8 relative (rows ``welch_change``
    and ``student_change`` of tests/reference/analyses/<case>/expected.csv).

    Examples
    --------
    >>> r = two_sample_t([1.0, 2.0, 4.0], [0.0, 1.0, 1.0], equal_var=False)
    >>> round(r.estimate, 4), round(r.df, 4), round(r.p_value, 4)
    (1.6667, 2.56, 0.1908)
    """
    xs, ys = sample(x, "x", minimum=2), sample(y, "y", minimum=2)
    equal = check_bool(equal_var, "equal_var")
    alpha = check_alpha(alpha)
    nx, ny = len(xs), len(ys)
    # values such as 1e15 + noise are compared about their common mean: their sums keep the noise (and the
    # rounding noise the zero-variance check allows for is that of the centred values)
    centre, _ = own_unit(np.concatenate([xs, ys]))
    xs, ys = xs - centre, ys - centre
    scale = float(max(np.abs(xs).max(), np.abs(ys).max()))
    vx, vy = float(xs.var(ddof=1)), float(ys.var(ddof=1))
    est = float(xs.mean() - ys.mean())
    df: float
    if equal:
        df = nx + ny - 2
        sp2 = ((nx - 1) * vx + (ny - 1) * vy) / df
        se = math.sqrt(sp2 * (1 / nx + 1 / ny))
    else:
        a, b = vx / nx, vy / ny
        se = math.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (nx - 1) + b**2 / (ny - 1)) if a + b > 0 else math.nan
    return _finish(est, se, df, alpha, "two-sample t-test", scale)


def paired_t(d: npt.ArrayLike, *, alpha: float = 0.05) -> TTest:
    """Test whether paired differences have mean zero (one-sample t-test of ``d``).

    Parameters
    ----------
    d : array_like of float
        Paired differences, e.g. follow-up − baseline of the subjects of one arm; no missing
        values.
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    TTest
        ``estimate = mean(d)``, SE = s_d/√n, df = n − 1, t, two-sided p and CI.

    Raises
    ------
    TrialkitError
        ``d`` not a flat sequence of finite numbers, or ``alpha`` outside (0, 1).
    AnalysisError
        Fewer than 2 differences (``term`` = ``d``), or zero variance (``term`` = ``value``).

    Notes
    -----
    Matches R ``t.test(post, pre, paired = TRUE)`` to 1e-8 relative (rows ``paired_within`` of
    tests/reference/analyses/<case>/expected.csv).

    Examples
    --------
    >>> r = paired_t([1.0, 2.0, 4.0])
    >>> round(r.estimate, 4), r.df, round(r.p_value, 4)
    (2.3333, 2.0, 0.1181)
    """
    ds = sample(d, "d", minimum=2)
    alpha = check_alpha(alpha)
    n = len(ds)
    se = float(ds.std(ddof=1) / math.sqrt(n))
    return _finish(float(ds.mean()), se, n - 1, alpha, "paired t-test", float(np.abs(ds).max()))
