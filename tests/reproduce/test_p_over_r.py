"""The change comparison over the pre-post correlation r: p <-> r round trips on synthetic tables."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.reproduce.audit import (
    ArmSummary,
    TTestMethod,
    change_score_sd,
    implied_r,
    p_change_over_r,
    t_from_summary,
)


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
        ref = t_from_summary(
            -3.0, change_score_sd(5.0, 4.0, r), 30, -1.0, change_score_sd(4.8, 4.5, r), 28, equal_var=False
        )
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
