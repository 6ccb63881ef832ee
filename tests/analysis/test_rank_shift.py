"""The fast shifted rank statistics equal what ranking the shifted sample gives, for any shift.

The root searches of the rank tests evaluate these some 40 times per test; they must agree with
R's W(d) (rank the pooled doubles ``x - d``, ties by exact equality) at every shift, including
shifts that are exactly a pairwise difference and samples with near-ties (doubles that differ
in the last bits and can collapse into one value after the shift).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from trialkit.analysis._rank_shift import RankSumShift, SignedRankShift


def _tie_term(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    return float(np.sum(counts.astype(float) ** 3 - counts))


def _rank_sum_by_ranking(x: np.ndarray, y: np.ndarray, d: float) -> tuple[float, float]:
    pooled = np.concatenate([x - d, y])
    ranks = rankdata(pooled)
    return float(ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2), _tie_term(pooled)


def _signed_rank_by_ranking(values: np.ndarray, s: float) -> tuple[int, float, float]:
    xd = values - s
    xd = xd[xd != 0]
    ranks = rankdata(np.abs(xd))
    return len(xd), float(ranks[xd > 0].sum()), _tie_term(np.abs(xd))


def _samples(seed: int, n: int, decimals: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.round(rng.normal(50, 10, n), decimals)
    follow_up = np.round(0.6 * base + 20 + rng.normal(0, 8, n), decimals)
    return follow_up - base  # changes: many exact ties and near-ties (0.85 - 0.80 vs 0.88 - 0.83)


def _shifts(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> list[float]:
    pairwise = np.subtract.outer(x, y).ravel()
    return [0.0, *rng.choice(pairwise, 20), *rng.uniform(pairwise.min() - 1, pairwise.max() + 1, 20)]


@pytest.mark.parametrize(("seed", "decimals"), [(1, 0), (2, 1), (3, 2), (4, 3)])
def test_rank_sum_equals_ranking_at_any_shift(seed, decimals) -> None:
    x, y = _samples(seed, 300, decimals), _samples(seed + 100, 250, decimals)
    shift = RankSumShift(x, y)
    rng = np.random.default_rng(seed)
    for d in _shifts(x, y, rng):
        assert shift.at(d) == _rank_sum_by_ranking(x, y, d), d


@pytest.mark.parametrize(("seed", "decimals"), [(1, 0), (2, 1), (3, 2), (4, 3)])
def test_signed_rank_equals_ranking_at_any_shift(seed, decimals) -> None:
    d = _samples(seed, 400, decimals)
    d = d[d != 0]
    shift = SignedRankShift(d)
    rng = np.random.default_rng(seed)
    walsh = (d[:, None] + d[None, :]).ravel() / 2
    for s in [0.0, *rng.choice(d, 10), *rng.choice(walsh, 20), *rng.uniform(d.min() - 1, d.max() + 1, 20)]:
        assert shift.at(s) == _signed_rank_by_ranking(d, s), s


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(finite, min_size=1, max_size=30),
    st.lists(finite, min_size=1, max_size=30),
    st.one_of(finite, st.integers(0, 10_000)),
)
def test_rank_sum_equals_ranking_for_any_samples(x, y, d) -> None:
    xs, ys = np.array(x), np.array(y)
    shift = float(d) if isinstance(d, float) else float(np.subtract.outer(xs, ys).ravel()[d % (len(x) * len(y))])
    assert RankSumShift(xs, ys).at(shift) == _rank_sum_by_ranking(xs, ys, shift)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), st.one_of(finite, st.integers(0, 10_000)))
def test_signed_rank_equals_ranking_for_any_sample(values, s) -> None:
    d = np.array(values)
    shift = float(s) if isinstance(s, float) else float(d[s % len(d)])
    assert SignedRankShift(d).at(shift) == _signed_rank_by_ranking(d, shift)


def test_values_that_collapse_after_a_shift_merge_into_one_tie_group() -> None:
    from trialkit.analysis._rank_shift import _distinct, _merge_collapsed, _tie_sum

    rng = np.random.default_rng(5)
    for _ in range(200):
        values = np.sort(rng.choice([0.1, 0.2, 0.3, 0.7, 1.5], 12)) + rng.integers(0, 3, 12) * 2e-16
        distinct, counts = _distinct(np.sort(values))
        merged, merged_counts, ties = _merge_collapsed(np.round(distinct, 12), counts, _tie_sum(counts))
        expected, expected_counts = np.unique(np.round(values, 12), return_counts=True)
        np.testing.assert_array_equal(merged, expected)
        np.testing.assert_array_equal(merged_counts, expected_counts)
        assert ties == _tie_sum(expected_counts)
