"""The batched Mann-Whitney kernel against R's wilcox.test and SciPy's mannwhitneyu, replicate by replicate.

R fixture: tests/reference/power_mann_whitney/ (datasets.csv, and expected.csv from
``wilcox.test(x, y, exact = FALSE, correct = TRUE)`` of each arm x against control y). Tolerance:
p-values to 1e-10 relative. The statistic is a rank sum (exact in double precision: mid-ranks are
halves) and the tie term an integer; what differs is the order of a few floating-point
operations in sigma and z, and the normal tail (R's pnorm, SciPy's ndtr), both accurate to about
1e-15 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kernel_batches import batch, complete_cases, count_values, fixed_dropout, normal_values, random_dropout
from scipy import stats

from trialkit.power import ANALYSES
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._mann_whitney import mann_whitney, mann_whitney_p_values, mann_whitney_z

ALPHA = 0.05
REFERENCE = Path(__file__).parents[2] / "reference" / "power_mann_whitney"
DATASETS = pd.read_csv(REFERENCE / "datasets.csv")
EXPECTED = pd.read_csv(REFERENCE / "expected.csv")


def _one_visit(values: list[np.ndarray]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Return (1, N, 1) values of one dataset's arms (control first) and the arm sizes."""
    return np.concatenate(values)[None, :, None], tuple(v.size for v in values)


def _arms(name: str) -> list[np.ndarray]:
    d = DATASETS[DATASETS.dataset == name]
    return [d.value[d.arm == a].to_numpy(float) for a in sorted(d.arm.unique())]


@pytest.mark.parametrize("name", list(DATASETS.dataset.unique()))
def test_each_dataset_matches_r(name: str) -> None:
    values, sizes = _one_visit(_arms(name))
    p = mann_whitney_p_values(batch(values, sizes, baseline=None, primary=0))
    expected = EXPECTED[EXPECTED.dataset == name].sort_values("arm").p.to_numpy()
    np.testing.assert_allclose(p[0], expected, rtol=1e-10)


@pytest.mark.parametrize("arms", [2, 3])
def test_datasets_stacked_with_missing_values_match_r(arms: int) -> None:
    """Every dataset with ``arms`` groups in one batch, padded to the largest arms by unobserved junk."""
    names = [n for n in DATASETS.dataset.unique() if DATASETS[DATASETS.dataset == n].arm.nunique() == arms]
    groups = [_arms(n) for n in names]
    sizes = tuple(max(g[a].size for g in groups) for a in range(arms))
    values = np.full((len(names), sum(sizes), 1), -7.0)  # junk below every value: would take the low ranks
    observed = np.zeros((len(names), sum(sizes), 1), dtype=bool)
    starts = np.cumsum((0, *sizes[:-1]))
    for t, g in enumerate(groups):
        for a, v in enumerate(g):
            values[t, starts[a] : starts[a] + v.size, 0] = v
            observed[t, starts[a] : starts[a] + v.size, 0] = True
    p = mann_whitney_p_values(batch(values, sizes, observed, baseline=None, primary=0))
    for t, name in enumerate(names):
        expected = EXPECTED[EXPECTED.dataset == name].sort_values("arm").p.to_numpy()
        np.testing.assert_allclose(p[t], expected, rtol=1e-10, err_msg=name)


def _scipy_p(b: Batch, r: int, j: int) -> float:
    keep = complete_cases(b, r, (b.primary,))
    y = b.values[r, :, b.primary]
    test = stats.mannwhitneyu(
        y[keep & (b.arm == j)],
        y[keep & (b.arm == 0)],
        use_continuity=True,
        alternative="two-sided",
        method="asymptotic",
    )
    return float(test.pvalue)


@pytest.mark.parametrize("kind", ["continuous", "count"])
@pytest.mark.parametrize("pattern", ["all", "fixed", "random"])
def test_replicates_match_scipy_mannwhitneyu(kind: str, pattern: str) -> None:
    rng = np.random.default_rng(21)
    sizes, trials = (11, 9, 12), 40
    if kind == "count":
        values = count_values(rng, sizes, trials, (1.5, 3.0, 1.0))
    else:
        values = normal_values(rng, sizes, trials, (0.0, 1.0, -0.5))
    observed = {
        "all": None,
        "fixed": fixed_dropout(sizes, (2, 0, 3)),
        "random": random_dropout(rng, trials, sum(sizes), 0.3),
    }[pattern]
    b = batch(values, sizes, observed)
    p = mann_whitney_p_values(b)
    reject = mann_whitney(b, ALPHA).reject
    for r in range(trials):
        for j in (1, 2):
            ref = _scipy_p(b, r, j)
            assert p[r, j - 1] == pytest.approx(ref, rel=1e-10)
            assert reject[r, j - 1] == (ref < ALPHA)
    assert 0 < reject.sum() < reject.size


def test_other_arms_take_no_ranks() -> None:
    """With three groups, the comparison of arm 1 with control is that of the pair alone."""
    rng = np.random.default_rng(22)
    values = normal_values(rng, (6, 7, 8), 10, (0.0, 0.5, 5.0))
    z3, _ = mann_whitney_z(batch(values, (6, 7, 8)))
    z2, _ = mann_whitney_z(batch(values[:, :13], (6, 7)))
    np.testing.assert_array_equal(z3[:, 0], z2[:, 0])


def test_unobserved_values_take_no_ranks() -> None:
    rng = np.random.default_rng(23)
    sizes, trials = (10, 10), 30
    values = count_values(rng, sizes, trials, (2.0, 2.0))
    observed = random_dropout(rng, trials, 20, 0.4)
    for junk in (-1e9, 1.0, 1e9):
        changed = values.copy()
        changed[~observed] = junk
        np.testing.assert_array_equal(
            mann_whitney_p_values(batch(changed, sizes, observed)),
            mann_whitney_p_values(batch(values, sizes, observed)),
        )


def test_degenerate_replicates_fail_and_do_not_reject() -> None:
    sizes = (3, 3)
    values = np.zeros((3, 6, 2))
    values[1:, :, 1] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    observed = np.ones((3, 6, 2), dtype=bool)
    observed[2, :3, 1] = False  # replicate 0: every value tied; 1: fine; 2: control has no observed value
    b = batch(values, sizes, observed)
    out = mann_whitney(b, ALPHA)
    np.testing.assert_array_equal(out.failed[:, 0], [True, False, True])
    assert not out.reject[out.failed].any()
    assert np.isnan(mann_whitney_p_values(b)[[0, 2], 0]).all()


def test_registered_for_continuous_and_count_endpoints() -> None:
    a = ANALYSES["mann_whitney"]
    assert a.kernel is mann_whitney and a.types == ("continuous", "count") and not a.needs_baseline
