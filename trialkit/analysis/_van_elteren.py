r"""Van Elteren's stratified Wilcoxon rank-sum test, with a stratified Hodges–Lehmann shift and interval.

Within each stratum s the pooled values of both groups are ranked (mid-ranks for ties); the rank
sum of ``x`` is weighted by 1 / (n_s + 1), which gives every stratum the weight of its
locally most powerful share (van Elteren 1960, *Bull. Int. Stat. Inst.* 37, 351–361). With
U_s the Mann–Whitney count of stratum s (its rank sum of ``x`` minus m_s(m_s + 1)/2), m_s and l_s
the group sizes, n_s = m_s + l_s and T_s = Σ(t³ − t) over its tie groups,

.. math:: z = \frac{\sum_s (U_s - m_s l_s / 2) / (n_s + 1)}
               {\sqrt{\sum_s \frac{m_s l_s}{12 (n_s + 1)^2}\bigl(n_s + 1 - \frac{T_s}{n_s (n_s - 1)}\bigr)}},

referred to the standard normal (two-sided p, no continuity correction: SAS PROC FREQ's van
Elteren test, the CMH "row mean scores differ" statistic with modified ridit scores, is z²).

The shift estimate and interval invert the test in a shift d of ``x``: z(d), the statistic of
``x - d`` against ``y`` stratum by stratum, is a non-increasing step function whose steps sit at
the within-stratum differences x_i − y_j. The estimate is the midpoint of
[sup{d : z(d) > 0}, inf{d : z(d) < 0}] (without strata this is the median of the differences, the
Hodges–Lehmann estimate), and the 1 − alpha interval is the closure of
{d : |z(d)| <= z_{1−alpha/2}}. Each end is found by bisection on d to 1e-12 of the data's span and
then set to the within-stratum difference there (so it is that difference, to the last bit),
with the statistic evaluated by :class:`~trialkit.analysis._rank_shift.RankSumShift` (the
machinery of :func:`~trialkit.analysis.mann_whitney`). When even the most extreme shift cannot
make |z| exceed the quantile (tiny strata), that end of the interval does not exist: it is NaN and
``note`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_instance, check_names, check_sample
from trialkit._errors import AnalysisError, TrialkitError
from trialkit.analysis._ancova import _codes
from trialkit.analysis._arguments import sample
from trialkit.analysis._distributions import normal_two_sided_p, normal_upper_quantile
from trialkit.analysis._rank_shift import RankSumShift
from trialkit.analysis._rank_tests import RankTest

__all__ = ["van_elteren", "van_elteren_arrays"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
NAN = math.nan
#: the bisections stop when the bracket is this fraction of the data's span
_BISECTION_TOL = 1e-12


def _stratum_codes(codes: object, name: str, size: int, count: int | None) -> Ints:
    """Return ``codes`` as non-negative integer codes, one per value of the sample they label."""
    try:
        array = np.asarray(codes)
    except (TypeError, ValueError):  # pragma: no cover - numpy turns almost anything into an array
        array = np.asarray([], dtype=object)
    integral = array.ndim == 1 and array.dtype.kind in "iu"
    if (
        not integral
        or (array.size and int(array.min()) < 0)
        or (count is not None and array.size and array.max() >= count)
    ):
        limit = f" below {count}" if count is not None else ""
        raise TrialkitError(f"`{name}` must hold integer stratum codes >= 0{limit}; got {codes!r}.")
    if array.size != size:
        raise TrialkitError(f"`{name}` must hold one stratum code per value ({size}); got {array.size} codes.")
    return array.astype(np.int64)


class _Statistic:
    """The standardised van Elteren statistic of ``x - d`` against ``y``, for any shift d."""

    def __init__(self, x: Floats, y: Floats, sx: Ints, sy: Ints, present: Ints) -> None:
        self.shifts = [RankSumShift(x[sx == s], y[sy == s]) for s in present]
        self.n_x = np.array([np.count_nonzero(sx == s) for s in present], dtype=np.float64)
        self.n_y = np.array([np.count_nonzero(sy == s) for s in present], dtype=np.float64)
        self.n = self.n_x + self.n_y

    def parts(self, d: float) -> tuple[float, float]:
        """Return the weighted centred rank sum and its null variance at shift ``d``."""
        u = np.empty(len(self.shifts))
        ties = np.empty(len(self.shifts))
        for i, shift in enumerate(self.shifts):
            u[i], ties[i] = shift.at(d)
        m, k, n = self.n_x, self.n_y, self.n
        centred = float(np.sum((u - m * k / 2) / (n + 1)))
        variance = float(np.sum(m * k / 12 * (n + 1 - ties / (n * (n - 1))) / (n + 1) ** 2))
        return centred, variance

    def nearest_difference(self, d: float) -> float:
        """Return the within-stratum difference x_i − y_j closest to ``d`` (where z(d) can step)."""
        best, gap = d, math.inf
        for shift in self.shifts:
            xs, ys = shift.x_values, shift.y_values
            at = np.clip(np.searchsorted(ys, xs - d), 1, ys.size - 1) if ys.size > 1 else np.zeros(xs.size, dtype=int)
            for j in (at - 1, at) if ys.size > 1 else (at,):
                diffs = xs - ys[j]
                i = int(np.argmin(np.abs(diffs - d)))
                if abs(float(diffs[i]) - d) < gap:
                    best, gap = float(diffs[i]), abs(float(diffs[i]) - d)
        return best

    def z(self, d: float) -> float:
        centred, variance = self.parts(d)
        return centred / math.sqrt(variance) if variance > 0 else 0.0


def _boundary(
    holds: Callable[[float], bool], lo: float, hi: float, tol: float, snap: Callable[[float], float]
) -> float:
    """Return where a predicate true at ``lo`` and false at ``hi`` (and monotone between) changes.

    Bisection to ``tol``, then the difference ``snap`` finds nearest, when it lies in the final bracket
    widened by ``tol`` (it always should: z(d) steps only at differences).
    """
    while hi - lo > tol:
        mid = lo + (hi - lo) / 2
        if mid <= lo or mid >= hi:
            break
        if holds(mid):
            lo = mid
        else:
            hi = mid
    nearest = snap(lo + (hi - lo) / 2)
    return nearest if lo - tol <= nearest <= hi + tol else lo + (hi - lo) / 2


def van_elteren_arrays(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    stratum_x: npt.ArrayLike,
    stratum_y: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    strata: Sequence[str] | None = None,
) -> RankTest:
    r"""Compare two groups within strata with van Elteren's stratified Wilcoxon rank-sum test.

    Parameters
    ----------
    x, y : array_like of float
        The two samples (e.g. follow-up values of the treatment and control arms); no missing
        values; at least one value each.
    stratum_x, stratum_y : array_like of int
        Stratum code (>= 0) of each value of ``x`` and of ``y``.
    alpha : float
        1 - confidence level of the interval, in (0, 1).
    strata : sequence of str, optional
        Names of the stratum codes (code k is ``strata[k]``), used in messages; default the
        codes themselves.

    Returns
    -------
    RankTest
        ``statistic`` the standardised statistic z (positive when ``x`` tends to be larger),
        two-sided normal p, the stratified shift estimate (x minus y) and its interval;
        ``exact`` False; ``note`` says when an end of the interval does not exist.

    Raises
    ------
    TrialkitError
        A sample that is not a flat sequence of finite numbers; stratum codes that are not
        non-negative integers, one per value (below ``len(strata)`` when given); ``alpha``
        outside (0, 1); ``strata`` not distinct names.
    AnalysisError
        An empty sample (``term`` = ``x`` or ``y``); a single stratum, or a stratum holding only
        one of the groups (``term`` = ``stratum``, the message names the stratum and the group
        missing: such a stratum carries no information on the difference, and dropping its
        subjects silently would change the analysed set); every stratum's values all equal
        (``term`` = ``value``).

    Notes
    -----
    z as in the module docstring (van Elteren 1960; Lehmann 1975, *Nonparametrics*, §3.3). The
    estimate is the midpoint of the shifts where z(d) changes sign, the interval the closure of
    {d : |z(d)| <= z_{1−alpha/2}}, both from the step function z(d): each is a within-stratum
    difference (or the midpoint of two), found by bisection and set to the difference itself.
    Without continuity correction, one stratum would reduce to ``wilcox.test(x, y, correct =
    FALSE)``; the test refuses one stratum because the stratified analysis was asked for.

    Matches an implementation from the definition in R (tests/reference/van_elteren/: HSAUR3
    ``BtheB`` with four strata, and synthetic tied data) to a relative error of 1e-12.

    Examples
    --------
    >>> r = van_elteren_arrays([3.1, 4.2, 5.0, 7.5, 8.1], [2.0, 2.2, 4.0, 6.0, 6.5],
    ...                        [0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    >>> round(r.statistic, 4), round(r.p_value, 4), round(r.estimate, 4)
    (1.2247, 0.2207, 1.05)
    """
    xs, ys = sample(x, "x"), sample(y, "y")
    names = None if strata is None else check_names(strata, "strata", 1)
    count = None if names is None else len(names)
    sx = _stratum_codes(stratum_x, "stratum_x", xs.size, count)
    sy = _stratum_codes(stratum_y, "stratum_y", ys.size, count)
    alpha = check_alpha(alpha)

    def label(code: int) -> str:
        return repr(names[code]) if names is not None else str(code)

    present = np.union1d(sx, sy)
    if present.size < 2:
        raise AnalysisError(
            f"every value is in stratum {label(int(present[0]))}: a stratified test needs at least two strata.",
            term="stratum",
        )
    lacking = []
    for s in present:
        for group, codes in (("x", sx), ("y", sy)):
            if not np.any(codes == s):
                lacking.append(f"stratum {label(int(s))} has no value of `{group}`")
    if lacking:
        raise AnalysisError("; ".join(lacking) + ": a stratum needs both groups to compare them.", term="stratum")
    statistic = _Statistic(xs, ys, sx, sy, present)
    centred, variance = statistic.parts(0.0)
    if variance == 0:
        raise AnalysisError("every stratum's values are all equal: the van Elteren test is undefined.", term="value")
    z0 = centred / math.sqrt(variance)
    p = normal_two_sided_p(z0)

    diffs_lo = min(float(xs[sx == s].min() - ys[sy == s].max()) for s in present)
    diffs_hi = max(float(xs[sx == s].max() - ys[sy == s].min()) for s in present)
    span = max(diffs_hi - diffs_lo, float(np.max(np.abs(xs))), float(np.max(np.abs(ys))), 1e-300)
    lo, hi = diffs_lo - span, diffs_hi + span  # beyond every difference: z is at its extremes
    tol = _BISECTION_TOL * span
    z = statistic.z
    below = _boundary(lambda d: z(d) > 0, lo, hi, tol, statistic.nearest_difference)
    above = _boundary(lambda d: z(d) >= 0, lo, hi, tol, statistic.nearest_difference)
    estimate = (below + above) / 2
    zq = normal_upper_quantile(alpha / 2)
    notes = []
    if z(lo) > zq:
        ci_low = _boundary(lambda d: z(d) > zq, lo, hi, tol, statistic.nearest_difference)
    else:
        ci_low = NAN
        notes.append("no shift of `x` is rejected on the low side, so the interval has no lower limit")
    if z(hi) < -zq:
        ci_high = _boundary(lambda d: z(d) >= -zq, lo, hi, tol, statistic.nearest_difference)
    else:
        ci_high = NAN
        notes.append("no shift of `x` is rejected on the high side, so the interval has no upper limit")
    note = ""
    if notes:
        note = (
            "; ".join(notes) + f": with these strata the statistic cannot reach ±{zq:.4g} (the {1 - alpha:.4g} level)."
        )
    tied = any(shift.at(0.0)[1] > 0 for shift in statistic.shifts)
    return RankTest(z0, p, estimate, ci_low, ci_high, False, 1 - alpha, note, "normal_ties" if tied else "normal")


def van_elteren(frame: pd.DataFrame, *, arms: Sequence[str], alpha: float = 0.05) -> RankTest:
    """Compare a treatment arm with control within strata by van Elteren's test (from a frame).

    Parameters
    ----------
    frame : DataFrame
        One row per subject: ``arm``, ``y`` (the outcome) and ``stratum`` (any values: text or
        numbers); no missing values. The frame is not modified.
    arms : sequence of str
        The control arm and the treatment arm, in that order; every ``arm`` value must be one of
        them.
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    RankTest
        As :func:`van_elteren_arrays` with ``x`` the treatment arm's values and ``y`` the
        control's: z, two-sided p, the stratified shift (treatment minus control) and its
        interval.

    Raises
    ------
    TrialkitError
        ``frame`` not a DataFrame or without the columns; a missing or non-finite outcome; an
        arm value not in ``arms``; ``arms`` not two distinct names; ``alpha`` outside (0, 1).
    AnalysisError
        An arm without subjects (``term`` = ``x`` or ``y``), a single stratum, a stratum without
        one of the arms (``term`` = ``stratum``, naming the stratum value and the arm), or every
        stratum's values equal (``term`` = ``value``).

    Notes
    -----
    Strata are the distinct values of ``stratum``, named by their text in messages. See
    :func:`van_elteren_arrays` for the statistic, estimate and interval, and
    ``docs/strata-and-dunnett.md``.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["t"] * 5 + ["c"] * 5,
    ...                       "y": [3.1, 4.2, 5.0, 7.5, 8.1, 2.0, 2.2, 4.0, 6.0, 6.5],
    ...                       "stratum": ["A", "A", "B", "B", "B", "A", "A", "A", "B", "B"]})
    >>> round(van_elteren(frame, arms=["c", "t"]).p_value, 4)
    0.2207
    """
    check_instance(frame, "frame", pd.DataFrame, "a DataFrame")
    names = check_names(arms, "arms", 2)
    if len(names) != 2:
        raise TrialkitError(f"`arms` must name exactly two arms (control, treatment); got {arms!r}.")
    alpha = check_alpha(alpha)
    needed = ("arm", "y", "stratum")
    if any(c not in frame.columns for c in needed):
        raise TrialkitError(
            f"`frame` must have the columns 'arm', 'y', 'stratum'; got {', '.join(map(repr, map(str, frame.columns)))}."
        )
    arm = _codes(frame["arm"], "frame['arm']", names)
    try:
        values = frame["y"].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise TrialkitError(f"`frame['y']` must hold numbers; got dtype {frame['y'].dtype}.") from None
    y = check_sample(values, "frame['y']", minimum=0)
    if frame["stratum"].isna().any():
        raise TrialkitError("`frame['stratum']` must hold no missing values (select complete cases first).")
    codes, levels = pd.factorize(frame["stratum"], sort=False)
    labels = tuple(str(v) for v in levels)
    if len(set(labels)) != len(labels):  # e.g. 1 and "1": keep them apart in messages by their repr
        labels = tuple(repr(v) for v in levels)
    codes = codes.astype(np.int64)
    treated, control = arm == 1, arm == 0
    try:
        return van_elteren_arrays(y[treated], y[control], codes[treated], codes[control], alpha=alpha, strata=labels)
    except AnalysisError as exc:
        message = str(exc).replace("`x`", f"arm {names[1]!r}").replace("`y`", f"arm {names[0]!r}")
        raise AnalysisError(message, term=exc.term) from None
