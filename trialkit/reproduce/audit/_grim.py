"""GRIM and GRIMMER: whether a printed mean (and SD) is possible for integer data of that size.

:func:`grim` asks whether some integer total of n responses gives a mean that prints as the
published one; :func:`grimmer` asks the same of a printed mean and SD together. Both are exact
(rational arithmetic) and say under which rounding convention (:class:`Rounding`) a value is
possible. Pure functions of numbers: no I/O, no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from trialkit._checks import check_integer
from trialkit._errors import TrialkitError
from trialkit.reproduce.audit._rounding import (
    ROUNDINGS,
    Reported,
    Rounding,
    as_roundings,
    check_ddof,
    join_modes,
    printed,
    reported,
    round_to,
    window,
)

# --------------------------------------------------------------------------------------------
# GRIM


@dataclass(frozen=True)
class GrimResult:
    """Outcome of the GRIM test for one reported mean.

    Attributes
    ----------
    consistent : bool
        Some integer total of the ``n * items`` responses gives a mean that prints as ``mean``.
    conventions : tuple of Rounding
        The rounding conventions under which it does (empty when inconsistent).
    mean, n, items, decimals
        The inputs.
    granularity : int
        ``n * items``: means of integer data are multiples of ``1 / granularity``.
    informative : bool
        ``granularity < 10**decimals``; otherwise every printed mean is possible and GRIM cannot
        find an inconsistency.
    sums : range
        The integer totals whose mean prints as ``mean`` under some convention considered.
    reason : str
        The arithmetic behind the answer.
    """

    consistent: bool
    conventions: tuple[Rounding, ...]
    mean: float
    n: int
    items: int
    decimals: int
    granularity: int
    informative: bool
    sums: range
    reason: str


def _grim_sums(mean: Fraction, granularity: int, decimals: int, mode: Rounding) -> range:
    w = window(mean, decimals, mode)
    lo, hi = math.ceil(w.low * granularity), math.floor(w.high * granularity)
    if not w.contains(Fraction(lo, granularity)):
        lo += 1
    if hi >= lo and not w.contains(Fraction(hi, granularity)):
        hi -= 1
    return range(lo, max(hi + 1, lo))


def _union(ranges: Sequence[range]) -> range:
    filled = [r for r in ranges if len(r)]
    if not filled:
        return range(0)
    return range(min(r.start for r in filled), max(r.stop for r in filled))


def grim(
    mean: Reported,
    n: int,
    *,
    decimals: int,
    items: int = 1,
    rounding: Rounding | str | Sequence[Rounding | str] = ROUNDINGS,
) -> GrimResult:
    r"""Test whether a mean printed to ``decimals`` places can come from ``n`` integer responses (GRIM).

    Parameters
    ----------
    mean : float or str
        The mean as printed (a str such as ``"5.10"`` keeps the printed digits exactly; a float is
        read through its shortest repr).
    n : int
        Number of participants (>= 1).
    decimals : int
        Decimal places printed (>= 0).
    items : int, default 1
        Integer items averaged per participant (a mean of a 3-item scale: ``items=3``).
    rounding : Rounding or sequence, default both
        Conventions to try; the result is consistent when any of them works, and says which.

    Returns
    -------
    GrimResult

    Raises
    ------
    TrialkitError
        ``n`` < 1, ``items`` < 1, ``decimals`` < 0, ``mean`` not a number or printed with more
        than ``decimals`` places, or an unknown rounding convention.

    Notes
    -----
    Brown & Heathers (2017): the mean of :math:`N = n \cdot \text{items}` integers is
    :math:`T/N` for an integer total :math:`T`. The printed mean :math:`M` is consistent when some
    :math:`T` has :math:`\operatorname{round}_d(T/N) = M`, i.e. :math:`T/N` lies in
    :math:`[M - h, M + h]` with :math:`h = 0.5 \cdot 10^{-d}`, the ends included or not as the
    convention says (half up: the end away from zero is excluded; half even: both ends included
    when the last printed digit is even, else both excluded). The test is exact (rational
    arithmetic) and only informative when :math:`N < 10^d`.

    References: Brown, N. J. L. & Heathers, J. A. J. (2017). The GRIM test: a simple technique
    detects numerous anomalies in the reporting of results in psychology. *Social Psychological
    and Personality Science* 8(4):363-369.

    Examples
    --------
    >>> grim(5.19, 28, decimals=2).consistent   # 145/28 = 5.179 -> 5.18, 146/28 = 5.214 -> 5.21
    False
    >>> grim(5.18, 28, decimals=2).consistent
    True
    >>> [c.value for c in grim("1.13", 8, decimals=2).conventions]   # 9/8 = 1.125 exactly
    ['half_up']
    """
    n = check_integer(n, "n", 1)
    items = check_integer(items, "items", 1)
    decimals = check_integer(decimals, "decimals", 0)
    modes = as_roundings(rounding)
    m = reported(mean, "mean", decimals, "decimals")
    g = n * items
    per_mode = {mode: _grim_sums(m, g, decimals, mode) for mode in modes}
    ok = tuple(mode for mode in modes if len(per_mode[mode]))
    sums = _union(list(per_mode.values()))
    informative = g < 10**decimals
    shown = printed(m, decimals)
    who = f"{n} participants × {items} items = {g} responses" if items > 1 else f"{n} responses"
    if ok:
        t = sums.start
        reason = (
            f"total {t} of {who} gives {t}/{g} = {float(Fraction(t, g)):.6g}, which prints as "
            f"{shown} ({join_modes(ok)})"
        )
        if not informative:
            reason += (
                f"; with {g} >= 10^{decimals} responses every mean printed to {decimals} "
                "decimals is possible, so GRIM cannot detect an inconsistency here"
            )
    else:
        below = math.floor(m * g)
        parts = [
            f"{k}/{g} = {float(Fraction(k, g)):.6g} prints as "
            + " or ".join(dict.fromkeys(printed(round_to(Fraction(k, g), decimals, mode), decimals) for mode in modes))
            for k in (below, below + 1)
        ]
        reason = (
            f"{shown} × {g} = {float(m * g):.6g} is not a total of {who}: {'; '.join(parts)}; none prints as {shown}"
        )
    return GrimResult(bool(ok), ok, float(m), n, items, decimals, g, informative, sums, reason)


# --------------------------------------------------------------------------------------------
# GRIMMER

_STAGES = ("grim", "sum_of_squares", "parity", "minimum", "attainable")


@dataclass(frozen=True)
class GrimmerResult:
    """Outcome of the GRIMMER test for one reported mean and SD.

    Attributes
    ----------
    consistent : bool
        Some set of ``n`` integer scores (sums of ``items`` integer responses) has a mean and an
        SD that print as reported, under one rounding convention applied to both.
    conventions : tuple of Rounding
        The conventions under which it does.
    mean, sd, n, items, decimals_mean, decimals_sd, ddof
        The inputs.
    grim : GrimResult
        The GRIM test of the mean alone.
    failed : str or None
        The furthest check that rejected every candidate: ``grim``, ``sum_of_squares`` (no integer
        sum of squares gives the SD), ``parity``, ``minimum`` (the SD is below the smallest SD of
        integer data with that total) or ``attainable`` (n <= 4: no integers realise it).
        None when consistent.
    sums : tuple of int
        Totals of all responses (in units of one response) with at least one possible sum of squares.
    n_candidates : int
        Number of (total, sum of squares) pairs that pass every check.
    reason : str
        Why, in words.
    """

    consistent: bool
    conventions: tuple[Rounding, ...]
    mean: float
    sd: float
    n: int
    items: int
    decimals_mean: int
    decimals_sd: int
    ddof: int
    grim: GrimResult
    failed: str | None
    sums: tuple[int, ...]
    n_candidates: int
    reason: str


def _minimum_squares(n: int, total: int) -> int:
    q, r = divmod(total, n)
    return (n - r) * q * q + r * (q + 1) * (q + 1)


def _attainable(n: int, total: int, squares: int, lowest: int | None = None) -> bool:
    """Whether ``n`` integers (each >= ``lowest``) have this sum and sum of squares (exact)."""
    if n == 1:
        return total * total == squares and (lowest is None or total >= lowest)
    if n == 2:
        disc = 2 * squares - total * total  # (y1 - y2)^2
        if disc < 0:
            return False
        d = math.isqrt(disc)
        if d * d != disc or (d - total) % 2:
            return False
        return lowest is None or (total - d) // 2 >= lowest
    spread = Fraction(squares) - Fraction(total * total, n)  # sum of squared deviations
    if spread < 0:
        return False
    # the smallest value y1 <= floor(mean) and (y1 - mean)^2 <= spread * (n - 1) / n
    start = math.floor(total / n - math.sqrt(float(spread * (n - 1) / n))) - 1
    if lowest is not None:
        start = max(start, lowest)
    return any(_attainable(n - 1, total - y, squares - y * y, y) for y in range(start, total // n + 1))


def grimmer(
    mean: Reported,
    sd: Reported,
    n: int,
    *,
    decimals_mean: int,
    decimals_sd: int,
    items: int = 1,
    ddof: int = 1,
    rounding: Rounding | str | Sequence[Rounding | str] = ROUNDINGS,
) -> GrimmerResult:
    r"""Test whether the printed SD is possible for ``n`` integer scores with the printed mean (GRIMMER).

    Parameters
    ----------
    mean, sd : float or str
        As printed (str keeps the printed digits exactly).
    n : int
        Number of participants (>= 2).
    decimals_mean, decimals_sd : int
        Decimal places printed for the mean and for the SD.
    items : int, default 1
        Integer items averaged per participant.
    ddof : {1, 0}, default 1
        The SD's divisor is ``n - ddof`` (1: the sample SD; 0: divisor n, as Student 1908 printed).
    rounding : Rounding or sequence, default both
        Conventions to try (the same convention is applied to the mean and the SD).

    Returns
    -------
    GrimmerResult

    Raises
    ------
    TrialkitError
        ``n`` < 2, negative ``sd``, values printed with more decimals than declared, bad options.

    Notes
    -----
    Anaya (2016); analytic form after Allard (2018). Work with the participant scores
    :math:`y_i = \text{items} \cdot x_i`, which are integers. For each total :math:`T = \sum y_i`
    allowed by GRIM, the sum of squares :math:`Q = \sum y_i^2 = (n - \text{ddof})\,
    \text{items}^2 s^2 + T^2/n` must be an **integer** with :math:`s` in the printed SD's rounding
    interval (exact rational bounds, ends per convention), and

    1. parity: :math:`y^2 \equiv y \pmod 2`, so :math:`Q \equiv T \pmod 2`;
    2. minimum: :math:`Q \ge (n - r) q^2 + r (q + 1)^2` with :math:`T = nq + r`, the values as
       equal as integers allow (this check is not in Allard's version, which accepts e.g.
       n = 10, mean 0.50, SD 0.24: sum 5 would need sum of squares 3 < 5);
    3. attainability: for :math:`n \ge 5` these conditions are also sufficient for unbounded
       integers (a pair (T, Q) reduces to :math:`\sum z = r`, :math:`\sum z^2 = Q'` with
       :math:`0 \le r < n`; appending zeros and the shift :math:`z \to 1 - z` reduce every
       :math:`n \ge 5` to n = 5, checked exhaustively for :math:`Q' \le 4000` in
       tests/test_grim.py). For :math:`n \le 4` they are not (n = 3, T = 6, Q = 16 passes
       1 and 2, but no three integers have sum 6 and sum of squares 16), so the function decides
       by exact enumeration.

    The answer is exact for integer data without range limits; range limits are
    :func:`check_sd`'s job. Validated against brute-force enumeration of all integer multisets for
    n = 2..10 in the tests.

    References: Anaya, J. (2016). The GRIMMER test: a method for testing the validity of reported
    measures of variability. *PeerJ Preprints* 4:e2400v1. Allard, A. (2018). Analytic-GRIMMER: a
    new way of testing the possibility of standard deviations (blog post, aurelienallard.netlify.app).

    Examples
    --------
    >>> grimmer(3.00, 1.58, 5, decimals_mean=2, decimals_sd=2).consistent   # 1, 2, 3, 4, 5
    True
    >>> grimmer(3.00, 1.66, 5, decimals_mean=2, decimals_sd=2).failed   # Q = 56 is even, T = 15 odd
    'parity'
    """
    n = check_integer(n, "n", 2)
    items = check_integer(items, "items", 1)
    decimals_mean = check_integer(decimals_mean, "decimals_mean", 0)
    decimals_sd = check_integer(decimals_sd, "decimals_sd", 0)
    ddof = check_ddof(ddof)
    modes = as_roundings(rounding)
    m = reported(mean, "mean", decimals_mean, "decimals_mean")
    s = reported(sd, "sd", decimals_sd, "decimals_sd")
    if s < 0:
        raise TrialkitError(f"`sd` must be a standard deviation >= 0; got {sd!r}.")
    grim_result = grim(mean, n, decimals=decimals_mean, items=items, rounding=modes)
    scale = (n - ddof) * items * items
    furthest = 0
    ok: list[Rounding] = []
    sums: dict[int, None] = {}
    count = 0
    example: tuple[int, int] | None = None
    for mode in modes:
        mode_ok = False
        w = window(s, decimals_sd, mode)
        low2 = max(w.low, Fraction(0)) ** 2
        low_closed = w.low_closed or w.low < 0
        high2 = w.high**2
        for total in _grim_sums(m, n * items, decimals_mean, mode):
            base = Fraction(total * total, n)
            q_low, q_high = scale * low2 + base, scale * high2 + base
            first, last = math.ceil(q_low), math.floor(q_high)
            if first == q_low and not low_closed:
                first += 1
            if last == q_high and not w.high_closed:
                last -= 1
            if first > last:
                furthest = max(furthest, 1)
                continue
            if first == last and (first - total) % 2:
                furthest = max(furthest, 2)
                continue
            start = max(first, _minimum_squares(n, total))
            start += (start - total) % 2
            if start > last:
                furthest = max(furthest, 3)
                continue
            if n >= 5:
                found = list(range(start, last + 1, 2))[:1]
                hits = (last - start) // 2 + 1
            else:
                found = [q for q in range(start, last + 1, 2) if _attainable(n, total, q)]
                hits = len(found)
                if not hits:
                    furthest = max(furthest, 4)
                    continue
            mode_ok = True
            sums[total] = None
            count += hits
            if example is None:
                example = (total, found[0])
        if mode_ok:
            ok.append(mode)
    m_text, s_text = printed(m, decimals_mean), printed(s, decimals_sd)
    unit = f"{n} scores" if items == 1 else f"{n} scores (each a sum of {items} integer responses)"
    if ok:
        failed = None
        t, q = example  # type: ignore[misc]
        sd_true = math.sqrt(float((q - Fraction(t * t, n)) / scale))
        reason = (
            f"e.g. total {t} and sum of squares {q} of {unit} give mean {float(Fraction(t, n * items)):.6g} "
            f"and SD {sd_true:.6g}, which print as {m_text} and {s_text} ({join_modes(ok)})"
        )
    else:
        failed = _STAGES[furthest]
        reason = {
            "grim": f"the mean fails GRIM: {grim_result.reason}",
            "sum_of_squares": f"no integer sum of squares of {unit} with a total allowed by the mean "
            f"gives an SD that prints as {s_text}",
            "parity": f"the only sums of squares giving SD {s_text} have the wrong parity (a sum of "
            "squares of integers is even exactly when their sum is)",
            "minimum": f"SD {s_text} is below the smallest SD of {unit} with mean {m_text} "
            "(values as equal as integers allow)",
            "attainable": f"the sums of squares giving SD {s_text} pass the parity and minimum checks, "
            f"but no {n} integers attain them (exhaustive search)",
        }[failed]
    return GrimmerResult(
        bool(ok),
        tuple(ok),
        float(m),
        float(s),
        n,
        items,
        decimals_mean,
        decimals_sd,
        ddof,
        grim_result,
        failed,
        tuple(sums),
        count,
        reason,
    )
