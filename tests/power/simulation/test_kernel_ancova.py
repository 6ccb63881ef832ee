"""The batched ANCOVA kernel against R's lm and statsmodels OLS, replicate by replicate.

R fixture: tests/reference/power_ancova_sim/ (datasets.csv, and expected.csv from
``summary(lm(y ~ factor(arm) + x))``: the t statistic, residual df and p-value of each arm
coefficient). Tolerance: t and p to 1e-9 relative. The kernel works from centred within-arm sums,
lm and OLS from a QR decomposition of the uncentred design: they agree to 1e-15 except in the
``large_mean`` dataset (values near 1e6 with SD 3), where the uncentred QR loses digits and the
two differ by 4e-11; 1e-9 leaves room for that without hiding a wrong formula (a wrong df or a
missing term of the standard error changes the statistic in the 2nd digit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from kernel_batches import batch, complete_cases, fixed_dropout, normal_values, random_dropout
from scipy.special import stdtr

from trialkit.power import ANALYSES
from trialkit.power._simulation._ancova import ancova, ancova_statistics

ALPHA = 0.05
REFERENCE = Path(__file__).parents[2] / "reference" / "power_ancova_sim"
DATASETS = pd.read_csv(REFERENCE / "datasets.csv")
EXPECTED = pd.read_csv(REFERENCE / "expected.csv")


def _p(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    p: np.ndarray = 2.0 * stdtr(df[:, None], -np.abs(t))
    return p


@pytest.mark.parametrize("name", list(DATASETS.dataset.unique()))
def test_each_dataset_matches_r_lm(name: str) -> None:
    d = DATASETS[DATASETS.dataset == name].sort_values("arm", kind="stable")
    sizes = tuple(int(v) for v in d.arm.value_counts().sort_index())
    values = d[["x", "y"]].to_numpy(float)[None]
    t, df, failed = ancova_statistics(batch(values, sizes))
    expected = EXPECTED[EXPECTED.dataset == name].sort_values("arm")
    assert not failed.any()
    assert df[0] == expected.df.iloc[0]
    np.testing.assert_allclose(t[0], expected.t, rtol=1e-9)
    np.testing.assert_allclose(_p(t, df)[0], expected.p, rtol=1e-9)


def test_two_arm_datasets_stacked_with_missing_values_match_r_lm() -> None:
    """The two-arm datasets in one batch, padded by unobserved junk: the weighted path."""
    names = [n for n in DATASETS.dataset.unique() if DATASETS[DATASETS.dataset == n].arm.nunique() == 2]
    frames = [DATASETS[DATASETS.dataset == n] for n in names]
    sizes = tuple(max(int((f.arm == a).sum()) for f in frames) for a in (0, 1))
    values = np.full((len(names), sum(sizes), 2), 1e6)
    observed = np.zeros((len(names), sum(sizes), 2), dtype=bool)
    observed[:, :, 0] = True  # every subject is observed at baseline; the padding misses the primary visit
    for t, f in enumerate(frames):
        for a, start in ((0, 0), (1, sizes[0])):
            xy = f[f.arm == a][["x", "y"]].to_numpy(float)
            values[t, start : start + len(xy)] = xy
            observed[t, start : start + len(xy), 1] = True
    stat, _, failed = ancova_statistics(batch(values, sizes, observed))
    assert not failed.any()
    for t, name in enumerate(names):
        np.testing.assert_allclose(stat[t, 0], EXPECTED[EXPECTED.dataset == name].t.iloc[0], rtol=1e-9, err_msg=name)


@pytest.mark.parametrize("pattern", ["all", "fixed", "random"])
@pytest.mark.parametrize("sizes", [(12, 14), (10, 9, 11)])
def test_replicates_match_statsmodels_ols(pattern: str, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(31)
    trials = 30
    values = normal_values(rng, sizes, trials, (0.0, 0.8, -0.5)[: len(sizes)], rho=0.6)
    observed = {
        "all": None,
        "fixed": fixed_dropout(sizes, (1, 2, 3)[: len(sizes)]),
        "random": random_dropout(rng, trials, sum(sizes), 0.25),
    }[pattern]
    b = batch(values, sizes, observed)
    t, df, failed = ancova_statistics(b)
    reject = ancova(b, ALPHA).reject
    assert not failed.any()
    k = len(sizes) - 1
    for r in range(trials):
        keep = complete_cases(b, r, (0, 1))
        arm = b.arm[keep]
        design = np.column_stack([np.ones(arm.size), *[arm == j for j in range(1, k + 1)], b.values[r, keep, 0]])
        fit = sm.OLS(b.values[r, keep, 1], design.astype(float)).fit()
        assert df[r] == fit.df_resid
        np.testing.assert_allclose(t[r], fit.tvalues[1 : k + 1], rtol=1e-9)
        np.testing.assert_array_equal(reject[r], fit.pvalues[1 : k + 1] < ALPHA)


def test_unobserved_values_are_never_read() -> None:
    rng = np.random.default_rng(32)
    sizes, trials = (8, 8), 25
    values = normal_values(rng, sizes, trials, (0.0, 0.5))
    observed = random_dropout(rng, trials, 16, 0.4)
    junk = values.copy()
    junk[~observed] = -1e300
    np.testing.assert_array_equal(
        ancova_statistics(batch(values, sizes, observed))[0], ancova_statistics(batch(junk, sizes, observed))[0]
    )


def test_degenerate_replicates_fail_and_do_not_reject() -> None:
    sizes = (3, 3)
    values = np.zeros((4, 6, 2))
    values[:, :, 1] = [1.0, 2.0, 4.0, 3.0, 5.0, 7.0]
    values[1:, :, 0] = [0.5, 1.0, 0.0, 2.0, 1.5, 1.0]
    observed = np.ones((4, 6, 2), dtype=bool)
    # replicate 0: no spread of the baseline; 1: fine; 2: the arm has no complete case;
    # 3: 2 + 1 complete cases, no residual degree of freedom
    observed[2, 3:, 1] = False
    observed[3, [1, 4, 5], 1] = False
    out = ancova(batch(values, sizes, observed), ALPHA)
    np.testing.assert_array_equal(out.failed[:, 0], [True, False, True, True])
    assert not out.reject[out.failed].any()


def test_registered_for_continuous_endpoints_with_a_baseline() -> None:
    a = ANALYSES["ancova"]
    assert a.kernel is ancova and a.types == ("continuous",) and a.needs_baseline
