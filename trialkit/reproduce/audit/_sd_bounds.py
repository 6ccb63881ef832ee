"""Which SDs are possible for n values on a bounded scale with a given mean.

:func:`sd_bounds` gives the smallest and largest SD of n values in [low, high] with the mean (over
every mean that prints as it, when the mean was printed), for integer scores or continuous data;
:func:`check_sd` flags a published SD outside them. Exact rational arithmetic for integer data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from trialkit._checks import check_integer, check_number
from trialkit._checks import check_sd as check_sd_value
from trialkit._errors import TrialkitError
from trialkit.reproduce.audit._rounding import Reported, check_ddof, reported


def _max_spread(n: int, total: Fraction, low: Fraction, high: Fraction) -> Fraction:
    """Max of sum (y - mean)^2 over y in [low, high]^n with sum y = total (k at high, one inside)."""
    k = math.floor((total - n * low) / (high - low))
    if k >= n:  # every value at the top of the range
        return Fraction(0)
    inner = total - k * high - (n - k - 1) * low
    squares = k * high * high + (n - k - 1) * low * low + inner * inner
    return squares - total * total / n


def sd_bounds(
    mean: Reported,
    n: int,
    low: float,
    high: float,
    *,
    integer: bool,
    decimals: int | None = None,
    items: int = 1,
    ddof: int = 1,
) -> tuple[float, float]:
    r"""Smallest and largest SD of ``n`` values in ``[low, high]`` with the given mean.

    Parameters
    ----------
    mean : float or str
        The mean; exact unless ``decimals`` is given (then as printed: a str such as ``"2.50"``
        keeps the printed digits).
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
    TrialkitError
        ``n`` < 2, ``low >= high``, a mean outside the range, integer data whose total cannot be
        an integer, bad options.

    Notes
    -----
    The sum of squared deviations is convex in the values, so over the polytope
    :math:`\{y \in [a, b]^n : \sum y = T\}` its maximum is at a vertex: :math:`k` values at
    :math:`b`, :math:`n - k - 1` at :math:`a` and one at :math:`c = T - kb - (n - k - 1)a \in [a, b]`,
    :math:`k = \lfloor (T - na)/(b - a) \rfloor`. When :math:`(T - na)/(b - a)` is an integer this
    is :math:`n(\bar y - a)(b - \bar y)` (the Bhatia-Davis bound). With integer :math:`a, b, T` the
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
    n = check_integer(n, "n", 2)
    items = check_integer(items, "items", 1)
    ddof = check_ddof(ddof)
    a, b = check_number(low, "low"), check_number(high, "high")
    if not a < b:
        raise TrialkitError(f"`low` must be below `high`; got low = {low!r}, high = {high!r}.")
    if not integer and items != 1:
        raise TrialkitError(f"`items` applies to integer data only; got items = {items!r} with integer = False.")
    if decimals is not None:
        decimals = check_integer(decimals, "decimals", 0)
        m = reported(mean, "mean", decimals, "decimals")
        half = Fraction(1, 2 * 10**decimals)
        m_low, m_high = m - half, m + half
    else:
        m = Fraction(check_number(mean, "mean"))
        m_low = m_high = m
    if m_high < Fraction(a) or m_low > Fraction(b):
        raise TrialkitError(f"`mean` = {mean!r} is outside the range [{low!r}, {high!r}].")
    divisor = n - ddof
    if integer:
        ya, yb = math.ceil(Fraction(a) * items), math.floor(Fraction(b) * items)
        if ya >= yb:
            raise TrialkitError(
                f"the range [{low!r}, {high!r}] holds fewer than two integer values (in steps of 1/{items})."
            )
        g = n * items
        if decimals is None:
            t = float(m) * g
            if abs(t - round(t)) > 1e-9 * max(1.0, abs(t)):
                raise TrialkitError(
                    f"with integer data and an exact mean, n × items × mean must be an "
                    f"integer; got {t:.10g}. Pass `decimals` for a printed mean."
                )
            totals = range(round(t), round(t) + 1)
        else:
            totals = range(math.ceil(m_low * g), math.floor(m_high * g) + 1)
        # totals are in units of one response; scores y = items * value lie in [ya, yb], sum y = T
        totals = range(max(totals.start, n * ya), min(totals.stop, n * yb + 1))
        if not len(totals):
            raise _NoTotal(f"no mean printing as {mean!r} is possible for {n} integer values in [{low!r}, {high!r}].")
        spreads_max = [_max_spread(n, Fraction(t), Fraction(ya), Fraction(yb)) for t in totals]
        spreads_min = [Fraction(t % n * (n - t % n), n) for t in totals]
        return _to_sd(min(spreads_min), divisor, items), _to_sd(max(spreads_max), divisor, items)
    m_low, m_high = max(m_low, Fraction(a)), min(m_high, Fraction(b))
    points = {m_low, m_high}
    width = Fraction(b) - Fraction(a)
    for k in range(n + 1):
        p = Fraction(a) + k * width / n
        if m_low < p < m_high:
            points.add(p)
    best = max(_max_spread(n, n * p, Fraction(a), Fraction(b)) for p in points)
    return 0.0, math.sqrt(float(best) / divisor)


