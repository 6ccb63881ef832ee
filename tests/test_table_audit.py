"""Table-level audit tools: GRIM, GRIMMER, SD bounds, t from summary statistics, change SD over r,
implied r and verdicts; checked by hand arithmetic, brute-force enumeration, scipy and R
(tests/reference/table_audit/: Student's 1908 sleep data, R datasets::sleep)."""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit import TrialkitError
from trialkit.reproduce.table_audit import (
    ArmSummary,
    Comparison,
    Rounding,
    TableAuditError,
    TTestMethod,
    VerdictKind,
    baseline_imbalance,
    change_score_sd,
    check_sd,
    correlation_from_change_sd,
    grim,
    grimmer,
    implied_r,
    p_change_over_r,
    paired_t_from_summary,
    parse_p,
    sd_bounds,
    t_from_summary,
    verdict,
)

REFERENCE = Path(__file__).parent / "reference" / "table_audit"
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
    """Printed values start/10^d ... stop/10^d as strings ("2.80", "2.81", ...)."""
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


@pytest.mark.parametrize(("mean", "n", "consistent"), [
    (3.48, 20, False),  # 20 die rolls: means are multiples of 0.05, so X.X0 or X.X5 only
    (3.45, 20, True),  # 69 / 20
    (5.93, 49, False),  # 5.93 * 49 = 290.57; 290/49 = 5.918 -> 5.92, 291/49 = 5.939 -> 5.94
    (5.92, 49, True),
    (20.92, 12, True),  # 251 / 12 = 20.9166... -> 20.92
])
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
    with pytest.raises(TableAuditError, match="more than 2 decimal places"):
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
    printed = {(_printed(Fraction(sum(v), 10), 2, Rounding.HALF_UP),
                _printed(Fraction(10 * sum(x * x for x in v) - sum(v) ** 2, 90), 2, Rounding.HALF_UP, sqrt=True))
               for v in itertools.combinations_with_replacement(range(-2, 4), 10)}
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
GRIMMER_GRIDS = [(n, 1, 1, 100, 500, 200) for n in (2, 3, 4)] + [(n, 1, 1, 150, 450, 150) for n in (5, 6, 7)] \
    + [(n, 1, 1, 240, 320, 120) for n in (8, 9, 10)] + [(3, 2, 1, 150, 450, 150), (4, 2, 1, 150, 450, 150),
                                                         (4, 1, 0, 150, 450, 150), (6, 1, 0, 150, 450, 150)]


@pytest.mark.parametrize(("n", "items", "ddof", "m_lo", "m_hi", "s_hi"), GRIMMER_GRIDS)
def test_grimmer_matches_brute_force_enumeration(n: int, items: int, ddof: int, m_lo: int, m_hi: int,
                                                 s_hi: int) -> None:
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
    allowed = {_printed(Fraction(t, g), 2, Rounding.HALF_UP) for t in range(math.floor(lo_mean * g), math.ceil(hi_mean * g) + 1)}
    means = sorted({m for m in _grid(m_lo, m_hi) if m in allowed} | {f"{Decimal(m) + Decimal('0.01')}" for m in allowed
                                                                      if m_lo <= int(Decimal(m) * 100) < m_hi})
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


# ---------------------------------------------------------------------------------------------
# SD bounds


@pytest.mark.parametrize(("n", "low", "high", "items", "ddof"), [
    (2, 0, 4, 1, 1), (3, 0, 4, 1, 1), (4, 1, 5, 1, 1), (5, 0, 4, 1, 1), (6, 0, 3, 1, 1),
    (4, 0, 3, 2, 1), (5, 0, 4, 1, 0),
])
def test_sd_bounds_match_brute_force(n: int, low: int, high: int, items: int, ddof: int) -> None:
    by_total: dict[int, list[float]] = {}
    for ys in itertools.combinations_with_replacement(range(low * items, high * items + 1), n):
        x = np.array(ys, dtype=float) / items
        by_total.setdefault(sum(ys), []).append(float(x.std(ddof=ddof)))
    for total, sds in by_total.items():
        lo, hi = sd_bounds(total / (n * items), n, low, high, integer=True, items=items, ddof=ddof)
        assert lo == pytest.approx(min(sds), abs=1e-12), total
        assert hi == pytest.approx(max(sds), abs=1e-12), total


