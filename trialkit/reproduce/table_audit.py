"""Table-level audit of published summary statistics (issue 4, part 3).

What a published table (n, means and SDs per arm and visit) allows a reader to check without the
data: whether a mean is possible for integer data (:func:`grim`), whether a mean and SD are
possible together (:func:`grimmer`), whether an SD fits the scale's range (:func:`sd_bounds`,
:func:`check_sd`), how different the arms were at baseline (:func:`baseline_imbalance`), the
between-group t-tests from summary statistics (:func:`t_from_summary`,
:func:`paired_t_from_summary`), the change-score SD as a function of the pre-post correlation
(:func:`change_score_sd`, :func:`p_change_over_r`, :func:`implied_r`), and a verdict per outcome on
whether a published p-value is reproduced (:func:`verdict`).

Pure functions of numbers: no I/O, no state. Granularity questions (GRIM, GRIMMER, SD bounds of
integer data) use exact rational arithmetic, so a verdict never depends on binary rounding.
The worked example (Student 1908, R ``datasets::sleep``) lives in tests/reference/table_audit/.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Callable, Sequence, Union

import numpy as np
import pandas as pd
from scipy import optimize, special

from trialkit._errors import TrialkitError

__all__ = [
    "ArmSummary",
    "BaselineImbalance",
    "Comparison",
    "GrimResult",
    "GrimmerResult",
    "ImpliedR",
    "PublishedP",
    "Rounding",
    "SdCheck",
    "SummaryTTest",
    "TTestMethod",
    "TableAuditError",
    "Verdict",
    "VerdictKind",
    "P_OVER_R_COLUMNS",
    "baseline_imbalance",
    "change_score_sd",
    "check_sd",
    "correlation_from_change_sd",
    "grim",
    "grimmer",
    "implied_r",
    "p_change_over_r",
    "paired_t_from_summary",
    "parse_p",
    "sd_bounds",
    "t_from_summary",
    "verdict",
]

Reported = Union[float, int, str]


class TableAuditError(TrialkitError):
    """A malformed input to a table-audit function (a ``ValueError``); the message names the argument."""


# --------------------------------------------------------------------------------------------
# registries


class Rounding(str, Enum):
    """Registry of rounding conventions a publication may have used (``meaning`` says where)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"

    @property
    def meaning(self) -> str:
        return _ROUNDING_MEANINGS[self]


_ROUNDING_MEANINGS = {
    Rounding.HALF_UP: "ties away from zero (SPSS, SAS, Excel ROUND, the school rule)",
    Rounding.HALF_EVEN: "ties to the even digit (R round() and sprintf(), C printf on exact binary "
                        "ties, Python round(), IEEE 754 default)",
}
#: conventions tried when none is named: a value is consistent when any of them makes it so
ROUNDINGS: tuple[Rounding, ...] = (Rounding.HALF_UP, Rounding.HALF_EVEN)


class TTestMethod(str, Enum):
    """Registry of t-tests from summary statistics."""

    STUDENT = "student"  # pooled variance, df = n1 + n2 - 2
    WELCH = "welch"  # separate variances, Welch-Satterthwaite df
    PAIRED = "paired"  # one-sample t on within-subject differences, df = n - 1


class Comparison(str, Enum):
    """What a published between-group (or within-arm) p-value compared."""

    FOLLOW_UP = "follow_up"  # the arms' follow-up values
    CHANGE = "change"  # change from baseline (within one arm: the paired test)


class VerdictKind(str, Enum):
    """Registry of verdicts (the ``verdict`` column); :attr:`Verdict.label` reads them out."""

    REPRODUCED = "reproduced"
    REPRODUCED_FOR_R = "reproduced_for_r"  # "reproduced only for r in [a, b]"
    NOT_REPRODUCIBLE = "not_reproducible"


# --------------------------------------------------------------------------------------------
# argument checks (one message template: "`name` must be ...; got value.")


def _integer(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool):
        raise TableAuditError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    try:
        out = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TableAuditError(f"`{name}` must be an integer >= {minimum}; got {value!r}.") from None
    if out < minimum:
        raise TableAuditError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return out


def _number(value: object, name: str) -> float:
    if isinstance(value, bool):
        raise TableAuditError(f"`{name}` must be a finite number; got {value!r}.")
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TableAuditError(f"`{name}` must be a finite number; got {value!r}.") from None
    if not math.isfinite(out):
        raise TableAuditError(f"`{name}` must be a finite number; got {value!r}.")
    return out


def _sd(value: object, name: str) -> float:
    out = _number(value, name)
    if out < 0:
        raise TableAuditError(f"`{name}` must be a standard deviation (a number >= 0); got {value!r}.")
    return out


def _correlation(value: object, name: str) -> float:
    out = _number(value, name)
    if not -1.0 <= out <= 1.0:
        raise TableAuditError(f"`{name}` must be a correlation in [-1, 1]; got {value!r}.")
    return out


def _probability(value: object, name: str) -> float:
    out = _number(value, name)
    if not 0.0 < out <= 1.0:
        raise TableAuditError(f"`{name}` must be a p-value in (0, 1]; got {value!r}.")
    return out


def _ddof(value: object) -> int:
    out = _integer(value, "ddof", 0)
    if out > 1:
        raise TableAuditError(f"`ddof` must be 0 (divisor n) or 1 (divisor n - 1); got {value!r}.")
    return out


def _as_roundings(rounding: Rounding | str | Sequence[Rounding | str]) -> tuple[Rounding, ...]:
    items = [rounding] if isinstance(rounding, (str, Rounding)) else list(rounding)
    out = []
    for item in items:
        try:
            out.append(Rounding(item))
        except ValueError:
            allowed = ", ".join(repr(r.value) for r in Rounding)
            raise TableAuditError(f"`rounding` must be one or more of {allowed}; got {item!r}.") from None
    if not out:
        raise TableAuditError("`rounding` must name at least one convention; got an empty sequence.")
    return tuple(dict.fromkeys(out))


def _reported(value: Reported, name: str, decimals: int, decimals_name: str) -> Fraction:
    """The printed value as an exact fraction; a str keeps the printed digits exactly."""
    if isinstance(value, bool):
        raise TableAuditError(f"`{name}` must be a number as printed; got {value!r}.")
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(repr(float(value)))
    except (InvalidOperation, TypeError, ValueError):
        raise TableAuditError(f"`{name}` must be a number as printed; got {value!r}.") from None
    if not d.is_finite():
        raise TableAuditError(f"`{name}` must be a finite number; got {value!r}.")
    try:
        exact = d == d.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:  # more digits than the decimal context holds
        exact = False
    if not exact:
        raise TableAuditError(f"`{name}` = {value!r} has more than {decimals} decimal places; pass the "
                              f"value as printed and set `{decimals_name}` to the number of decimals printed.")
    return Fraction(d)


# --------------------------------------------------------------------------------------------
# rounding as exact intervals


@dataclass(frozen=True)
class _Window:
    """The true values that print as a given value: an interval with explicit end closure."""

    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, x: Fraction) -> bool:
        above = x > self.low or (self.low_closed and x == self.low)
        below = x < self.high or (self.high_closed and x == self.high)
        return above and below


