"""GRIM and GRIMMER: hand-checked cases, brute-force enumeration of integer data, and a theorem.

The theorem: parity and minimum suffice for five or more integers.
"""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest

from trialkit import TrialkitError
from trialkit.reproduce.audit import Rounding, grim, grimmer

MODES = {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.HALF_EVEN: ROUND_HALF_EVEN}


# ---------------------------------------------------------------------------------------------
# an independent oracle: print a rational (or the square root of one) with the decimal module


def _printed(x: Fraction, decimals: int, mode: Rounding, *, sqrt: bool = False) -> str:
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x.numerator) / Decimal(x.denominator)
        if sqrt:
            d = d.sqrt()
        return str(d.quantize(Decimal(1).scaleb(-decimals), rounding=MODES[mode]))


def _grid(start: int, stop: int, decimals: int = 2) -> list[str]:
    """Return the printed values start/10^d ... stop/10^d as strings ("2.80", "2.81", ...)."""
    unit = 10**decimals
    return [f"{k // unit}.{k % unit:0{decimals}d}" for k in range(start, stop + 1)]


# ---------------------------------------------------------------------------------------------
# GRIM


def test_grim_brown_heathers_worked_example() -> None:
    # Brown & Heathers (2017): n = 28 integer responses, mean printed to 2 decimals.
    # 5.19 * 28 = 145.32, so the total would be 145 or 146: 145/28 = 5.17857... -> 5.18 and
    # 146/28 = 5.21428... -> 5.21. Neither prints as 5.19: inconsistent. 5.18 comes from 145.
    bad = grim(5.19, 28, decimals=2)
    assert not bad.consistent and bad.conventions == () and bad.informative
    assert "145/28" in bad.reason and "146/28" in bad.reason
    good = grim(5.18, 28, decimals=2)
    assert good.consistent and list(good.sums) == [145]
    assert set(good.conventions) == {Rounding.HALF_UP, Rounding.HALF_EVEN}


@pytest.mark.parametrize(
    ("mean", "n", "consistent"),
    [
        (3.48, 20, False),  # 20 die rolls: means are multiples of 0.05, so X.X0 or X.X5 only
        (3.45, 20, True),  # 69 / 20
        (5.93, 49, False),  # 5.93 * 49 = 290.57; 290/49 = 5.918 -> 5.92, 291/49 = 5.939 -> 5.94
        (5.92, 49, True),
        (20.92, 12, True),  # 251 / 12 = 20.9166... -> 20.92
    ],
)
def test_grim_hand_checked_cases(mean: float, n: int, consistent: bool) -> None:
    assert grim(mean, n, decimals=2).consistent is consistent


def test_grim_reports_which_rounding_convention_works() -> None:
    # 9/8 = 1.125 exactly: half up prints 1.13, half even prints 1.12
    assert grim("1.13", 8, decimals=2).conventions == (Rounding.HALF_UP,)
    assert grim("1.12", 8, decimals=2).conventions == (Rounding.HALF_EVEN,)
    assert not grim("1.12", 8, decimals=2, rounding="half_up").consistent
    # ties away from zero for negative means
    assert grim("-1.13", 8, decimals=2).conventions == (Rounding.HALF_UP,)
    assert grim("-1.12", 8, decimals=2).conventions == (Rounding.HALF_EVEN,)


def test_grim_with_items_and_uninformative_samples() -> None:
    # 10 participants x 3 items: means are multiples of 1/30. 61/30 = 2.0333 -> 2.03;
    # 2.05 * 30 = 61.5 and 61/30 -> 2.03, 62/30 = 2.0667 -> 2.07: inconsistent.
    assert grim(2.03, 10, decimals=2, items=3).consistent
    res = grim(2.05, 10, decimals=2, items=3)
    assert not res.consistent and res.granularity == 30
    wide = grim(3.14, 150, decimals=2)
    assert wide.consistent and not wide.informative and "cannot detect" in wide.reason


