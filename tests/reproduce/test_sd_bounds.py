"""SD bounds on a bounded scale: brute-force enumeration, Bhatia-Davis, and impossible SDs flagged."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trialkit.reproduce.audit import check_sd, sd_bounds


@pytest.mark.parametrize(
    ("n", "low", "high", "items", "ddof"),
    [
        (2, 0, 4, 1, 1),
        (3, 0, 4, 1, 1),
        (4, 1, 5, 1, 1),
        (5, 0, 4, 1, 1),
        (6, 0, 3, 1, 1),
        (4, 0, 3, 2, 1),
        (5, 0, 4, 1, 0),
    ],
)
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
