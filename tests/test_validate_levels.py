"""Declared levels of categorical covariates: a value outside them is a problem, in every format and layout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, small_wide, to_long, write_frame, write_spec

import trialkit as tk
from trialkit.cli import main


def _wide() -> pd.DataFrame:
    """Return the small trial with sex written as words (``female``/``male``)."""
    wide = small_wide().astype({"sex": object})
    wide["sex"] = wide["sex"].map({"F": "female", "M": "male"})
    return wide


def _spec(name: str = "trial.csv", *, levels: list[str] | None = None, long: bool = False) -> dict:
    spec = base_spec(data={"path": name})
    if long:
        spec["data"] = {**LONG_DATA, "path": name}
    spec["covariates"] = {"sex": {"label": "Sex", "levels": ["female", "male"] if levels is None else levels}}
    return spec


def _problems(folder: Path, frame: pd.DataFrame, spec: dict, name: str) -> tk.ValidationError:
    before = write_frame(frame, folder / name).read_bytes()
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(folder, spec))
    assert (folder / name).read_bytes() == before  # inputs are never modified
    return info.value


@pytest.mark.parametrize(("name", "row"), [("trial.csv", 5), ("trial.xlsx", 5), ("trial.parquet", 4)])
def test_a_value_outside_the_declared_levels_is_named_with_the_closest(tmp_path, name, row) -> None:
    wide = _wide()
    wide.loc[3, "sex"] = "femle"
    table = _problems(tmp_path, wide, _spec(name), name).table
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["unknown_level", row, "S004", "sex", "femle"]
    ]
    assert table["file"].item() == str(tmp_path / name)
    message = table["message"].item()
    assert "(did you mean 'female'?)" in message and "`covariates.sex.levels`" in message


def test_a_level_in_other_letters_is_a_problem_saying_only_the_case_differs(tmp_path) -> None:
    wide = _wide()
    wide.loc[6, "sex"] = "Female"
    table = _problems(tmp_path, wide, _spec(), "trial.csv").table
    assert table[["rule", "row", "value"]].values.tolist() == [["unknown_level", 8, "Female"]]
    assert "differs from 'female' only in letter case" in table["message"].item()


def test_a_long_file_gives_one_problem_per_subject_not_per_row(tmp_path) -> None:
    long = to_long(_wide())
    long.loc[long["subject_id"] == "S002", "sex"] = "mael"
    long.loc[long["subject_id"] == "S009", "sex"] = "other"
    table = _problems(tmp_path, long, _spec(long=True), "trial.csv").table
    assert table[["rule", "row", "subject", "value"]].values.tolist() == [
        ["unknown_level", 6, "S002", "mael"],  # the subject's first line (4 rows per subject after the header)
        ["unknown_level", 34, "S009", "other"],
    ]
    assert "did you mean 'male'" in table["message"].iloc[0]
    assert "did you mean" not in table["message"].iloc[1]


def test_missing_values_and_declared_levels_load(tmp_path) -> None:
    wide = _wide()
    wide.loc[0, "sex"] = "NA"
    wide.loc[1, "sex"] = ""
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, _spec()))
    assert trial.subjects["sex"].isna().sum() == 2
    assert set(trial.subjects["sex"].dropna()) == {"female", "male"}
    assert trial.warnings == ()


def test_a_level_with_blanks_around_it_is_the_level_and_a_warning(tmp_path) -> None:
    wide = _wide()
    wide.loc[2, "sex"] = f" {wide.loc[2, 'sex']} "
    write_frame(wide, tmp_path / "trial.xlsx")
    trial = tk.load(write_spec(tmp_path, _spec("trial.xlsx")))
    assert trial.subjects["sex"].tolist() == _wide()["sex"].tolist()
    (warning,) = trial.warnings
    assert (warning.rule, warning.row, warning.subject, warning.column) == ("surrounding_blanks", 4, "S003", "sex")
    assert warning.value == wide.loc[2, "sex"]


def test_without_declared_levels_values_differing_only_in_case_are_a_problem(tmp_path) -> None:
    wide = _wide()
    wide.loc[4, "sex"] = wide.loc[4, "sex"].capitalize()
    first = wide["sex"].tolist().index(wide.loc[4, "sex"].lower())
    spec = base_spec()  # `sex` is categorical, without `[covariates.sex] levels`
    table = _problems(tmp_path, wide, spec, "trial.csv").table
    assert table[["rule", "row", "column"]].values.tolist() == [["case_variant", first + 2, "sex"]]
    assert set(table["value"].item().split(", ")) == {wide.loc[4, "sex"], wide.loc[4, "sex"].lower()}
    assert f"trial.csv rows {first + 2} and 6" in table["message"].item()


def test_a_stratum_is_checked_against_its_levels(tmp_path) -> None:
    wide = _wide()
    wide["centre"] = ["north", "south"] * 5
    wide.loc[5, "centre"] = "nort"
    spec = _spec()
    spec["analysis"]["strata"] = ["centre"]
    spec["covariates"]["centre"] = {"levels": ["north", "south"]}
    table = _problems(tmp_path, wide, spec, "trial.csv").table
    assert table[["rule", "subject", "column", "value"]].values.tolist() == [
        ["unknown_level", "S006", "centre", "nort"]
    ]


def test_the_cli_exits_2_and_writes_the_problem_row(tmp_path, capsys) -> None:
    wide = _wide()
    wide.loc[3, "sex"] = "femle"
    write_frame(wide, tmp_path / "trial.csv")
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, _spec())), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "1 problem found" in err and "[unknown_level]" in err and "did you mean 'female'" in err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "subject", "column", "value"]].values.tolist() == [
        ["unknown_level", 5, "S004", "sex", "femle"]
    ]
