"""ANCOVA: LS means under both reference grids for two-valued covariates, and an independent check.

R reference: tests/reference/analyses/two_valued/make_reference.R (lm + emmeans with its default
``cov.keep = "2"`` and with ``cov.keep = 0``); tolerance 1e-10 relative for every number (the
fits agree to about 1e-14: both are QR least squares on the same doubles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit.analysis import TwoValued, ancova

REFERENCE = Path(__file__).parents[1] / "reference" / "analyses"
TWO_VALUED = REFERENCE / "two_valued"
KEY = ["endpoint", "visit", "analysis", "contrast"]
NUMBERS = ["estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value"]


@pytest.fixture(scope="module")
def two_valued_trial() -> tk.Trial:
    return tk.load(TWO_VALUED / "study.toml")


@pytest.mark.parametrize("setting", ["levels", "mean"])
def test_ls_means_match_emmeans_under_both_reference_grids(two_valued_trial, setting) -> None:
    expected = pd.read_csv(TWO_VALUED / "expected.csv")
    expected = expected.loc[expected["two_valued"] == setting]
    got = tk.analyze(
        two_valued_trial, analyses=["ancova", "ancova_lsmean"], sweep=False, two_valued_covariates=setting
    ).table
    merged = expected.merge(got, on=KEY, suffixes=("_r", ""), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == 9
    for c in NUMBERS:
        a, b = merged[c].astype(float).to_numpy(), merged[f"{c}_r"].astype(float).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), c
        np.testing.assert_allclose(a, b, rtol=1e-10, err_msg=f"{setting}: {c}")
    assert (merged["n_treatment"].astype(int) == merged["n_treatment_r"].astype(int)).all()


def test_the_setting_moves_ls_means_but_not_differences(two_valued_trial) -> None:
    tables = {
        s: tk.analyze(
            two_valued_trial, analyses=["ancova", "ancova_lsmean"], sweep=False, two_valued_covariates=s
        ).table.set_index(KEY)
        for s in ("levels", "mean")
    }
    diff = tables["levels"].index.get_level_values("analysis") == "ancova"
    for c in NUMBERS:
        np.testing.assert_allclose(
            tables["levels"].loc[diff, c].astype(float), tables["mean"].loc[diff, c].astype(float), rtol=1e-12
        )
    # smoker (0/1) is in every model, so every LS mean moves
    lsm = ~diff
    assert (tables["levels"].loc[lsm, "estimate"] != tables["mean"].loc[lsm, "estimate"]).all()


def test_the_default_is_the_mean_and_the_spec_can_choose_levels(tmp_path, two_valued_trial) -> None:
    default = tk.analyze(two_valued_trial, analyses=["ancova_lsmean"], sweep=False).table
    at_mean = tk.analyze(two_valued_trial, analyses=["ancova_lsmean"], sweep=False, two_valued_covariates="mean")
    pd.testing.assert_frame_equal(default, at_mean.table)
    assert two_valued_trial.spec.analysis.two_valued_covariates is TwoValued.MEAN
    text = (TWO_VALUED / "study.toml").read_text()
    (tmp_path / "trial.csv").write_bytes((TWO_VALUED / "trial.csv").read_bytes())
    (tmp_path / "study.toml").write_text(text.replace("[analysis]", '[analysis]\ntwo_valued_covariates = "levels"'))
    from_spec = tk.analyze(tk.load(tmp_path / "study.toml"), analyses=["ancova_lsmean"], sweep=False)
    levels = tk.analyze(two_valued_trial, analyses=["ancova_lsmean"], sweep=False, two_valued_covariates="levels")
    pd.testing.assert_frame_equal(from_spec.table, levels.table)
    assert from_spec.provenance["two_valued_covariates"] == "levels"
    (tmp_path / "study.toml").write_text(text.replace("[analysis]", '[analysis]\ntwo_valued_covariates = "factor"'))
    with pytest.raises(tk.ValidationError, match="analysis.two_valued_covariates"):
        tk.load(tmp_path / "study.toml")


def test_the_fit_reports_where_each_covariate_is_held() -> None:
    frame = pd.DataFrame(
        {
            "arm": ["c"] * 4 + ["t"] * 4,
            "y": [5.0, 6.0, 8.0, 7.5, 3.0, 4.0, 4.5, 5.5],
            "baseline": [6.0, 6.5, 8.0, 7.0, 5.0, 6.5, 6.0, 7.5],
            "smoker": [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        }
    )
    at_mean = ancova(frame, arms=["c", "t"], numeric=["smoker"])
    at_levels = ancova(frame, arms=["c", "t"], numeric=["smoker"], two_valued="levels")
    assert at_mean.covariate_values["smoker"] == 0.25 and at_levels.covariate_values["smoker"] == 0.5
    assert at_mean.covariate_values["baseline"] == at_levels.covariate_values["baseline"] == frame["baseline"].mean()
    assert at_mean.differences[0].estimate == pytest.approx(at_levels.differences[0].estimate, rel=1e-14)


def test_ancova_agrees_with_statsmodels_ols() -> None:
    """An independent check: statsmodels OLS on the same design (treatment coding)."""
    import statsmodels.api as sm

    trial = tk.load(REFERENCE / "three_arm" / "study.toml")
    res = tk.analyze(trial, analyses=["ancova", "ancova_lsmean"], sweep=False).table
    wide = pd.read_csv(REFERENCE / "three_arm" / "trial.csv", dtype={"subject_id": str})
    frame = wide[["arm", "age", "sex", "region", "score_baseline", "score_week8"]].dropna()
    X = pd.DataFrame({"const": 1.0}, index=frame.index)
    for arm in ("low", "high"):
        X[arm] = (frame["arm"] == arm).astype(float)
    X["baseline"] = frame["score_baseline"]
    X["age"] = frame["age"]
    X["sex[M]"] = (frame["sex"] == "M").astype(float)
    for region in ("south", "west"):
        X[f"region[{region}]"] = (frame["region"] == region).astype(float)
    fit = sm.OLS(frame["score_week8"].to_numpy(), X).fit()
    rows = res.loc[(res["endpoint"] == "score") & (res["visit"] == "week8")].set_index("contrast")
    for arm in ("low", "high"):
        row = rows.loc[f"{arm} - placebo"]
        np.testing.assert_allclose(
            [row["estimate"], row["std_error"], row["p_value"]],
            [fit.params[arm], fit.bse[arm], fit.pvalues[arm]],
            rtol=1e-10,
        )
    # LS mean of placebo: prediction at the numeric covariates' means, each factor's levels weighted equally
    at = X.mean().to_numpy().copy()
    at[1:3] = 0.0  # placebo
    at[5] = 1 / 2  # sex: F, M
    at[-2:] = 1 / 3  # region: north, south, west
    np.testing.assert_allclose(rows.loc["placebo", "estimate"], at @ fit.params.to_numpy(), rtol=1e-10)
    assert rows.loc["placebo", "df"] == fit.df_resid


def test_a_covariate_with_two_values_in_the_analysed_set_only_is_two_valued(tmp_path) -> None:
    """Which covariates are two-valued is decided on the subjects analysed, as emmeans does."""
    wide = small_wide(n_per_arm=6)
    wide["age"] = [60.0, 70.0] * 6
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    a = tk.analyze(trial, analyses=["ancova_lsmean"], sweep=False, two_valued_covariates="levels").table
    b = tk.analyze(trial, analyses=["ancova_lsmean"], sweep=False, two_valued_covariates="mean").table
    assert not np.allclose(a["estimate"], b["estimate"])
