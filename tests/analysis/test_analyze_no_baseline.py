"""``analyze`` on a trial without a baseline visit, against R.

The cases are the ``three_arm`` and ``abbasi2012`` reference trials with the baseline visit taken
out of the spec (tests/reference/analyses/no_baseline_*/study.toml, reading the cases' own
trial.csv). R program: tests/reference/analyses/make_reference.R: ``lm(follow-up ~ arm +
covariates)`` with emmeans (``ancova``, ``ancova_lsmean``), ``t.test`` with ``var.equal`` FALSE /
TRUE on the follow-up values (``welch_followup``, ``student_followup``), ``wilcox.test(conf.int =
TRUE)`` (``mann_whitney_followup``), Hedges' g of the ANCOVA difference (``hedges_g_ancova``); log
endpoints on logs, estimate and CI back-transformed.

Tolerance: relative error <= 1e-8 for every number, as tests/analysis/test_reference.py and for the
same reasons (closed forms; the normal-approximation rank-sum estimates and limits are roots found by
the Brent iteration R's ``uniroot`` runs, and trialkit runs the same iteration); p-values below 1e-300
compare with an absolute 1e-300 floor. Counts must be equal.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from r_rows import assert_rows_match_r

import trialkit as tk
from trialkit.cli import main

REFERENCE = Path(__file__).parents[1] / "reference" / "analyses"
CASES = ("no_baseline_three_arm", "no_baseline_abbasi2012")
RTOL = 1e-8
RUN = {"ancova", "ancova_lsmean", "hedges_g_ancova", "welch_followup", "student_followup", "mann_whitney_followup"}
CHANGE_BASED = {"welch_change", "student_change", "mann_whitney_change", "paired_within", "wilcoxon_within", "hedges_g"}
RESPONDERS = {"responder_rate", "responder_rd", "responder_rr", "responder_or", "responder_nnt"}


@pytest.fixture(scope="module", params=CASES)
def case(request) -> tuple[str, tk.Trial, tk.Results]:
    trial = tk.load(REFERENCE / request.param / "study.toml")
    return request.param, trial, tk.analyze(trial)


def _raw(name: str) -> pd.DataFrame:
    """Return the case's trial.csv (as the spec names it) as text."""
    source = {"no_baseline_three_arm": "three_arm", "no_baseline_abbasi2012": "abbasi2012"}[name]
    return pd.read_csv(REFERENCE / source / "trial.csv", dtype=str, keep_default_na=False)


def test_the_specs_have_no_baseline_visit(case) -> None:
    name, trial, _ = case
    assert trial.spec.visits.baseline is None
    with_baseline = tk.load(REFERENCE / name.removeprefix("no_baseline_") / "study.toml")
    assert trial.spec.visits.order == with_baseline.spec.visits.post_baseline
    assert trial.spec.endpoints == with_baseline.spec.endpoints
    assert trial.spec.analysis == with_baseline.spec.analysis


def test_every_estimate_matches_r(case) -> None:
    name, _, res = case
    expected = pd.read_csv(REFERENCE / name / "expected.csv")
    assert set(expected["analysis"]) == RUN
    assert_rows_match_r(res.table, expected, label=name, rtol=RTOL)


def test_rank_sum_rows_cover_both_inference_paths() -> None:
    paths = pd.concat(pd.read_csv(REFERENCE / c / "expected_wilcox_paths.csv") for c in CASES)
    assert set(paths["analysis"]) == {"mann_whitney_followup"}
    assert set(paths["path"]) == {"exact", "normal"}


def test_primary_ancova_is_follow_up_on_covariates_and_feeds_multiplicity(case) -> None:
    """The ANCOVA rows hold p_adjusted as with a baseline (primary: p; secondary: holm), from R."""
    name, trial, res = case
    t = res.table
    at = (t["analysis"] == "ancova") & (t["visit"] == trial.spec.visits.primary)
    assert t.loc[at, "p_adjusted"].notna().all()
    assert t.loc[~at, "p_adjusted"].isna().all()
    assert res.provenance["covariates"] == list(trial.spec.analysis.covariates)


