"""No silent normalisation of identifiers and labels: blanks around them are warnings, other letter case a problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, to_long, write_frame, write_spec

import trialkit as tk
from trialkit._io import _files
from trialkit.cli import main


def _load(folder: Path, frame: pd.DataFrame, spec: dict, name: str = "trial.csv") -> tk.Trial:
    before = write_frame(frame, folder / name).read_bytes()
    trial = tk.load(write_spec(folder, spec))
    assert (folder / name).read_bytes() == before  # inputs are never modified
    return trial


def _problems(folder: Path, frame: pd.DataFrame, spec: dict, name: str = "trial.csv") -> tk.ValidationError:
    write_frame(frame, folder / name)
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(folder, spec))
    return info.value


def _place(w: tk.Problem) -> list:
    return [w.rule.value, w.row, w.subject, w.column, w.value]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tk.Trial:
    folder = tmp_path_factory.mktemp("clean")
    write_frame(small_wide(), folder / "trial.csv")
    return tk.load(write_spec(folder, base_spec()))


# --- blanks around a value: read without them, and said -----------------------------------------


@pytest.mark.parametrize(("name", "row"), [("trial.csv", 8), ("trial.xlsx", 8), ("trial.parquet", 7)])
def test_an_arm_with_a_trailing_blank_is_the_arm_and_a_warning(tmp_path, clean, name, row) -> None:
    wide = small_wide()
    wide.loc[6, "arm"] = "placebo "
    trial = _load(tmp_path, wide, base_spec(data={"path": name}), name)
    pd.testing.assert_frame_equal(trial.data, clean.data, check_exact=True)
    (warning,) = trial.warnings
    assert _place(warning) == ["surrounding_blanks", row, "S007", "arm", "placebo "]
    assert warning.file == str(tmp_path / name)
    assert "'placebo ' is written with blanks around it and read as 'placebo'" in warning.message


def test_one_warning_per_column_counts_its_entries(tmp_path, clean) -> None:
    wide = small_wide()
    wide["subject_id"] = [f" {s}" if k % 3 == 0 else s for k, s in enumerate(wide["subject_id"])]
    wide.loc[[1, 2, 4], "arm"] = "active\t"
    trial = _load(tmp_path, wide, base_spec())
    pd.testing.assert_frame_equal(trial.data, clean.data, check_exact=True)
    assert [_place(w) for w in trial.warnings] == [
        ["surrounding_blanks", 2, "S001", "subject_id", " S001"],
        ["surrounding_blanks", 3, "S002", "arm", "active\t"],
    ]
    assert "4 entries of the column are (rows 2, 5, 8 and 11)" in trial.warnings[0].message
    assert "3 entries of the column are (rows 3, 4 and 6)" in trial.warnings[1].message


def test_both_csv_readers_give_the_same_warnings(tmp_path, monkeypatch) -> None:
    long = to_long(small_wide())
    long.loc[[3, 17], "visit"] = " week8"
    long.loc[9, "endpoint"] = "isi\u00a0"  # a no-break space is a blank too
    write_frame(long, tmp_path / "trial.csv")
    spec = write_spec(tmp_path, {**base_spec(), "data": LONG_DATA})
    fast = tk.load(spec)
    with monkeypatch.context() as patch:
        patch.setattr(_files, "_read_csv_arrow", lambda *args, **kwargs: None)
        line_true = tk.load(spec)
    assert fast.warnings == line_true.warnings
    assert [_place(w) for w in fast.warnings] == [
        ["surrounding_blanks", 5, "S001", "visit", " week8"],
        ["surrounding_blanks", 11, "S003", "endpoint", "isi\u00a0"],
    ]


def test_a_blank_cell_is_missing_not_a_warning(tmp_path) -> None:
    wide = small_wide()
    wide.loc[3, "sex"] = "  "
    trial = _load(tmp_path, wide, base_spec())
    assert trial.warnings == () and np.isnan(trial.subjects.loc[3, "sex"])


def test_warnings_travel_with_the_problems(tmp_path) -> None:
    wide = small_wide()
    wide.loc[0, "arm"] = " active"
    wide.loc[1, "isi_week8"] = 40.0
    error = _problems(tmp_path, wide, base_spec())
    assert [p.rule.value for p in error.problems] == ["out_of_range"]
    assert [_place(w) for w in error.warnings] == [["surrounding_blanks", 2, "S001", "arm", " active"]]
    assert "1 problem found:" in str(error) and "and 1 warning:" in str(error)


# --- letter case: never folded ---------------------------------------------------------------------


def test_an_arm_in_other_letters_is_not_the_declared_arm(tmp_path) -> None:
    wide = small_wide()
    wide.loc[6, "arm"] = "Placebo"
    table = _problems(tmp_path, wide, base_spec()).table
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["unknown_arm", 8, "S007", "arm", "Placebo"]
    ]
    assert "it differs from 'placebo' only in letter case" in table["message"].item()


def test_a_declared_arm_held_only_in_other_letters_is_named_as_such(tmp_path) -> None:
    wide = small_wide()
    wide.loc[wide["arm"] == "placebo", "arm"] = "Placebo"
    table = _problems(tmp_path, wide, base_spec()).table
    assert sorted(set(table["rule"])) == ["arm_absent", "unknown_arm"]
    absent = table.loc[table["rule"] == "arm_absent", "message"].item()
    assert "the data hold 'Placebo', which differs from it only in letter case" in absent


def test_undeclared_arms_in_other_letters_are_a_case_variant(tmp_path) -> None:
    wide = small_wide()
    wide.loc[8, "arm"] = "Active"
    spec = base_spec()
    del spec["arms"]["levels"]  # the arms are read from the data
    table = _problems(tmp_path, wide, spec).table
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["case_variant", 2, "S001", "arm", "active, Active"]
    ]


@pytest.mark.parametrize("name", ["trial.csv", "trial.xlsx"])
def test_subject_ids_differing_only_in_case_are_a_problem(tmp_path, name) -> None:
    wide = small_wide()
    wide.loc[5, "subject_id"] = "s001"  # S001 is the first subject
    table = _problems(tmp_path, wide, base_spec(data={"path": name}), name).table
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["case_variant", 2, "S001", "subject_id", "S001, s001"]
    ]
    assert f"{name} rows 2 and 7" in table["message"].item()


def test_a_visit_in_other_letters_is_not_the_declared_visit(tmp_path) -> None:
    long = to_long(small_wide())
    long.loc[5, "visit"] = "Week8"
    table = _problems(tmp_path, long, {**base_spec(), "data": LONG_DATA}).table
    assert table[["rule", "row", "column", "value"]].values.tolist() == [["unknown_visit", 7, "visit", "Week8"]]
    assert "it differs from 'week8' only in letter case" in table["message"].item()


# --- a binary endpoint's labels ------------------------------------------------------------------


def _binary(values: list[str]) -> tuple[pd.DataFrame, dict]:
    wide = small_wide()
    wide["response_baseline"] = "no"
    wide["response_week8"] = values
    spec = base_spec()
    spec["endpoints"] = [*spec["endpoints"], {"id": "response", "type": "binary", "success": "yes"}]
    return wide, spec


def test_the_success_value_in_other_letters_is_a_problem_never_the_non_event(tmp_path) -> None:
    # "Yes" is the most frequent value besides "yes": before, it silently became the non-event
    wide, spec = _binary(["yes", "Yes", "Yes", "Yes", "no", "yes", "Yes", "no", "yes", "Yes"])
    table = _problems(tmp_path, wide, spec).table
    assert set(table["rule"]) == {"not_binary"}
    assert table["value"].tolist() == ["Yes"] * 5 and table["row"].tolist() == [3, 4, 5, 8, 11]
    assert (
        "differs from the success value 'yes' of binary endpoint 'response' only in letter case"
        in (table["message"].iloc[0])
    )


def test_a_binary_label_with_blanks_is_read_as_the_label_and_said(tmp_path) -> None:
    wide, spec = _binary(["yes", "no ", "yes", "no", "yes", "no", "yes", "no", "yes", "no"])
    trial = _load(tmp_path, wide, spec)
    week8 = trial.data.query("endpoint == 'response' and visit == 'week8'")["value"].tolist()
    assert week8 == [1.0, 0.0] * 5
    assert [_place(w) for w in trial.warnings] == [["surrounding_blanks", 3, "S002", "response_week8", "no "]]


def test_a_binary_label_in_a_long_file_warns_only_on_its_rows(tmp_path) -> None:
    wide, spec = _binary(["yes", " no", "yes", "no", "yes", "no", "yes", "no", "yes", "no"])
    rows = [
        {**first, "visit": v, "endpoint": "response", "value": wide.loc[k, f"response_{v}"]}
        for k, first in enumerate(to_long(wide).drop_duplicates("subject_id").to_dict("records"))
        for v in ("baseline", "week8")
    ]
    long = pd.concat([to_long(wide).astype({"value": object}), pd.DataFrame(rows)], ignore_index=True)
    long["value"] = [f" {v:g}" if isinstance(v, float) and not np.isnan(v) else v for v in long["value"]]
    spec["data"] = LONG_DATA
    trial = _load(tmp_path, long, spec)
    (warning,) = trial.warnings  # the numbers written " 12" are numbers, not labels
    assert _place(warning) == ["surrounding_blanks", 45, "S002", "value", " no"]  # after 40 lines of isi, sleep_time


# --- ADaM's baseline flag ------------------------------------------------------------------------


def test_a_lowercase_adam_baseline_flag_is_read_as_y_and_said(tmp_path, clean) -> None:
    adam = clean.to_adam()
    adam["TRTP"] = adam["TRTP"].astype(str)
    adam.loc[adam.index[adam["ABLFL"] == "Y"][:3], "ABLFL"] = "y"
    spec = base_spec(data={"format": "adam", "path": "adam.parquet"})
    spec["analysis"] = {}
    del spec["data"]["pattern"]
    spec["arms"] = {"control": "placebo", "levels": ["placebo", "active"], "column": "TRTP"}
    spec["endpoints"] = [{**e, "code": e["id"].upper()} for e in spec["endpoints"]]
    spec["data"]["subject"] = "USUBJID"
    trial = _load(tmp_path, adam, spec, "adam.parquet")
    pd.testing.assert_frame_equal(trial.data, clean.data, check_exact=True)
    (warning,) = trial.warnings
    first = int(np.flatnonzero(adam["ABLFL"] == "y")[0]) + 1
    assert _place(warning) == ["flag_case", first, adam["USUBJID"].iloc[first - 1], "ABLFL", "y"]
    assert "3 records" in warning.message


# --- the command line ----------------------------------------------------------------------------


def test_the_cli_prints_warnings_and_writes_an_empty_problem_table(tmp_path, capsys) -> None:
    wide = small_wide()
    wide.loc[6, "arm"] = "placebo "
    write_frame(wide, tmp_path / "trial.csv")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, base_spec())), "--problems", str(problems)]) == 0
    captured = capsys.readouterr()
    assert "valid — 10 subjects" in captured.out
    assert "warning [surrounding_blanks]" in captured.err and "row 8" in captured.err
    assert pd.read_csv(problems).empty


def test_the_cli_exits_2_on_a_case_variant_and_writes_its_row(tmp_path, capsys) -> None:
    wide = small_wide()
    wide.loc[5, "subject_id"] = "s001"
    wide.loc[6, "arm"] = " placebo"
    write_frame(wide, tmp_path / "trial.csv")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, base_spec())), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "1 problem found" in err and "and 1 warning:" in err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "subject", "column"]].values.tolist() == [["case_variant", 2, "S001", "subject_id"]]
