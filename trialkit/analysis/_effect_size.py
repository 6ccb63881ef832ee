"""Standardised mean differences: Hedges' g, unadjusted and ANCOVA-adjusted."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from trialkit._checks import check_alpha, check_integer, check_interval, check_number, check_sd
from trialkit._errors import AnalysisError
from trialkit.analysis._arguments import sample
from trialkit.analysis._distributions import normal_upper_quantile
from trialkit.analysis._units import own_unit

__all__ = ["HedgesG", "hedges_correction", "hedges_g", "pooled_sd"]


@dataclass(frozen=True)
class HedgesG:
    """Hedges' g with its large-sample standard error and normal-theory interval.

    Attributes
    ----------
    estimate : float
        g, in standard-deviation units.
    std_error : float
        Its standard error.
    ci_low, ci_high : float
        Limits of the 1 - alpha interval g ± z SE.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float


def hedges_correction(df: float) -> float:
    """Return Hedges' exact small-sample factor J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)).

    Parameters
    ----------
    df : float
        ν, the degrees of freedom of the pooled SD (n₁ + n₀ − 2), > 1.

    Returns
    -------
    float
        J(ν), in (0, 1); g = J·d.

    Raises
    ------
    TrialkitError
        ``df`` not a number > 1.

    Notes
    -----
    Hedges (1981), J. Educ. Stat. 6:107, eq. 6e, computed on the log scale with ``gammaln``;
    R reference: the same formula with ``lgamma`` in tests/reference/analyses/make_reference.R
    (rows ``hedges_g``).

    Examples
    --------
    >>> round(hedges_correction(41), 6)
    0.981576
    """
    nu = check_interval(df, "df", "(1, inf)", "a number of degrees of freedom")
    return float(math.exp(gammaln(nu / 2) - gammaln((nu - 1) / 2)) / math.sqrt(nu / 2))


def pooled_sd(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Return the pooled standard deviation of two samples.

    Parameters
    ----------
    x, y : array_like of float
        The two samples; no missing values.

    Returns
    -------
    float
        √(((n_x − 1)s_x² + (n_y − 1)s_y²) / (n_x + n_y − 2)), in the units of the data.

    Raises
    ------
    TrialkitError
        A sample that is not a flat sequence of finite numbers.
    AnalysisError
        Fewer than 2 values in a sample (``term`` = ``x`` or ``y``).

    Notes
    -----
    R: ``sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / (nx + ny - 2))``, the standardiser of
    the ``hedges_g`` rows of tests/reference/analyses/<case>/expected.csv (1e-8 relative).

    Examples
    --------
    >>> pooled_sd([1.0, 3.0], [2.0, 4.0, 6.0])
    1.8257418583505538
    """
    xs, ys = sample(x, "x", minimum=2), sample(y, "y", minimum=2)
    nx, ny = len(xs), len(ys)
    # values such as 1e15 + noise: their variances about a common centre keep the noise
    centre, _ = own_unit(np.concatenate([xs, ys]))
    xs, ys = xs - centre, ys - centre
    return math.sqrt(((nx - 1) * float(xs.var(ddof=1)) + (ny - 1) * float(ys.var(ddof=1))) / (nx + ny - 2))


def hedges_g(difference: float, sd: float, n_treatment: int, n_control: int, *, alpha: float = 0.05) -> HedgesG:
    """Return Hedges' g = J·difference/sd with the large-sample SE of Hedges & Olkin (1985).

    Parameters
    ----------
    difference : float
        Mean difference, treatment − control (raw, or ANCOVA-adjusted).
    sd : float
        The standardiser: pooled SD (of change for g of change; of the unadjusted follow-up
        values for the adjusted g), same units as ``difference``.
    n_treatment, n_control : int
        Subjects in each arm (at least 2 each).
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    HedgesG
        g, SE = √((n₁+n₀)/(n₁n₀) + g²/(2(n₁+n₀))), and the interval g ± z_{1−α/2}·SE.

    Raises
    ------
    TrialkitError
        A non-finite ``difference``, a negative or non-finite ``sd``, counts that are not
        integers >= 1, or ``alpha`` outside (0, 1).
    AnalysisError
        Fewer than 2 subjects in an arm (``term`` = the count), or ``sd = 0`` (``term`` = ``sd``).

    Notes
    -----
    J = :func:`hedges_correction` (ν = n₁ + n₀ − 2). With ``difference`` the mean difference
    of change and ``sd`` the pooled SD of change this is the ``hedges_g`` row of
    :func:`~trialkit.analyze`; with the ANCOVA difference and the pooled SD of the unadjusted
    follow-up values it is the adjusted g of the WWC Procedures Handbook (v5, 2022, eq. 1–3),
    row ``hedges_g_ancova``. R reference: the same formulas in
    tests/reference/analyses/make_reference.R, matched to 1e-8 relative.

    Examples
    --------
    >>> g = hedges_g(2.0, 4.0, 20, 20)
    >>> round(g.estimate, 4), round(g.std_error, 4)
    (0.4901, 0.3209)
    """
    difference = check_number(difference, "difference")
    sd = check_sd(sd, "sd")
    n1 = check_integer(n_treatment, "n_treatment", 1)
    n0 = check_integer(n_control, "n_control", 1)
    alpha = check_alpha(alpha)
    for name, n in (("n_treatment", n1), ("n_control", n0)):
        if n < 2:
            raise AnalysisError(f"`{name}` must be at least 2 for Hedges' g; got {n}.", term=name)
    if sd == 0:
        raise AnalysisError("`sd` is 0: the standardised difference is undefined.", term="sd")
    n = n1 + n0
    g = hedges_correction(n - 2) * difference / sd
    se = math.sqrt(n / (n1 * n0) + g**2 / (2 * n))
    z = normal_upper_quantile(alpha / 2)
    return HedgesG(float(g), se, float(g - z * se), float(g + z * se))