def test_sd_bounds_over_a_printed_mean_and_for_continuous_data() -> None:
    # integer data, mean printed as 2.33 with n = 6 (totals 14 -> 2.333): bounds of that total
    assert sd_bounds(2.33, 6, 0, 4, integer=True, decimals=2) == sd_bounds(14 / 6, 6, 0, 4, integer=True)
    # continuous: Bhatia-Davis n (m - a)(b - m)/(n - 1) when n (m - a)/(b - a) is an integer
    _, hi = sd_bounds(1.0, 4, 0, 4, integer=False)  # {0, 0, 0, 4}
    assert hi == pytest.approx(math.sqrt(4 * 1.0 * 3.0 / 3), rel=1e-14)
    _, hi = sd_bounds(1.5, 4, 0, 4, integer=False)  # {0, 0, 2, 4}: k = 1 at the top, one inside
    assert hi == pytest.approx(float(np.std([0, 0, 2, 4], ddof=1)), rel=1e-14)
    # ... and no random sample in the range beats the bound
    rng = np.random.default_rng(20240611)
    for _ in range(200):
        x = rng.uniform(0, 4, 5) ** rng.uniform(0.2, 3)
        x = np.clip(x, 0, 4)
        assert x.std(ddof=1) <= sd_bounds(float(x.mean()), 5, 0, 4, integer=False)[1] + 1e-12
    # a printed mean widens the continuous bound to the best mean in its rounding interval
    assert sd_bounds(2.0, 5, 0, 4, integer=False, decimals=0)[1] >= sd_bounds(2.0, 5, 0, 4, integer=False)[1]


def test_check_sd_flags_an_sd_impossible_for_the_range() -> None:
    # 10 integer values in [0, 4] with mean 2: at most five 0s and five 4s, SD sqrt(40/9) = 2.108
    assert not check_sd(2.0, 2.5, 10, 0, 4, integer=True, decimals_sd=1).possible
    assert check_sd(2.0, 2.1, 10, 0, 4, integer=True, decimals_sd=1).possible  # 2.15 > 2.108
    # mean 2.5 with n = 2 integers: values 2 and 3 at least, SD >= 0.707
    tight = check_sd(2.5, 0.5, 2, 0, 4, integer=True, decimals_sd=1)
    assert not tight.possible and "below" in tight.reason
    # a mean no integer total gives (2.50 with n = 3: 7/3 -> 2.33, 8/3 -> 2.67) is reported, not raised
    impossible_mean = check_sd(2.50, 1.0, 3, 0, 4, integer=True, decimals_mean=2)
    assert not impossible_mean.possible and math.isnan(impossible_mean.sd_max)


# ---------------------------------------------------------------------------------------------
# t from summary statistics


@pytest.mark.parametrize("equal_var", [True, False])
def test_t_from_summary_matches_scipy(equal_var: bool) -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n1, n2 = (int(v) for v in rng.integers(2, 60, 2))
        m1, m2 = rng.normal(0, 5, 2)
        s1, s2 = rng.gamma(2.0, 2.0, 2)
        got = t_from_summary(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
        ref = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
        assert got.statistic == pytest.approx(float(ref.statistic), rel=1e-12, abs=1e-300)
        assert got.p_value == pytest.approx(float(ref.pvalue), rel=1e-12, abs=1e-300)
        assert got.method is (TTestMethod.STUDENT if equal_var else TTestMethod.WELCH)


@pytest.fixture(scope="module")
def sleep() -> dict[str, object]:
    data = pd.read_csv(REFERENCE / "sleep.csv")
    table = pd.read_csv(REFERENCE / "sleep_table.csv").set_index("quantity")
    expected = pd.read_csv(REFERENCE / "expected.csv").set_index("test")
    return {"data": data, "table": table, "expected": expected}


def test_t_from_summary_reproduces_r_two_sample_tests_on_the_sleep_data(sleep) -> None:
    """Relative error <= 1e-10 against R t.test (Welch and Student) on the individual data."""
    d1, d2 = sleep["data"]["drug1"].to_numpy(), sleep["data"]["drug2"].to_numpy()
    for name, equal_var in (("welch", False), ("student", True)):
        got = t_from_summary(d2.mean(), d2.std(ddof=1), 10, d1.mean(), d1.std(ddof=1), 10, equal_var=equal_var)
        ref = sleep["expected"].loc[name]
        for field in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
            np.testing.assert_allclose(getattr(got, field), ref[field], rtol=1e-10, err_msg=f"{name} {field}")


def test_paired_t_from_summary_reproduces_r_paired_test(sleep) -> None:
    diff = (sleep["data"]["drug2"] - sleep["data"]["drug1"]).to_numpy()
    got = paired_t_from_summary(diff.mean(), diff.std(ddof=1), 10)
    ref = sleep["expected"].loc["paired"]
    for field in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(got, field), ref[field], rtol=1e-10, err_msg=field)