def _window(value: Fraction, decimals: int, mode: Rounding) -> _Window:
    half = Fraction(1, 2 * 10**decimals)
    low, high = value - half, value + half
    if mode is Rounding.HALF_EVEN:
        even = (value * 10**decimals).numerator % 2 == 0  # value * 10^d is an integer
        return _Window(low, high, even, even)
    if value > 0:  # half up = ties away from zero
        return _Window(low, high, True, False)
    if value < 0:
        return _Window(low, high, False, True)
    return _Window(low, high, False, False)


def _round(x: Fraction, decimals: int, mode: Rounding) -> Fraction:
    scaled = x * 10**decimals
    floor = math.floor(scaled)
    rest = scaled - floor
    if rest > Fraction(1, 2):
        floor += 1
    elif rest == Fraction(1, 2):
        if mode is Rounding.HALF_EVEN:
            floor += floor % 2
        elif x > 0:
            floor += 1
    return Fraction(floor, 10**decimals)


def _text(x: Fraction, decimals: int) -> str:
    """``x`` (already at ``decimals`` places or to be shown there, half-up) as printed."""
    q = _round(x, decimals, Rounding.HALF_UP)
    return format(Decimal(q.numerator) / Decimal(q.denominator), f".{decimals}f")


def _join(modes: Sequence[Rounding]) -> str:
    return " or ".join(m.value.replace("_", " ") for m in modes)


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
    w = _window(mean, decimals, mode)
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


