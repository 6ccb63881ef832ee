"""The MMRM inside ``analyze``: rows equal a direct ``tk.mmrm`` fit, log scale, one visit, primary analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide
from longitudinal_trial import POST, VISITS, load, three_arm_spec, three_arm_wide

import trialkit as tk
from trialkit.analysis import adjust_p

COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value")
#: the rows and a direct fit are the same computation on frames built two ways; only the order of
#: floating-point sums differs, so they agree to rounding
RTOL = 1e-12


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[tk.Trial, tk.Results]:
    trial = load(tmp_path_factory.mktemp("three"), three_arm_wide(), three_arm_spec())
    return trial, tk.analyze(trial)


def direct_fit(trial: tk.Trial, endpoint: str, *, log: bool, **options) -> tk.analysis.MMRMFit:
    """Fit ``tk.mmrm`` to a long frame built from the trial's tidy data, independently of analyze."""
    d = trial.data.astype({"subject": str, "arm": str, "visit": str, "endpoint": str})
    d = d.loc[d["endpoint"] == endpoint]
    base = d.loc[d["visit"] == "baseline"].set_index("subject")["value"]
    frame = d.loc[d["visit"] != "baseline", ["subject", "arm", "visit", "value"]].copy()
    frame["base"] = frame["subject"].map(base)
    covariates = trial.subjects.astype({"subject": str})[["subject", "age", "sex"]]
    frame = frame.merge(covariates, on="subject", how="left")
    if log:
        frame["value"], frame["base"] = np.log(frame["value"]), np.log(frame["base"])
    return tk.mmrm(
        frame,
        response="value",
        subject="subject",
        visit="visit",
        arm="arm",
        control="placebo",
        covariates=["age", "sex"],
        categorical=["sex"],
        baseline="base",
        visit_order=list(POST),
        **options,
    )


def rows(results: tk.Results, endpoint: str, analysis: str, population: str = "fas") -> pd.DataFrame:
    t = results.table
    return t.loc[(t["endpoint"] == endpoint) & (t["analysis"] == analysis) & (t["population"] == population)]


# ---------------------------------------------------------------------------------------- the rows


def test_mmrm_rows_equal_a_direct_fit_on_the_same_data(three) -> None:
    trial, res = three
    fit = direct_fit(trial, "score", log=False)
    got = rows(res, "score", "mmrm").set_index(["visit", "contrast"])
    want = fit.contrasts.set_index(["visit", "contrast"])
    assert len(got) == len(want) == 2 * len(POST)
    for c in COLUMNS:
        np.testing.assert_allclose(got.loc[want.index, c].to_numpy(float), want[c].to_numpy(float), rtol=RTOL)
    n = fit.lsmeans.set_index(["arm", "visit"])["n"]
    for (visit, contrast), r in got.iterrows():
        arm = contrast.split(" - ")[0]
        assert (r["n_treatment"], r["n_control"]) == (n[(arm, visit)], n[("placebo", visit)])
    lsm = rows(res, "score", "mmrm_lsmean").set_index(["contrast", "visit"])
    ref = fit.lsmeans.set_index(["arm", "visit"])
    for c in ("estimate", "std_error", "ci_low", "ci_high", "df"):
        np.testing.assert_allclose(lsm.loc[ref.index, c].to_numpy(float), ref[c].to_numpy(float), rtol=RTOL)
    assert lsm["statistic"].isna().all() and lsm["p_value"].isna().all() and lsm["n_control"].isna().all()
    assert (lsm.loc[ref.index, "n_treatment"].to_numpy() == ref["n"].to_numpy()).all()