# ---------------------------------------------------------------------------------------------
# Student's sleep table, end to end


def test_students_published_sds_use_divisor_n(sleep) -> None:
    """Student printed S.D. 1.70, 1.90, 1.17: the divisor-n SDs; divisor n - 1 gives 1.79, 2.00, 1.23."""
    table = sleep["table"]
    assert (table["published_sd_matches"] == "divisor_n").all()
    data = sleep["data"]
    cols = {"drug1": data["drug1"], "drug2": data["drug2"], "difference": data["drug2"] - data["drug1"]}
    for name, x in cols.items():
        assert round(float(x.std(ddof=0)), 2) == table.loc[name, "published_sd"]
        assert round(float(x.std(ddof=1)), 2) != table.loc[name, "published_sd"]
        assert float(x.std(ddof=1)) == pytest.approx(table.loc[name, "sd_divisor_n_minus_1"], rel=1e-14)
    assert round(float(cols["difference"].std(ddof=1)), 2) == 1.23


def test_grimmer_accepts_students_table_in_tenths_of_an_hour(sleep) -> None:
    # the data are in tenths of an hour: in tenths, mean 0.75 h = 7.5 and S.D. 1.70 h = 17.0 (divisor n)
    for name, row in sleep["table"].iterrows():
        res = grimmer(f"{row['published_mean'] * 10:.1f}", f"{row['published_sd'] * 10:.1f}", 10,
                      decimals_mean=1, decimals_sd=1, ddof=0)
        assert res.consistent, (name, res.reason)


def test_change_score_sd_is_exact_for_sample_statistics(sleep) -> None:
    d1, d2 = sleep["data"]["drug1"], sleep["data"]["drug2"]
    r = float(sleep["expected"].loc["cor", "estimate"])
    assert change_score_sd(d1.std(), d2.std(), r) == pytest.approx(float((d2 - d1).std()), rel=1e-13)
    assert correlation_from_change_sd(d1.std(), d2.std(), float((d2 - d1).std())) == pytest.approx(r, rel=1e-12)


def test_implied_r_recovers_the_within_patient_correlation(sleep) -> None:
    """From the paired p and the two SDs (full precision), the solver returns cor(drug1, drug2)."""
    d1, d2 = sleep["data"]["drug1"], sleep["data"]["drug2"]
    arm = ArmSummary(10, float(d2.mean()), float(d2.std()), baseline_mean=float(d1.mean()),
                     baseline_sd=float(d1.std()))
    res = implied_r(float(sleep["expected"].loc["paired", "p_value"]), arm)
    assert res.monotone and len(res.roots) == 1
    assert res.roots[0] == pytest.approx(float(sleep["expected"].loc["cor", "estimate"]), abs=1e-6)


