"""The batched t-test kernels ("t", "t_change") against SciPy and statsmodels OLS, replicate by replicate.

Tolerance: t statistics and p-values to 1e-10 relative. Both sides compute the same closed form
in double precision from centred sums (SciPy's ``ttest_ind``, statsmodels' QR least squares), so
they agree to about 1e-13; decisions are compared exactly (no replicate lies within 1e-10 of the
critical value in these draws).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from kernel_batches import batch, complete_cases, count_values, fixed_dropout, normal_values, random_dropout
from scipy import stats

from trialkit.power import ANALYSES
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._t import t_change, t_p_values, t_statistics, t_test

ALPHA = 0.05


def _outcome(b: Batch, t: int, change: bool) -> np.ndarray:
    """Return replicate ``t``'s primary-visit values, or their change from baseline, of every subject."""
    y: np.ndarray = b.values[t, :, 1] - (b.values[t, :, 0] if change else 0.0)
    return y


@pytest.mark.parametrize("change", [False, True])
@pytest.mark.parametrize("pattern", ["all", "fixed", "random"])
def test_two_arms_match_scipy_ttest_ind(change: bool, pattern: str) -> None:
    rng = np.random.default_rng(11)
    sizes, trials = (9, 12), 40
    values = normal_values(rng, sizes, trials, (0.0, 0.8))
    observed = {
        "all": None,
        "fixed": fixed_dropout(sizes, (2, 3)),
        "random": random_dropout(rng, trials, sum(sizes), 0.3),
    }[pattern]
    b = batch(values, sizes, observed)
    t, df, failed = t_statistics(b, change)
    p = t_p_values(b, change)
    reject = (t_change if change else t_test)(b, ALPHA).reject
    assert not failed.any()
    for r in range(trials):
        keep = complete_cases(b, r, (0, 1))
        y = _outcome(b, r, change)
        control, arm = y[keep & (b.arm == 0)], y[keep & (b.arm == 1)]
        ref = stats.ttest_ind(arm, control, equal_var=True)
        assert t[r, 0] == pytest.approx(ref.statistic, rel=1e-10)
        assert df[r] == control.size + arm.size - 2
        assert p[r, 0] == pytest.approx(ref.pvalue, rel=1e-10)
        assert reject[r, 0] == (ref.pvalue < ALPHA)
    assert 0 < reject.sum() < trials  # both decisions occur


@pytest.mark.parametrize("change", [False, True])
@pytest.mark.parametrize("pattern", ["fixed", "random"])
def test_three_groups_pool_the_variance_like_ols_on_arm_indicators(change: bool, pattern: str) -> None:
    rng = np.random.default_rng(12)
    sizes, trials = (10, 8, 11), 30
    values = normal_values(rng, sizes, trials, (0.0, 0.6, -0.4))
    observed = fixed_dropout(sizes, (1, 2, 0)) if pattern == "fixed" else random_dropout(rng, trials, 29, 0.25)
    b = batch(values, sizes, observed)
    t, df, failed = t_statistics(b, change)
    p = t_p_values(b, change)
    reject = (t_change if change else t_test)(b, ALPHA).reject
    assert not failed.any()
    for r in range(trials):
        keep = complete_cases(b, r, (0, 1))
        y = _outcome(b, r, change)[keep]
        arm = b.arm[keep]
        design = np.column_stack([np.ones(arm.size), arm == 1, arm == 2]).astype(float)
        fit = sm.OLS(y, design).fit()
        assert df[r] == fit.df_resid
        np.testing.assert_allclose(t[r], fit.tvalues[1:], rtol=1e-10)
        np.testing.assert_allclose(p[r], fit.pvalues[1:], rtol=1e-10)
        np.testing.assert_array_equal(reject[r], fit.pvalues[1:] < ALPHA)


def test_counts_with_ties_match_scipy() -> None:
    rng = np.random.default_rng(13)
    sizes, trials = (15, 15), 50
    b = batch(count_values(rng, sizes, trials, (2.0, 3.5)), sizes, fixed_dropout(sizes, (1, 2)))
    p = t_p_values(b, change=False)
    for r in range(trials):
        keep = complete_cases(b, r, (0, 1))
        y = b.values[r, :, 1]
        ref = stats.ttest_ind(y[keep & (b.arm == 1)], y[keep & (b.arm == 0)], equal_var=True)
        assert p[r, 0] == pytest.approx(ref.pvalue, rel=1e-10)


def test_a_random_pattern_that_repeats_the_fixed_one_gives_the_same_statistics() -> None:
    rng = np.random.default_rng(14)
    sizes, trials = (7, 9), 20
    values = normal_values(rng, sizes, trials, (0.0, 1.0))
    fixed = fixed_dropout(sizes, (2, 1))
    t_fixed, _, _ = t_statistics(batch(values, sizes, fixed), change=True)
    t_random, _, _ = t_statistics(batch(values, sizes, np.repeat(fixed, trials, axis=0)), change=True)
    np.testing.assert_allclose(t_random, t_fixed, rtol=1e-12)


def test_unobserved_values_are_never_read() -> None:
    rng = np.random.default_rng(15)
    sizes, trials = (8, 8), 25
    values = normal_values(rng, sizes, trials, (0.0, 0.5))
    observed = random_dropout(rng, trials, 16, 0.4)
    junk = values.copy()
    junk[~observed] = 1e300
    np.testing.assert_array_equal(
        t_p_values(batch(values, sizes, observed), True), t_p_values(batch(junk, sizes, observed), True)
    )


def test_degenerate_replicates_fail_and_do_not_reject() -> None:
    sizes = (3, 3)
    values = np.zeros((4, 6, 2))
    values[1:, :, 1] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    observed = np.ones((4, 6, 2), dtype=bool)
    # replicate 0: every value equal (zero variance); 1: fine; 2: the arm has no observed value;
    # 3: one subject per arm (no residual degree of freedom)
    observed[2, 3:, 1] = False
    observed[3, [1, 2, 4, 5], 1] = False
    out = t_test(batch(values, sizes, observed), ALPHA)
    np.testing.assert_array_equal(out.failed[:, 0], [True, False, True, True])
    assert not out.reject[out.failed].any()
    assert np.isnan(t_p_values(batch(values, sizes, observed), False)[[0, 2, 3], 0]).all()


def test_registered_for_continuous_and_count_endpoints() -> None:
    assert ANALYSES["t"].kernel is t_test and not ANALYSES["t"].needs_baseline
    assert ANALYSES["t_change"].kernel is t_change and ANALYSES["t_change"].needs_baseline
    assert ANALYSES["t"].types == ANALYSES["t_change"].types == ("continuous", "count")
