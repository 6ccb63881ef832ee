"""The efficacy layer's contract: columns, failures named and isolated, options checked, reruns identical."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit.analysis import RESULT_COLUMNS
from trialkit.cli import main

BUNDLED = tk.datasets.study_spec("abbasi2012")
WITH_P = {
    "ancova",
    "mmrm",
    "welch_change",
    "student_change",
    "mann_whitney_change",
    "paired_within",
    "wilcoxon_within",
    "responder_rd",
    "responder_rr",
    "responder_or",
}


@pytest.fixture(scope="module")
def bundled() -> tuple[tk.Trial, tk.Results]:
    trial = tk.load(BUNDLED)
    return trial, tk.analyze(trial)


def _trial(tmp_path: Path, wide: pd.DataFrame, **spec_changes) -> tk.Trial:
    write_frame(wide, tmp_path / "trial.csv")
    return tk.load(write_spec(tmp_path, base_spec(**spec_changes)))


#: analyses of binary and count endpoints, of stratified trials and of trials without a baseline
NOT_FOR_CONTINUOUS = {
    "welch_followup",
    "student_followup",
    "mann_whitney_followup",
    "van_elteren",
    "logistic",
    "standardised_rd",
    "standardised_rr",
    "standardised_or",
    "proportion",
    "risk_difference",
    "risk_ratio",
    "odds_ratio",
    "nnt",
    "cmh",
    "mh_risk_difference",
    "negative_binomial",
    "poisson",
    "quasipoisson",
    "rate",
}


def test_results_follow_the_contract(bundled) -> None:
    trial, res = bundled
    t = res.table
    assert tuple(t.columns) == RESULT_COLUMNS
    # a trial of continuous endpoints with a baseline and no strata runs every analysis of that kind
    assert set(t["analysis"]) == {a.value for a in tk.analysis.Analysis} - NOT_FOR_CONTINUOUS
    assert not t.loc[t["analysis"].isin(WITH_P), "p_value"].isna().any()
    assert ((t["p_value"].dropna() >= 0) & (t["p_value"].dropna() <= 1)).all()
    # every estimate has an interval but the tipping point, a shift on the grid
    with_ci = t["analysis"] != "tipping_point"
    assert (t.loc[with_ci, "ci_low"] <= t.loc[with_ci, "ci_high"]).all()
    assert t.loc[~with_ci, ["ci_low", "ci_high"]].isna().all().all()
    between = ~t["analysis"].isin(
        ["ancova_lsmean", "mmrm_lsmean", "paired_within", "wilcoxon_within", "responder_rate"]
    )
    assert t.loc[between, "contrast"].eq("magnesium - placebo").all()
    assert res.failures.empty
    # one primary-visit ANCOVA row per endpoint; the primary endpoint is not adjusted
    anc = t.loc[(t["analysis"] == "ancova") & (t["visit"] == "week8")].set_index("endpoint")
    assert len(anc) == 10 and anc.loc["isi", "p_adjusted"] == anc.loc["isi", "p_value"]
    assert (anc.drop(index="isi")["p_adjusted"] >= anc.drop(index="isi")["p_value"]).all()
    assert t.loc[t["analysis"] != "ancova", "p_adjusted"].isna().all()


def test_log_scale_endpoints_report_ratios(bundled) -> None:
    _, res = bundled
    t = res.table
    mel = t.loc[(t["endpoint"] == "melatonin") & (t["analysis"] == "ancova")].iloc[0]
    assert mel["ci_low"] < mel["estimate"] < mel["ci_high"] and mel["ci_low"] > 0
    # the ratio's CI is symmetric on the log scale with the reported log-scale SE
    half = np.log(mel["ci_high"]) - np.log(mel["estimate"])
    assert half == pytest.approx(np.log(mel["estimate"]) - np.log(mel["ci_low"]), rel=1e-12)


def test_analysis_does_not_mutate_and_reruns_identically(bundled) -> None:
    trial, res = bundled
    before = trial.data.copy()
    again = tk.analyze(trial)
    pd.testing.assert_frame_equal(trial.data, before)
    pd.testing.assert_frame_equal(again.table, res.table, check_exact=True)
    pd.testing.assert_frame_equal(again.table1, res.table1, check_exact=True)


@pytest.mark.parametrize(
    "options", [{"alpha": 1.5}, {"alpha": "0.05"}, {"analyses": ["anova"]}, {"multiplicity": "holms"}]
)
def test_bad_options_are_rejected(bundled, options) -> None:
    trial, _ = bundled
    with pytest.raises(tk.TrialkitError):
        tk.analyze(trial, **options)


def test_subset_of_analyses(bundled) -> None:
    trial, _ = bundled
    res = tk.analyze(trial, analyses=["welch_change"], sweep=False)
    assert set(res.table["analysis"]) == {"welch_change"} and len(res.table) == 10


def test_alpha_changes_interval_width(bundled) -> None:
    trial, res = bundled
    wide = tk.analyze(trial, alpha=0.01, analyses=["ancova"])
    a = res.table.query("analysis == 'ancova' and endpoint == 'isi'").iloc[0]
    b = wide.table.query("analysis == 'ancova' and endpoint == 'isi'").iloc[0]
    assert b["ci_high"] - b["ci_low"] > a["ci_high"] - a["ci_low"] and a["estimate"] == b["estimate"]


def _failures(res: tk.Results, analysis: str) -> pd.DataFrame:
    f = res.failures
    return f.loc[f["analysis"] == analysis]


def test_arm_with_one_analysable_subject_fails_only_that_endpoint(tmp_path) -> None:
    wide = small_wide()
    wide.loc[wide["arm"] == "active", "isi_week8"] = [10.0, np.nan, np.nan, np.nan, np.nan]
    res = tk.analyze(_trial(tmp_path, wide))
    f = _failures(res, "ancova")
    assert f[["endpoint", "term"]].values.tolist() == [["isi", "arm"]]
    assert "'active' has 1 analysable subject" in f["message"].item()
    assert set(_failures(res, "welch_change")["endpoint"]) == {"isi"}
    assert "sleep_time" in set(res.table.loc[res.table["analysis"] == "ancova", "endpoint"])
    assert not res.table["p_value"].loc[res.table["analysis"].isin(WITH_P)].isna().any()


def test_constant_covariate_is_named(tmp_path) -> None:
    wide = small_wide().assign(age=70.0)
    res = tk.analyze(_trial(tmp_path, wide))
    f = _failures(res, "ancova")
    assert set(f["term"]) == {"age"} and "constant" in f["message"].iloc[0]
    assert not _failures(res, "welch_change").shape[0]  # change tests do not use covariates
    assert _failures(res, "smd")[["term", "contrast"]].values.tolist() == [["age", "active - placebo"]]


def test_covariate_collinear_with_baseline_is_named(tmp_path) -> None:
    wide = small_wide()
    wide["age"] = 2 * wide["isi_baseline"] + 40
    res = tk.analyze(_trial(tmp_path, wide))
    f = _failures(res, "ancova")
    assert f.loc[f["endpoint"] == "isi", "term"].item() == "age"
    assert "collinear" in f.loc[f["endpoint"] == "isi", "message"].item()
    assert "sleep_time" in set(res.table.loc[res.table["analysis"] == "ancova", "endpoint"])


def test_covariate_collinear_with_arm_is_named(tmp_path) -> None:
    wide = small_wide()
    wide["sex"] = np.where(wide["arm"] == "active", "F", "M")
    res = tk.analyze(_trial(tmp_path, wide))
    f = _failures(res, "ancova")
    assert set(f["term"]) == {"sex[M]"} and "collinear" in f["message"].iloc[0]


def test_empty_categorical_level_in_analysed_set(tmp_path) -> None:
    wide = small_wide()
    wide["sex"] = "M"
    wide.loc[2, "sex"] = "F"  # S003 has no week-8 values: F is empty in the analysed set
    res = tk.analyze(_trial(tmp_path, wide))
    f = _failures(res, "ancova")
    assert set(f["term"]) == {"sex"} and "'F'" in f["message"].iloc[0]


def test_zero_variance_change_fails_the_t_tests(tmp_path) -> None:
    wide = small_wide()
    wide["sleep_time_baseline"] = wide["sleep_time_baseline"].round()
    wide["sleep_time_week8"] = wide["sleep_time_baseline"] + 10.0
    wide.loc[2, "sleep_time_week8"] = np.nan
    res = tk.analyze(_trial(tmp_path, wide))
    f = res.failures.loc[res.failures["endpoint"] == "sleep_time"]
    assert {"welch_change", "student_change", "paired_within", "hedges_g"} <= set(f["analysis"])
    assert f.loc[f["analysis"] == "welch_change", "message"].str.contains("zero variance").all()


def test_cli_analyze_writes_outputs_and_prints_primary(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(BUNDLED), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Primary endpoint: Insomnia Severity Index at Week 8, Full analysis set (ANCOVA)" in printed
    assert " vs Placebo: difference in LS means" in printed
    for name in ("results.csv", "results.json", "table1.csv", "smd.csv", "responder_sweep.csv"):
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["provenance"]["inputs"][0]["sha256"] and doc["provenance"]["versions"]["statsmodels"]
    csv = pd.read_csv(out / "results.csv")
    assert tuple(csv.columns) == RESULT_COLUMNS and len(csv) == len(doc["results"])
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["analyze", str(BUNDLED), "--out", str(out), "--force"]) == 0  # the folder holds the first run
    assert first == {p.name: p.read_bytes() for p in out.iterdir()}


def test_cli_analyze_exit_codes(tmp_path) -> None:
    wide = small_wide().assign(age=70.0)
    write_frame(wide, tmp_path / "trial.csv")
    assert main(["analyze", str(write_spec(tmp_path, base_spec())), "--out", str(tmp_path / "o")]) == 1
    assert (tmp_path / "o" / "failures.csv").read_text().count("age") >= 2
    wide.loc[0, "isi_week8"] = 99.0
    write_frame(wide, tmp_path / "trial.csv")
    assert main(["analyze", str(write_spec(tmp_path, base_spec())), "--out", str(tmp_path / "p")]) == 2
    assert not (tmp_path / "p").exists()


def test_completers_population_is_the_fas_analysis_of_completers(tmp_path) -> None:
    case = Path(__file__).parents[1] / "reference" / "analyses" / "three_arm"
    trial = tk.load(case / "study.toml")
    res = tk.analyze(trial, populations=["fas", "completers"], sweep=False)
    assert set(res.table["population"]) == {"fas", "completers"}
    wide = pd.read_csv(case / "trial.csv", dtype={"subject_id": str})
    dropped = wide["score_week4"].isna() | wide["score_week8"].isna()
    assert 0 < dropped.sum() < len(wide)
    wide.loc[dropped, ["score_week4", "score_week8"]] = np.nan
    wide.to_csv(tmp_path / "trial.csv", index=False)
    (tmp_path / "study.toml").write_text((case / "study.toml").read_text())
    expected = tk.analyze(tk.load(tmp_path / "study.toml"), sweep=False).table
    key = ["endpoint", "visit", "analysis", "contrast"]
    got = res.table.loc[(res.table["population"] == "completers") & (res.table["endpoint"] == "score")]
    want = expected.loc[expected["endpoint"] == "score"]
    merged = want.merge(got, on=key, suffixes=("_fas", ""))
    assert len(merged) == len(want) == len(got)
    for c in ("estimate", "ci_low", "ci_high", "p_value", "n_treatment"):
        np.testing.assert_allclose(merged[c].astype(float), merged[f"{c}_fas"].astype(float), rtol=1e-12)
    fas = res.table.loc[
        (res.table["population"] == "fas")
        & (res.table["analysis"] == "ancova")
        & (res.table["endpoint"] == "score")
        & (res.table["visit"] == "week4")
    ]
    comp = got.loc[(got["analysis"] == "ancova") & (got["visit"] == "week4")]
    assert (comp["n_treatment"].to_numpy() <= fas["n_treatment"].to_numpy()).all()


def test_populations_come_from_the_spec(tmp_path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec(analysis={"populations": ["completers"]})))
    assert set(tk.analyze(trial, sweep=False).table["population"]) == {"completers"}
    with pytest.raises(tk.ValidationError, match="analysis.populations"):
        tk.load(write_spec(tmp_path, base_spec(analysis={"populations": ["pp"]})))


def test_counts_show_who_was_left_out(bundled) -> None:
    _, res = bundled
    c = res.counts.set_index(["endpoint", "arm"]).loc["isi"]
    assert c.loc["magnesium", "n_randomised"] == 23 and c.loc["magnesium", "n_missing_followup"] == 2
    assert c.loc["placebo", "n_with_change"] == 22
    anc = res.table.query("analysis == 'welch_change' and endpoint == 'isi'").iloc[0]
    assert (anc["n_treatment"], anc["n_control"]) == (
        c.loc["magnesium", "n_with_change"],
        c.loc["placebo", "n_with_change"],
    )


def test_failed_secondary_stays_in_the_multiplicity_family_as_p_1(tmp_path) -> None:
    case = Path(__file__).parents[1] / "reference" / "analyses" / "three_arm"
    wide = pd.read_csv(case / "trial.csv", dtype={"subject_id": str})
    wide["walk_baseline"] = 400.0  # constant baseline: the walk ANCOVA cannot run
    wide.to_csv(tmp_path / "trial.csv", index=False)
    (tmp_path / "study.toml").write_text((case / "study.toml").read_text())
    res = tk.analyze(tk.load(tmp_path / "study.toml"), sweep=False)
    t = res.table
    bio = t.loc[(t["analysis"] == "ancova") & (t["endpoint"] == "biomarker") & (t["visit"] == "week8")]
    # Holm over {biomarker, walk = 1}: the biomarker's p is doubled, not left alone
    np.testing.assert_allclose(bio["p_adjusted"], np.minimum(1, 2 * bio["p_value"]), rtol=1e-15)
    notes = res.failures.loc[res.failures["analysis"] == "multiplicity"]
    assert set(notes["endpoint"]) == {"walk"} and len(notes) == 2  # one per contrast
    assert "counted as p = 1" in notes["message"].iloc[0]


def test_row_order_of_the_tidy_frame_does_not_matter(bundled) -> None:
    import dataclasses

    trial, res = bundled
    shuffled = dataclasses.replace(trial, data=trial.data.sort_values(["endpoint", "visit", "subject"]))
    again = tk.analyze(shuffled)
    pd.testing.assert_frame_equal(again.table, res.table, check_exact=True)


def test_an_incomplete_tidy_frame_is_refused(bundled) -> None:
    import dataclasses

    trial, _ = bundled
    with pytest.raises(tk.TrialkitError, match="full subject x endpoint x visit grid"):
        tk.analyze(dataclasses.replace(trial, data=trial.data.iloc[1:]))


def test_provenance_paths_do_not_depend_on_the_checkout(bundled) -> None:
    _, res = bundled
    paths = [i["path"] for i in res.provenance["inputs"]]
    assert paths[0] == "study.toml" and all(not p.startswith("/") for p in paths)


def test_the_analysis_layer_imports_neither_statsmodels_nor_scipy_stats() -> None:
    """Import time of `trialkit analyze`: scipy.stats and statsmodels would cost over a second."""
    import subprocess
    import sys

    code = "import sys, trialkit.analysis; print(sorted(m for m in ('scipy.stats', 'statsmodels') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
