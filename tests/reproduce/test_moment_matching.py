"""Moment matching: continuous samples to 1e-10 relative, integer samples to their granularity.

Integer samples: within the granularity of n integers (mean 1/(2n), variance 1/(n - 1); see
match_moments_integer) and within their bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from trialkit._errors import TrialkitError
from trialkit.reproduce.reconstruct import match_moments, match_moments_integer

REL = 1e-10


@pytest.mark.parametrize(
    "seed, n, mean, sd",
    [(1, 21, -3.6, 4.1), (2, 22, 0.0, 0.05), (3, 2, 1e4, 3.0), (4, 500, 0.36, 0.41), (5, 43, -1e-3, 1e-4)],
)
def test_match_moments_hits_target_mean_and_sd_to_1e10(seed: int, n: int, mean: float, sd: float) -> None:
    z = np.random.default_rng(seed).lognormal(size=n)
    x = match_moments(z, mean, sd)
    assert abs(x.mean() - mean) <= REL * max(abs(mean), sd)
    assert math.isclose(x.std(ddof=1), sd, rel_tol=REL)
    assert np.array_equal(np.argsort(x, kind="stable"), np.argsort(z, kind="stable"))  # shape kept


def test_match_moments_rejects_what_cannot_be_standardised() -> None:
    with pytest.raises(TrialkitError, match="no spread"):
        match_moments(np.ones(5), 0.0, 1.0)
    with pytest.raises(TrialkitError, match="at least 2"):
        match_moments(np.array([1.0]), 0.0, 1.0)
    with pytest.raises(TrialkitError, match="finite numbers"):
        match_moments(np.array([1.0, np.nan, 2.0]), 0.0, 1.0)
    with pytest.raises(TrialkitError, match="`sd`"):
        match_moments(np.array([1.0, 2.0]), 0.0, -1.0)


def test_match_moments_integer_is_integer_in_range_and_within_the_granularity() -> None:
    rng = np.random.default_rng(20120104)
    for k in range(1000):
        n = int(rng.integers(10, 41))
        z = rng.standard_normal(n) if k % 2 else rng.exponential(size=n)
        mean, sd = rng.uniform(-5, 5), rng.uniform(0.8, 6)
        res = match_moments_integer(z, mean, sd, -100, 100)
        assert res.values.dtype == np.int64 and len(res.values) == n
        assert abs(res.mean - mean) <= 1 / (2 * n) + 1e-12, (k, n, mean)
        assert abs(res.sd**2 - sd**2) <= 1 / (n - 1) + 1e-12, (k, n, sd)
        assert (res.mean, res.sd) == (res.values.mean(), res.values.std(ddof=1))
        assert (res.target_mean, res.target_sd) == (mean, sd)


def test_match_moments_integer_respects_per_value_bounds_like_isi_from_baseline() -> None:
    rng = np.random.default_rng(7)
    baseline = rng.integers(10, 25, size=21)
    res = match_moments_integer(rng.standard_normal(21), -5.6, 4.1, -baseline, 28 - baseline)
    follow = baseline + res.values
    assert follow.min() >= 0 and follow.max() <= 28
    assert abs(res.mean + 5.6) <= 1 / 42 and abs(res.sd**2 - 4.1**2) <= 1 / 20


def test_match_moments_integer_stays_in_range_when_the_bounds_bind() -> None:
    res = match_moments_integer(np.arange(10.0), 0.5, 5.0, 0, 1)  # SD 5 impossible within [0, 1]
    assert set(res.values.tolist()) <= {0, 1}
    assert res.mean == 0.5 and res.sd < 5.0  # mean reached, SD as close as the bounds allow
    assert math.isclose(res.sd, np.sqrt(10 * 0.25 / 9))


def test_match_moments_integer_is_deterministic_and_rejects_empty_bounds() -> None:
    z = np.random.default_rng(3).standard_normal(23)
    a, b = (match_moments_integer(z, 2.0, 3.0, -10, 10) for _ in range(2))
    assert np.array_equal(a.values, b.values) and a.n_moves == b.n_moves
    with pytest.raises(TrialkitError, match="no integer fits"):
        match_moments_integer(z, 0.0, 1.0, 0.2, 0.8)