def _to_sd(spread: Fraction, divisor: int, items: int) -> float:
    """Return the SD (in units of the value) of a sum of squared deviations of scores."""
    return math.sqrt(float(spread) / divisor) / items


class _NoTotal(TrialkitError):
    """No integer total gives the printed mean within the range (a finding for :func:`check_sd`)."""


@dataclass(frozen=True)
class SdCheck:
    """Whether a printed SD is possible for the scale's range (see :func:`check_sd`)."""

    possible: bool
    sd: float
    sd_min: float
    sd_max: float
    reason: str


def check_sd(
    mean: Reported,
    sd: Reported,
    n: int,
    low: float,
    high: float,
    *,
    integer: bool,
    decimals_mean: int | None = None,
    decimals_sd: int | None = None,
    items: int = 1,
    ddof: int = 1,
) -> SdCheck:
    """Flag an SD impossible for ``n`` values in ``[low, high]`` with that mean.

    The SD is possible when some value that prints as it (closed rounding interval, so a boundary
    case is never flagged) lies in ``[sd_min, sd_max]`` of :func:`sd_bounds`.

    Parameters
    ----------
    mean, n, low, high, integer, items, ddof
        As in :func:`sd_bounds`.
    sd : float or str
        The SD as printed (a str keeps the printed digits), >= 0.
    decimals_mean : int, optional
        The mean's printed decimals (``decimals`` of :func:`sd_bounds`).
    decimals_sd : int, optional
        The SD's printed decimals; without them the SD is taken as exact.

    Returns
    -------
    SdCheck
        ``possible``, the bounds and the reason. A mean that no integer data in the range can
        give is reported as impossible (``sd_min = sd_max = NaN``), not raised.

    Raises
    ------
    TrialkitError
        Malformed inputs (negative ``sd``, ``n`` < 2, ``low >= high``, ...).

    Examples
    --------
    >>> check_sd(2.0, 2.5, 10, 0, 4, integer=True, decimals_sd=1).possible   # max is 2.108
    False
    """
    if decimals_sd is None:
        s, half = check_sd_value(sd, "sd"), 0.0
    else:
        decimals_sd = check_integer(decimals_sd, "decimals_sd", 0)
        s = check_sd_value(float(reported(sd, "sd", decimals_sd, "decimals_sd")), "sd")
        half = 0.5 * 10.0**-decimals_sd
    try:
        lo, hi = sd_bounds(mean, n, low, high, integer=integer, decimals=decimals_mean, items=items, ddof=ddof)
    except _NoTotal as err:
        return SdCheck(False, s, math.nan, math.nan, f"the mean itself is impossible: {err}")
    tol = 1e-12 * max(1.0, hi)
    possible = s + half >= lo - tol and s - half <= hi + tol
    scale = f"{n} {'integer ' if integer else ''}values in [{low:g}, {high:g}] with mean {float(mean):g}"
    if possible:
        reason = f"SD {s:g} is within [{lo:.6g}, {hi:.6g}], the SDs possible for {scale}"
    elif s - half > hi:
        reason = (
            f"SD {s:g} exceeds {hi:.6g}, the largest SD possible for {scale} (values piled at the ends of the range)"
        )
    else:
        reason = f"SD {s:g} is below {lo:.6g}, the smallest SD possible for {scale}"
    return SdCheck(possible, s, lo, hi, reason)
