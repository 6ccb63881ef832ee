"""Baseline table and standardised differences: a hand-built trial, and the shared R reference cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, write_frame, write_spec

import trialkit as tk
from trialkit import AnalysisError
from trialkit.analysis import (
    SMD_COLUMNS,
    TABLE1_COLUMNS,
    baseline_table,
    standardised_differences,
)

NAN = float("nan")
REFERENCE = Path(__file__).parents[1] / "reference" / "analyses"
CASES = ("abbasi2012", "three_arm", "missing")


def _frame() -> pd.DataFrame:
    """Four subjects per arm with values chosen for round summaries; missing values in placebo."""
    return pd.DataFrame(
        {
            "subject_id": [f"S{i}" for i in range(1, 9)],
            "arm": ["active"] * 4 + ["placebo"] * 4,
            "age": [60.0, 64.0, 68.0, 72.0, 50.0, 70.0, NAN, 60.0],
            "sex": ["F", "F", "M", "M", "F", "M", "M", None],
            "region": ["north", "north", "south", "west", "north", "south", "south", "west"],
            "isi_baseline": [20.0, 22.0, 24.0, 26.0, 10.0, 12.0, 14.0, NAN],
            "isi_week8": [10.0, 12.0, 14.0, 16.0, 10.0, 11.0, 12.0, 13.0],
            "sleep_time_baseline": [300.0, 310.0, 320.0, 330.0, 300.0, 300.0, 330.0, 330.0],
            "sleep_time_week8": [350.0, 350.0, 350.0, 350.0, 340.0, 340.0, 340.0, 340.0],
        }
    )


def _trial(tmp_path: Path, frame: pd.DataFrame | None = None, **analysis) -> tk.Trial:
    write_frame(_frame() if frame is None else frame, tmp_path / "trial.csv")
    options = {"covariates": ["age", "sex", "region"], "categorical": ["sex", "region"]} | analysis
    return tk.load(write_spec(tmp_path, base_spec(analysis=options)))


# --------------------------------------------------------------------------------------------
# baseline_table


def test_baseline_table_columns_and_order(tmp_path) -> None:
    table = baseline_table(_trial(tmp_path))
    assert tuple(table.columns) == TABLE1_COLUMNS
    assert list(dict.fromkeys(table["variable"])) == ["age", "sex", "region", "isi", "sleep_time"]
    assert table.loc[table["variable"] == "age", "arm"].tolist() == ["placebo", "active"]
    assert table.loc[table["variable"] == "isi", "label"].iloc[0] == "ISI (points)"
    assert table.loc[table["variable"] == "age", "label"].iloc[0] == "age"
    assert {c: str(t) for c, t in table.dtypes.items() if c in ("n", "n_missing", "count")} == {
        "n": "int64",
        "n_missing": "int64",
        "count": "Int64",
    }


def test_numeric_rows_hold_known_summaries(tmp_path) -> None:
    t = baseline_table(_trial(tmp_path)).set_index(["variable", "arm"])
    active, placebo = t.loc[("age", "active")], t.loc[("age", "placebo")]
    assert (active["n"], active["n_missing"]) == (4, 0)
    assert active["mean"] == 66.0 and active["median"] == 66.0
    assert active["sd"] == pytest.approx(math.sqrt(80 / 3), rel=1e-15)
    assert (active["q1"], active["q3"]) == (63.0, 69.0)  # R quantile type 7
    assert (placebo["n"], placebo["n_missing"]) == (3, 1)
    assert (placebo["mean"], placebo["sd"], placebo["median"]) == (60.0, 10.0, 60.0)
    assert (placebo["q1"], placebo["q3"]) == (55.0, 65.0)
    assert pd.isna(active["level"]) and pd.isna(active["count"]) and math.isnan(active["percent"])
    isi = t.loc[("isi", "placebo")]
    assert (isi["n"], isi["n_missing"], isi["mean"], isi["sd"]) == (3, 1, 12.0, 2.0)


def test_categorical_rows_count_levels_among_non_missing(tmp_path) -> None:
    t = baseline_table(_trial(tmp_path))
    sex = t[t["variable"] == "sex"].set_index(["arm", "level"])
    assert sex.loc[("placebo", "F"), "count"] == 1
    assert sex.loc[("placebo", "M"), "count"] == 2
    assert sex.loc[("placebo", "M"), "percent"] == pytest.approx(200 / 3)
    assert (sex.loc[("placebo", "M"), "n"], sex.loc[("placebo", "M"), "n_missing"]) == (3, 1)
    assert sex.loc[("active", "F"), "percent"] == 50.0
    assert sex[["mean", "sd", "median", "q1", "q3"]].isna().all().all()
    region = t[t["variable"] == "region"]
    assert region["level"].tolist() == ["north", "south", "west"] * 2  # sorted, per arm
    assert region.groupby("arm")["percent"].sum().tolist() == [100.0, 100.0]


def test_baseline_table_has_no_p_values(tmp_path) -> None:
    table = baseline_table(_trial(tmp_path))
    assert not any("p" == c or c.startswith("p_") for c in table.columns)


def test_baseline_table_does_not_mutate_the_trial(tmp_path) -> None:
    trial = _trial(tmp_path)
    subjects, data = trial.subjects.copy(), trial.data.copy()
    baseline_table(trial)
    standardised_differences(trial)
    pd.testing.assert_frame_equal(trial.subjects, subjects)
    pd.testing.assert_frame_equal(trial.data, data)


# --------------------------------------------------------------------------------------------
# standardised_differences


def test_standardised_differences_by_hand(tmp_path) -> None:
    smd = standardised_differences(_trial(tmp_path))
    assert tuple(smd.columns) == SMD_COLUMNS
    assert (smd["contrast"] == "active - placebo").all()
    got = dict(zip(smd["variable"], smd["smd"], strict=True))
    # R 4.2.2, digits = 17: (66 - 60) / sqrt((80/3 + 100) / 2)
    assert got["age"] == pytest.approx(0.75393703492505193, rel=1e-14)
    # binary: F is the reference, M the reported level: (1/2 - 2/3) / sqrt((1/4 + 2/9) / 2)
    assert got["sex"] == pytest.approx(-0.34299717028501758, rel=1e-14)
    # three levels, Yang & Dalton: T = (1/4, 1/4), C = (1/2, 1/4) over south, west; R solve()
    assert got["region"] == pytest.approx(0.60302268915552726, rel=1e-13)
    assert got["isi"] == pytest.approx((23 - 12) / math.sqrt((20 / 3 + 4) / 2), rel=1e-14)


def test_multilevel_difference_does_not_depend_on_the_reference_level(tmp_path) -> None:
    """The Mahalanobis distance is invariant to which level is dropped (sorted first)."""
    results = []
    for i, names in enumerate(
        (("north", "south", "west"), ("b_south", "a_north", "c_west"), ("z_north", "a_south", "m_west"))
    ):
        frame = _frame()
        frame["region"] = frame["region"].map(dict(zip(("north", "south", "west"), names, strict=True)))
        folder = tmp_path / str(i)
        folder.mkdir()
        smd = standardised_differences(_trial(folder, frame)).set_index("variable")["smd"]
        results.append(smd["region"])
    np.testing.assert_allclose(results, results[0], rtol=1e-12)


def test_identical_distributions_have_zero_difference(tmp_path) -> None:
    frame = _frame()
    frame["region"] = ["a", "b", "c", "c", "a", "c", "b", "c"]
    smd = standardised_differences(_trial(tmp_path, frame)).set_index("variable")["smd"]
    assert smd["region"] == 0.0


def test_a_constant_covariate_has_no_standardised_difference(tmp_path) -> None:
    frame = _frame()
    frame["age"] = 65.0
    with pytest.raises(AnalysisError, match="constant") as err:
        standardised_differences(_trial(tmp_path, frame), strict=True)
    assert err.value.term == "age"


def test_undefined_differences_are_left_out_unless_strict(tmp_path) -> None:
    frame = _frame()
    frame["age"] = 65.0
    smd = standardised_differences(_trial(tmp_path, frame))
    assert "age" not in set(smd["variable"])
    assert {"sex", "region", "isi", "sleep_time"} <= set(smd["variable"])
    assert smd["smd"].notna().all()


def test_a_single_level_has_no_standardised_difference(tmp_path) -> None:
    frame = _frame()
    frame["sex"] = "F"
    with pytest.raises(AnalysisError, match="one level") as err:
        standardised_differences(_trial(tmp_path, frame), strict=True)
    assert err.value.term == "sex"


def test_arms_with_no_level_in_common_are_an_error(tmp_path) -> None:
    frame = _frame()
    frame["sex"] = ["F"] * 4 + ["M"] * 4
    with pytest.raises(AnalysisError, match="no level") as err:
        standardised_differences(_trial(tmp_path, frame), strict=True)
    assert err.value.term == "sex"


def test_an_arm_with_one_value_has_no_standardised_difference(tmp_path) -> None:
    frame = _frame()
    frame.loc[frame["arm"] == "placebo", "age"] = [50.0, NAN, NAN, NAN]
    with pytest.raises(AnalysisError, match="at least 2"):
        standardised_differences(_trial(tmp_path, frame), strict=True)
    table = baseline_table(_trial(tmp_path, frame)).set_index(["variable", "arm"])
    assert table.loc[("age", "placebo"), "n"] == 1
    assert math.isnan(table.loc[("age", "placebo"), "sd"])  # n says why


# --------------------------------------------------------------------------------------------
# shared R reference cases (tests/reference/analyses/<case>/, make_reference.R)


def _case(name: str) -> tuple[tk.Trial, Path]:
    folder = REFERENCE / name
    if not (folder / "expected_table1.csv").exists():
        pytest.fail(f"{folder} has no R reference yet")
    return tk.load(folder / "study.toml"), folder


@pytest.mark.parametrize("case", CASES)
def test_baseline_table_matches_r(case) -> None:
    """Relative error <= 1e-12. In the R file a categorical row's ``n`` is the level count."""
    trial, folder = _case(case)
    expected = pd.read_csv(folder / "expected_table1.csv", dtype={"level": str})
    got = baseline_table(trial)
    numeric_r = expected[expected["kind"] != "categorical"]
    numeric = numeric_r.merge(
        got[got["variable"].isin(numeric_r["variable"])],
        on=["variable", "arm"],
        suffixes=("_r", ""),
        validate="one_to_one",
    )
    assert len(numeric) == (expected["kind"] != "categorical").sum()
    for c in ("n", "n_missing"):
        assert (numeric[c] == numeric[f"{c}_r"]).all(), c
    for c in ("mean", "sd", "median", "q1", "q3"):
        np.testing.assert_allclose(numeric[c], numeric[f"{c}_r"], rtol=1e-12, atol=0, err_msg=c)
    cat_r = expected[expected["kind"] == "categorical"]
    cat = cat_r.merge(got, on=["variable", "level", "arm"], suffixes=("_r", ""), validate="one_to_one")
    assert len(cat) == len(cat_r) == got["level"].notna().sum()
    assert (cat["count"].astype("int64") == cat["n_r"]).all()
    assert (cat["n_missing"] == cat["n_missing_r"]).all()
    np.testing.assert_allclose(cat["percent"], cat["percent_r"], rtol=1e-12, atol=0)
    assert len(got) == len(expected)


@pytest.mark.parametrize("case", CASES)
def test_standardised_differences_match_r(case) -> None:
    trial, folder = _case(case)
    expected = pd.read_csv(folder / "expected_smd.csv")
    got = standardised_differences(trial)
    merged = expected.merge(got, on=["variable", "contrast"], suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(expected) == len(got)
    np.testing.assert_allclose(merged["smd"], merged["smd_r"], rtol=1e-12, atol=1e-15)