def test_grim_string_keeps_trailing_zeros_and_float_is_read_as_printed() -> None:
    assert grim("5.10", 10, decimals=2).consistent == grim(5.1, 10, decimals=2).consistent is True
    with pytest.raises(TrialkitError, match="more than 2 decimal places"):
        grim(5.195, 28, decimals=2)


@pytest.mark.parametrize("mode", list(Rounding))
def test_grim_matches_enumeration_of_every_total(mode: Rounding) -> None:
    """For n = 1..30 and every printed mean 0.00..6.00: consistent iff some total prints as it."""
    for n in range(1, 31):
        possible = {_printed(Fraction(t, n), 2, mode) for t in range(0, 6 * n + 1)}
        for mean in _grid(0, 600):
            assert grim(mean, n, decimals=2, rounding=mode).consistent is (mean in possible), (n, mean)


# ---------------------------------------------------------------------------------------------
# GRIMMER


def test_grimmer_hand_checked_cases() -> None:
    kw = {"decimals_mean": 2, "decimals_sd": 2}
    # 1, 2, 3, 4, 5: mean 3, SD sqrt(2.5) = 1.5811 -> 1.58
    assert grimmer(3.00, 1.58, 5, **kw).consistent
    # SD 1.59: s^2 in [1.585^2, 1.595^2] = [2.5122, 2.5440]; Q = 4 s^2 + 45 in [55.049, 55.176]: no integer
    assert grimmer(3.00, 1.59, 5, **kw).failed == "sum_of_squares"
    # SD 1.66: Q in 4 * [1.655^2, 1.665^2] + 45 = [55.956, 56.089] -> Q = 56, even, but the total 15 is odd
    assert grimmer(3.00, 1.66, 5, **kw).failed == "parity"
    # n = 3, mean 2 (total 6), SD 1.41: Q in 2 * [1.405^2, 1.415^2] + 12 = [15.948, 16.005] -> 16, even
    # like 6 and >= 12, yet no three integers have sum 6 and sum of squares 16
    # ((2,2,2) 12, (1,2,3) 14, (1,1,4) 18, (0,3,3) 18, (0,2,4) 20, ...)
    res = grimmer(2.00, 1.41, 3, **kw)
    assert res.failed == "attainable" and not res.consistent


def test_grimmer_minimum_check_catches_what_analytic_grimmer_passes() -> None:
    # n = 10, mean 0.50 (total 5), SD 0.24: Q = 9 * 0.24^2 + 2.5 ~ 3.02 -> Q = 3, odd like 5, so
    # Allard's three tests pass; but 10 integers summing to 5 have sum of squares >= 5.
    res = grimmer(0.50, 0.24, 10, decimals_mean=2, decimals_sd=2)
    assert res.failed == "minimum"
    printed = {
        (
            _printed(Fraction(sum(v), 10), 2, Rounding.HALF_UP),
            _printed(Fraction(10 * sum(x * x for x in v) - sum(v) ** 2, 90), 2, Rounding.HALF_UP, sqrt=True),
        )
        for v in itertools.combinations_with_replacement(range(-2, 4), 10)
    }
    assert ("0.50", "0.24") not in printed
    assert ("0.50", "0.53") in printed  # five 0s and five 1s: SD sqrt(2.5/9) = 0.527
    assert grimmer(0.50, 0.53, 10, decimals_mean=2, decimals_sd=2).consistent


def _brute_force_pairs(n: int, values: range, items: int, ddof: int) -> dict[Rounding, set[tuple[str, str]]]:
    """Every (mean, SD) pair printed to 2 decimals by a multiset of n scores y/items, y in values."""
    moments = {(sum(ys), sum(y * y for y in ys)) for ys in itertools.combinations_with_replacement(values, n)}
    out: dict[Rounding, set[tuple[str, str]]] = {m: set() for m in Rounding}
    for total, squares in moments:
        mean = Fraction(total, n * items)
        var = Fraction(n * squares - total * total, n * (n - ddof) * items * items)
        for mode in Rounding:
            out[mode].add((_printed(mean, 2, mode), _printed(var, 2, mode, sqrt=True)))
    return out