def grim(mean: Reported, n: int, *, decimals: int, items: int = 1,
         rounding: Rounding | str | Sequence[Rounding | str] = ROUNDINGS) -> GrimResult:
    """GRIM test: can a mean printed to ``decimals`` places come from ``n`` integer responses?

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
    TableAuditError
        ``n`` < 1, ``items`` < 1, ``decimals`` < 0, ``mean`` not a number or printed with more
        than ``decimals`` places, or an unknown rounding convention.

    Notes
    -----
    Brown & Heathers (2017): the mean of :math:`N = n \\cdot \\text{items}` integers is
    :math:`T/N` for an integer total :math:`T`. The printed mean :math:`M` is consistent when some
    :math:`T` has :math:`\\operatorname{round}_d(T/N) = M`, i.e. :math:`T/N` lies in
    :math:`[M - h, M + h]` with :math:`h = 0.5 \\cdot 10^{-d}`, the ends included or not as the
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
    n = _integer(n, "n", 1)
    items = _integer(items, "items", 1)
    decimals = _integer(decimals, "decimals", 0)
    modes = _as_roundings(rounding)
    m = _reported(mean, "mean", decimals, "decimals")
    g = n * items
    per_mode = {mode: _grim_sums(m, g, decimals, mode) for mode in modes}
    ok = tuple(mode for mode in modes if len(per_mode[mode]))
    sums = _union(list(per_mode.values()))
    informative = g < 10**decimals
    shown = _text(m, decimals)
    who = f"{n} participants × {items} items = {g} responses" if items > 1 else f"{n} responses"
    if ok:
        t = sums.start
        reason = (f"total {t} of {who} gives {t}/{g} = {float(Fraction(t, g)):.6g}, which prints as "
                  f"{shown} ({_join(ok)})")
        if not informative:
            reason += (f"; with {g} >= 10^{decimals} responses every mean printed to {decimals} "
                       "decimals is possible, so GRIM cannot detect an inconsistency here")
    else:
        below = math.floor(m * g)
        parts = [f"{k}/{g} = {float(Fraction(k, g)):.6g} prints as "
                 + " or ".join(dict.fromkeys(_text(_round(Fraction(k, g), decimals, mode), decimals)
                                             for mode in modes))
                 for k in (below, below + 1)]
        reason = (f"{shown} × {g} = {float(m * g):.6g} is not a total of {who}: "
                  f"{'; '.join(parts)}; none prints as {shown}")
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


def grimmer(mean: Reported, sd: Reported, n: int, *, decimals_mean: int, decimals_sd: int,
            items: int = 1, ddof: int = 1,
            rounding: Rounding | str | Sequence[Rounding | str] = ROUNDINGS) -> GrimmerResult:
    """GRIMMER test: is the printed SD possible for ``n`` integer scores with the printed mean?

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
    TableAuditError
        ``n`` < 2, negative ``sd``, values printed with more decimals than declared, bad options.

    Notes
    -----
    Anaya (2016); analytic form after Allard (2018). Work with the participant scores
    :math:`y_i = \\text{items} \\cdot x_i`, which are integers. For each total :math:`T = \\sum y_i`
    allowed by GRIM, the sum of squares :math:`Q = \\sum y_i^2 = (n - \\text{ddof})\\,
    \\text{items}^2 s^2 + T^2/n` must be an **integer** with :math:`s` in the printed SD's rounding
    interval (exact rational bounds, ends per convention), and

    1. parity: :math:`y^2 \\equiv y \\pmod 2`, so :math:`Q \\equiv T \\pmod 2`;
    2. minimum: :math:`Q \\ge (n - r) q^2 + r (q + 1)^2` with :math:`T = nq + r`, the values as
       equal as integers allow (this check is not in Allard's version, which accepts e.g.
       n = 10, mean 0.50, SD 0.24: sum 5 would need sum of squares 3 < 5);
    3. attainability: for :math:`n \\ge 5` these conditions are also sufficient for unbounded
       integers (a pair (T, Q) reduces to :math:`\\sum z = r`, :math:`\\sum z^2 = Q'` with
       :math:`0 \\le r < n`; appending zeros and the shift :math:`z \\to 1 - z` reduce every
       :math:`n \\ge 5` to n = 5, checked exhaustively for :math:`Q' \\le 4000` in
       tests/test_table_audit.py). For :math:`n \\le 4` they are not (n = 3, T = 6, Q = 16 passes
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
    n = _integer(n, "n", 2)
    items = _integer(items, "items", 1)
    decimals_mean = _integer(decimals_mean, "decimals_mean", 0)
    decimals_sd = _integer(decimals_sd, "decimals_sd", 0)
    ddof = _ddof(ddof)
    modes = _as_roundings(rounding)
    m = _reported(mean, "mean", decimals_mean, "decimals_mean")
    s = _reported(sd, "sd", decimals_sd, "decimals_sd")
    if s < 0:
        raise TableAuditError(f"`sd` must be a standard deviation (a number >= 0); got {sd!r}.")
    grim_result = grim(mean, n, decimals=decimals_mean, items=items, rounding=modes)
    scale = (n - ddof) * items * items
    furthest = 0
    ok: list[Rounding] = []
    sums: dict[int, None] = {}
    count = 0
    example: tuple[int, int] | None = None
    for mode in modes:
        mode_ok = False
        w = _window(s, decimals_sd, mode)
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
    m_text, s_text = _text(m, decimals_mean), _text(s, decimals_sd)
    unit = f"{n} scores" if items == 1 else f"{n} scores (each a sum of {items} integer responses)"
    if ok:
        failed = None
        t, q = example  # type: ignore[misc]
        sd_true = math.sqrt(float((q - Fraction(t * t, n)) / scale))
        reason = (f"e.g. total {t} and sum of squares {q} of {unit} give mean {float(Fraction(t, n * items)):.6g} "
                  f"and SD {sd_true:.6g}, which print as {m_text} and {s_text} ({_join(ok)})")
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
    return GrimmerResult(bool(ok), tuple(ok), float(m), float(s), n, items, decimals_mean, decimals_sd,
                         ddof, grim_result, failed, tuple(sums), count, reason)


# --------------------------------------------------------------------------------------------
# SD bounds for a bounded scale


def _max_spread(n: int, total: Fraction, low: Fraction, high: Fraction) -> Fraction:
    """max of sum (y - mean)^2 over y in [low, high]^n with sum y = total (k at high, one inside)."""
    k = math.floor((total - n * low) / (high - low))
    if k >= n:  # every value at the top of the range
        return Fraction(0)
    inner = total - k * high - (n - k - 1) * low
    squares = k * high * high + (n - k - 1) * low * low + inner * inner
    return squares - total * total / n


def sd_bounds(mean: float, n: int, low: float, high: float, *, integer: bool,
              decimals: int | None = None, items: int = 1, ddof: int = 1) -> tuple[float, float]:
    """Smallest and largest SD of ``n`` values in ``[low, high]`` with the given mean.

    Parameters
    ----------
    mean : float
        The mean; exact unless ``decimals`` is given.
    n : int
        Number of values (>= 2).
    low, high : float
        The scale's range (``low < high``).
    integer : bool
        Whether the values are integers (multiples of ``1 / items``), e.g. a questionnaire score.
    decimals : int, optional
        The mean was printed to this many places: the bounds are taken over every mean that
        prints as ``mean`` (closed rounding interval). Without it, integer data need
        ``n * items * mean`` to be an integer (to 1e-9).
    items : int, default 1
        Integer items averaged per value (``integer=True`` only).
    ddof : {1, 0}, default 1
        SD divisor ``n - ddof``.

    Returns
    -------
    (float, float)
        ``(sd_min, sd_max)``. ``sd_min`` is 0 for continuous data.

    Raises
    ------
    TableAuditError
        ``n`` < 2, ``low >= high``, a mean outside the range, integer data whose total cannot be
        an integer, bad options.

    Notes
    -----
    The sum of squared deviations is convex in the values, so over the polytope
    :math:`\\{y \\in [a, b]^n : \\sum y = T\\}` its maximum is at a vertex: :math:`k` values at
    :math:`b`, :math:`n - k - 1` at :math:`a` and one at :math:`c = T - kb - (n - k - 1)a \\in [a, b]`,
    :math:`k = \\lfloor (T - na)/(b - a) \\rfloor`. When :math:`(T - na)/(b - a)` is an integer this
    is :math:`n(\\bar y - a)(b - \\bar y)` (the Bhatia-Davis bound). With integer :math:`a, b, T` the
    vertex is integer, so the bound is attained by integer data. The minimum for integers puts
    :math:`r` values at :math:`q + 1` and :math:`n - r` at :math:`q` (:math:`T = nq + r`):
    spread :math:`r(n - r)/n`. Over a rounded mean, the continuous maximum is convex in the mean
    between the breakpoints :math:`a + k(b - a)/n`, so it is taken at the ends or the breakpoints.
    Checked against brute-force enumeration in the tests.

    References: Bhatia, R. & Davis, C. (2000). A better bound on the variance. *Amer. Math.
    Monthly* 107(4):353-357.

    Examples
    --------
    >>> lo, hi = sd_bounds(2.0, 4, 0, 4, integer=True)   # {0, 0, 4, 4} and {2, 2, 2, 2}
    >>> round(lo, 12), round(hi, 12)
    (0.0, 2.309401076759)
    """
    n = _integer(n, "n", 2)
    items = _integer(items, "items", 1)
    ddof = _ddof(ddof)
    a, b = _number(low, "low"), _number(high, "high")
    if not a < b:
        raise TableAuditError(f"`low` must be below `high`; got low = {low!r}, high = {high!r}.")
    if not integer and items != 1:
        raise TableAuditError(f"`items` applies to integer data only; got items = {items!r} with integer = False.")
    if decimals is not None:
        decimals = _integer(decimals, "decimals", 0)
        m = _reported(mean, "mean", decimals, "decimals")
        half = Fraction(1, 2 * 10**decimals)
        m_low, m_high = m - half, m + half
    else:
        m = Fraction(_number(mean, "mean"))
        m_low = m_high = m
    if m_high < Fraction(a) or m_low > Fraction(b):
        raise TableAuditError(f"`mean` = {mean!r} is outside the range [{low!r}, {high!r}].")
    divisor = n - ddof
    if integer:
        ya, yb = math.ceil(Fraction(a) * items), math.floor(Fraction(b) * items)
        if ya >= yb:
            raise TableAuditError(f"the range [{low!r}, {high!r}] holds fewer than two integer values "
                                  f"(in steps of 1/{items}).")
        g = n * items
        if decimals is None:
            t = float(m) * g
            if abs(t - round(t)) > 1e-9 * max(1.0, abs(t)):
                raise TableAuditError(f"with integer data and an exact mean, n × items × mean must be an "
                                      f"integer; got {t:.10g}. Pass `decimals` for a printed mean.")
            totals = range(round(t), round(t) + 1)
        else:
            totals = range(math.ceil(m_low * g), math.floor(m_high * g) + 1)
        # totals are in units of one response; scores y = items * value lie in [ya, yb], sum y = T
        totals = range(max(totals.start, n * ya), min(totals.stop, n * yb + 1))
        if not len(totals):
            raise _NoTotal(f"no mean printing as {mean!r} is possible for {n} integer values in "
                                  f"[{low!r}, {high!r}].")
        spreads_max = [_max_spread(n, Fraction(t), Fraction(ya), Fraction(yb)) for t in totals]
        spreads_min = [Fraction(t % n * (n - t % n), n) for t in totals]
        to_sd = lambda spread: math.sqrt(float(spread) / divisor) / items  # noqa: E731
        return to_sd(min(spreads_min)), to_sd(max(spreads_max))
    m_low, m_high = max(m_low, Fraction(a)), min(m_high, Fraction(b))
    points = {m_low, m_high}
    width = Fraction(b) - Fraction(a)
    for k in range(n + 1):
        p = Fraction(a) + k * width / n
        if m_low < p < m_high:
            points.add(p)
    best = max(_max_spread(n, n * p, Fraction(a), Fraction(b)) for p in points)
    return 0.0, math.sqrt(float(best) / divisor)


class _NoTotal(TableAuditError):
    """No integer total gives the printed mean within the range (a finding for :func:`check_sd`)."""


@dataclass(frozen=True)
class SdCheck:
    """Whether a printed SD is possible for the scale's range (see :func:`check_sd`)."""

    possible: bool
    sd: float
    sd_min: float
    sd_max: float
    reason: str


def check_sd(mean: float, sd: float, n: int, low: float, high: float, *, integer: bool,
             decimals_mean: int | None = None, decimals_sd: int | None = None, items: int = 1,
             ddof: int = 1) -> SdCheck:
    """Flag an SD impossible for ``n`` values in ``[low, high]`` with that mean.

    Parameters are those of :func:`sd_bounds` (``decimals_mean`` is its ``decimals``), plus the
    printed ``sd`` and its ``decimals_sd``: the SD is possible when some value that prints as it
    (closed rounding interval, so a boundary case is never flagged) lies in ``[sd_min, sd_max]``.

    Returns
    -------
    SdCheck
        ``possible``, the bounds and the reason. A mean that no integer data in the range can
        give is reported as impossible (``sd_min = sd_max = NaN``), not raised.

    Raises
    ------
    TableAuditError
        Malformed inputs (negative ``sd``, ``n`` < 2, ``low >= high``, ...).

    Examples
    --------
    >>> check_sd(2.0, 2.5, 10, 0, 4, integer=True, decimals_sd=1).possible   # max is 2.108
    False
    """
    s = _sd(sd, "sd")
    half = 0.0
    if decimals_sd is not None:
        decimals_sd = _integer(decimals_sd, "decimals_sd", 0)
        _reported(sd, "sd", decimals_sd, "decimals_sd")
        half = 0.5 * 10.0**-decimals_sd
    try:
        lo, hi = sd_bounds(mean, n, low, high, integer=integer, decimals=decimals_mean, items=items, ddof=ddof)
    except _NoTotal as err:
        return SdCheck(False, s, math.nan, math.nan, f"the mean itself is impossible: {err}")
    tol = 1e-12 * max(1.0, hi)
    possible = s + half >= lo - tol and s - half <= hi + tol
    scale = f"{n} {'integer ' if integer else ''}values in [{low:g}, {high:g}] with mean {mean:g}"
    if possible:
        reason = f"SD {s:g} is within [{lo:.6g}, {hi:.6g}], the SDs possible for {scale}"
    elif s - half > hi:
        reason = (f"SD {s:g} exceeds {hi:.6g}, the largest SD possible for {scale} (values piled at "
                  "the ends of the range)")
    else:
        reason = f"SD {s:g} is below {lo:.6g}, the smallest SD possible for {scale}"
    return SdCheck(possible, s, lo, hi, reason)


# --------------------------------------------------------------------------------------------
# t-tests from summary statistics


@dataclass(frozen=True)
class SummaryTTest:
    """A t-test computed from summary statistics (broom vocabulary; ``estimate`` = mean 1 - mean 2)."""

    method: TTestMethod
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float


def _two_sided_p(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    # 2 * P(T_df > |t|), as scipy's t.sf (stdtr) and R's 2 * pt(-|t|, df)
    return 2.0 * special.stdtr(df, -np.abs(t))


def _alpha(alpha: object) -> float:
    out = _number(alpha, "alpha")
    if not 0.0 < out < 1.0:
        raise TableAuditError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    return out


def _finish(method: TTestMethod, est: float, se: float, df: float, alpha: float) -> SummaryTTest:
    if not se > 0:
        raise TableAuditError("both standard deviations are 0: the t statistic is undefined.")
    t = est / se
    q = float(special.stdtrit(df, 1 - alpha / 2))
    return SummaryTTest(method, est, se, float(df), t, float(_two_sided_p(t, df)), est - q * se,
                        est + q * se, alpha)


def t_from_summary(m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *,
                   equal_var: bool, alpha: float = 0.05) -> SummaryTTest:
    """Two-sample t-test of mean 1 − mean 2 from means, SDs (divisor n − 1) and sizes.

    Parameters
    ----------
    m1, sd1, n1, m2, sd2, n2
        Mean, sample SD and size of each group (n >= 2, SD >= 0, not both 0).
    equal_var : bool
        True: Student (pooled variance); False: Welch. No default: the published method decides.
    alpha : float, default 0.05
        The CI is 1 − alpha, two-sided.

    Returns
    -------
    SummaryTTest

    Notes
    -----
    Student: :math:`s_p^2 = ((n_1 - 1)s_1^2 + (n_2 - 1)s_2^2)/(n_1 + n_2 - 2)`,
    :math:`SE = s_p \\sqrt{1/n_1 + 1/n_2}`, df :math:`= n_1 + n_2 - 2`. Welch:
    :math:`SE = \\sqrt{s_1^2/n_1 + s_2^2/n_2}`, df :math:`= SE^4 / ((s_1^2/n_1)^2/(n_1 - 1) +
    (s_2^2/n_2)^2/(n_2 - 1))` (Welch-Satterthwaite). :math:`p = 2 P(T_{df} > |t|)`.
    Matches ``scipy.stats.ttest_ind_from_stats`` (1e-12) and R ``t.test`` on Student's sleep data
    (1e-10; tests/reference/table_audit/).

    Examples
    --------
    >>> res = t_from_summary(2.33, 2.0, 10, 0.75, 1.79, 10, equal_var=True)
    >>> round(res.df), round(res.statistic, 4)
    (18, 1.8615)
    """
    m1, m2 = _number(m1, "m1"), _number(m2, "m2")
    s1, s2 = _sd(sd1, "sd1"), _sd(sd2, "sd2")
    n1, n2 = _integer(n1, "n1", 2), _integer(n2, "n2", 2)
    alpha = _alpha(alpha)
    est = m1 - m2
    if equal_var:
        df = n1 + n2 - 2.0
        se = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df * (1.0 / n1 + 1.0 / n2))
        return _finish(TTestMethod.STUDENT, est, se, df, alpha)
    a, b = s1 * s1 / n1, s2 * s2 / n2
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1)) if a + b > 0 else math.nan
    return _finish(TTestMethod.WELCH, est, math.sqrt(a + b), df, alpha)


