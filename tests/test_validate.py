"""Every data rule, each broken on purpose in a real file: the problem names file, row, subject, column, value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, to_long, write_frame, write_spec

import trialkit as tk


def _problems(folder: Path, frame: pd.DataFrame, spec: dict | None = None, name: str = "trial.csv") -> pd.DataFrame:
    if name.endswith(".csv"):
        frame.to_csv(folder / name, index=False)
    else:
        write_frame(frame, folder / name)
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(folder, spec or base_spec(data={"path": name})))
    return info.value.table


def _only(table: pd.DataFrame, rule: str) -> pd.DataFrame:
    assert set(table["rule"]) == {rule}, table.to_string()
    return table


@pytest.mark.parametrize("text", ["<5", "ND", "1,2", "12 points", "inf"])
def test_text_in_a_numeric_column_is_an_error_never_missing(tmp_path, text) -> None:
    wide = small_wide().astype({"sleep_time_week8": object})
    wide.loc[4, "sleep_time_week8"] = text
    t = _only(_problems(tmp_path, wide), "non_numeric")
    assert t[["row", "subject", "column", "value"]].values.tolist() == [[6, "S005", "sleep_time_week8", text]]


def test_text_in_an_excel_numeric_cell_is_an_error(tmp_path) -> None:
    wide = small_wide().astype({"isi_baseline": object})
    wide.loc[0, "isi_baseline"] = "<5"
    t = _only(_problems(tmp_path, wide, base_spec(data={"path": "trial.xlsx"}), name="trial.xlsx"), "non_numeric")
    assert t[["row", "subject", "value"]].values.tolist() == [[2, "S001", "<5"]]


def test_duplicate_subject_visit_endpoint_rows_are_listed_with_their_rows(tmp_path) -> None:
    long = to_long(small_wide())
    long = pd.concat([long, long.iloc[[1]]], ignore_index=True)  # S001 isi week8 twice
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "duplicate_record")
    assert t["subject"].item() == "S001"
    assert f"trial.csv rows 3 and {len(long) + 1}" in t["message"].item()


def test_two_baseline_records_are_a_multiple_baseline_error(tmp_path) -> None:
    long = to_long(small_wide())
    long = pd.concat([long, long.iloc[[0]].assign(value=15.0)], ignore_index=True)
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "multiple_baseline")
    assert t["value"].item() == f"{long.loc[0, 'value']:g}, 15"


def test_subject_with_two_arms_is_an_arm_conflict(tmp_path) -> None:
    long = to_long(small_wide())
    long.loc[3, "arm"] = "placebo"  # S001 is active elsewhere
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "arm_conflict")
    assert t["subject"].item() == "S001" and "'active'" in t["message"].item() and "'placebo'" in t["message"].item()


def test_subject_in_two_arm_files_is_an_arm_conflict(tmp_path) -> None:
    wide = small_wide()
    active = wide.loc[wide["arm"] == "active"].drop(columns="arm")
    placebo = pd.concat([wide.loc[wide["arm"] == "placebo"], wide.iloc[[0]]]).drop(columns="arm")
    active.to_csv(tmp_path / "active.csv", index=False)
    placebo.to_csv(tmp_path / "placebo.csv", index=False)
    spec = base_spec()
    spec["arms"] = {"control": "placebo"}
    spec["data"] = {
        "format": "wide",
        "subject": "subject_id",
        "pattern": "{endpoint}_{visit}",
        "files": {"active": "active.csv", "placebo": "placebo.csv"},
    }
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(tmp_path, spec))
    t = _only(info.value.table, "arm_conflict")
    assert t["subject"].item() == "S001"
    assert "active.csv" in t["message"].item() and "placebo.csv" in t["message"].item()


def test_undeclared_arm_code_names_the_closest_declared_arm(tmp_path) -> None:
    wide = small_wide()
    wide.loc[1, "arm"] = "activ"
    t = _only(_problems(tmp_path, wide), "unknown_arm")
    assert t[["row", "subject", "column", "value"]].values.tolist() == [[3, "S002", "arm", "activ"]]
    assert "did you mean 'active'" in t["message"].item()


def test_declared_arm_without_subjects_is_reported(tmp_path) -> None:
    spec = base_spec(arms={"levels": ["placebo", "active", "high_dose"]})
    t = _only(_problems(tmp_path, small_wide(), spec), "arm_absent")
    assert t["value"].item() == "high_dose"


def test_arm_with_one_subject_is_too_few(tmp_path) -> None:
    wide = small_wide()
    wide = wide.loc[(wide["arm"] == "placebo") | (wide["subject_id"] == "S001")]
    t = _only(_problems(tmp_path, wide), "too_few_subjects")
    assert t["value"].item() == "active"


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("isi_week8", 29.0, "out_of_range"),
        ("isi_week8", -1.0, "out_of_range"),
        ("sleep_time_baseline", 1441.0, "out_of_range"),
        ("isi_baseline", 12.5, "not_integer"),
    ],
)
def test_values_break_the_endpoint_rules(tmp_path, column, value, rule) -> None:
    wide = small_wide()
    wide.loc[6, column] = value
    t = _only(_problems(tmp_path, wide), rule)
    assert t[["row", "subject", "column", "value"]].values.tolist() == [[8, "S007", column, f"{value:g}"]]


def test_log_scale_endpoint_rejects_zero(tmp_path) -> None:
    spec = base_spec()
    spec["endpoints"][1] = {"id": "sleep_time", "scale": "log"}
    wide = small_wide()
    wide.loc[0, "sleep_time_week8"] = 0.0
    t = _only(_problems(tmp_path, wide, spec), "out_of_range")
    assert "log scale" in t["message"].item()


def test_visit_not_in_the_spec_is_named_with_the_closest(tmp_path) -> None:
    long = to_long(small_wide())
    long.loc[long["visit"] == "week8", "visit"] = "week 8"
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _problems(tmp_path, long, spec)
    assert set(t["rule"]) == {"unknown_visit", "visit_absent"}
    unknown = t.loc[t["rule"] == "unknown_visit"]
    assert len(unknown) == 20 and (unknown["value"] == "week 8").all()
    assert "did you mean 'week8'" in unknown["message"].iloc[0]
    assert t.loc[t["rule"] == "visit_absent", "value"].item() == "week8"


def test_endpoint_code_not_declared_in_long_data(tmp_path) -> None:
    long = to_long(small_wide())
    long.loc[0, "endpoint"] = "ISI"
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "unknown_endpoint")
    assert t[["row", "value"]].values.tolist() == [[2, "ISI"]]
    assert "it differs from 'isi' only in letter case" in t["message"].item()


def test_record_without_subject_id(tmp_path) -> None:
    wide = small_wide()
    wide.loc[3, "subject_id"] = np.nan
    t = _only(_problems(tmp_path, wide), "missing_subject")
    assert t["row"].tolist() == [5]


def test_covariate_that_changes_within_a_subject(tmp_path) -> None:
    long = to_long(small_wide())
    long.loc[1, "age"] = 99.0
    spec = base_spec()
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "covariate_conflict")
    assert t[["subject", "column"]].values.tolist() == [["S001", "age"]]


def test_numeric_covariate_with_text(tmp_path) -> None:
    wide = small_wide().astype({"age": object})
    wide.loc[2, "age"] = "sixty"
    t = _only(_problems(tmp_path, wide), "non_numeric")
    assert t[["row", "column", "value"]].values.tolist() == [[4, "age", "sixty"]]


def test_all_problems_are_reported_at_once(tmp_path) -> None:
    wide = small_wide().astype({"sleep_time_week8": object})
    wide.loc[0, "sleep_time_week8"] = "ND"
    wide.loc[1, "arm"] = "actve"
    wide.loc[2, "isi_baseline"] = 40.0
    wide.loc[3, "isi_week8"] = 3.5
    t = _problems(tmp_path, wide)
    assert sorted(t["rule"]) == ["non_numeric", "not_integer", "out_of_range", "unknown_arm"]


def test_missing_values_are_counted_not_errors(small_trial_dir) -> None:
    trial = tk.load(small_trial_dir)
    counts = trial.missing_counts().set_index(["arm", "visit", "endpoint"])
    assert counts.loc[("active", "week8", "isi"), "n_missing"] == 1
    assert counts.loc[("active", "baseline", "isi"), "n_missing"] == 0
    assert counts["n_missing"].sum() == 2
    assert (counts["n_subjects"] == 5).all()


def test_missing_value_codes_are_configurable(tmp_path) -> None:
    wide = small_wide().astype({"isi_week8": object})
    wide.loc[5, "isi_week8"] = "-99"
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec(data={"missing": ["", "-99"]})))
    assert trial.data["value"].isna().sum() == 3


def test_problem_table_has_the_contract_columns(tmp_path) -> None:
    wide = small_wide()
    wide.loc[0, "isi_week8"] = 30.0
    t = _problems(tmp_path, wide)
    assert list(t.columns) == ["rule", "file", "row", "subject", "column", "value", "message"]
    assert t["file"].item() == str((tmp_path / "trial.csv").resolve())


# ------------------------------------------------------------------ binary and count endpoints, strata


def _typed_wide() -> pd.DataFrame:
    """Return the small trial with a binary text endpoint, a 0/1 endpoint, a count, its exposure and a centre."""
    wide = small_wide()
    wide["response_baseline"] = ["good", "poor"] * 5
    wide["response_week8"] = ["good", "good", "", "poor", "good", "poor", "poor", "good", "poor", "good"]
    wide["remission_baseline"] = [0, 1] * 5
    wide["remission_week8"] = [1, 0, 1, 1, 0, 1, 1, 0, 0, 1]
    wide["seizures_baseline"] = [3.0, 1, 5, 2, 1, 4, 6, 2, 3, 1]
    wide["seizures_week8"] = [1.0, 0, 2, 2, 0, 4, 5, 2, 3, 1]
    wide["years"] = [1.0, 0.5, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 0.9, 1.0]
    wide["centre"] = ["A", "B"] * 5
    return wide


def _typed_spec(path: str = "trial.csv", **analysis) -> dict:
    spec = base_spec(analysis={"strata": ["centre"], **analysis}, data={"path": path})
    spec["endpoints"] += [
        {"id": "response", "type": "binary", "success": "good"},
        {"id": "remission", "type": "binary"},
        {"id": "seizures", "type": "count", "exposure_column": "years"},
    ]
    return spec


def test_the_typed_trial_is_valid(tmp_path) -> None:
    _typed_wide().to_csv(tmp_path / "trial.csv", index=False)
    trial = tk.load(write_spec(tmp_path, _typed_spec()))
    value = trial.data.set_index(["subject", "endpoint", "visit"])["value"]
    assert value[("S001", "response", "week8")] == 1.0 and value[("S004", "response", "week8")] == 0.0
    assert np.isnan(value[("S003", "response", "week8")])
    assert value[("S002", "remission", "week8")] == 0.0 and value[("S003", "seizures", "baseline")] == 5.0


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("response_week8", "fair", ("third value of binary endpoint 'response'", "'good' (success) and 'poor'")),
        ("remission_week8", "2", ("not a value of binary endpoint 'remission'", "takes 1 (success) and 0")),
        ("remission_week8", "yes", ("not a value of binary endpoint 'remission'", "`success`")),
    ],
)
def test_a_third_value_of_a_binary_endpoint_is_named(tmp_path, column, value, words) -> None:
    wide = _typed_wide().astype({column: object})
    wide.loc[6, column] = value
    t = _only(_problems(tmp_path, wide, _typed_spec()), "not_binary")
    assert t[["row", "subject", "column", "value"]].values.tolist() == [[8, "S007", column, value]]
    assert t["file"].item().endswith("trial.csv")
    for w in words:
        assert w in t["message"].item()


def test_every_third_value_is_named_at_once_and_the_other_values_listed(tmp_path) -> None:
    wide = _typed_wide()
    wide.loc[[1, 6], "response_week8"] = ["fair", "bad"]
    t = _only(_problems(tmp_path, wide, _typed_spec()), "not_binary")
    assert t[["row", "value"]].values.tolist() == [[3, "fair"], [8, "bad"]]
    assert "also holds 'bad', 'fair'" in t["message"].iloc[0] or "also holds 'fair', 'bad'" in t["message"].iloc[0]


def test_a_third_value_in_a_long_file_names_its_row(tmp_path) -> None:
    long = to_long(small_wide())
    extra = long.loc[long["endpoint"] == "isi"].assign(endpoint="response", value="no")
    extra.loc[extra.index[5], "value"] = "maybe"
    long = pd.concat([long.astype({"value": object}), extra], ignore_index=True)
    spec = base_spec()
    spec["endpoints"].append({"id": "response", "type": "binary", "success": "yes"})
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "not_binary")
    assert t[["row", "subject", "column", "value"]].values.tolist() == [
        [len(to_long(small_wide())) + 7, "S003", "value", "maybe"]
    ]


def test_text_in_a_number_row_of_a_long_file_with_a_binary_endpoint_is_still_non_numeric(tmp_path) -> None:
    long = to_long(small_wide()).astype({"value": object})
    long.loc[5, "value"] = "good"
    extra = to_long(small_wide()).loc[lambda f: f["endpoint"] == "isi"].assign(endpoint="response", value="good")
    long = pd.concat([long, extra], ignore_index=True)
    spec = base_spec()
    spec["endpoints"].append({"id": "response", "type": "binary", "success": "good"})
    spec["data"] = {**LONG_DATA}
    t = _only(_problems(tmp_path, long, spec), "non_numeric")
    assert t[["row", "value"]].values.tolist() == [[7, "good"]]


@pytest.mark.parametrize(
    ("column", "value", "rule", "words"),
    [
        ("seizures_week8", -1, "out_of_range", ("-1 is negative", "'seizures' is a count")),
        ("seizures_week8", 2.5, "not_integer", ("2.5 is not a whole number", "is a count")),
        ("seizures_baseline", 0, "out_of_range", ('count_baseline = "log1p"', '"raw"')),
    ],
)
def test_bad_counts_are_named(tmp_path, column, value, rule, words) -> None:
    wide = _typed_wide()
    wide.loc[3, column] = value
    t = _only(_problems(tmp_path, wide, _typed_spec()), rule)
    assert t[["row", "subject", "column"]].values.tolist() == [[5, "S004", column]]
    assert t["value"].item() == f"{value:g}"
    for w in words:
        assert w in t["message"].item()


@pytest.mark.parametrize("count_baseline", ["log1p", "raw"])
def test_a_zero_baseline_count_is_fine_unless_its_log_is_taken(tmp_path, count_baseline) -> None:
    wide = _typed_wide()
    wide.loc[3, "seizures_baseline"] = 0
    wide.to_csv(tmp_path / "trial.csv", index=False)
    spec = _typed_spec()
    spec["endpoints"][-1]["count_baseline"] = count_baseline
    trial = tk.load(write_spec(tmp_path, spec))
    assert trial.data.set_index(["subject", "endpoint", "visit"])["value"][("S004", "seizures", "baseline")] == 0


@pytest.mark.parametrize(
    ("value", "rule", "words"),
    [
        (0.0, "out_of_range", ("is 0", "must be > 0")),
        (-1.5, "out_of_range", ("is -1.5", "must be > 0")),
        ("inf", "non_numeric", ("exposure column 'years' holds 'inf'",)),
        ("a year", "non_numeric", ("exposure column 'years' holds 'a year'",)),
        (np.nan, "missing_exposure", ("counts of 'seizures' but no time at risk",)),
    ],
)
def test_bad_exposure_is_named(tmp_path, value, rule, words) -> None:
    wide = _typed_wide().astype({"years": object})
    wide.loc[4, "years"] = value
    t = _only(_problems(tmp_path, wide, _typed_spec()), rule)
    assert t[["row", "subject", "column"]].values.tolist() == [[6, "S005", "years"]]
    for w in words:
        assert w in t["message"].item()


def test_missing_exposure_is_fine_without_a_count(tmp_path) -> None:
    wide = _typed_wide()
    wide.loc[4, ["years", "seizures_baseline", "seizures_week8"]] = np.nan
    wide.to_csv(tmp_path / "trial.csv", index=False)
    trial = tk.load(write_spec(tmp_path, _typed_spec()))
    assert np.isnan(trial.subjects.set_index("subject").loc["S005", "years"])


def test_a_stratum_with_one_level_is_named(tmp_path) -> None:
    wide = _typed_wide().assign(centre="A")
    t = _only(_problems(tmp_path, wide, _typed_spec()), "stratum_one_level")
    assert t[["column", "value"]].values.tolist() == [["centre", "A"]]
    assert "one level, 'A'" in t["message"].item()


def test_a_stratum_level_without_every_arm_is_named(tmp_path) -> None:
    wide = _typed_wide()
    wide["centre"] = ["A", "B", "A", "B", "C", "A", "B", "A", "B", "A"]  # C: one active subject only
    t = _only(_problems(tmp_path, wide, _typed_spec()), "stratum_arm_absent")
    assert t[["column", "value"]].values.tolist() == [["centre", "C"]]
    assert "subjects in active only, none in placebo" in t["message"].item()


def test_every_new_data_problem_is_reported_at_once(tmp_path) -> None:
    wide = _typed_wide().astype({"response_week8": object, "years": object})
    wide["site"] = "X"
    wide.loc[0, "response_week8"] = "fair"
    wide.loc[1, "seizures_week8"] = -3
    wide.loc[2, "years"] = 0
    wide.loc[3, "seizures_baseline"] = 0
    spec = _typed_spec(strata=["centre", "site"])
    spec["analysis"]["strata"] = ["centre", "site"]
    table = _problems(tmp_path, wide, spec)
    assert sorted(table["rule"]) == ["not_binary", "out_of_range", "out_of_range", "out_of_range", "stratum_one_level"]
    assert set(table["subject"].dropna()) == {"S001", "S002", "S003", "S004"}


@pytest.mark.parametrize("kind", ["third value", "negative count", "exposure", "one level", "one arm"])
def test_the_cli_exits_2_on_each_new_data_problem(tmp_path, capsys, kind) -> None:
    from trialkit.cli import main

    wide = _typed_wide().astype({"response_week8": object, "years": object})
    if kind == "third value":
        wide.loc[0, "response_week8"] = "fair"
    elif kind == "negative count":
        wide.loc[1, "seizures_week8"] = -3
    elif kind == "exposure":
        wide.loc[2, "years"] = 0
    elif kind == "one level":
        wide["centre"] = "A"
    else:
        wide.loc[:, "centre"] = ["A"] * 5 + ["B"] * 5  # active subjects all in A, placebo ones in B
    wide.to_csv(tmp_path / "trial.csv", index=False)
    spec = write_spec(tmp_path, _typed_spec())
    assert main(["validate", str(spec)]) == 2
    assert "1 problem found" in capsys.readouterr().err or kind == "one arm"


def test_a_third_value_is_found_across_the_files_of_the_arms(tmp_path) -> None:
    wide = _typed_wide().astype({"response_week8": object})
    wide.loc[wide["arm"] == "placebo", ["response_baseline", "response_week8"]] = "bad"  # active: "poor"
    wide.loc[wide.index[-1], "response_week8"] = "good"
    for arm in ("active", "placebo"):
        wide.loc[wide["arm"] == arm].drop(columns="arm").to_csv(tmp_path / f"{arm}.csv", index=False)
    spec = _typed_spec()
    spec["arms"] = {"control": "placebo"}
    spec["data"] = {
        "format": "wide",
        "subject": "subject_id",
        "pattern": "{endpoint}_{visit}",
        "files": {"placebo": "placebo.csv", "active": "active.csv"},
    }
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(tmp_path, spec))
    t = _only(info.value.table, "not_binary")
    # "bad" (9 entries, all in placebo.csv) is the other value; "poor" (active.csv) is the third
    assert set(t["value"]) == {"poor"} and set(t["file"].map(lambda f: Path(f).name)) == {"active.csv"}
    assert "'good' (success) and 'bad'" in t["message"].iloc[0]


def test_validate_says_each_endpoints_type(tmp_path, capsys) -> None:
    from trialkit.cli import main

    _typed_wide().to_csv(tmp_path / "trial.csv", index=False)
    assert main(["validate", str(write_spec(tmp_path, _typed_spec()))]) == 0
    out = capsys.readouterr().out
    assert "  isi: continuous (primary)\n" in out
    assert "  response: binary, success = 'good'\n" in out and "  remission: binary, success = 1\n" in out
    assert "  seizures: count, time at risk from column 'years'\n" in out
    assert "No baseline visit" not in out


def test_validate_says_what_runs_without_a_baseline_visit(tmp_path, capsys) -> None:
    from trialkit.cli import main

    wide = _typed_wide()
    spec = _typed_spec(mmrm={}, missing_data={})
    spec["visits"] = {"order": ["baseline", "week8"], "primary": "week8"}  # "baseline" is a follow-up visit here
    wide.to_csv(tmp_path / "trial.csv", index=False)
    assert main(["validate", str(write_spec(tmp_path, spec))]) == 0
    out = capsys.readouterr().out
    assert "No baseline visit (`visits.baseline`): analyses of follow-up values only." in out
    lines = out.splitlines()
    isi = lines.index(next(line for line in lines if line.startswith("  isi: runs ")))
    assert "ANCOVA of the follow-up values on arm + age, sex, centre" in lines[isi]
    assert "van Elteren over the strata" in lines[isi]
    assert lines[isi + 1].split() == [
        "skipped:",
        "change",
        "from",
        "baseline,",
        "responders,",
        "MMRM",
        "with",
        "baseline,",
        "multiple",
        "imputation",
    ]
    response = next(line for line in lines if line.startswith("  response: runs "))
    assert "logistic regression on arm + age, sex, centre" in response and "CMH over the strata" in response
    assert any(line.startswith("  seizures: runs negative binomial, Poisson and quasi-Poisson") for line in lines)
