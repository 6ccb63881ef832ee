"""Rank tests where R gives no interval, or one at another level: same numbers, and a note.

R reference: tests/reference/analyses/rank_ties/make_reference.R (R 4.2.2 ``wilcox.test``, what
it returns and warns). Tolerances: statistic and p-value 1e-12 relative (closed forms); estimate
and limits 1e-8 relative (roots found on the same Brent iterates as R's ``uniroot``, whose
normal quantile differs from scipy's in the last bits); conf_level 1e-12.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit.analysis import RankTest, mann_whitney, signed_rank

TIES = Path(__file__).parents[1] / "reference" / "analyses" / "rank_ties"


def _cases() -> list[pd.Series]:
    cases = pd.read_csv(TIES / "cases.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(TIES / "expected.csv", keep_default_na=False, na_values=[""])
    return [row for _, row in cases.merge(expected, on=["case", "test"]).iterrows()]


def _values(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(";")]) if text else np.array([])


def _run(case: pd.Series) -> RankTest:
    x = _values(case["x"])
    return signed_rank(x) if case["test"] == "signed_rank" else mann_whitney(x, _values(case["y"]))


def _close(got: float, expected: float, rtol: float) -> bool:
    return (math.isnan(got) and math.isnan(expected)) or math.isclose(got, expected, rel_tol=rtol, abs_tol=1e-300)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["case"])
def test_rank_tests_return_what_r_returns(case) -> None:
    if math.isnan(case["p_value"]):  # R's p is NaN: no test at all
        with pytest.raises(tk.AnalysisError, match="undefined"):
            _run(case)
        return
    r = _run(case)
    assert _close(r.statistic, case["statistic"], 1e-12) and _close(r.p_value, case["p_value"], 1e-12)
    for got, want in ((r.estimate, case["estimate"]), (r.ci_low, case["ci_low"]), (r.ci_high, case["ci_high"])):
        assert _close(got, want, 1e-8), (got, want)
    warned = case["warnings"] if isinstance(case["warnings"], str) else ""
    error = case["error"] if isinstance(case["error"], str) else ""
    no_interval = "cannot compute confidence interval when all observations" in warned or bool(error)
    assert bool(r.note) == (no_interval or "conf.level not achievable" in warned), r.note
    if math.isnan(case["ci_low"]):
        assert math.isnan(r.conf_level) and "undefined" in r.note
    else:
        assert math.isclose(r.conf_level, case["conf_level"], rel_tol=1e-12)


def test_a_tied_arm_keeps_its_row_and_says_why_the_interval_is_missing(tmp_path) -> None:
    wide = small_wide(n_per_arm=8)
    # every change 15 min in the active arm and 5 min under placebo
    wide["sleep_time_week8"] = wide["sleep_time_baseline"] + np.where(wide["arm"] == "active", 15.0, 5.0)
    write_frame(wide, tmp_path / "trial.csv")
    res = tk.analyze(tk.load(write_spec(tmp_path, base_spec())))
    t = res.table.loc[res.table["endpoint"] == "sleep_time"].set_index("analysis")
    within = t.loc["wilcoxon_within"]
    assert len(within) == 2 and within["p_value"].notna().all() and within["statistic"].notna().all()
    assert within["ci_low"].isna().all() and within["ci_high"].isna().all()
    np.testing.assert_allclose(within.set_index("contrast").loc[["active", "placebo"], "estimate"], [15.0, 5.0])
    between = t.loc["mann_whitney_change"]
    assert 0 < between["p_value"] < 0.01 and math.isnan(between["estimate"]) and math.isnan(between["ci_low"])
    notes = res.failures.loc[(res.failures["endpoint"] == "sleep_time") & (res.failures["term"] == "interval")]
    assert set(notes["analysis"]) == {"wilcoxon_within", "mann_whitney_change"} and len(notes) == 3
    assert notes["message"].str.contains("undefined").all()
    # the t-tests on the same changes cannot run at all (zero variance): failures without a row
    assert "welch_change" not in t.index