def paired_t_from_summary(mean_diff: float, sd_diff: float, n: int, *, alpha: float = 0.05) -> SummaryTTest:
    """Paired t-test from the mean and SD (divisor n − 1) of the within-subject differences.

    :math:`t = \\bar d / (s_d/\\sqrt n)`, df :math:`= n - 1`; R ``t.test(post, pre, paired = TRUE)``.
    Without the SD of the differences, use :func:`change_score_sd` with an assumed correlation.

    Examples
    --------
    >>> round(paired_t_from_summary(1.58, 1.2299954832798732, 10).p_value, 6)
    0.002833
    """
    est = _number(mean_diff, "mean_diff")
    s = _sd(sd_diff, "sd_diff")
    n = _integer(n, "n", 2)
    alpha = _alpha(alpha)
    if s == 0:
        raise TableAuditError("`sd_diff` is 0: the paired t statistic is undefined.")
    return _finish(TTestMethod.PAIRED, est, s / math.sqrt(n), n - 1.0, alpha)


# --------------------------------------------------------------------------------------------
# baseline imbalance


@dataclass(frozen=True)
class BaselineImbalance:
    """Baseline difference between two arms from their summary statistics.

    Attributes
    ----------
    smd : float
        Standardised difference :math:`(m_1 - m_2)/\\sqrt{(s_1^2 + s_2^2)/2}`.
    thresholds : tuple of float
        The conventional thresholds compared with.
    exceeded : tuple of float
        Those that ``|smd|`` exceeds.
    ttest : SummaryTTest
        The t-test of the baseline difference.
    note : str
        How to read the two.
    """

    smd: float
    thresholds: tuple[float, ...]
    exceeded: tuple[float, ...]
    ttest: SummaryTTest
    note: str