#: (n, items, ddof, lowest mean, highest mean, largest SD) of each brute-force grid
GRIMMER_GRIDS = (
    [(n, 1, 1, 100, 500, 200) for n in (2, 3, 4)]
    + [(n, 1, 1, 150, 450, 150) for n in (5, 6, 7)]
    + [(n, 1, 1, 240, 320, 120) for n in (8, 9, 10)]
    + [(3, 2, 1, 150, 450, 150), (4, 2, 1, 150, 450, 150), (4, 1, 0, 150, 450, 150), (6, 1, 0, 150, 450, 150)]
)


@pytest.mark.parametrize(("n", "items", "ddof", "m_lo", "m_hi", "s_hi"), GRIMMER_GRIDS)
def test_grimmer_matches_brute_force_enumeration(
    n: int, items: int, ddof: int, m_lo: int, m_hi: int, s_hi: int
) -> None:
    """Consistent iff some multiset of integer scores prints that mean and SD, per convention.

    Grid: every mean in [m_lo, m_hi] / 100 that GRIM allows and the value 0.01 above it (mostly
    GRIM-inconsistent; GRIM itself is enumerated above), times every SD 0.00..s_hi / 100. One value
    deviates from the mean by at most s sqrt((n - 1)(n - ddof)/n) (the others equal), so the
    enumerated range holds every multiset that could print a grid pair.
    """
    s_max, lo_mean, hi_mean = (s_hi + 0.5) / 100, (m_lo - 0.5) / 100, (m_hi + 0.5) / 100
    dev = s_max * math.sqrt((n - 1) * (n - ddof) / n)
    values = range(math.floor((lo_mean - dev) * items), math.ceil((hi_mean + dev) * items) + 1)
    pairs = _brute_force_pairs(n, values, items, ddof)
    g = n * items
    allowed = {
        _printed(Fraction(t, g), 2, Rounding.HALF_UP)
        for t in range(math.floor(lo_mean * g), math.ceil(hi_mean * g) + 1)
    }
    means = sorted(
        {m for m in _grid(m_lo, m_hi) if m in allowed}
        | {f"{Decimal(m) + Decimal('0.01')}" for m in allowed if m_lo <= int(Decimal(m) * 100) < m_hi}
    )
    stages = set()
    for mean in means:
        for sd in _grid(0, s_hi):
            res = grimmer(mean, sd, n, decimals_mean=2, decimals_sd=2, items=items, ddof=ddof)
            stages.add(res.failed)
            for mode in Rounding:
                expected = (mean, sd) in pairs[mode]
                assert (mode in res.conventions) is expected, (n, items, ddof, mean, sd, mode.value, res.reason)
    # the grid reaches every check that can fire at this n
    assert {None, "grim", "sum_of_squares", "parity"} <= stages, stages
    if n <= 4 and items == 1 and ddof == 1:
        assert "attainable" in stages, stages
    if n >= 9:
        assert "minimum" in stages, stages


def test_parity_and_minimum_suffice_for_five_or_more_integers() -> None:
    """Every Q' >= r with Q' = r (mod 2) is a sum of 5 squares of integers summing to r (0 <= r < 5).

    By appending zeros and z -> 1 - z this carries over to every n >= 5 (grimmer's Notes); checked
    here up to Q' = 10000 (and offline up to 60000).
    """
    q_max = 10_000
    width = math.isqrt(q_max) + 1
    mask = (1 << (q_max + 1)) - 1
    states = {0: 1}  # partial sum -> bitset of attainable sums of squares
    for _ in range(5):
        nxt: dict[int, int] = {}
        for s, bits in states.items():
            for v in range(-width, width + 1):
                b = (bits << (v * v)) & mask
                if b:
                    nxt[s + v] = nxt.get(s + v, 0) | b
        states = nxt
    for r in range(5):
        missing = [q for q in range(r, q_max + 1, 2) if not (states[r] >> q) & 1]
        assert missing == [], (r, missing[:5])
