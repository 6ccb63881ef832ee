"""Wilcoxon–Mann–Whitney and Wilcoxon signed-rank tests with Hodges–Lehmann estimates.

The choice between exact and normal-approximation inference follows a fixed, documented rule
(the one R's ``wilcox.test`` uses), never the data's convenience: exact when every sample has
fewer than 50 values and there are no ties (and, for the signed-rank test, no zero
differences); otherwise the normal approximation with tie-corrected variance and continuity
correction, with the interval and estimate found as roots of the standardised statistic by R's
own root finder (:mod:`trialkit.analysis._zeroin`).

Where R answers with a warning (an interval it cannot compute, or a confidence level the data
cannot reach), :attr:`RankTest.note` says so in words; the numbers are R's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from trialkit._checks import check_alpha
from trialkit._errors import AnalysisError
from trialkit.analysis._arguments import sample
from trialkit.analysis._distributions import normal_two_sided_p, normal_upper_quantile
from trialkit.analysis._rank_shift import RankSumShift, SignedRankShift
from trialkit.analysis._zeroin import root_tol, zeroin

__all__ = ["EXACT_LIMIT", "RANK_METHODS", "RankTest", "mann_whitney", "signed_rank"]

#: samples this size or larger use the normal approximation (R's rule)
EXACT_LIMIT = 50
#: which path a rank test took (``RankTest.method``, the ``method`` column of the results)
RANK_METHODS = {
    "exact": "exact null distribution",
    "normal_cc": "normal approximation with continuity correction",
    "normal_cc_ties": "normal approximation with continuity correction and tie-corrected variance",
    "normal": "normal approximation without continuity correction",
    "normal_ties": "normal approximation without continuity correction, with tie-corrected variance",
}
NAN = math.nan


@dataclass(frozen=True)
class RankTest:
    """A rank test with its Hodges–Lehmann estimate and interval.

    Attributes
    ----------
    statistic : float
        W (rank-sum) or V (signed-rank), as R reports them.
    p_value : float
        Two-sided p-value.
    estimate : float
        Hodges–Lehmann estimate (shift, or pseudo-median); NaN when undefined (see ``note``).
    ci_low, ci_high : float
        Confidence limits; NaN when undefined (see ``note``).
    exact : bool
        Exact distribution (True) or normal approximation (False).
    conf_level : float
        Confidence level of the interval: 1 − alpha, or the lower level R falls back to when
        1 − alpha is out of reach (see ``note``); NaN when there is no interval.
    note : str
        Empty when estimate and interval are complete at the requested level; otherwise why
        they are missing or at another level (R's warning, in words).
    method : str
        The path taken, a key of :data:`RANK_METHODS`: ``"exact"``, ``"normal_cc"`` (normal
        approximation with continuity correction, no ties), ``"normal_cc_ties"`` (the same with
        the tie-corrected variance), or ``"normal"`` / ``"normal_ties"`` (no continuity
        correction: van Elteren's test).
    """

    statistic: float
    p_value: float
    estimate: float
    ci_low: float
    ci_high: float
    exact: bool
    conf_level: float
    note: str = ""
    method: str = ""


# ---------------------------------------------------------------------------------------------
# exact null distributions (R's dwilcox / dsignrank), as counts of equally likely arrangements


@lru_cache(maxsize=256)
def _rank_sum_counts(m: int, n: int) -> npt.NDArray[np.float64]:
    """Count the ways each W = 0..m*n arises: m ranks drawn from 1..m+n, minus m(m+1)/2."""
    # ways[j, s]: subsets of size j of the ranks seen so far with sum s (shifted into W units)
    ways = np.zeros((m + 1, m * n + 1))
    ways[0, 0] = 1.0
    for r in range(m + n):
        # rank r+1 shifts the W of a size-j subset by (r + 1) - (j + 1) = r - j
        for j in range(min(m, r + 1), 0, -1):
            shift = r - (j - 1)
            if 0 <= shift <= m * n:
                ways[j, shift:] += ways[j - 1, : m * n + 1 - shift]
    out: npt.NDArray[np.float64] = ways[m]
    return out


@lru_cache(maxsize=256)
def _signed_rank_counts(n: int) -> npt.NDArray[np.float64]:
    """Count the sign patterns giving each V = 0..n(n+1)/2."""
    top = n * (n + 1) // 2
    ways = np.zeros(top + 1)
    ways[0] = 1.0
    for r in range(1, n + 1):
        ways[r:] = ways[r:] + ways[:-r].copy()
    return ways


def _cdf(counts: npt.NDArray[np.float64], q: float) -> float:
    k = math.floor(q)
    if k < 0:
        return 0.0
    return float(counts[: k + 1].sum() / counts.sum())


def _quantile(counts: npt.NDArray[np.float64], p: float) -> int:
    """Smallest q with P(S <= q) >= p (the definition of R's qwilcox and qsignrank)."""
    cum = np.cumsum(counts) / counts.sum()
    return int(np.searchsorted(cum, p - 10 * np.finfo(float).eps, side="left"))


def _exact_p(counts: npt.NDArray[np.float64], s: float) -> float:
    lower = _cdf(counts, s)
    upper = 1.0 - _cdf(counts, s - 1)
    return min(1.0, 2.0 * min(lower, upper))


def _exact_interval(
    counts: npt.NDArray[np.float64], ordered: npt.NDArray[np.float64], alpha: float
) -> tuple[float, float, float]:
    """Return the limits from the order statistics of pairwise differences or Walsh averages.

    Also the alpha they achieve (R's ``achieved.alpha``).
    """
    qu = max(_quantile(counts, alpha / 2), 1)
    ql = len(counts) - 1 - qu
    return float(ordered[qu - 1]), float(ordered[ql]), 2 * _cdf(counts, qu - 1)


def _unreachable(alpha: float, level: float, sizes: str) -> str:
    """Return R's "requested conf.level not achievable", in words."""
    return (
        f"the {1 - alpha:.4g} confidence level is not achievable with {sizes}: the interval is "
        f"R's, at confidence level {level:.4g} (R warns 'requested conf.level not achievable')."
    )


# ---------------------------------------------------------------------------------------------
# the tests


def mann_whitney(x: npt.ArrayLike, y: npt.ArrayLike, *, alpha: float = 0.05) -> RankTest:
    """Compare two independent samples with the Wilcoxon rank-sum (Mann–Whitney) test.

    Parameters
    ----------
    x, y : array_like of float
        The two samples (e.g. changes from baseline in the treatment and control arms); no
        missing values; at least one value each.
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    RankTest
        W = sum of the ranks of ``x`` in the pooled sample − n_x(n_x+1)/2, two-sided p, the
        Hodges–Lehmann shift (x minus y) and its interval; ``exact`` says which path.

    Raises
    ------
    TrialkitError
        A sample that is not a flat sequence of finite numbers, or ``alpha`` outside (0, 1).
    AnalysisError
        An empty sample (``term`` = ``x`` or ``y``), or every value of both samples equal
        (``term`` = ``value``: no test; R's p is NaN).

    Notes
    -----
    Exact path (both samples < 50 values, no ties): p from the exact null distribution of W;
    estimate the median of the n_x·n_y differences x_i − y_j; interval between order
    statistics of those differences (Hollander & Wolfe 1999, §4.3). Otherwise the normal
    approximation with tie correction and continuity correction; the interval limits are the
    shifts d where the standardised W of ``x - d`` crosses ±z_{1−α/2}, and the estimate where
    the uncorrected one crosses 0, found by Brent's method with tolerance 1e-4 (scaled down for a
    search range under 0.0625, where R's absolute tolerance would stop at the first step) on the same
    iterates as R's ``uniroot``.

    When each sample is constant (every change in an arm equal), the statistic of ``x - d`` is
    undefined at the one shift that could start the search: W and p are reported, estimate and
    interval are NaN and ``note`` says why (R's ``wilcox.test(x, y, conf.int = TRUE)`` stops with
    an error there; W and p are those of ``conf.int = FALSE``). When the 1 − alpha level cannot
    be reached on the exact path, the interval is R's widest and ``note`` gives its level.

    Matches R ``wilcox.test(x, y, conf.int = TRUE)``: tests/reference/analyses/<case>/
    expected.csv (rows ``mann_whitney_change``, relative error <= 1e-8) and
    tests/reference/analyses/rank_ties/ for the tied cases.

    Examples
    --------
    >>> r = mann_whitney([1.1, 2.3, 3.8, 4.2], [0.2, 0.9, 1.5])
    >>> r.statistic, round(r.p_value, 4), round(r.estimate, 4), r.exact
    (11.0, 0.1143, 2.2, True)
    """
    xs, ys = sample(x, "x"), sample(y, "y")
    alpha = check_alpha(alpha)
    nx, ny = len(xs), len(ys)
    shift = RankSumShift(xs, ys)
    w, ties = shift.at(0.0)
    if nx < EXACT_LIMIT and ny < EXACT_LIMIT and ties == 0:
        counts = _rank_sum_counts(nx, ny)
        diffs = np.sort(np.subtract.outer(xs, ys).ravel())
        low, high, achieved = _exact_interval(counts, diffs, alpha)
        level, note = 1 - alpha, ""
        if achieved - alpha > alpha / 2:
            level = 1 - achieved
            note = _unreachable(alpha, level, f"{nx} and {ny} value{'s' * (ny != 1)}")
        return RankTest(w, _exact_p(counts, w), float(np.median(diffs)), low, high, True, level, note, "exact")

    def z(d: float, correct: bool) -> float:
        u, tie = shift.at(d)
        dz = u - nx * ny / 2
        sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - tie / ((nx + ny) * (nx + ny - 1))))
        return (dz - (math.copysign(0.5, dz) if correct and dz != 0 else 0.0)) / sigma

    method = "normal_cc_ties" if ties else "normal_cc"
    if ties == (nx + ny) ** 3 - (nx + ny):
        raise AnalysisError(
            f"every value of `x` and `y` is {float(xs[0])!r}: the rank-sum test is undefined (R's p is NaN).",
            term="value",
        )
    p = normal_two_sided_p(z(0.0, True))
    lo, hi = float(xs.min() - ys.max()), float(xs.max() - ys.min())
    if lo == hi or shift.at(lo)[1] == (nx + ny) ** 3 - (nx + ny):  # each sample constant
        note = (
            f"every value of `x` is {float(xs[0])!r} and every value of `y` is {float(ys[0])!r}: the shift's "
            "interval and Hodges–Lehmann estimate are undefined (R's wilcox.test(conf.int = TRUE) stops with an error; "
            "W and p are those of conf.int = FALSE)."
        )
        return RankTest(w, p, NAN, NAN, NAN, False, NAN, note, method)
    zq = normal_upper_quantile(alpha / 2)

    def limit(target: float) -> float:
        f_lo = z(lo, True) - target
        if f_lo <= 0:
            return lo
        f_hi = z(hi, True) - target
        if f_hi >= 0:
            return hi
        return zeroin(lambda d: z(d, True) - target, lo, hi, f_lo, f_hi, root_tol(lo, hi))

    ci_low, ci_high = limit(zq), limit(-zq)
    estimate = zeroin(lambda d: z(d, False), lo, hi, z(lo, False), z(hi, False), root_tol(lo, hi))
    return RankTest(w, p, estimate, ci_low, ci_high, False, 1 - alpha, "", method)


def signed_rank(d: npt.ArrayLike, *, alpha: float = 0.05) -> RankTest:
    """Test whether paired differences are symmetric about 0 with the Wilcoxon signed-rank test.

    Parameters
    ----------
    d : array_like of float
        Paired differences, e.g. follow-up − baseline of the subjects of one arm; no missing
        values; at least one value.
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    RankTest
        V = sum of the ranks of |d| over the positive d (zero differences dropped), two-sided
        p, the pseudo-median (Hodges–Lehmann) and its interval; ``exact`` says which path.

    Raises
    ------
    TrialkitError
        ``d`` not a flat sequence of finite numbers, or ``alpha`` outside (0, 1).
    AnalysisError
        An empty ``d`` (``term`` = ``d``), or every difference zero (``term`` = ``value``: no
        test; R's p is NaN).

    Notes
    -----
    Exact path (n < 50, no ties, no zeros): p from the exact null distribution of V;
    estimate the median of the Walsh averages (d_i + d_j)/2, i <= j; interval between their
    order statistics (Hollander & Wolfe 1999, §3.2). Otherwise the normal approximation with
    tie correction and continuity correction, zeros dropped; limits and estimate are roots in
    the shift s of the standardised V of ``d - s`` (zeros of ``d - s`` dropped at each s), found
    by Brent's method with tolerance 1e-4 (scaled down for a search range under 0.0625) on the same
    iterates as R's ``uniroot``. As in R, when the 1 − alpha level is out of reach the level is
    lowered (alpha doubled until reachable) and ``note`` says so.

    When every non-zero difference is the same value, the statistic of ``d - s`` is undefined
    at the ends of the search range, so no interval exists: V and p are reported, the estimate
    is that value (R's "midrange"), the interval is NaN and ``note`` says why (R warns "cannot
    compute confidence interval when all observations are zero or tied").

    Matches R ``wilcox.test(d, conf.int = TRUE)``: tests/reference/analyses/<case>/expected.csv
    (rows ``wilcoxon_within``, relative error <= 1e-8) and tests/reference/analyses/rank_ties/
    for the tied cases.

    Examples
    --------
    >>> r = signed_rank([1.5, -0.4, 2.2, 3.1, 0.7])
    >>> r.statistic, round(r.p_value, 4), round(r.estimate, 4), r.exact
    (14.0, 0.125, 1.45, True)
    """
    ds = sample(d, "d")
    alpha = check_alpha(alpha)
    nonzero = ds[ds != 0]
    n = len(nonzero)
    if n == 0:
        raise AnalysisError("every difference is zero: the signed-rank test is undefined (R's p is NaN).", term="value")
    shift = SignedRankShift(nonzero)
    _, v, ties = shift.at(0.0)
    if n < EXACT_LIMIT and ties == 0 and n == len(ds):
        counts = _signed_rank_counts(n)
        i, j = np.triu_indices(n)
        walsh = np.sort((ds[i] + ds[j]) / 2)
        low, high, achieved = _exact_interval(counts, walsh, alpha)
        level, note = 1 - alpha, ""
        if achieved - alpha > alpha / 2:
            level = 1 - float(f"{achieved:.2g}")  # R: 1 - signif(achieved.alpha, 2)
            note = _unreachable(alpha, level, f"{n} difference{'s' * (n != 1)}")
        return RankTest(v, _exact_p(counts, v), float(np.median(walsh)), low, high, True, level, note, "exact")

    def z(s: float, correct: bool) -> float:
        m, vs, tie = shift.at(s)
        zd = vs - m * (m + 1) / 4
        sigma = math.sqrt(m * (m + 1) * (2 * m + 1) / 24 - tie / 48)
        if sigma == 0:
            return NAN
        return (zd - (math.copysign(0.5, zd) if correct and zd != 0 else 0.0)) / sigma

    method = "normal_cc_ties" if ties else "normal_cc"
    p = normal_two_sided_p(z(0.0, True))
    lo, hi = float(nonzero.min()), float(nonzero.max())
    z_lo = z(lo, True)
    if math.isnan(z_lo):  # every non-zero difference equals lo: nothing is left of d - lo
        note = (
            f"every non-zero difference is {lo!r}: the interval is undefined (R warns 'cannot compute "
            "confidence interval when all observations are zero or tied'); V and p are reported, "
            "the estimate is that value."
        )
        return RankTest(v, p, (lo + hi) / 2, NAN, NAN, False, NAN, note, method)
    z_hi = z(hi, True)
    # R lowers the level until the search range brackets both limits
    reach = alpha
    while z_lo - normal_upper_quantile(reach / 2) < 0 or z_hi + normal_upper_quantile(reach / 2) > 0:
        reach *= 2
    level, note = 1 - alpha, ""
    if reach >= 1 or 1 - (1 - alpha) < reach * 0.75:
        level = 1 - min(1.0, reach)
        note = _unreachable(alpha, level, f"{n} non-zero difference{'s' * (n != 1)}")
    if reach < 1:
        zq = normal_upper_quantile(reach / 2)
        ci_low = zeroin(lambda s: z(s, True) - zq, lo, hi, z_lo - zq, z_hi - zq, root_tol(lo, hi))
        ci_high = zeroin(lambda s: z(s, True) + zq, lo, hi, z_lo + zq, z_hi + zq, root_tol(lo, hi))
    else:
        ci_low = ci_high = float(np.median(nonzero))
    estimate = zeroin(lambda s: z(s, False), lo, hi, z(lo, False), z(hi, False), root_tol(lo, hi))
    return RankTest(v, p, estimate, ci_low, ci_high, False, level, note, method)
