"""The verdict on a published p-value: whether the published table reproduces it.

:func:`table_verdict` recomputes the p-value of a comparison from the arms' published summaries
(:class:`~trialkit.reproduce.audit.ArmSummary`) and says whether it lands in the interval
the printed p stands for (:class:`~trialkit.reproduce.published.PValue`): at the printed values, over
every table that prints the same, and, when the change SD is unpublished, over the plausible
pre-post correlations r. Pure functions of numbers: no I/O, no state. Validated end to end on
Student's sleep data (tests/reference/table_audit/).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from trialkit._checks import check_in, check_integer
from trialkit._errors import TrialkitError
from trialkit.reproduce._codes import Verdict
from trialkit.reproduce.audit._p_over_r import (
    Design,
    build_design,
    check_r_range,
    choose_method,
    find_roots,
    log_gap,
    p_range,
)
from trialkit.reproduce.audit._summary_tests import ArmSummary, Comparison, TTestMethod
from trialkit.reproduce.published import PValue


def _printed_p(p: PValue | float | str) -> PValue:
    """Return the printed p-value argument as a :class:`PValue` (a number is read as a float)."""
    if isinstance(p, PValue):
        return p
    message = f"`p` must be a p-value in (0, 1] such as 0.03 or '< 0.001'; got {p!r}."
    if isinstance(p, bool) or not isinstance(p, str | int | float | np.floating):
        raise TrialkitError(message)
    try:
        return PValue.parse(p if isinstance(p, str) else float(p))
    except ValueError as exc:
        raise TrialkitError(message) from exc


# --------------------------------------------------------------------------------------------
# the verdict


@dataclass(frozen=True)
class TableVerdict:
    """Whether a published p-value is reproduced from the published table.

    Attributes
    ----------
    verdict : Verdict
        ``reproduced``, ``reproduced_for_r`` or ``not_reproducible``.
    published : PValue
    method : TTestMethod
        The test that reproduces it (or, when none does, the one tried first).
    comparison : Comparison
    estimate : float
        The compared difference at the printed values: treatment − control (of follow-up values,
        or of mean changes), or the mean change within one arm.
    p_value : float
        Recomputed p at the printed values (NaN when it depends on r).
    p_min, p_max : float
        Range of recomputed p over r in ``r_range`` (if it matters) and over the rounding of the
        printed means and SDs (if ``decimals`` was given).
    r_intervals : tuple of (float, float)
        The r for which it is reproduced (empty unless the verdict depends on r).
    r_range : (float, float)
    reason : str
    """

    verdict: Verdict
    published: PValue
    method: TTestMethod
    comparison: Comparison
    estimate: float
    p_value: float
    p_min: float
    p_max: float
    r_intervals: tuple[tuple[float, float], ...]
    r_range: tuple[float, float]
    reason: str


def _r_set(
    design: Design, published: PValue, half: float, lo: float, hi: float, grid: int
) -> list[tuple[float, float]]:
    """Intervals of r in [lo, hi] at which the p range meets the published interval."""

    def p_min(r: np.ndarray) -> np.ndarray:
        return p_range(design, r, half)[0]

    def p_max(r: np.ndarray) -> np.ndarray:
        return p_range(design, r, half)[1]

    def meets(r: float) -> bool:
        return published.overlaps(*(float(x[0]) for x in p_range(design, np.array([r]), half)))

    low, high = published.interval
    cuts = {lo, hi}
    if low > 0:
        cuts.update(find_roots(lambda r: log_gap(p_max(r), low), lo, hi, grid))
    if high < 1:
        cuts.update(find_roots(lambda r: log_gap(p_min(r), high), lo, hi, grid))
    points = sorted(cuts)
    spans: list[tuple[float, float]] = []
    for a, b in zip(points[:-1], points[1:], strict=True):
        if meets((a + b) / 2):
            if spans and spans[-1][1] == a:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    for x in (lo, hi):  # a range end can meet the interval alone
        if meets(x) and not any(a <= x <= b for a, b in spans):
            spans.append((x, x))
    return sorted(spans)


def table_verdict(
    published_p: PValue | float | str,
    treatment: ArmSummary,
    control: ArmSummary | None = None,
    *,
    comparison: Comparison | str = Comparison.CHANGE,
    equal_var: bool | None = None,
    decimals: int | None = None,
    r_range: Sequence[float] = (0.0, 1.0),
    grid: int = 401,
) -> TableVerdict:
    r"""Say whether a published p-value is reproduced by the published table: one comparison, one verdict.

    Parameters
    ----------
    published_p : PValue, float or str
        As printed: ``0.03`` means [0.025, 0.035); ``"< 0.001"`` means below 0.001 (a string keeps
        trailing zeros: ``"0.030"``); or as read from a published-results file.
    treatment, control : ArmSummary
        Published arm summaries. ``control=None``: the within-arm paired test of change.
    comparison : Comparison, default "change"
        ``follow_up``: t-test on the follow-up values; ``change``: on change from baseline, with the
        published change SDs when both arms have them, otherwise over the pre-post correlation r.
    equal_var : bool, optional
        Student (True) or Welch (False). Unset with two arms: both are tried and the verdict names
        the one that reproduces the p-value (the publication did not say which).
    decimals : int, optional
        The table's means and SDs were printed to this many places: recomputed p becomes the
        range over every table that prints the same (means ± half a unit in the last place, SDs
        likewise). Exact for paired and Student tests; for Welch the extremes are taken over the
        corners of the rounding box (the df moves little within it).
    r_range : (float, float), default (0, 1)
        Plausible pre-post correlations, when r matters.
    grid : int, default 401
        Grid for bracketing the ends of the r intervals (see :func:`implied_r`).

    Returns
    -------
    TableVerdict
        ``reproduced`` (at the printed values, or for every r in ``r_range``), ``reproduced_for_r``
        (only for some r: the intervals are given) or ``not_reproducible``, with the reason.

    Notes
    -----
    The recomputed p is :func:`t_from_summary` / :func:`paired_t_from_summary` on the published
    numbers, SDs converted to divisor n − 1 (``ArmSummary.sd_ddof``). When r matters the set of r
    whose p (range) meets the printed interval is found from the roots of
    :math:`\log p_{max}(r) - \log p_{low}` and :math:`\log p_{min}(r) - \log p_{high}`.
    Validated end to end on Student's sleep data (tests/reference/table_audit/): the paired
    p printed as 0.003 is reproduced only for an r interval that contains the data's r = 0.795.

    Examples
    --------
    >>> drug = ArmSummary(10, 2.33, 1.90, baseline_mean=0.75, baseline_sd=1.70, sd_ddof=0)
    >>> res = table_verdict("0.003", drug, decimals=2)
    >>> res.verdict.value, res.r_intervals[0][0] < 0.795 < res.r_intervals[0][1]
    ('reproduced_for_r', True)
    """
    published = _printed_p(published_p)
    comparison = check_in(comparison, "comparison", Comparison)
    half = 0.0 if decimals is None else 0.5 * 10.0 ** -check_integer(decimals, "decimals", 0)
    lo, hi = check_r_range(r_range)
    grid = check_integer(grid, "grid", 3)
    if control is None:
        methods = [choose_method(None, equal_var)]
    elif equal_var is None:
        methods = [TTestMethod.WELCH, TTestMethod.STUDENT]
    else:
        methods = [choose_method(control, equal_var)]
    tried = [
        _verdict_one(published, build_design(comparison, treatment, control, m), comparison, half, lo, hi, grid)
        for m in methods
    ]
    order = {Verdict.REPRODUCED: 0, Verdict.REPRODUCED_FOR_R: 1, Verdict.NOT_REPRODUCIBLE: 2}
    best = min(tried, key=lambda v: order[v.verdict])  # stable: Welch first on ties
    if len(tried) > 1:
        others = [v for v in tried if v is not best]
        text = "; ".join(f"{v.method.value}: {v.verdict.label}" for v in others)
        best = replace(best, reason=f"{best.reason}; {text}")
    return best


def _verdict_one(
    published: PValue, design: Design, comparison: Comparison, half: float, lo: float, hi: float, grid: int
) -> TableVerdict:
    shown = published.as_written
    rounding = " over the rounding of the table" if half > 0 else ""
    if not design.depends_on_r:
        r0 = np.array([0.0])
        at = float(p_range(design, r0, 0.0)[0][0])
        p_lo, p_hi = (float(x[0]) for x in p_range(design, r0, half))
        span = f"p = {at:.4g}" if half == 0 else f"p = {at:.4g} (range {p_lo:.4g} to {p_hi:.4g}{rounding})"
        if published.overlaps(p_lo, p_hi):
            kind, where = Verdict.REPRODUCED, "within"
        else:
            kind, where = Verdict.NOT_REPRODUCIBLE, "outside"
        reason = f"{design.description}: {span}, {where} {published.interval_text} (printed {shown})"
        return TableVerdict(
            kind, published, design.method, comparison, design.estimate, at, p_lo, p_hi, (), (lo, hi), reason
        )
    xs = np.linspace(lo, hi, grid)
    lows, highs = p_range(design, xs, half)
    p_lo, p_hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    spans = _r_set(design, published, half, lo, hi, grid)
    ends = p_range(design, np.array([lo, hi]), 0.0)[0]
    where = (
        f"{design.description}: p = {ends[0]:.4g} at r = {lo:g} and {ends[1]:.4g} at r = {hi:g}"
        f"{'; ' + rounding.strip() if half > 0 else ''}"
    )
    if spans == [(lo, hi)]:
        kind = Verdict.REPRODUCED
        reason = f"{where}: within {published.interval_text} (printed {shown}) for every r in [{lo:g}, {hi:g}]"
    elif spans:
        kind = Verdict.REPRODUCED_FOR_R
        text = " or ".join(f"[{a:.4f}, {b:.4f}]" for a, b in spans)
        reason = f"{where}: within {published.interval_text} (printed {shown}) only for r in {text}"
    else:
        kind = Verdict.NOT_REPRODUCIBLE
        reason = f"{where}: no r in [{lo:g}, {hi:g}] gives p within {published.interval_text} (printed {shown})"
    return TableVerdict(
        kind,
        published,
        design.method,
        comparison,
        design.estimate,
        math.nan,
        p_lo,
        p_hi,
        tuple(spans),
        (lo, hi),
        reason,
    )