_BASELINE_NOTE = (
    "Under randomisation every baseline difference arises by chance, so a baseline p-value tests "
    "whether randomisation was carried out as described, not whether the arms are comparable; "
    "CONSORT 2010 (item 15) advises against such tests. Judge imbalance by its size (|SMD| above "
    "0.1 or 0.2 are the usual flags) and by how strongly the variable predicts the outcome, and "
    "prefer an analysis adjusted for pre-specified baseline covariates (ANCOVA).")


def baseline_imbalance(m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *,
                       equal_var: bool, thresholds: Sequence[float] = (0.1, 0.2)) -> BaselineImbalance:
    """Standardised difference at baseline and the t-test of the baseline difference.

    Parameters
    ----------
    m1, sd1, n1, m2, sd2, n2
        Baseline mean, SD (divisor n − 1) and size of each arm.
    equal_var : bool
        Student (True) or Welch (False) for the baseline t-test.
    thresholds : sequence of float, default (0.1, 0.2)
        |SMD| thresholds to flag (Austin 2009 uses 0.1; 0.2 is Cohen's "small").

    Returns
    -------
    BaselineImbalance

    Notes
    -----
    The SMD uses the mean of the two variances, as trialkit's Table 1 does (Austin 2009). The
    p-value tests randomisation, not balance (Altman 1985; CONSORT 2010 explanation, item 15):
    it is reported because publications report it, with a note saying so.

    References: Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. *Stat Med*
    28:3083-3107. Moher, D. et al. (2010). CONSORT 2010 explanation and elaboration. *BMJ* 340:c869.

    Examples
    --------
    >>> res = baseline_imbalance(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=False)
    >>> round(res.smd, 4), res.exceeded
    (0.2854, (0.1, 0.2))
    """
    ttest = t_from_summary(m1, sd1, n1, m2, sd2, n2, equal_var=equal_var)
    levels = tuple(sorted(_number(t, "thresholds") for t in thresholds))
    if any(t < 0 for t in levels):
        raise TableAuditError(f"`thresholds` must be numbers >= 0; got {tuple(thresholds)!r}.")
    pooled = math.sqrt((float(sd1) ** 2 + float(sd2) ** 2) / 2)
    smd = (float(m1) - float(m2)) / pooled
    return BaselineImbalance(smd, levels, tuple(t for t in levels if abs(smd) > t), ttest, _BASELINE_NOTE)


# --------------------------------------------------------------------------------------------
# change scores and the pre-post correlation


def change_score_sd(sd_baseline: float, sd_follow_up: float, r: float) -> float:
    """SD of change from the baseline and follow-up SDs and their correlation ``r``.

    :math:`s_{change} = \\sqrt{s_{pre}^2 + s_{post}^2 - 2 r s_{pre} s_{post}}` (Cochrane Handbook
    for Systematic Reviews of Interventions, v6.4, section 6.5.2.8). Exact for sample SDs and the
    sample correlation of the same subjects (the variance of a difference).

    Examples
    --------
    >>> round(change_score_sd(3.0, 4.0, 0.5), 10)
    3.6055512755
    """
    a, b = _sd(sd_baseline, "sd_baseline"), _sd(sd_follow_up, "sd_follow_up")
    r = _correlation(r, "r")
    return math.sqrt(max(a * a + b * b - 2.0 * r * a * b, 0.0))


def correlation_from_change_sd(sd_baseline: float, sd_follow_up: float, sd_change: float) -> float:
    """The correlation implied by a published change SD (Cochrane Handbook 6.5.2.8, inverted).

    :math:`r = (s_{pre}^2 + s_{post}^2 - s_{change}^2) / (2 s_{pre} s_{post})`; raises when it
    falls outside [-1, 1] (the three SDs cannot describe the same subjects).

    Examples
    --------
    >>> round(correlation_from_change_sd(3.0, 4.0, 3.6055512755), 6)
    0.5
    """
    a, b = _sd(sd_baseline, "sd_baseline"), _sd(sd_follow_up, "sd_follow_up")
    c = _sd(sd_change, "sd_change")
    if a == 0 or b == 0:
        raise TableAuditError("`sd_baseline` and `sd_follow_up` must be > 0 to imply a correlation.")
    r = (a * a + b * b - c * c) / (2 * a * b)
    if not -1 - 1e-12 <= r <= 1 + 1e-12:
        raise TableAuditError(f"SDs {a:g} (baseline), {b:g} (follow-up) and {c:g} (change) imply r = "
                              f"{r:.6g}, outside [-1, 1]: they cannot come from the same subjects.")
    return min(1.0, max(-1.0, r))


@dataclass(frozen=True)
class ArmSummary:
    """One arm's published summary statistics (the inputs of the r-dependent functions).

    Attributes
    ----------
    n : int
        Number analysed (>= 2).
    mean, sd : float
        Follow-up mean and SD.
    baseline_mean, baseline_sd : float, optional
        Baseline mean and SD (needed for change unless ``change_mean`` and ``change_sd`` are given).
    change_mean : float, optional
        Published mean change; default ``mean - baseline_mean``.
    change_sd : float, optional
        Published SD of change; when absent, the change SD depends on the pre-post correlation r.
    sd_ddof : {1, 0}, default 1
        The publication's SD divisor is ``n - sd_ddof`` (0 for divisor n, as Student 1908); every
        SD is converted to the sample SD before testing.

    For a within-subject comparison of two conditions (a crossover, as Student's sleep data), the
    first condition is the "baseline" and the second the "follow-up".
    """

    n: int
    mean: float
    sd: float
    baseline_mean: float | None = None
    baseline_sd: float | None = None
    change_mean: float | None = None
    change_sd: float | None = None
    sd_ddof: int = 1

    def __post_init__(self) -> None:
        _integer(self.n, "n", 2)
        _number(self.mean, "mean")
        _sd(self.sd, "sd")
        _ddof(self.sd_ddof)
        for name in ("baseline_mean", "change_mean"):
            if getattr(self, name) is not None:
                _number(getattr(self, name), name)
        for name in ("baseline_sd", "change_sd"):
            if getattr(self, name) is not None:
                _sd(getattr(self, name), name)

    @property
    def _sd_factor(self) -> float:
        return math.sqrt((self.n - self.sd_ddof) / (self.n - 1))

    def _change_estimate(self) -> tuple[float, int]:
        """Mean change and the number of printed means it is made of."""
        if self.change_mean is not None:
            return float(self.change_mean), 1
        if self.baseline_mean is None:
            raise TableAuditError("a change analysis needs `baseline_mean` (or `change_mean`) in every arm.")
        return float(self.mean) - float(self.baseline_mean), 2