def test_log_scale_rows_are_back_transformed_ratios_of_geometric_means(three) -> None:
    trial, res = three
    fit = direct_fit(trial, "conc", log=True)
    got = (
        rows(res, "conc", "mmrm")
        .set_index(["visit", "contrast"])
        .loc[fit.contrasts.set_index(["visit", "contrast"]).index]
    )
    for c in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[c].to_numpy(float), np.exp(fit.contrasts[c].to_numpy(float)), rtol=RTOL)
    for c in ("std_error", "df", "statistic", "p_value"):  # stay on the log scale
        np.testing.assert_allclose(got[c].to_numpy(float), fit.contrasts[c].to_numpy(float), rtol=RTOL)
    lsm = (
        rows(res, "conc", "mmrm_lsmean")
        .set_index(["contrast", "visit"])
        .loc[fit.lsmeans.set_index(["arm", "visit"]).index]
    )
    np.testing.assert_allclose(lsm["estimate"], np.exp(fit.lsmeans["estimate"].to_numpy(float)), rtol=RTOL)
    # the ratio of geometric LS means is the ratio of the arms' geometric LS means
    ratio = got.xs("high - placebo", level="contrast")["estimate"]
    gm = lsm["estimate"]
    np.testing.assert_allclose(ratio, (gm.xs("high") / gm.xs("placebo")).loc[ratio.index], rtol=1e-10)


def test_subjects_with_baseline_covariates_and_one_visit_enter(three) -> None:
    trial, res = three
    subjects = res.provenance["mmrm"]["subjects"]["fas"]
    for endpoint in ("score", "pain", "conc"):
        assert sum(subjects[endpoint].values()) == direct_fit(trial, endpoint, log=endpoint == "conc").n_subjects
    # 42 randomised: one without age leaves every model, one without a score baseline the score's
    assert sum(subjects["pain"].values()) == 41 and sum(subjects["score"].values()) == 40
    # at a visit the MMRM counts the ANCOVA's subjects
    for visit in POST:
        a = rows(res, "score", "ancova").set_index(["visit", "contrast"])
        m = rows(res, "score", "mmrm").set_index(["visit", "contrast"])
        assert (a.loc[visit, ["n_treatment", "n_control"]] == m.loc[visit, ["n_treatment", "n_control"]]).all().all()


def test_options_of_the_spec_reach_the_model(tmp_path) -> None:
    options = {"covariance": "toeplitz", "df": "kenward_roger", "group_by_arm": False}
    trial = load(tmp_path, three_arm_wide(), three_arm_spec(mmrm=options))
    res = tk.analyze(trial, analyses=["mmrm"], sweep=False)
    fit = direct_fit(trial, "pain", log=False, covariance="toep", df_method="kenward_roger")
    got = (
        rows(res, "pain", "mmrm")
        .set_index(["visit", "contrast"])
        .loc[fit.contrasts.set_index(["visit", "contrast"]).index]
    )
    np.testing.assert_allclose(got["df"].to_numpy(float), fit.contrasts["df"].to_numpy(float), rtol=RTOL)
    np.testing.assert_allclose(got["std_error"].to_numpy(float), fit.contrasts["std_error"].to_numpy(float), rtol=RTOL)
    assert res.provenance["mmrm"] | {"subjects": None} == {
        "covariance": "toep",
        "df": "kenward_roger",
        "reml": True,
        "group_by_arm": False,
        "empirical": False,
        "baseline": "covariate",
        "subjects": None,
    }
    assert set(res.table["analysis"]) == {"mmrm"}


def test_completers_refit_on_subjects_seen_at_every_visit(three) -> None:
    trial, _ = three
    res = tk.analyze(trial, populations=["completers"], analyses=["mmrm"], sweep=False)
    wide = three_arm_wide()
    complete = wide[[f"pain_{v}" for v in VISITS]].notna().all(axis=1) & wide["age"].notna()
    assert sum(res.provenance["mmrm"]["subjects"]["completers"]["pain"].values()) == int(complete.sum())
    n = rows(res, "pain", "mmrm", "completers").groupby("contrast")["n_treatment"].nunique()
    assert (n == 1).all()  # the same subjects at every visit


def test_reruns_are_identical(three) -> None:
    trial, res = three
    again = tk.analyze(trial)
    pd.testing.assert_frame_equal(again.table, res.table, check_exact=True)
    assert again.provenance["mmrm"] == res.provenance["mmrm"]


# ------------------------------------------------------------------------------ one visit, failures


