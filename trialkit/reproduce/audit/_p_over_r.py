"""The p-value of a comparison of published summaries, over the pre-post correlation r and rounding.

A published table rarely gives the SD of change; it follows from the SDs at baseline and follow-up
and their correlation r, which is rarely published either. :func:`p_change_over_r` tabulates the
p-value of the change comparison over r; :func:`implied_r` solves for the r that gives a
published p.

The machinery is shared with :mod:`._table_verdict`: :func:`build_design` turns the arms'
summaries into the test's estimate and, per arm, the variance as a function of r
(:func:`r_variance`, when the change SD must come from the SDs at two visits) or fixed
(:func:`fixed_variance`, a published SD); :func:`p_range` gives the smallest and largest p at each
r over every table that prints the same (means and SDs ± half a unit in the last place). Pure
functions of numbers: no I/O, no state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from trialkit._checks import check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.reproduce.audit._summary_tests import ArmSummary, Comparison, TTestMethod, two_sided_p


def sd_factor(arm: ArmSummary) -> float:
    """Factor taking the arm's SDs (divisor n - sd_ddof) to sample SDs (divisor n - 1)."""
    return math.sqrt((arm.n - arm.sd_ddof) / (arm.n - 1))


def change_estimate(arm: ArmSummary) -> tuple[float, int]:
    """Mean change of the arm and the number of printed means it is made of."""
    if arm.change_mean is not None:
        return float(arm.change_mean), 1
    if arm.baseline_mean is None:
        raise TrialkitError("a change analysis needs `baseline_mean` (or `change_mean`) in every arm.")
    return float(arm.mean) - float(arm.baseline_mean), 2


