"""Percent-change responders in ``analyze``, against R.

Case tests/reference/analyses/percent/ (synthetic, placebo 24 vs active 26, baseline / week6 /
week12): ``episodes`` (integer, ``responder = { percent_change = -50 }``, five zero baselines),
``crp`` (log scale, ``percent_change = -30``: the percent change is of the values, not the logs),
``grip`` (``percent_change = 15``; no placebo responder at week 12, so RR and OR are undefined).
A subject responds when 100·(follow-up − baseline)/baseline ≤ the threshold (≥ for a positive one);
a zero baseline with a follow-up value makes it undefined: left out of the responder analyses, and
one failure row per cell says how many.

R program: tests/reference/analyses/make_reference.R (every analysis of the case: ANCOVA, t and
rank tests on the changes, Hedges' g, and the responder rows: Wilson = ``prop.test(correct =
FALSE)``, Newcombe RD, RR and Woolf OR, Fisher p, NNT; the MCID sweep at 0.5 to 1.5 times the
threshold in expected_sweep.csv). Tolerance: relative 1e-8 (as tests/analysis/test_reference.py);
counts equal.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from r_rows import assert_rows_match_r

import trialkit as tk

CASE = Path(__file__).parents[1] / "reference" / "analyses" / "percent"
RTOL = 1e-8
THRESHOLDS = {"episodes": -50.0, "crp": -30.0, "grip": 15.0}
_PERCENT_LINE = re.compile(r"^responder = \{ percent_change = (-?[0-9.]+) \}$", re.MULTILINE)


def load_percent_case(tmp_path: Path) -> tk.Trial:
    """Load the case with its percent-change responders (``tmp_path`` unused: the files are read in place)."""
    trial = tk.load(CASE / "study.toml")
    assert {e.id: e.responder_percent for e in trial.spec.endpoints} == THRESHOLDS
    return trial


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> tuple[tk.Trial, tk.Results]:
    trial = load_percent_case(tmp_path_factory.mktemp("percent"))
    return trial, tk.analyze(trial)


def test_the_case_has_percent_thresholds_only(case) -> None:
    trial, _ = case
    assert {e.id: e.responder_percent for e in trial.spec.endpoints} == THRESHOLDS
    assert all(e.responder_change is None for e in trial.spec.endpoints)


def test_every_estimate_matches_r(case) -> None:
    _, res = case
    expected = pd.read_csv(CASE / "expected.csv")
    assert_rows_match_r(res.table, expected, label="", rtol=RTOL)


def test_zero_baselines_are_left_out_and_counted(case) -> None:
    """One failure row per cell with zero baselines, with R's count; the responder n's exclude them."""
    trial, res = case
    undefined = pd.read_csv(CASE / "expected_percent_undefined.csv")
    f = res.failures
    rows = f[f["term"] == "baseline"]
    got = {(r["endpoint"], r["visit"]): r["message"] for r in rows.to_dict("records")}
    want = {(r["endpoint"], r["visit"]): r["n_undefined"] for r in undefined.to_dict("records") if r["n_undefined"]}
    assert set(got) == set(want) == {("episodes", "week6"), ("episodes", "week12")}
    for cell, n in want.items():
        assert got[cell] == (
            f"{n} subjects with a baseline of 0 or less: percent change undefined, left out of the responder analyses."
        )
    assert set(rows["contrast"]) == {"all arms"}
    # the rates' n: subjects with both values minus the zero baselines (R counts them per arm)
    t = res.table
    raw = pd.read_csv(CASE / "trial.csv", dtype=str, keep_default_na=False)
    for r in undefined.to_dict("records"):
        by_arm = dict(part.split("=") for part in r["n_undefined_by_arm"].split())
        for a in trial.arms:
            mine = raw[raw["arm"] == a]
            both = int(
                ((mine[f"{r['endpoint']}_baseline"] != "") & (mine[f"{r['endpoint']}_{r['visit']}"] != "")).sum()
            )
            rate = t[(t["analysis"] == "responder_rate") & (t["endpoint"] == r["endpoint"])]
            rate = rate[(rate["visit"] == r["visit"]) & (rate["contrast"] == a)]
            assert rate["n_treatment"].tolist() == [both - int(by_arm[a])]


def test_only_the_expected_failures(case) -> None:
    """Zero baselines, and grip week 12: no placebo responder, so RR and OR are failure rows (R omits them)."""
    _, res = case
    f = res.failures
    others = f[f["term"] != "baseline"]
    assert set(zip(others["endpoint"], others["visit"], others["analysis"], strict=True)) == {
        ("grip", "week12", "responder_rr"),
        ("grip", "week12", "responder_or"),
    }


def test_responder_sweep_matches_r(case) -> None:
    """The MCID sweep on the percent scale (-25 ... -75 %, etc.): every row R has, and no other."""
    _, res = case
    expected = pd.read_csv(CASE / "expected_sweep.csv")
    sweep = res.responder_sweep
    key = ["endpoint", "visit", "threshold", "analysis", "contrast"]
    merged = expected.merge(sweep, on=key, how="outer", suffixes=("_r", ""), indicator=True)
    only = merged.loc[merged["_merge"] != "both", key + ["_merge"]]
    assert only.empty, f"rows in only one of trialkit/R:\n{only.to_string()}"
    for c in ("estimate", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(merged[c], merged[f"{c}_r"], rtol=RTOL, atol=1e-300, err_msg=c)
    for c in ("responders_treatment", "n_treatment", "responders_control", "n_control"):
        assert (merged[c] == merged[f"{c}_r"]).all(), c
    assert sorted(set(sweep.loc[sweep["endpoint"] == "episodes", "threshold"])) == [-75.0, -62.5, -50.0, -37.5, -25.0]
    # at the pre-specified threshold the sweep is the responder analysis itself
    at = sweep[(sweep["threshold"] == sweep["endpoint"].map(THRESHOLDS))]
    t = res.table[res.table["visit"] == "week12"]
    for r in at.to_dict("records"):
        row = t[(t["endpoint"] == r["endpoint"]) & (t["analysis"] == r["analysis"]) & (t["contrast"] == r["contrast"])]
        assert row["estimate"].tolist() == [r["estimate"]]


def test_change_thresholds_on_a_log_scale_endpoint_are_in_the_unit() -> None:
    """``responder = { change = c }`` on a log-scale endpoint counts follow-up − baseline ≥ c in its unit, not logs."""
    three_arm = CASE.parent / "three_arm"
    trial = tk.load(three_arm / "study.toml")
    endpoints = tuple(
        dataclasses.replace(e, responder_change=10.0, better="higher") if e.id == "biomarker" else e
        for e in trial.spec.endpoints
    )
    trial = dataclasses.replace(trial, spec=dataclasses.replace(trial.spec, endpoints=endpoints))
    res = tk.analyze(trial, analyses=["responder_rate"], sweep=False)
    rows = res.table.loc[(res.table["endpoint"] == "biomarker") & (res.table["visit"] == "week8")].set_index("contrast")
    data = pd.read_csv(three_arm / "trial.csv")
    change = data["biomarker_week8"] - data["biomarker_baseline"]
    for arm, part in change.groupby(data["arm"]):
        part = part.dropna()
        assert rows.at[arm, "estimate"] == pytest.approx(float((part >= 10).mean()), rel=1e-15)
        assert rows.at[arm, "n_treatment"] == len(part)