@pytest.mark.parametrize("decimals", [None, 2])
def test_verdict_on_students_published_table(sleep, decimals) -> None:
    """Printed p 0.003 (R's paired p, 0.00283, to 3 decimals) from the printed table (divisor-n SDs):
    reproduced only for an interval of r that contains the data's r = 0.795."""
    table = sleep["table"]
    arm = ArmSummary(10, table.loc["drug2", "published_mean"], table.loc["drug2", "published_sd"],
                     baseline_mean=table.loc["drug1", "published_mean"],
                     baseline_sd=table.loc["drug1", "published_sd"], sd_ddof=0)
    res = verdict("0.003", arm, decimals=decimals)
    r_true = float(sleep["expected"].loc["cor", "estimate"])
    assert res.verdict is VerdictKind.REPRODUCED_FOR_R and res.method is TTestMethod.PAIRED
    assert len(res.r_intervals) == 1
    a, b = res.r_intervals[0]
    assert a < r_true < b and 0.7 < a and b < 0.9
    assert res.label.startswith("reproduced only for r in [")
    # the printed values sit inside the rounding box, so the box widens the r interval
    if decimals is not None:
        plain = verdict("0.003", arm).r_intervals[0]
        assert a <= plain[0] and plain[1] <= b


def test_verdict_on_students_two_sample_comparison(sleep) -> None:
    table = sleep["table"]
    d1 = ArmSummary(10, table.loc["drug1", "published_mean"], table.loc["drug1", "published_sd"], sd_ddof=0)
    d2 = ArmSummary(10, table.loc["drug2", "published_mean"], table.loc["drug2", "published_sd"], sd_ddof=0)
    p_welch = round(float(sleep["expected"].loc["welch", "p_value"]), 3)  # 0.079
    res = verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up", decimals=2)
    assert res.verdict is VerdictKind.REPRODUCED and res.r_intervals == ()
    # at the printed values alone only Student lands in [0.0785, 0.0795): Welch gives 0.0796
    exact = verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up")
    assert exact.method is TTestMethod.STUDENT and "welch: not reproducible" in exact.reason
    assert verdict(f"{p_welch:.3f}", d2, d1, comparison="follow_up", equal_var=False).verdict \
        is VerdictKind.NOT_REPRODUCIBLE


# ---------------------------------------------------------------------------------------------
# p <-> r round trips on synthetic tables


def _random_arm(rng: np.random.Generator, shift: float) -> ArmSummary:
    n = int(rng.integers(8, 60))
    sd_pre, sd_post = (float(v) for v in rng.uniform(2.0, 8.0, 2))
    base = float(rng.normal(20, 3))
    return ArmSummary(n, base + shift, sd_post, baseline_mean=base, baseline_sd=sd_pre)


@pytest.mark.parametrize("method", list(TTestMethod))
def test_implied_r_round_trips_on_synthetic_tables(method: TTestMethod) -> None:
    rng = np.random.default_rng({TTestMethod.PAIRED: 1, TTestMethod.STUDENT: 2, TTestMethod.WELCH: 3}[method])
    checked = 0
    for _ in range(40):
        treatment = _random_arm(rng, float(rng.normal(-3, 1)))
        control = None if method is TTestMethod.PAIRED else _random_arm(rng, float(rng.normal(0, 1)))
        equal_var = None if control is None else method is TTestMethod.STUDENT
        for r_true in (0.05, 0.3, 0.55, 0.8, 0.95):
            p = float(p_change_over_r(treatment, control, equal_var=equal_var, r=[r_true])["p_value"].iloc[0])
            if not 1e-250 < p < 1:
                continue
            res = implied_r(p, treatment, control, equal_var=equal_var)
            assert min(abs(x - r_true) for x in res.roots) < 1e-8, (r_true, res)
            if method is not TTestMethod.WELCH:
                assert res.monotone and len(res.roots) == 1
            checked += 1
    assert checked > 150


def test_p_change_over_r_agrees_with_t_from_summary() -> None:
    t = ArmSummary(30, 12.0, 4.0, baseline_mean=15.0, baseline_sd=5.0)
    c = ArmSummary(28, 14.5, 4.5, baseline_mean=15.5, baseline_sd=4.8)
    table = p_change_over_r(t, c, equal_var=False)
    assert list(table.columns)[:2] == ["r", "sd_change_treatment"] and len(table) == 100
    assert table["r"].iloc[0] == 0 and table["r"].iloc[-1] == 0.99
    for r in (0.0, 0.5, 0.99):
        row = table.loc[np.isclose(table["r"], r)].iloc[0]
        ref = t_from_summary(-3.0, change_score_sd(5.0, 4.0, r), 30, -1.0, change_score_sd(4.8, 4.5, r), 28,
                             equal_var=False)
        assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-12)
        assert row["df"] == pytest.approx(ref.df, rel=1e-12)
    assert (np.diff(table["p_value"]) < 0).all()  # larger r, smaller change SD, smaller p