# A variance source: r (array) and the rounding half-width -> (v_min, v_max) arrays
_VarianceFn = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def _fixed_variance(sd: float, factor: float) -> _VarianceFn:
    def fn(r: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = max(sd - half, 0.0) * factor, (sd + half) * factor
        return np.full(r.shape, lo * lo), np.full(r.shape, hi * hi)
    return fn


def _r_variance(sd_pre: float, sd_post: float, factor: float) -> _VarianceFn:
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
class _Design:
    method: TTestMethod
    estimate: float
    n_means: int  # printed means entering the estimate (for the rounding box)
    n1: int
    n2: int | None
    var1: _VarianceFn
    var2: _VarianceFn | None
    depends_on_r: bool
    description: str


def _design(comparison: Comparison, treatment: ArmSummary, control: ArmSummary | None,
            method: TTestMethod) -> _Design:
    arms = [treatment] if control is None else [treatment, control]
    if comparison is Comparison.FOLLOW_UP:
        if control is None:
            raise TableAuditError("a follow-up comparison needs two arms: pass `control`.")
        fns = [_fixed_variance(float(a.sd), a._sd_factor) for a in arms]
        est, k = float(treatment.mean) - float(control.mean), 2
        return _Design(method, est, k, treatment.n, control.n, fns[0], fns[1], False,
                       f"{method.value} t on follow-up values")
    fns, k, uses_r = [], 0, False
    ests = []
    for arm in arms:
        e, parts = arm._change_estimate()
        ests.append(e)
        k += parts
        if arm.change_sd is not None:
            fns.append(_fixed_variance(float(arm.change_sd), arm._sd_factor))
        elif arm.baseline_sd is None:
            raise TableAuditError("a change analysis needs `change_sd`, or `baseline_sd` and `sd`, in every arm.")
        else:
            uses_r = True
            fns.append(_r_variance(float(arm.baseline_sd), float(arm.sd), arm._sd_factor))
    est = ests[0] - ests[1] if control is not None else ests[0]
    what = "paired t on change" if control is None else f"{method.value} t on change"
    how = " (change SD from the pre-post correlation r)" if uses_r else " (published change SDs)"
    return _Design(method, est, k, treatment.n, None if control is None else control.n,
                   fns[0], fns[1] if control is not None else None, uses_r, what + how)


def _p_from(design: _Design, est_abs: np.ndarray | float, v1: np.ndarray, v2: np.ndarray | None) -> np.ndarray:
    n1 = design.n1
    if design.method is TTestMethod.PAIRED:
        se2, df = v1 / n1, np.full(np.shape(v1), n1 - 1.0)
    elif design.method is TTestMethod.STUDENT:
        n2 = design.n2
        df = np.full(np.shape(v1), n1 + n2 - 2.0)
        se2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / df * (1.0 / n1 + 1.0 / n2)
    else:
        n2 = design.n2
        a, b = v1 / n1, v2 / n2
        se2 = a + b
        with np.errstate(invalid="ignore", divide="ignore"):
            df = se2**2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est_abs / np.sqrt(se2)
        p = _two_sided_p(t, np.where(np.isfinite(df), df, 1.0))
    # zero SE: p -> 0 for a non-zero difference, undefined (NaN) for none
    return np.where(se2 > 0, p, np.where(np.asarray(est_abs) > 0, 0.0, np.nan))


def _p_range(design: _Design, r: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest p at each r over the rounding box of the printed table (half = 0: none)."""
    e_hi = abs(design.estimate) + design.n_means * half
    e_lo = max(abs(design.estimate) - design.n_means * half, 0.0)
    v1_lo, v1_hi = design.var1(r, half)
    if design.var2 is None:
        return _p_from(design, e_hi, v1_lo, None), _p_from(design, e_lo, v1_hi, None)
    v2_lo, v2_hi = design.var2(r, half)
    if design.method is TTestMethod.STUDENT:  # p increases with each variance and falls with |estimate|
        return _p_from(design, e_hi, v1_lo, v2_lo), _p_from(design, e_lo, v1_hi, v2_hi)
    # Welch: the df moves with the variances, so take the extremes over the box's corners
    ps = [_p_from(design, e, v1, v2) for e in (e_lo, e_hi) for v1 in (v1_lo, v1_hi) for v2 in (v2_lo, v2_hi)]
    return np.fmin.reduce(ps), np.fmax.reduce(ps)


def _method(control: ArmSummary | None, equal_var: bool | None) -> TTestMethod:
    if control is None:
        if equal_var is not None:
            raise TableAuditError("`equal_var` applies to two arms; leave it unset for a within-arm (paired) test.")
        return TTestMethod.PAIRED
    if equal_var is None:
        raise TableAuditError("`equal_var` must be True (Student) or False (Welch) when comparing two arms.")
    return TTestMethod.STUDENT if equal_var else TTestMethod.WELCH


def _r_range(r_range: Sequence[float]) -> tuple[float, float]:
    try:
        lo, hi = r_range
    except (TypeError, ValueError):
        raise TableAuditError(f"`r_range` must be a pair (low, high); got {r_range!r}.") from None
    lo, hi = _correlation(lo, "r_range[0]"), _correlation(hi, "r_range[1]")
    if not lo < hi:
        raise TableAuditError(f"`r_range` must have low < high; got {r_range!r}.")
    return lo, hi


P_OVER_R_COLUMNS = ("r", "sd_change_treatment", "sd_change_control", "estimate", "std_error", "df",
                    "statistic", "p_value")


def p_change_over_r(treatment: ArmSummary, control: ArmSummary | None = None, *,
                    equal_var: bool | None = None, r: Sequence[float] | None = None) -> pd.DataFrame:
    """The p-value of the comparison of change as a function of the pre-post correlation r.

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
    Handbook 6.5.2.8), then :func:`t_from_summary` (or :func:`paired_t_from_summary`) on the mean
    changes. Larger r means smaller change SDs, larger |t| and, for Student and paired tests, a
    smaller p (see :func:`implied_r`).

    Examples
    --------
    >>> arm = ArmSummary(10, 2.33, 2.002248735796829, baseline_mean=0.75, baseline_sd=1.7890096577591625)
    >>> table = p_change_over_r(arm, r=[0.0, 0.79517020583357778])
    >>> [round(p, 6) for p in table["p_value"]]
    [0.095689, 0.002833]
    """
    method = _method(control, equal_var)
    design = _design(Comparison.CHANGE, treatment, control, method)
    grid = np.round(np.arange(100) / 100, 2) if r is None else np.array(
        [_correlation(x, "r") for x in r], dtype=float)
    v1, _ = design.var1(grid, 0.0)
    v2 = design.var2(grid, 0.0)[0] if design.var2 is not None else None
    p = _p_from(design, abs(design.estimate), v1, v2)
    n1 = design.n1
    if method is TTestMethod.PAIRED:
        se, df = np.sqrt(v1 / n1), np.full(grid.shape, n1 - 1.0)
    elif method is TTestMethod.STUDENT:
        n2 = design.n2
        df = np.full(grid.shape, n1 + n2 - 2.0)
        se = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / df * (1.0 / n1 + 1.0 / n2))
    else:
        n2 = design.n2
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        with np.errstate(invalid="ignore", divide="ignore"):
            df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = design.estimate / se
    return pd.DataFrame({
        "r": grid, "sd_change_treatment": np.sqrt(v1),
        "sd_change_control": np.sqrt(v2) if v2 is not None else np.full(grid.shape, np.nan),
        "estimate": np.full(grid.shape, design.estimate), "std_error": se, "df": df,
        "statistic": t, "p_value": p,
    }, columns=list(P_OVER_R_COLUMNS))


def _roots(fn: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, grid: int) -> list[float]:
    """Every r in [lo, hi] where fn changes sign between grid points (refined by brentq) or is 0."""
    xs = np.linspace(lo, hi, grid)
    ys = fn(xs)
    found = [float(x) for x, y in zip(xs, ys) if y == 0]
    scalar = lambda x: float(fn(np.array([x]))[0])  # noqa: E731
    for i in range(grid - 1):
        y0, y1 = ys[i], ys[i + 1]
        if np.isfinite(y0) and np.isfinite(y1) and y0 * y1 < 0:
            found.append(optimize.brentq(scalar, xs[i], xs[i + 1], xtol=1e-14, rtol=4 * np.finfo(float).eps))
    return sorted(found)


def _log_gap(p: np.ndarray, target: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p) - math.log(target)


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


def implied_r(target_p: float, treatment: ArmSummary, control: ArmSummary | None = None, *,
              equal_var: bool | None = None, r_range: Sequence[float] = (0.0, 1.0),
              grid: int = 401) -> ImpliedR:
    """Solve for the pre-post correlation r at which the change comparison gives ``target_p``.

    Parameters
    ----------
    target_p : float
        The p-value to reproduce, in (0, 1] (exact; for a printed p use :func:`verdict`).
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
    target = _probability(target_p, "target_p")
    lo, hi = _r_range(r_range)
    grid = _integer(grid, "grid", 3)
    method = _method(control, equal_var)
    design = _design(Comparison.CHANGE, treatment, control, method)

    def p_of(r: np.ndarray) -> np.ndarray:
        return _p_range(design, np.asarray(r, dtype=float), 0.0)[0]

    ends = p_of(np.array([lo, hi]))
    xs = np.linspace(lo, hi, grid)
    ps = p_of(xs)
    if np.all(ps == ps[0]) or not design.depends_on_r:
        same = bool(np.isfinite(ps[0]) and math.isclose(float(ps[0]), target, rel_tol=1e-12))
        return ImpliedR(target, (), ((lo, hi),) if same else (), (lo, hi),
                        (float(ends[0]), float(ends[1])), True)
    steps = np.diff(ps[np.isfinite(ps)])
    monotone = bool(np.all(steps <= 0) or np.all(steps >= 0))
    roots = _roots(lambda r: _log_gap(p_of(r), target), lo, hi, grid)
    return ImpliedR(target, tuple(roots), (), (lo, hi), (float(ends[0]), float(ends[1])), monotone)


# --------------------------------------------------------------------------------------------
# published p-values and the verdict

_P_PATTERN = re.compile(r"^\s*(?:p\s*)?(<=|>=|≤|≥|<|>|=)?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class PublishedP:
    """A printed p-value as the interval of true p-values it stands for.

    ``"0.03"`` means [0.025, 0.035); ``"< 0.001"`` means (0, 0.001); ``"<= 0.05"`` (0, 0.05];
    ``"> 0.05"`` (0.05, 1]. The rounding interval is closed below and open above (half up); its
    ends have probability 0, so the convention does not change a verdict.
    """

    text: str
    low: float
    high: float
    low_closed: bool
    high_closed: bool

    def contains(self, p: float) -> bool:
        above = p > self.low or (self.low_closed and p == self.low)
        below = p < self.high or (self.high_closed and p == self.high)
        return bool(above and below)

    def overlaps(self, p_min: float, p_max: float) -> bool:
        """Whether some p in [p_min, p_max] lies in the interval (False when either is NaN)."""
        if not (math.isfinite(p_min) and math.isfinite(p_max)):
            return False
        above = p_max > self.low or (self.low_closed and p_max == self.low)
        below = p_min < self.high or (self.high_closed and p_min == self.high)
        return bool(above and below)

    def interval(self) -> str:
        return (f"{'[' if self.low_closed else '('}{self.low:.6g}, "
                f"{self.high:.6g}{']' if self.high_closed else ')'}")


def parse_p(p: float | str) -> PublishedP:
    """Read a printed p-value (``0.03``, ``"0.030"``, ``"< 0.001"``, ``"p = .04"``, ``"> 0.05"``).

    A float is read through its shortest repr, so ``0.030`` cannot be told from ``0.03``: pass a
    string to keep trailing zeros.

    Raises
    ------
    TableAuditError
        Not a p-value, or a value outside (0, 1].

    Examples
    --------
    >>> parse_p(0.03).interval(), parse_p("< 0.001").interval()
    ('[0.025, 0.035)', '(0, 0.001)')
    """
    if isinstance(p, bool):
        raise TableAuditError(f"`p` must be a p-value in (0, 1] such as 0.03 or '< 0.001'; got {p!r}.")
    text = p if isinstance(p, str) else repr(float(p)) if isinstance(p, (int, float, np.floating)) else None
    match = _P_PATTERN.match(text) if text is not None else None
    if match is None:
        raise TableAuditError(f"`p` must be a p-value in (0, 1] such as 0.03 or '< 0.001'; got {p!r}.")
    op, number = match.group(1) or "=", match.group(2)
    value = Decimal(number)
    if not 0 < value <= 1:
        raise TableAuditError(f"`p` must be a p-value in (0, 1]; got {p!r}.")
    x = float(value)
    if op == "<":
        return PublishedP(text.strip(), 0.0, x, False, False)
    if op in ("<=", "≤"):
        return PublishedP(text.strip(), 0.0, x, False, True)
    if op == ">":
        return PublishedP(text.strip(), x, 1.0, False, True)
    if op in (">=", "≥"):
        return PublishedP(text.strip(), x, 1.0, True, True)
    half = 0.5 * 10.0 ** value.as_tuple().exponent
    return PublishedP(text.strip(), max(x - half, 0.0), min(x + half, 1.0), True, x + half > 1.0)


@dataclass(frozen=True)
class Verdict:
    """Whether a published p-value is reproduced from the published table.

    Attributes
    ----------
    verdict : VerdictKind
        ``reproduced``, ``reproduced_for_r`` or ``not_reproducible``.
    published : PublishedP
    method : TTestMethod
        The test that reproduces it (or, when none does, the one tried first).
    comparison : Comparison
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

    verdict: VerdictKind
    published: PublishedP
    method: TTestMethod
    comparison: Comparison
    p_value: float
    p_min: float
    p_max: float
    r_intervals: tuple[tuple[float, float], ...]
    r_range: tuple[float, float]
    reason: str

    @property
    def label(self) -> str:
        """The verdict in words: ``reproduced only for r in [0.71, 0.86]`` and the like."""
        if self.verdict is VerdictKind.REPRODUCED_FOR_R:
            spans = " or ".join(f"[{a:.2f}, {b:.2f}]" for a, b in self.r_intervals)
            return f"reproduced only for r in {spans}"
        return self.verdict.value.replace("_", " ")


def _r_set(design: _Design, published: PublishedP, half: float, lo: float, hi: float,
           grid: int) -> list[tuple[float, float]]:
    """Intervals of r in [lo, hi] at which the p range meets the published interval."""
    def p_min(r: np.ndarray) -> np.ndarray:
        return _p_range(design, r, half)[0]

    def p_max(r: np.ndarray) -> np.ndarray:
        return _p_range(design, r, half)[1]

    def meets(r: float) -> bool:
        return published.overlaps(*(float(x[0]) for x in _p_range(design, np.array([r]), half)))

    cuts = {lo, hi}
    if published.low > 0:
        cuts.update(_roots(lambda r: _log_gap(p_max(r), published.low), lo, hi, grid))
    if published.high < 1:
        cuts.update(_roots(lambda r: _log_gap(p_min(r), published.high), lo, hi, grid))
    points = sorted(cuts)
    spans: list[tuple[float, float]] = []
    for a, b in zip(points[:-1], points[1:]):
        if meets((a + b) / 2):
            if spans and spans[-1][1] == a:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    for x in (lo, hi):  # a range end can meet the interval alone
        if meets(x) and not any(a <= x <= b for a, b in spans):
            spans.append((x, x))
    return sorted(spans)


def verdict(published_p: float | str, treatment: ArmSummary, control: ArmSummary | None = None, *,
            comparison: Comparison | str = Comparison.CHANGE, equal_var: bool | None = None,
            decimals: int | None = None, r_range: Sequence[float] = (0.0, 1.0),
            grid: int = 401) -> Verdict:
    """Is a published p-value reproduced by the published table? One outcome, one verdict.

    Parameters
    ----------
    published_p : float or str
        As printed: ``0.03`` means [0.025, 0.035); ``"< 0.001"`` means below 0.001 (a string keeps
        trailing zeros: ``"0.030"``).
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
    Verdict
        ``reproduced`` (at the printed values, or for every r in ``r_range``), ``reproduced_for_r``
        (only for some r: the intervals are given) or ``not_reproducible``, with the reason.

    Notes
    -----
    The recomputed p is :func:`t_from_summary` / :func:`paired_t_from_summary` on the published
    numbers, SDs converted to divisor n − 1 (``ArmSummary.sd_ddof``). When r matters the set of r
    whose p (range) meets the printed interval is found from the roots of
    :math:`\\log p_{max}(r) - \\log p_{low}` and :math:`\\log p_{min}(r) - \\log p_{high}`.
    Validated end to end on Student's sleep data (tests/reference/table_audit/): the paired
    p printed as 0.003 is reproduced only for an r interval that contains the data's r = 0.795.

    Examples
    --------
    >>> drug = ArmSummary(10, 2.33, 1.90, baseline_mean=0.75, baseline_sd=1.70, sd_ddof=0)
    >>> res = verdict("0.003", drug, decimals=2)
    >>> res.verdict.value, res.r_intervals[0][0] < 0.795 < res.r_intervals[0][1]
    ('reproduced_for_r', True)
    """
    published = parse_p(published_p)
    try:
        comparison = Comparison(comparison)
    except ValueError:
        allowed = ", ".join(repr(c.value) for c in Comparison)
        raise TableAuditError(f"`comparison` must be one of {allowed}; got {comparison!r}.") from None
    half = 0.0 if decimals is None else 0.5 * 10.0 ** -_integer(decimals, "decimals", 0)
    lo, hi = _r_range(r_range)
    grid = _integer(grid, "grid", 3)
    if control is None:
        methods = [_method(None, equal_var)]
    elif equal_var is None:
        methods = [TTestMethod.WELCH, TTestMethod.STUDENT]
    else:
        methods = [_method(control, equal_var)]
    tried = [_verdict_one(published, _design(comparison, treatment, control, m), comparison, half, lo, hi, grid)
             for m in methods]
    order = {VerdictKind.REPRODUCED: 0, VerdictKind.REPRODUCED_FOR_R: 1, VerdictKind.NOT_REPRODUCIBLE: 2}
    best = min(tried, key=lambda v: order[v.verdict])  # stable: Welch first on ties
    if len(tried) > 1:
        others = [v for v in tried if v is not best]
        best = replace(best, reason=best.reason + "; " + "; ".join(
            f"{v.method.value}: {v.label}" for v in others))
    return best


def _verdict_one(published: PublishedP, design: _Design, comparison: Comparison, half: float,
                 lo: float, hi: float, grid: int) -> Verdict:
    shown = published.text
    rounding = " over the rounding of the table" if half > 0 else ""
    if not design.depends_on_r:
        r0 = np.array([0.0])
        at = float(_p_range(design, r0, 0.0)[0][0])
        p_lo, p_hi = (float(x[0]) for x in _p_range(design, r0, half))
        span = f"p = {at:.4g}" if half == 0 else f"p = {at:.4g} (range {p_lo:.4g} to {p_hi:.4g}{rounding})"
        if published.overlaps(p_lo, p_hi):
            kind, where = VerdictKind.REPRODUCED, "within"
        else:
            kind, where = VerdictKind.NOT_REPRODUCIBLE, "outside"
        reason = f"{design.description}: {span}, {where} {published.interval()} (printed {shown})"
        return Verdict(kind, published, design.method, comparison, at, p_lo, p_hi, (), (lo, hi), reason)
    xs = np.linspace(lo, hi, grid)
    lows, highs = _p_range(design, xs, half)
    p_lo, p_hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    spans = _r_set(design, published, half, lo, hi, grid)
    ends = _p_range(design, np.array([lo, hi]), 0.0)[0]
    where = (f"{design.description}: p = {ends[0]:.4g} at r = {lo:g} and {ends[1]:.4g} at r = {hi:g}"
             f"{'; ' + rounding.strip() if half > 0 else ''}")
    if spans == [(lo, hi)]:
        kind = VerdictKind.REPRODUCED
        reason = f"{where}: within {published.interval()} (printed {shown}) for every r in [{lo:g}, {hi:g}]"
    elif spans:
        kind = VerdictKind.REPRODUCED_FOR_R
        text = " or ".join(f"[{a:.4f}, {b:.4f}]" for a, b in spans)
        reason = f"{where}: within {published.interval()} (printed {shown}) only for r in {text}"
    else:
        kind = VerdictKind.NOT_REPRODUCIBLE
        reason = f"{where}: no r in [{lo:g}, {hi:g}] gives p within {published.interval()} (printed {shown})"
    return Verdict(kind, published, design.method, comparison, math.nan, p_lo, p_hi, tuple(spans), (lo, hi), reason)