def test_skipped_rows_name_each_analysis_that_needs_a_baseline(case) -> None:
    name, trial, res = case
    f = res.failures
    assert (f["term"] == "skipped").all(), f.to_string()
    assert f["message"].str.startswith("skipped: the spec has no baseline visit").all()
    assert (f["contrast"] == "all arms").all() and (f["visit"] == "").all() and (f["population"] == "fas").all()
    expected = {
        (e.id, kind)
        for e in trial.spec.endpoints
        for kind in CHANGE_BASED | (RESPONDERS if e.responder_change is not None else set())
    }
    got = list(zip(f["endpoint"], f["analysis"], strict=True))
    assert len(got) == len(set(got)) and set(got) == expected
    # the responder endpoints of the cases (score, isi) are among them; nothing that ran is listed
    assert {e for e, k in got if k in RESPONDERS} == {trial.spec.primary_endpoint.id}
    assert not set(f["analysis"]) & set(res.table["analysis"])
    assert res.responder_sweep.empty


def test_counts_table(case) -> None:
    """Per endpoint, visit and arm: randomised, with a follow-up value (R's welch_followup n), missing."""
    name, trial, res = case
    raw = _raw(name)
    expected = pd.read_csv(REFERENCE / name / "expected.csv")
    welch = expected[expected["analysis"] == "welch_followup"]
    counts = res.counts
    assert len(counts) == len(trial.spec.endpoints) * len(trial.spec.visits.order) * len(trial.arms)
    assert set(counts["population"]) == {"fas"}
    for r in counts.to_dict("records"):
        randomised = int((raw["arm"] == r["arm"]).sum())
        assert r["n_randomised"] == r["n_in_population"] == randomised
        cell = welch[(welch["endpoint"] == r["endpoint"]) & (welch["visit"] == r["visit"])]
        if r["arm"] == trial.control:
            with_value = set(cell["n_control"])
        else:
            with_value = set(cell.loc[cell["contrast"] == f"{r['arm']} - {trial.control}", "n_treatment"])
        assert with_value == {r["n_with_change"]}, r
        observed = int((raw.loc[raw["arm"] == r["arm"], f"{r['endpoint']}_{r['visit']}"] != "").sum())
        assert r["n_with_change"] == observed
        assert r["n_missing_followup"] == randomised - observed
        assert r["n_missing_baseline"] == 0


def test_table1_shows_covariates_only(case) -> None:
    """Table 1 and the SMDs against R (1e-12 relative): the covariates, no endpoint baselines."""
    name, trial, res = case
    expected = pd.read_csv(REFERENCE / name / "expected_table1.csv", dtype={"level": str})
    assert set(expected["kind"]) == {"covariate", "categorical"}
    got = res.table1
    assert list(dict.fromkeys(got["variable"])) == list(trial.spec.analysis.covariates)
    numeric_r = expected[expected["kind"] == "covariate"]
    numeric = numeric_r.merge(
        got[got["variable"].isin(numeric_r["variable"])],
        on=["variable", "arm"],
        suffixes=("_r", ""),
        validate="one_to_one",
    )
    assert len(numeric) == len(numeric_r)
    for c in ("n", "n_missing"):
        assert (numeric[c] == numeric[f"{c}_r"]).all(), c
    for c in ("mean", "sd", "median", "q1", "q3"):
        np.testing.assert_allclose(numeric[c], numeric[f"{c}_r"], rtol=1e-12, atol=0, err_msg=c)
    cat_r = expected[expected["kind"] == "categorical"]
    cat = cat_r.merge(got, on=["variable", "level", "arm"], suffixes=("_r", ""), validate="one_to_one")
    assert len(cat) == len(cat_r) == got["level"].notna().sum()
    assert (cat["count"].astype("int64") == cat["n_r"]).all()
    np.testing.assert_allclose(cat["percent"], cat["percent_r"], rtol=1e-12, atol=0)
    assert len(got) == len(expected)
    smd_r = pd.read_csv(REFERENCE / name / "expected_smd.csv")
    smd = smd_r.merge(res.smd, on=["variable", "contrast"], suffixes=("_r", ""), validate="one_to_one")
    assert len(smd) == len(smd_r) == len(res.smd)
    np.testing.assert_allclose(smd["smd"], smd["smd_r"], rtol=1e-12, atol=0)


