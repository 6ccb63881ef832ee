"""Tests from summary statistics: t-tests against scipy, and the baseline imbalance.

The R references on Student's sleep data are in tests/test_table_audit.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from trialkit.reproduce.audit import TTestMethod, baseline_imbalance, t_from_summary


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


def test_baseline_imbalance_reports_smd_flags_and_what_the_p_value_means() -> None:
    res = baseline_imbalance(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=True)
    assert res.smd == pytest.approx(1.2 / math.sqrt((16 + 19.36) / 2), rel=1e-14)
    assert res.exceeded == (0.1, 0.2)
    assert res.ttest == t_from_summary(15.2, 4.0, 40, 14.0, 4.4, 38, equal_var=True)
    assert "randomisation" in res.note and "CONSORT" in res.note
    assert baseline_imbalance(15.2, 4.0, 40, 15.0, 4.4, 38, equal_var=False).exceeded == ()