def test_with_one_post_baseline_visit_the_mmrm_is_the_ancova(tmp_path) -> None:
    wide = small_wide(n_per_arm=8)
    wide.loc[3, "sleep_time_baseline"] = np.nan
    trial = load(tmp_path, wide, base_spec(analysis={"mmrm": {"covariance": "cs"}}))
    res = tk.analyze(trial, sweep=False)
    t = res.table
    for kind, lsmean in (("ancova", "ancova_lsmean"), ("mmrm", "mmrm_lsmean")):
        assert len(t.loc[t["analysis"] == kind]) == 2 and len(t.loc[t["analysis"] == lsmean]) == 4
    a = t.loc[t["analysis"].isin(["ancova", "ancova_lsmean"])].reset_index(drop=True)
    m = t.loc[t["analysis"].isin(["mmrm", "mmrm_lsmean"])].reset_index(drop=True)
    for c in (*COLUMNS, "n_treatment", "n_control", "contrast", "endpoint", "visit"):
        pd.testing.assert_series_equal(a[c], m[c], check_exact=c not in COLUMNS, rtol=1e-12)
    assert res.provenance["mmrm"]["subjects"]["fas"]["sleep_time"] == {"placebo": 8, "active": 6}


def test_a_variance_per_arm_over_one_visit_is_a_failure_not_a_guess(tmp_path) -> None:
    trial = load(tmp_path, small_wide(), base_spec(analysis={"mmrm": {"group_by_arm": True}}))
    res = tk.analyze(trial, sweep=False)
    f = res.failures.loc[res.failures["analysis"].isin(["mmrm", "mmrm_lsmean"])]
    assert len(f) == 4  # two endpoints, two kinds
    assert f["message"].str.contains("a variance per arm needs two post-baseline visits").all()
    assert not res.table["analysis"].isin(["mmrm", "mmrm_lsmean"]).any()
    assert (res.table["analysis"] == "ancova").sum() == 2  # the others ran


def test_data_the_model_cannot_fit_become_failure_rows(tmp_path) -> None:
    wide = three_arm_wide()
    wide.loc[wide["arm"] == "high", "pain_week12"] = np.nan
    trial = load(tmp_path, wide, three_arm_spec())
    res = tk.analyze(trial, sweep=False)
    f = res.failures.loc[(res.failures["endpoint"] == "pain") & (res.failures["analysis"] == "mmrm")]
    assert len(f) == 1
    assert "'high'" in f["message"].item() and "week12" in f["message"].item()
    assert rows(res, "score", "mmrm").shape[0] == 6  # the other endpoints' models ran


@pytest.mark.parametrize("arm", ["placebo", "high"])
def test_an_arm_without_follow_up_is_a_failure_row(tmp_path, arm) -> None:
    wide = three_arm_wide()
    wide.loc[wide["arm"] == arm, [f"pain_{v}" for v in POST]] = np.nan
    res = tk.analyze(load(tmp_path, wide, three_arm_spec()), analyses=["mmrm"], sweep=False)
    f = res.failures.loc[res.failures["endpoint"] == "pain"]
    assert f["message"].str.contains(f"arm {arm!r} has no subject with a post-baseline value").all()
    assert rows(res, "score", "mmrm").shape[0] == 6


def test_a_non_positive_log_scale_value_names_the_subject(three) -> None:
    """Loading refuses such a value; a trial built around the loader still gets a named failure, not a NaN."""
    import dataclasses

    trial, _ = three
    d = trial.data.copy()
    at = (d["subject"] == "S007") & (d["endpoint"] == "conc") & (d["visit"] == "week8")
    d.loc[at, "value"] = 0.0
    res = tk.analyze(dataclasses.replace(trial, data=d), analyses=["mmrm"], sweep=False)
    message = res.failures.loc[res.failures["endpoint"] == "conc", "message"].iloc[0]
    assert "positive values of 'value'; subject 'S007' has 0 at 'week8'" in message
    assert rows(res, "score", "mmrm").shape[0] == 6


def test_asking_for_the_mmrm_of_a_spec_without_one_is_an_error(tmp_path) -> None:
    trial = load(tmp_path, small_wide(), base_spec())
    with pytest.raises(tk.TrialkitError, match=r"spec does not pre-specify one.*\[analysis\] mmrm"):
        tk.analyze(trial, analyses=["mmrm"])
    assert not tk.analyze(trial, sweep=False).table["analysis"].isin(["mmrm", "mmrm_lsmean"]).any()