def test_mmrm_and_multiple_imputation_are_skipped_as_named(tmp_path) -> None:
    """A spec asking for the MMRM and MI but without a baseline: each named analysis is a skipped row."""
    trial = tk.load(REFERENCE / "no_baseline_three_arm" / "study.toml")
    analysis = trial.spec.analysis
    mmrm = tk.read_spec(tk.datasets.study_spec("abbasi2012")).analysis.mmrm
    assert mmrm is not None
    missing_data = dataclasses.replace(
        tk.read_spec(tk.datasets.study_spec("abbasi2012")).analysis.missing_data, methods=("mi_mar", "tipping_point")
    )
    spec = dataclasses.replace(trial.spec, analysis=dataclasses.replace(analysis, mmrm=mmrm, missing_data=missing_data))
    res = tk.analyze(dataclasses.replace(trial, spec=spec), sweep=False)
    f = res.failures
    modelled = f[f["message"] == "skipped: the spec has no baseline visit to adjust for."]
    # only the methods the spec names: mi_j2r and mi_cr were not asked for
    expected = {
        (e, k) for e in ("score", "biomarker", "walk") for k in ("mmrm", "mmrm_lsmean", "mi_mar", "tipping_point")
    }
    assert set(zip(modelled["endpoint"], modelled["analysis"], strict=True)) == expected
    assert len(modelled) == len(expected)
    assert not {"mmrm", "mmrm_lsmean", "mi_mar", "tipping_point"} & set(res.table["analysis"])
    assert res.tipping_point.empty


def test_cli_validate_and_analyze(tmp_path, capsys) -> None:
    """Both commands exit 0 (skipped analyses are not failures) and analyze writes its files."""
    spec = REFERENCE / "no_baseline_three_arm" / "study.toml"
    assert main(["validate", str(spec)]) == 0
    assert "valid — 90 subjects (placebo 31, low 29, high 30)" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["analyze", str(spec), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Analyses that do not apply to the trial" in printed
    assert "Analyses that could not run" not in printed
    written = {p.name for p in out.iterdir()}
    assert {"results.csv", "failures.csv", "table1.csv", "counts.csv"} <= written
    results = pd.read_csv(out / "results.csv")
    assert set(results["analysis"]) == RUN
    failures = pd.read_csv(out / "failures.csv", keep_default_na=False)
    assert (failures["term"] == "skipped").all() and len(failures) == 6 * 3 + 5


def test_cli_analyze_still_exits_1_when_an_analysis_fails_without_a_baseline(tmp_path) -> None:
    """A real failure next to skipped rows keeps exit 1: here every ``walk`` value is missing at week 4."""
    raw = _raw("no_baseline_three_arm")
    raw.loc[raw["arm"] == "low", "walk_week4"] = ""
    raw.to_csv(tmp_path / "trial.csv", index=False)
    text = (REFERENCE / "no_baseline_three_arm" / "study.toml").read_text(encoding="utf-8")
    (tmp_path / "study.toml").write_text(text.replace("../three_arm/trial.csv", "trial.csv"), encoding="utf-8")
    assert main(["analyze", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out")]) == 1
    failures = pd.read_csv(tmp_path / "out" / "failures.csv", keep_default_na=False)
    failed = failures[failures["term"] != "skipped"]
    assert not failed.empty and set(failed["endpoint"]) == {"walk"} and set(failed["visit"]) == {"week4"}
