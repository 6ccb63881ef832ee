"""Dunnett many-to-one adjusted p-values against R (mvtnorm, multcomp, emmeans).

R reference: tests/reference/dunnett/dunnett.R (R 4.2.2, mvtnorm 1.1-3, multcomp 1.4-22,
emmeans 1.8.4-1). Tolerances, absolute on p:
- 1e-12 against TVPACK (k <= 3, integer df; TVPACK's own error is below 1e-14 per corner, and
  our quadrature measures below 1e-14);
- 1e-7 against GenzBretz(maxpts = 1e7, abseps = 1e-9) for k = 4 (that reference's own estimated
  error reaches 1.3e-7 on cholesterol; ours is far smaller);
- 1e-5 against GenzBretz for k = 6 (our scrambled-Sobol' path stops at three standard errors
  <= 1e-5; measured 5e-7);
- 2e-3 against multcomp's and emmeans' defaults, which are Monte Carlo-type estimates of about
  1e-3 accuracy (their own default abseps is 1e-3);
- t statistics of the ANCOVA fits 1e-10 relative (least squares against lm).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr, stdtr

import trialkit as tk
from trialkit.analysis import ancova, dunnett, dunnett_p

REFERENCE = Path(__file__).parents[1] / "reference" / "dunnett"
CASES = pd.read_csv(REFERENCE / "cases.csv")
CORRELATION = pd.read_csv(REFERENCE / "correlation.csv")
R2 = [[1.0, 0.5], [0.5, 1.0]]


def _case(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    rows = CASES[CASES["case"] == name]
    c = CORRELATION[CORRELATION["case"] == name]
    k = len(rows)
    corr = np.zeros((k, k))
    corr[c["row"] - 1, c["col"] - 1] = c["value"]
    return rows, corr


def _tolerance(rows: pd.DataFrame) -> float:
    if rows["algorithm"].iloc[0].startswith("TVPACK"):
        return 1e-12
    return 1e-7 if len(rows) <= 4 else 1e-5


FAST = [name for name in CASES["case"].unique() if (CASES["case"] == name).sum() <= 4]


@pytest.mark.parametrize("name", FAST)
def test_matches_mvtnorm_at_high_precision(name) -> None:
    rows, corr = _case(name)
    p = dunnett_p(rows["statistic"].to_numpy(), corr, float(rows["df"].iloc[0]))
    np.testing.assert_allclose(p, rows["p_reference"], rtol=0, atol=_tolerance(rows))


def test_six_comparisons_by_quasi_monte_carlo_match_mvtnorm() -> None:
    rows, corr = _case("k6_df25")
    p = dunnett_p(rows["statistic"].to_numpy(), corr, 25.0)
    np.testing.assert_allclose(p, rows["p_reference"], rtol=0, atol=1e-5)


def test_quasi_monte_carlo_is_deterministic() -> None:
    corr = np.full((5, 5), 0.5) + 0.5 * np.eye(5)
    first = dunnett_p([3.0, 1.0, 0.5, -2.0, 0.0], corr, math.inf)
    assert first.tobytes() == dunnett_p([3.0, 1.0, 0.5, -2.0, 0.0], corr, math.inf).tobytes()


@pytest.mark.parametrize(
    "name", ["cholesterol", "litter", "synthetic_ancova", "synthetic_three_arms", "synthetic_small"]
)
def test_matches_multcomp_and_emmeans_defaults_to_their_accuracy(name) -> None:
    rows, corr = _case(name)
    p = dunnett_p(rows["statistic"].to_numpy(), corr, float(rows["df"].iloc[0]))
    np.testing.assert_allclose(p, rows["p_multcomp"], rtol=0, atol=2e-3)
    np.testing.assert_allclose(p, rows["p_emmeans"], rtol=0, atol=2e-3)


def _fit(name: str) -> tk.analysis.AncovaFit:
    if name == "litter":
        data = pd.read_csv(REFERENCE / "data_litter.csv", dtype={"arm": str})
        return ancova(data.rename(columns={"gesttime": "baseline"}), arms=["0", "5", "50", "500"], numeric=["number"])
    data = pd.read_csv(REFERENCE / "data_synthetic.csv")
    arms = ["placebo", "low", "mid", "high"]
    if name == "synthetic_three_arms":
        data, arms = data[data["arm"].isin(arms[:3])], arms[:3]
    elif name == "synthetic_small":
        data = data.groupby("arm", sort=False).head(3)
    return ancova(data, arms=arms)


@pytest.mark.parametrize("name", ["litter", "synthetic_ancova", "synthetic_three_arms", "synthetic_small"])
def test_dunnett_of_an_ancova_fit_matches_r(name) -> None:
    rows, _ = _case(name)
    fit = _fit(name)
    np.testing.assert_allclose([d.statistic for d in fit.differences], rows["statistic"], rtol=1e-10)
    assert fit.residual_df == rows["df"].iloc[0]
    np.testing.assert_allclose(dunnett(fit), rows["p_reference"], rtol=0, atol=1e-10)


def test_cholesterol_one_way_design_from_summary_statistics() -> None:
    # balanced one-way layout: the differences' correlation is 1/2 (equal arms share the control)
    data = pd.read_csv(REFERENCE / "data_cholesterol.csv")
    arms = ["1time", "2times", "4times", "drugD", "drugE"]
    groups = [data.loc[data["arm"] == a, "y"].to_numpy() for a in arms]
    df = sum(len(g) for g in groups) - len(groups)
    s2 = sum(((g - g.mean()) ** 2).sum() for g in groups) / df
    t = [(g.mean() - groups[0].mean()) / math.sqrt(s2 * (1 / len(g) + 1 / len(groups[0]))) for g in groups[1:]]
    rows, corr = _case("cholesterol")
    np.testing.assert_allclose(t, rows["statistic"], rtol=1e-10)
    np.testing.assert_allclose(corr, np.where(np.eye(4) == 1, 1.0, 0.5), atol=1e-12)
    np.testing.assert_allclose(dunnett_p(t, corr, df), rows["p_reference"], rtol=0, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# properties


@pytest.mark.parametrize("df", [3.0, 40.0, math.inf])
def test_one_comparison_is_the_unadjusted_p(df) -> None:
    expected = 2 * (stdtr(df, -2.1) if math.isfinite(df) else ndtr(-2.1))
    assert dunnett_p([2.1], [[1.0]], df)[0] == expected
    assert dunnett_p([-2.1], [[1.0]], df)[0] == expected


def test_two_arm_ancova_fit_is_unadjusted() -> None:
    frame = pd.DataFrame(
        {
            "arm": ["c", "c", "c", "t", "t", "t"],
            "y": [5.0, 6.0, 8.0, 3.0, 4.0, 4.5],
            "baseline": [6.0, 6.5, 8.0, 5.0, 6.5, 6.0],
        }
    )
    fit = ancova(frame, arms=["c", "t"])
    assert dunnett(fit) == (fit.differences[0].p_value,)


@pytest.mark.parametrize("df", [2.0, 15.0, math.inf])
def test_adjusted_is_at_least_unadjusted_and_at_most_bonferroni(df) -> None:
    t = np.array([2.4, -0.8, 1.9])
    corr = [[1.0, 0.4, 0.55], [0.4, 1.0, 0.3], [0.55, 0.3, 1.0]]
    p = dunnett_p(t, corr, df)
    single = np.array([dunnett_p([v], [[1.0]], df)[0] for v in t])
    assert (p >= single).all()
    assert (p <= np.minimum(1.0, 3 * single) + 1e-12).all()


def test_monotone_in_the_absolute_statistic_and_symmetric_in_sign() -> None:
    grid = np.linspace(0.0, 5.0, 21)
    p = [dunnett_p([v, 1.0], R2, 20.0)[0] for v in grid]
    assert all(a >= b for a, b in zip(p, p[1:], strict=False))
    assert p[0] == 1.0
    assert np.array_equal(dunnett_p([-2.2, 1.0], R2, 20.0), dunnett_p([2.2, -1.0], R2, 20.0))


def test_large_df_tends_to_the_normal() -> None:
    assert dunnett_p([2.3, 1.1], R2, 1e7) == pytest.approx(dunnett_p([2.3, 1.1], R2, math.inf), abs=1e-6)


def test_deterministic_to_the_bit() -> None:
    rows, corr = _case("cholesterol")
    first = dunnett_p(rows["statistic"].to_numpy(), corr, 45.0)
    assert first.tobytes() == dunnett_p(rows["statistic"].to_numpy(), corr, 45.0).tobytes()


def test_empty_family_and_input_not_modified() -> None:
    assert dunnett_p([], np.zeros((0, 0)), 10.0).size == 0
    t, corr = np.array([2.0, 1.0]), np.array(R2)
    dunnett_p(t, corr, 10.0)
    assert t.tolist() == [2.0, 1.0] and corr.tolist() == R2


# ---------------------------------------------------------------------------------------------
# malformed input


@pytest.mark.parametrize(
    ("statistics", "correlation", "df", "text"),
    [
        ([2.0, 1.0], [[1.0, 0.5, 0.1], [0.5, 1.0, 0.1]], 10.0, "square"),
        ([2.0, 1.0], [[1.0, 0.5], [0.4, 1.0]], 10.0, "symmetric"),
        ([2.0, 1.0], [[1.0, 1.0], [1.0, 1.0]], 10.0, "positive definite"),
        ([2.0, 1.0, 0.5], R2, 10.0, "3 x 3"),
        ([2.0, math.nan], R2, 10.0, "got nan at position 1"),
        ([2.0, 1.0], [[1.0, math.nan], [math.nan, 1.0]], 10.0, "finite"),
        ([2.0, 1.0], R2, 0.0, "degrees of freedom > 0"),
        ([2.0, 1.0], R2, -3.0, "degrees of freedom > 0"),
        ([2.0, 1.0], R2, math.nan, "degrees of freedom > 0"),
        ([2.0, 1.0], "R", 10.0, "square"),
    ],
)
def test_malformed_input_is_a_named_error(statistics, correlation, df, text) -> None:
    with pytest.raises(tk.TrialkitError) as caught:
        dunnett_p(statistics, correlation, df)
    assert not isinstance(caught.value, tk.AnalysisError)
    assert text in str(caught.value)


def test_dunnett_needs_an_ancova_fit() -> None:
    with pytest.raises(tk.TrialkitError, match="`fit` must be an AncovaFit"):
        dunnett({"differences": ()})  # type: ignore[arg-type]