def test_implied_r_without_a_solution_or_with_a_whole_interval() -> None:
    arm = ArmSummary(20, 12.0, 4.0, baseline_mean=10.0, baseline_sd=4.0)
    none = implied_r(0.9, arm)  # p falls from 0.13 (r = 0) towards 0 (r = 1): never 0.9
    assert none.roots == () and none.intervals == () and none.p_at_ends[0] < 0.9
    flat = ArmSummary(20, 10.0, 4.0, baseline_mean=10.0, baseline_sd=4.0)  # no change: p = 1 at every r < 1
    res = implied_r(1.0, flat, r_range=(0.0, 0.99))
    assert res.intervals == ((0.0, 0.99),)


# ---------------------------------------------------------------------------------------------
# verdicts and printed p-values


def test_parse_p_reads_printed_p_values() -> None:
    assert parse_p(0.03).interval() == "[0.025, 0.035)"
    assert parse_p("0.030").interval() == "[0.0295, 0.0305)"
    assert parse_p("p < .001").interval() == "(0, 0.001)"
    assert parse_p("P ≤ 0.05").interval() == "(0, 0.05]"
    assert parse_p("> 0.05").interval() == "(0.05, 1]"
    assert parse_p("1.00").contains(1.0)


def test_verdict_kinds() -> None:
    t = ArmSummary(30, 12.0, 4.0, baseline_mean=15.0, baseline_sd=5.0)
    c = ArmSummary(30, 14.5, 4.5, baseline_mean=15.5, baseline_sd=4.8)
    # a huge effect: p < 0.001 whatever r
    big = ArmSummary(30, 2.0, 1.0, baseline_mean=15.0, baseline_sd=1.0)
    assert verdict("< 0.001", big, c, equal_var=True).verdict is VerdictKind.REPRODUCED
    # p falls from 0.24 (r = 0) as r grows: 0.5 cannot be reached
    res = verdict("0.5", t, c, equal_var=False)
    assert res.verdict is VerdictKind.NOT_REPRODUCIBLE and "no r in" in res.reason
    # published change SDs: no r needed
    t2 = ArmSummary(30, 12.0, 4.0, baseline_mean=15.0, baseline_sd=5.0, change_sd=4.2)
    c2 = ArmSummary(30, 14.5, 4.5, baseline_mean=15.5, baseline_sd=4.8, change_sd=4.4)
    p = t_from_summary(-3.0, 4.2, 30, -1.0, 4.4, 30, equal_var=True).p_value
    res = verdict(f"{p:.3f}", t2, c2, equal_var=True)
    assert res.verdict is VerdictKind.REPRODUCED and res.p_value == pytest.approx(p, rel=1e-14)
    wrong = verdict(f"{p * 3:.3f}", t2, c2, equal_var=True)
    assert wrong.verdict is VerdictKind.NOT_REPRODUCIBLE and "outside" in wrong.reason


def test_baseline_imbalance_reports_smd_flags_and_what_the_p_value_means() -> None:
    res = baseline_imbalance(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=True)
    assert res.smd == pytest.approx(1.2 / math.sqrt((16 + 19.36) / 2), rel=1e-14)
    assert res.exceeded == (0.1, 0.2)
    assert res.ttest == t_from_summary(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=True)
    assert "randomisation" in res.note and "CONSORT" in res.note
    assert baseline_imbalance(15.2, 4.0, 40, 15.0, 4.4, 38, equal_var=False).exceeded == ()


# ---------------------------------------------------------------------------------------------
# malformed inputs


