"""The missing-data analyses inside ``analyze``: rows, the tipping grid, the pattern, seeds, files and bad specs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide
from longitudinal_trial import ARMS, POST, load, three_arm_spec, three_arm_wide

import trialkit as tk
from trialkit.analysis import TIPPING_COLUMNS

COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value")
MISSING = {"missing_data": {"imputations": 20, "burn_in": 30, "seed": 5}}


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[tk.Trial, tk.Results]:
    trial = load(tmp_path_factory.mktemp("three"), three_arm_wide(), three_arm_spec(**MISSING))
    return trial, tk.analyze(trial)


def rows(results: tk.Results, analysis: str, endpoint: str | None = None) -> pd.DataFrame:
    t = results.table
    keep = t["analysis"] == analysis
    if endpoint is not None:
        keep &= t["endpoint"] == endpoint
    return t.loc[keep].reset_index(drop=True)


def test_every_method_gives_one_row_per_endpoint_and_arm_at_the_primary_visit(three) -> None:
    _, res = three
    for method in ("mi_mar", "mi_j2r", "mi_cr", "tipping_point"):
        r = rows(res, method)
        assert len(r) == 3 * 2, method  # 3 endpoints x 2 arms against placebo
        assert set(r["visit"]) == {"week12"} and set(r["population"]) == {"fas"}
        assert list(r["contrast"][:2]) == ["low - placebo", "high - placebo"]
    mar = rows(res, "mi_mar", "score")
    # subjects with a baseline value and the covariates: row 20 has no baseline, row 30 no age
    wide = three_arm_wide()
    with_baseline = wide.loc[wide["score_baseline"].notna() & wide["age"].notna()]
    counts = with_baseline["arm"].value_counts()
    assert list(mar["n_treatment"]) == [counts["low"], counts["high"]]
    assert set(mar["n_control"]) == {counts["placebo"]}
    assert (rows(res, "mi_mar")["df"] > 0).all()


def test_log_scale_endpoints_give_ratios(three) -> None:
    _, res = three
    conc = rows(res, "mi_mar", "conc")
    assert (conc["estimate"] > 0).all()
    assert np.allclose(np.log(conc["estimate"]), (np.log(conc["ci_low"]) + np.log(conc["ci_high"])) / 2, rtol=1e-12)


def test_the_tipping_grid_and_its_row(three) -> None:
    _, res = three
    grid = res.tipping_point
    assert tuple(grid.columns) == TIPPING_COLUMNS
    for _, tip in rows(res, "tipping_point").iterrows():
        part = grid.loc[(grid["endpoint"] == tip["endpoint"]) & (grid["contrast"] == tip["contrast"])]
        assert part["delta"].iloc[0] == 0.0
        mar = rows(res, "mi_mar", tip["endpoint"]).set_index("contrast").loc[tip["contrast"]]
        assert part["estimate"].iloc[0] == pytest.approx(mar["estimate"], rel=1e-12)
        lost = part.loc[part["p_value"] >= 0.05]
        assert tip["estimate"] == lost.loc[lost["delta"].abs().idxmin(), "delta"]


def test_the_missing_data_pattern_is_counted_per_arm_and_visit(three) -> None:
    _, res = three
    pattern = res.missing_pattern
    wide = three_arm_wide()
    for arm in ARMS:
        mine = wide.loc[wide["arm"] == arm, [f"score_{v}" for v in POST]].to_numpy()
        for j, visit in enumerate(POST):
            later = ~np.isnan(mine[:, j + 1 :]).all(axis=1) if j + 1 < len(POST) else np.zeros(len(mine), bool)
            row = pattern.loc[(pattern["endpoint"] == "score") & (pattern["arm"] == arm) & (pattern["visit"] == visit)]
            assert row["n_observed"].item() == int((~np.isnan(mine[:, j])).sum())
            assert row["n_intermittent"].item() == int((np.isnan(mine[:, j]) & later).sum())
            assert row["n_monotone"].item() == int((np.isnan(mine[:, j]) & ~later).sum())
            assert row["n_subjects"].item() == len(mine)


def test_reruns_are_byte_identical_and_endpoints_draw_from_their_own_stream(three, tmp_path) -> None:
    trial, res = three
    again = tk.analyze(trial)
    for field in ("table", "tipping_point", "missing_pattern"):
        assert getattr(res, field).to_csv(index=False) == getattr(again, field).to_csv(index=False), field
    spec = three_arm_spec(**MISSING)
    spec["endpoints"] = spec["endpoints"][::-1]
    spec["endpoints"][0]["primary"], spec["endpoints"][2]["primary"] = False, True
    shuffled = tk.analyze(load(tmp_path, three_arm_wide(), spec))
    for endpoint in ("score", "pain", "conc"):
        a = rows(res, "mi_j2r", endpoint)[list(COLUMNS)].to_numpy()
        b = rows(shuffled, "mi_j2r", endpoint)[list(COLUMNS)].to_numpy()
        assert np.array_equal(a, b), endpoint


def test_without_missing_values_every_method_is_the_ancova(tmp_path) -> None:
    wide = small_wide(n_per_arm=8)
    wide = wide.dropna()
    trial = load(tmp_path, wide, base_spec(analysis={"covariates": ["age"], "categorical": [], **MISSING}))
    res = tk.analyze(trial)
    for endpoint in ("isi", "sleep_time"):
        ancova = rows(res, "ancova", endpoint)[list(COLUMNS)].to_numpy(dtype=float)
        for method in ("mi_mar", "mi_j2r", "mi_cr"):
            mi = rows(res, method, endpoint)[list(COLUMNS)].to_numpy(dtype=float)
            assert np.allclose(mi, ancova, rtol=1e-10, atol=0), (endpoint, method)
    # nothing imputed: no tipping point, and the failure says why
    assert rows(res, "tipping_point").empty
    notes = res.failures.loc[res.failures["analysis"] == "tipping_point", "message"]
    assert len(notes) == 2 and notes.str.contains("no value of arm 'active' was imputed").all()


def test_files_hold_the_grid_and_the_pattern(three, tmp_path) -> None:
    _, res = three
    names = [p.name for p in res.to_files(tmp_path)]
    assert "tipping_point.csv" in names and "missing_pattern.csv" in names
    back = pd.read_csv(tmp_path / "tipping_point.csv")
    assert list(back.columns) == list(TIPPING_COLUMNS) and len(back) == len(res.tipping_point)
    assert res.provenance["missing_data"]["imputations"] == 20
    assert res.provenance["missing_data"]["imputed_at_primary"]["score"]["placebo"] >= 1


def test_a_model_the_data_cannot_support_is_a_failure_row(tmp_path) -> None:
    wide = three_arm_wide()
    wide.loc[wide["arm"] == "high", [f"pain_{v}" for v in POST]] = np.nan
    res = tk.analyze(load(tmp_path, wide, three_arm_spec(**MISSING)))
    failed = res.failures.loc[(res.failures["endpoint"] == "pain") & res.failures["analysis"].str.startswith("mi_")]
    assert len(failed) == 3
    assert failed["message"].str.contains("no subject of arm 'high' is observed at visit 'week4'").all()
    assert not rows(res, "mi_mar", "score").empty  # the other endpoints still ran


def test_asking_for_imputation_without_the_spec_entry_is_an_error(tmp_path) -> None:
    trial = load(tmp_path, small_wide(), base_spec())
    with pytest.raises(tk.TrialkitError, match=r"`analyses` asks for a multiple-imputation analysis"):
        tk.analyze(trial, analyses=["mi_mar"])
    assert "mi_mar" not in set(tk.analyze(trial).table["analysis"])


def test_a_reference_arm_the_data_does_not_have_is_an_error(tmp_path) -> None:
    spec = base_spec(analysis={"missing_data": {"reference": "sham"}})
    del spec["arms"]["levels"]  # arms from the data: the reference is checked when analysing
    trial = load(tmp_path, small_wide(), spec)
    with pytest.raises(tk.TrialkitError, match=r"`analysis.missing_data.reference` must be one of the arms .*'sham'"):
        tk.analyze(trial)


@pytest.mark.parametrize("methods", [["mi_mar"], ["mi_j2r", "mi_cr"], ["tipping_point"]])
def test_any_subset_of_the_methods_runs(tmp_path, methods) -> None:
    spec = three_arm_spec(missing_data={**MISSING["missing_data"], "methods": methods})
    res = tk.analyze(load(tmp_path, three_arm_wide(), spec))
    got = set(res.table["analysis"]) & {"mi_mar", "mi_j2r", "mi_cr", "tipping_point"}
    assert got == set(methods)
    assert res.tipping_point.empty == ("tipping_point" not in methods)


def test_asking_for_one_method_runs_only_that_one(three) -> None:
    trial, _ = three
    res = tk.analyze(trial, analyses=["mi_cr"])
    assert set(res.table["analysis"]) == {"mi_cr"} and res.tipping_point.empty


def test_a_grid_of_shifts_per_endpoint(tmp_path) -> None:
    spec = three_arm_spec(missing_data={**MISSING["missing_data"], "deltas": {"score": [0, 1, 2.5]}})
    res = tk.analyze(load(tmp_path, three_arm_wide(), spec))
    grid = res.tipping_point
    assert grid.loc[grid["endpoint"] == "score", "delta"].drop_duplicates().tolist() == [0.0, 1.0, 2.5]
    assert len(grid.loc[grid["endpoint"] == "pain", "delta"].drop_duplicates()) > 3  # the default grid
    assert res.provenance["missing_data"]["deltas"] == {
        "score": [0.0, 1.0, 2.5],
        "pain": "default grid",
        "conc": "default grid",
    }
