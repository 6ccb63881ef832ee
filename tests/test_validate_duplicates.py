"""A duplicated subject is one problem naming the subject, the file and its rows: not one per column or visit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, to_long, write_frame, write_spec

import trialkit as tk
from trialkit.cli import main


def _table(folder: Path, frame: pd.DataFrame, spec: dict, name: str = "trial.csv") -> pd.DataFrame:
    before = write_frame(frame, folder / name).read_bytes()
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(folder, spec))
    assert (folder / name).read_bytes() == before
    return info.value.table


@pytest.mark.parametrize(
    ("name", "rows"), [("trial.csv", (3, 12)), ("trial.xlsx", (3, 12)), ("trial.parquet", (2, 11))]
)
def test_a_repeated_wide_row_is_one_duplicate_subject(tmp_path, name, rows) -> None:
    wide = small_wide()
    wide = pd.concat([wide, wide.iloc[[1]]], ignore_index=True)  # S002 again, as the last row
    table = _table(tmp_path, wide, base_spec(data={"path": name}), name)
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["duplicate_subject", rows[0], "S002", "subject_id", "S002"]
    ]
    assert table["file"].item() == str(tmp_path / name)
    assert f"{name} rows {rows[0]} and {rows[1]}" in table["message"].item()


def test_a_repeated_row_with_other_covariates_is_still_one_problem_saying_so(tmp_path) -> None:
    wide = small_wide()
    again = wide.iloc[[3]].assign(age=wide.loc[3, "age"] + 1, isi_week8=1.0)
    table = _table(tmp_path, pd.concat([wide, again], ignore_index=True), base_spec())
    assert table["rule"].tolist() == ["duplicate_subject"]
    message = table["message"].item()
    assert "rows 5 and 12" in message and "the rows differ in 'age'" in message


def test_each_duplicated_subject_is_one_problem(tmp_path) -> None:
    wide = small_wide()
    wide = pd.concat([wide, wide.iloc[[6, 0, 6]]], ignore_index=True)
    table = _table(tmp_path, wide, base_spec())
    assert table[["rule", "subject", "row"]].values.tolist() == [
        ["duplicate_subject", "S001", 2],
        ["duplicate_subject", "S007", 8],
    ]
    assert "is on 3 rows (trial.csv rows 8, 12 and 14)" in table["message"].iloc[1]


def test_the_bundled_trial_with_a_repeated_row_gives_one_problem(tmp_path, capsys) -> None:
    source = Path(str(tk.datasets.study_spec("abbasi2012"))).parent
    for name in ("study.toml", "magnesium.csv", "placebo.csv"):
        shutil.copy(source / name, tmp_path / name)
    lines = (tmp_path / "magnesium.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "magnesium.csv").write_text("\n".join([*lines, lines[2]]) + "\n", encoding="utf-8")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(tmp_path / "study.toml"), "--problems", str(problems)]) == 2
    assert "1 problem found" in capsys.readouterr().err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "subject", "column"]].values.tolist() == [
        ["duplicate_subject", 3, "MG-002", "subject_id"]
    ]
    assert f"magnesium.csv rows 3 and {len(lines) + 1}" in table["message"].item()


def test_a_long_subject_repeated_whole_is_one_duplicate_record(tmp_path) -> None:
    long = to_long(small_wide())
    again = long.loc[long["subject_id"] == "S003"]
    table = _table(tmp_path, pd.concat([long, again], ignore_index=True), {**base_spec(), "data": LONG_DATA})
    assert table[["rule", "row", "subject", "column"]].values.tolist() == [["duplicate_record", 10, "S003", "endpoint"]]
    message = table["message"].item()
    assert "for 4 endpoint and visit pairs" in message
    assert "'isi' at 'baseline' (trial.csv rows 10 and 42" in message


def test_a_long_file_with_two_baselines_of_a_subject_is_one_multiple_baseline(tmp_path) -> None:
    long = to_long(small_wide())
    extra = long.loc[(long["subject_id"] == "S005") & (long["visit"] == "baseline")].assign(value=15.0)
    table = _table(tmp_path, pd.concat([long, extra], ignore_index=True), {**base_spec(), "data": LONG_DATA})
    assert table[["rule", "subject", "row"]].values.tolist() == [["multiple_baseline", "S005", 18]]
    assert "for 2 endpoint and visit pairs" in table["message"].item()


def test_the_cli_exits_2_on_a_duplicated_subject_in_a_long_xlsx(tmp_path, capsys) -> None:
    long = to_long(small_wide())
    long = pd.concat([long, long.iloc[[5]]], ignore_index=True)
    write_frame(long, tmp_path / "trial.xlsx")
    spec = write_spec(tmp_path, {**base_spec(), "data": {**LONG_DATA, "path": "trial.xlsx"}})
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(spec), "--problems", str(problems)]) == 2
    assert "1 problem found" in capsys.readouterr().err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "subject"]].values.tolist() == [["duplicate_record", 7, "S002"]]
    assert f"trial.xlsx rows 7 and {len(long) + 1}" in table["message"].item()