# --------------------------------------------------------------------------------- primary = "mmrm"


def test_primary_mmrm_makes_it_the_multiplicity_family(tmp_path) -> None:
    trial = load(tmp_path, three_arm_wide(), three_arm_spec(primary="mmrm"))
    res = tk.analyze(trial, sweep=False)
    t = res.table
    adjusted = t.loc[t["p_adjusted"].notna()]
    assert set(adjusted["analysis"]) == {"mmrm"} and set(adjusted["visit"]) == {"week12"}
    for contrast in ("low - placebo", "high - placebo"):
        family = adjusted.loc[adjusted["contrast"] == contrast].set_index("endpoint")
        assert family.at["score", "p_adjusted"] == family.at["score", "p_value"]  # primary: not adjusted
        p = family.loc[["pain", "conc"], "p_value"].to_numpy(float)
        np.testing.assert_allclose(family.loc[["pain", "conc"], "p_adjusted"], adjust_p(p, "holm"), rtol=1e-15)
    assert res.provenance["primary_analysis"] == "mmrm"


def test_the_default_primary_analysis_is_the_ancova(three) -> None:
    _, res = three
    adjusted = res.table.loc[res.table["p_adjusted"].notna()]
    assert set(adjusted["analysis"]) == {"ancova"}
    assert res.provenance["primary_analysis"] == "ancova"


def test_a_secondary_mmrm_that_failed_counts_as_p_one(tmp_path) -> None:
    wide = three_arm_wide()
    wide.loc[wide["arm"] == "high", "pain_week12"] = np.nan
    trial = load(tmp_path, wide, three_arm_spec(primary="mmrm"))
    res = tk.analyze(trial, sweep=False)
    notes = res.failures.loc[res.failures["analysis"] == "multiplicity"]
    assert len(notes) == 2 and notes["message"].str.startswith("MMRM of 'pain' did not run").all()


def test_baseline_as_a_response_is_the_constrained_model_on_every_subject_with_a_value(tmp_path) -> None:
    """`baseline = "response"`: rows equal tk.mmrm(baseline_visit=...) and subjects without follow-up enter."""
    wide = small_wide(n_per_arm=8)
    wide.loc[3, "sleep_time_week8"] = np.nan  # baseline only: out of the ANCOVA, in the constrained MMRM
    trial = load(tmp_path, wide, base_spec(analysis={"mmrm": {"covariance": "us", "baseline": "response"}}))
    res = tk.analyze(trial, sweep=False)
    d = trial.data.astype({"subject": str, "arm": str, "visit": str, "endpoint": str})
    frame = d.loc[d["endpoint"] == "sleep_time", ["subject", "arm", "visit", "value"]]
    frame = frame.merge(trial.subjects.astype({"subject": str})[["subject", "age", "sex"]], on="subject")
    fit = tk.mmrm(
        frame, response="value", subject="subject", visit="visit", arm="arm", control="placebo",
        covariates=["age", "sex"], categorical=["sex"], baseline_visit="baseline", visit_order=["baseline", "week8"],
    )  # fmt: skip
    got = rows(res, "sleep_time", "mmrm").set_index("visit")
    assert list(got.index) == ["week8"]
    for c in COLUMNS:
        assert got.loc["week8", c] == pytest.approx(fit.contrasts.set_index("visit").loc["week8", c], rel=RTOL)
    assert res.provenance["mmrm"]["baseline"] == "response"
    assert res.provenance["mmrm"]["subjects"]["fas"]["sleep_time"] == {"placebo": 8, "active": 8}
    ancova = rows(res, "sleep_time", "ancova")
    assert (ancova["n_control"] + ancova["n_treatment"]).iloc[0] < 16  # complete cases only


def test_an_unknown_baseline_use_names_the_value(tmp_path) -> None:
    with pytest.raises(tk.ValidationError, match=r"analysis\.mmrm\.baseline.*'responses'"):
        load(tmp_path, small_wide(n_per_arm=8), base_spec(analysis={"mmrm": {"baseline": "responses"}}))
