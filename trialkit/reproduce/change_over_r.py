"""The comparison of change from baseline as a function of the pre-post correlation r.

A published table rarely gives the SD of change; it follows from the SDs at baseline and follow-up
and their correlation r, which is rarely published either. :func:`p_change_over_r` tabulates the
p-value of the change comparison over r; :func:`implied_r` solves for the r that gives a
published p. Pure functions of numbers: no I/O, no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.reproduce._checks import TABLE as check
from trialkit.reproduce._p_over_r import (
    build_design,
    check_r_range,
    choose_method,
    find_roots,
    log_gap,
    p_from,
    p_range,
    squared_se_and_df,
)
from trialkit.reproduce.summary_tests import ArmSummary, Comparison

__all__ = ["P_OVER_R_COLUMNS", "ImpliedR", "implied_r", "p_change_over_r"]


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
    r"""The p-value of the comparison of change as a function of the pre-post correlation r.

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
    :math:`s_{change}(r) = \\sqrt{s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}}` per arm (Cochrane
    Handbook 6.5.2.8), then :func:`~trialkit.reproduce.summary_tests.t_from_summary` (or
    :func:`~trialkit.reproduce.summary_tests.paired_t_from_summary`) on the mean
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
        else np.array([check.interval(x, "r", "[-1, 1]", "a correlation") for x in r], dtype=float)
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
        :func:`~trialkit.reproduce.table_verdict.verdict`).
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
    ``(high - low) / (grid - 1)``, can be missed). Roots are found on :math:`\\log p - \\log p^*`
    with ``brentq`` (xtol 1e-14).

    Examples
    --------
    >>> arm = ArmSummary(10, 2.33, 2.002248735796829, baseline_mean=0.75, baseline_sd=1.7890096577591625)
    >>> res = implied_r(0.0028328901973842702, arm)
    >>> [round(x, 8) for x in res.roots]   # cor(drug 1, drug 2) in Student's sleep data
    [0.79517021]
    """
    target = check.interval(target_p, "target_p", "(0, 1]", "a p-value")
    lo, hi = check_r_range(r_range)
    grid = check.integer(grid, "grid", 3)
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