@pytest.mark.parametrize(("call", "message"), [
    (lambda: t_from_summary(1, 1, 1, 2, 1, 10, equal_var=True), r"`n1` must be an integer >= 2; got 1"),
    (lambda: grimmer(3.0, 1.0, 1, decimals_mean=2, decimals_sd=2), r"`n` must be an integer >= 2; got 1"),
    (lambda: sd_bounds(2.0, 1, 0, 4, integer=True), r"`n` must be an integer >= 2; got 1"),
    (lambda: ArmSummary(1, 2.0, 1.0), r"`n` must be an integer >= 2; got 1"),
    (lambda: grim(2.5, 0, decimals=1), r"`n` must be an integer >= 1; got 0"),
    (lambda: grim(2.5, 10.0, decimals=1), r"`n` must be an integer >= 1; got 10.0"),
    (lambda: t_from_summary(1, -1, 10, 2, 1, 10, equal_var=True), r"`sd1` must be a standard deviation"),
    (lambda: grimmer(3.0, -1.0, 5, decimals_mean=2, decimals_sd=2), r"`sd` must be a standard deviation"),
    (lambda: ArmSummary(10, 2.0, 1.0, baseline_sd=-0.5), r"`baseline_sd` must be a standard deviation"),
    (lambda: check_sd(2.0, -1.0, 10, 0, 4, integer=True), r"`sd` must be a standard deviation"),
    (lambda: change_score_sd(1.0, 1.0, 1.5), r"`r` must be a correlation in \[-1, 1\]; got 1.5"),
    (lambda: p_change_over_r(ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), r=[-1.2]),
     r"`r` must be a correlation in \[-1, 1\]"),
    (lambda: implied_r(0.05, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), r_range=(0, 2)),
     r"`r_range\[1\]` must be a correlation"),
    (lambda: implied_r(0.0, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)),
     r"`target_p` must be a p-value in \(0, 1\]; got 0.0"),
    (lambda: implied_r(1.5, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)),
     r"`target_p` must be a p-value in \(0, 1\]; got 1.5"),
    (lambda: parse_p("1.2"), r"`p` must be a p-value in \(0, 1\]"),
    (lambda: parse_p(0), r"`p` must be a p-value in \(0, 1\]"),
    (lambda: parse_p("n.s."), r"`p` must be a p-value"),
    (lambda: verdict(-0.01, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1)), r"`p` must be a p-value"),
    (lambda: p_change_over_r(ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1),
                             ArmSummary(10, 1, 1, baseline_mean=1, baseline_sd=1)), r"`equal_var` must be True"),
    (lambda: implied_r(0.05, ArmSummary(10, 2, 1, baseline_mean=1, baseline_sd=1), equal_var=True),
     r"leave it unset for a within-arm"),
    (lambda: verdict(0.05, ArmSummary(10, 2, 1), ArmSummary(10, 1, 1), equal_var=True),
     r"change analysis needs `baseline_mean`"),
    (lambda: verdict(0.05, ArmSummary(10, 2, 1), comparison="follow_up"), r"needs two arms"),
    (lambda: verdict(0.05, ArmSummary(10, 2, 1), ArmSummary(10, 1, 1), comparison="end", equal_var=True),
     r"`comparison` must be one of 'follow_up', 'change'"),
    (lambda: grim(2.5, 10, decimals=1, rounding="bankers"), r"`rounding` must be one or more of"),
    (lambda: sd_bounds(5.0, 10, 0, 4, integer=False), r"outside the range"),
    (lambda: sd_bounds(2.0, 10, 4, 0, integer=False), r"`low` must be below `high`"),
    (lambda: sd_bounds(2.33, 10, 0, 4, integer=True), r"must be an integer; got 23\.3\. Pass `decimals`"),
    (lambda: correlation_from_change_sd(1.0, 1.0, 3.0), r"outside \[-1, 1\]"),
])
def test_malformed_inputs_raise_trialkit_errors_naming_the_argument(call, message) -> None:
    with pytest.raises(TableAuditError, match=message) as info:
        call()
    assert isinstance(info.value, TrialkitError) and isinstance(info.value, ValueError)


def test_docstring_examples_run() -> None:
    import doctest

    import trialkit.reproduce.table_audit as module

    assert doctest.testmod(module).failed == 0


def test_comparison_registry_values() -> None:
    assert [c.value for c in Comparison] == ["follow_up", "change"]
    assert [v.value for v in VerdictKind] == ["reproduced", "reproduced_for_r", "not_reproducible"]