#: A variance source: r (array) and the rounding half-width -> (v_min, v_max) arrays
VarianceFn = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def fixed_variance(sd: float, factor: float) -> VarianceFn:
    """Return the variance of a published SD (times ``factor``): the same range at every r."""

    def fn(r: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = max(sd - half, 0.0) * factor, (sd + half) * factor
        return np.full(r.shape, lo * lo), np.full(r.shape, hi * hi)

    return fn


def r_variance(sd_pre: float, sd_post: float, factor: float) -> VarianceFn:
    """Return the change variance s_pre² + s_post² − 2 r s_pre s_post over the rounding box of the two SDs."""

    def fn(r: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
        a_lo, a_hi = max(sd_pre - half, 0.0) * factor, (sd_pre + half) * factor
        b_lo, b_hi = max(sd_post - half, 0.0) * factor, (sd_post + half) * factor

        def v(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
            return np.maximum(a * a + b * b - 2.0 * r * a * b, 0.0)

        # v is convex in (a, b) for |r| <= 1: maximum at a corner, minimum on an edge
        corners = [v(a, b) for a in (a_lo, a_hi) for b in (b_lo, b_hi)]
        edges = [v(np.clip(r * b, a_lo, a_hi), b) for b in (b_lo, b_hi)]
        edges += [v(a, np.clip(r * a, b_lo, b_hi)) for a in (a_lo, a_hi)]
        return np.minimum.reduce(corners + edges), np.maximum.reduce(corners)

    return fn


@dataclass(frozen=True)
class Design:
    """A comparison of published summaries, ready to give its p at any r."""

    method: TTestMethod
    estimate: float
    n_means: int  # printed means entering the estimate (for the rounding box)
    n1: int
    n2: int | None
    var1: VarianceFn
    var2: VarianceFn | None
    depends_on_r: bool
    description: str


def build_design(
    comparison: Comparison, treatment: ArmSummary, control: ArmSummary | None, method: TTestMethod
) -> Design:
    """Return the comparison of ``treatment`` with ``control`` (None: within ``treatment``) by ``method``."""
    arms = [treatment] if control is None else [treatment, control]
    if comparison is Comparison.FOLLOW_UP:
        if control is None:
            raise TrialkitError("a follow-up comparison needs two arms: pass `control`.")
        fns = [fixed_variance(float(a.sd), sd_factor(a)) for a in arms]
        est, k = float(treatment.mean) - float(control.mean), 2
        return Design(
            method, est, k, treatment.n, control.n, fns[0], fns[1], False, f"{method.value} t on follow-up values"
        )
    fns, k, uses_r = [], 0, False
    ests = []
    for arm in arms:
        e, parts = change_estimate(arm)
        ests.append(e)
        k += parts
        if arm.change_sd is not None:
            fns.append(fixed_variance(float(arm.change_sd), sd_factor(arm)))
        elif arm.baseline_sd is None:
            raise TrialkitError("a change analysis needs `change_sd`, or `baseline_sd` and `sd`, in every arm.")
        else:
            uses_r = True
            fns.append(r_variance(float(arm.baseline_sd), float(arm.sd), sd_factor(arm)))
    est = ests[0] - ests[1] if control is not None else ests[0]
    what = "paired t on change" if control is None else f"{method.value} t on change"
    how = " (change SD from the pre-post correlation r)" if uses_r else " (published change SDs)"
    return Design(
        method,
        est,
        k,
        treatment.n,
        None if control is None else control.n,
        fns[0],
        fns[1] if control is not None else None,
        uses_r,
        what + how,
    )


def squared_se_and_df(design: Design, v1: np.ndarray, v2: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the squared standard error of the estimate and the test's df, given the arms' variances."""
    n1 = design.n1
    if design.method is TTestMethod.PAIRED:
        return v1 / n1, np.full(np.shape(v1), n1 - 1.0)
    n2 = design.n2
    if n2 is None or v2 is None:  # pragma: no cover - build_design gives two arms to every two-sample test
        raise TrialkitError(f"a {design.method.value} t-test compares two arms; the design has one.")
    if design.method is TTestMethod.STUDENT:
        df = np.full(np.shape(v1), n1 + n2 - 2.0)
        return ((n1 - 1) * v1 + (n2 - 1) * v2) / df * (1.0 / n1 + 1.0 / n2), df
    a, b = v1 / n1, v2 / n2
    se2 = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        return se2, se2**2 / (a * a / (n1 - 1) + b * b / (n2 - 1))


def p_from(design: Design, est_abs: np.ndarray | float, v1: np.ndarray, v2: np.ndarray | None) -> np.ndarray:
    """Two-sided p of the design's test for |estimate| ``est_abs`` and the arms' variances ``v1``, ``v2``."""
    se2, df = squared_se_and_df(design, v1, v2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est_abs / np.sqrt(se2)
        p = two_sided_p(t, np.where(np.isfinite(df), df, 1.0))
    # zero SE: p -> 0 for a non-zero difference, undefined (NaN) for none
    return np.where(se2 > 0, p, np.where(np.asarray(est_abs) > 0, 0.0, np.nan))


def p_range(design: Design, r: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest p at each r over the rounding box of the printed table (half = 0: none)."""
    e_hi = abs(design.estimate) + design.n_means * half
    e_lo = max(abs(design.estimate) - design.n_means * half, 0.0)
    v1_lo, v1_hi = design.var1(r, half)
    if design.var2 is None:
        return p_from(design, e_hi, v1_lo, None), p_from(design, e_lo, v1_hi, None)
    v2_lo, v2_hi = design.var2(r, half)
    if design.method is TTestMethod.STUDENT:  # p increases with each variance and falls with |estimate|
        return p_from(design, e_hi, v1_lo, v2_lo), p_from(design, e_lo, v1_hi, v2_hi)
    # Welch: the df moves with the variances, so take the extremes over the box's corners
    ps = [p_from(design, e, v1, v2) for e in (e_lo, e_hi) for v1 in (v1_lo, v1_hi) for v2 in (v2_lo, v2_hi)]
    return np.fmin.reduce(ps), np.fmax.reduce(ps)


def choose_method(control: ArmSummary | None, equal_var: bool | None) -> TTestMethod:
    """Return the test the arguments name: paired within one arm, Student or Welch between two."""
    if control is None:
        if equal_var is not None:
            raise TrialkitError("`equal_var` applies to two arms; leave it unset for a within-arm (paired) test.")
        return TTestMethod.PAIRED
    if equal_var is None:
        raise TrialkitError("`equal_var` must be True (Student) or False (Welch) when comparing two arms.")
    return TTestMethod.STUDENT if equal_var else TTestMethod.WELCH


def check_r_range(r_range: Sequence[float]) -> tuple[float, float]:
    """Return the ``r_range`` argument as a pair of correlations, low < high."""
    try:
        lo, hi = r_range
    except (TypeError, ValueError):
        raise TrialkitError(f"`r_range` must be a pair (low, high); got {r_range!r}.") from None
    lo = check_interval(lo, "r_range[0]", "[-1, 1]", "a correlation")
    hi = check_interval(hi, "r_range[1]", "[-1, 1]", "a correlation")
    if not lo < hi:
        raise TrialkitError(f"`r_range` must have low < high; got {r_range!r}.")
    return lo, hi


def find_roots(fn: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, grid: int) -> list[float]:
    """Every r in [lo, hi] where fn changes sign between grid points (refined by brentq) or is 0."""
    xs = np.linspace(lo, hi, grid)
    ys = fn(xs)
    found = [float(x) for x, y in zip(xs, ys, strict=True) if y == 0]
    scalar = lambda x: float(fn(np.array([x]))[0])  # noqa: E731
    for i in range(grid - 1):
        y0, y1 = ys[i], ys[i + 1]
        if np.isfinite(y0) and np.isfinite(y1) and y0 * y1 < 0:
            found.append(optimize.brentq(scalar, xs[i], xs[i + 1], xtol=1e-14, rtol=4 * np.finfo(float).eps))
    return sorted(found)


def log_gap(p: np.ndarray, target: float) -> np.ndarray:
    """Return log p − log target (−inf at p = 0), the function whose roots :func:`find_roots` seeks."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap: np.ndarray = np.log(p) - math.log(target)
    return gap


# --------------------------------------------------------------------------------------------
# the change comparison over r


#: Columns of :func:`p_change_over_r`, in order.
P_OVER_R_COLUMNS = (
    "r",
    "sd_change_treatment",
    "sd_change_control",
    "estimate",
    "std_error",
    "df",
    "statistic",
    "p_value",
)


def p_change_over_r(
    treatment: ArmSummary,
    control: ArmSummary | None = None,
    *,
    equal_var: bool | None = None,
    r: Sequence[float] | None = None,
) -> pd.DataFrame:
    r"""Tabulate the p-value of the comparison of change over the pre-post correlation r.

    Parameters
    ----------
    treatment, control : ArmSummary
        The arms (``control=None``: the within-arm paired test of follow-up − baseline).
    equal_var : bool
        Student (True) or Welch (False); required for two arms, unset for one.
    r : sequence of float, optional
        Correlations in [-1, 1]; default 0, 0.01, ..., 0.99 (the plausible range [0, 1)). The same r
        is assumed in both arms. An arm with a published ``change_sd`` uses it at every r.

    Returns
    -------
    DataFrame
        Columns :data:`P_OVER_R_COLUMNS`, one row per r (``sd_change_control`` is NaN for one arm).

    Notes
    -----
    :math:`s_{change}(r) = \sqrt{s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}}` per arm (Cochrane
    Handbook 6.5.2.8), then :func:`~trialkit.reproduce.audit.t_from_summary` (or
    :func:`~trialkit.reproduce.audit.paired_t_from_summary`) on the mean
    changes. Larger r means smaller change SDs, larger |t| and, for Student and paired tests, a
    smaller p (see :func:`implied_r`).

    Examples
    --------
    >>> arm = ArmSummary(10, 2.33, 2.002248735796829, baseline_mean=0.75, baseline_sd=1.7890096577591625)
    >>> table = p_change_over_r(arm, r=[0.0, 0.79517020583357778])
    >>> [round(p, 6) for p in table["p_value"]]
    [0.095689, 0.002833]
    """
    method = choose_method(control, equal_var)
    design = build_design(Comparison.CHANGE, treatment, control, method)
    grid = (
        np.round(np.arange(100) / 100, 2)
        if r is None
        else np.array([check_interval(x, "r", "[-1, 1]", "a correlation") for x in r], dtype=float)
    )
    v1, _ = design.var1(grid, 0.0)
    v2 = design.var2(grid, 0.0)[0] if design.var2 is not None else None
    p = p_from(design, abs(design.estimate), v1, v2)
    se2, df = squared_se_and_df(design, v1, v2)
    se = np.sqrt(se2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = design.estimate / se
    return pd.DataFrame(
        {
            "r": grid,
            "sd_change_treatment": np.sqrt(v1),
            "sd_change_control": np.sqrt(v2) if v2 is not None else np.full(grid.shape, np.nan),
            "estimate": np.full(grid.shape, design.estimate),
            "std_error": se,
            "df": df,
            "statistic": t,
            "p_value": p,
        },
        columns=list(P_OVER_R_COLUMNS),
    )


@dataclass(frozen=True)
class ImpliedR:
    """The pre-post correlations that reproduce a target p (see :func:`implied_r`).

    Attributes
    ----------
    target_p : float
    roots : tuple of float
        Isolated r in ``r_range`` with p(r) = target_p.
    intervals : tuple of (float, float)
        Whole intervals of r with p(r) = target_p (only when p does not depend on r: no mean
        difference, or an arm without spread at one time point).
    r_range : (float, float)
    p_at_ends : (float, float)
        p at the two ends of ``r_range``.
    monotone : bool
        Whether p(r) is monotone over the search grid (always for Student and paired tests).
    """

    target_p: float
    roots: tuple[float, ...]
    intervals: tuple[tuple[float, float], ...]
    r_range: tuple[float, float]
    p_at_ends: tuple[float, float]
    monotone: bool


def implied_r(
    target_p: float,
    treatment: ArmSummary,
    control: ArmSummary | None = None,
    *,
    equal_var: bool | None = None,
    r_range: Sequence[float] = (0.0, 1.0),
    grid: int = 401,
) -> ImpliedR:
    r"""Solve for the pre-post correlation r at which the change comparison gives ``target_p``.

    Parameters
    ----------
    target_p : float
        The p-value to reproduce, in (0, 1] (exact; for a printed p use
        :func:`~trialkit.reproduce.audit.table_verdict`).
    treatment, control, equal_var
        As in :func:`p_change_over_r`.
    r_range : (float, float), default (0, 1)
        The closed search interval within [-1, 1]; at r = 1 an arm with equal baseline and
        follow-up SDs has a change SD of 0 and p is its limit, 0.
    grid : int, default 401
        Points at which sign changes are bracketed before ``brentq`` refines each one.

    Returns
    -------
    ImpliedR
        Zero, one or several roots (or a whole interval when p does not depend on r).

    Notes
    -----
    Monotonicity: each arm's change variance :math:`s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}`
    decreases linearly in r, so the SE decreases and |t| increases. With a fixed df (paired, Student)
    p is therefore strictly decreasing in r (for a non-zero mean difference and positive SDs): at
    most one root. Welch's df changes with r, so p(r) need not be monotone and several roots are
    possible: all sign changes on the grid are returned (two roots closer than the grid step,
    ``(high - low) / (grid - 1)``, can be missed). Roots are found on :math:`\log p - \log p^*`
    with ``brentq`` (xtol 1e-14).

    Examples
    --------
    >>> arm = ArmSummary(10, 2.33, 2.002248735796829, baseline_mean=0.75, baseline_sd=1.7890096577591625)
    >>> res = implied_r(0.0028328901973842702, arm)
    >>> [round(x, 8) for x in res.roots]   # cor(drug 1, drug 2) in Student's sleep data
    [0.79517021]
    """
    target = check_interval(target_p, "target_p", "(0, 1]", "a p-value")
    lo, hi = check_r_range(r_range)
    grid = check_integer(grid, "grid", 3)
    method = choose_method(control, equal_var)
    design = build_design(Comparison.CHANGE, treatment, control, method)

    def p_of(r: np.ndarray) -> np.ndarray:
        return p_range(design, np.asarray(r, dtype=float), 0.0)[0]

    ends = p_of(np.array([lo, hi]))
    xs = np.linspace(lo, hi, grid)
    ps = p_of(xs)
    if np.all(ps == ps[0]) or not design.depends_on_r:
        same = bool(np.isfinite(ps[0]) and math.isclose(float(ps[0]), target, rel_tol=1e-12))
        return ImpliedR(target, (), ((lo, hi),) if same else (), (lo, hi), (float(ends[0]), float(ends[1])), True)
    steps = np.diff(ps[np.isfinite(ps)])
    monotone = bool(np.all(steps <= 0) or np.all(steps >= 0))
    roots = find_roots(lambda r: log_gap(p_of(r), target), lo, hi, grid)
    return ImpliedR(target, tuple(roots), (), (lo, hi), (float(ends[0]), float(ends[1])), monotone)
