"""Reasons for discontinuing, carried from the data files through ``load`` into ``Trial.subjects``.

The column is ``[data] discontinuation_reason`` when the spec names it, else a column literally called
``discontinuation_reason`` when the files have one; a reason belongs to the subject.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import base_spec, small_wide, to_long, write_frame, write_spec
from consort_trials import reasons_trial

import trialkit as tk
from trialkit._report._flow import consort_counts, reasons_recorded
from trialkit._trial import DISCONTINUATION_REASON


def _wide_with_reasons() -> pd.DataFrame:
    wide = small_wide()
    wide["discontinuation_reason"] = ""
    wide.loc[2, "discontinuation_reason"] = "adverse event"  # S003 has no value at week 8
    wide.loc[6, "discontinuation_reason"] = "withdrew consent"
    return wide


def _rules(error: tk.ValidationError) -> list[tuple[str, str | None, str | None]]:
    return [(p.rule.value, p.column, p.subject) for p in error.problems]


def test_the_default_column_is_read_when_present(tmp_path: Path) -> None:
    write_frame(_wide_with_reasons(), tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    reasons = trial.subjects.set_index(trial.subjects["subject"].astype(str))[DISCONTINUATION_REASON]
    assert reasons.to_dict() == {
        **{f"S{i:03d}": "" for i in range(1, 11)},
        "S003": "adverse event",
        "S007": "withdrew consent",
    }
    # the column is the last of the subject frame; the covariates are untouched
    assert list(trial.subjects.columns) == ["subject", "arm", "age", "sex", DISCONTINUATION_REASON]


def test_without_the_column_the_subject_frame_has_none(tmp_path: Path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    assert DISCONTINUATION_REASON not in trial.subjects.columns


def test_a_column_the_spec_names_is_read_and_required(tmp_path: Path) -> None:
    trial = reasons_trial(tmp_path / "named", column="DCREAS")
    assert set(trial.subjects[DISCONTINUATION_REASON]) >= {"adverse event", "withdrew consent", ""}
    # named but absent: a missing column, named
    folder = tmp_path / "absent"
    folder.mkdir()
    write_frame(small_wide(), folder / "trial.csv")
    spec = base_spec(data={"discontinuation_reason": "DCREAS"})
    with pytest.raises(tk.ValidationError) as err:
        tk.load(write_spec(folder, spec))
    assert _rules(err.value) == [("missing_column", "DCREAS", None)]


def test_missing_codes_and_blanks_mean_not_discontinued(tmp_path: Path) -> None:
    wide = _wide_with_reasons()
    wide.loc[0, "discontinuation_reason"] = "NA"
    wide.loc[1, "discontinuation_reason"] = "   "
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    stated = trial.subjects.loc[trial.subjects[DISCONTINUATION_REASON] != "", DISCONTINUATION_REASON]
    assert sorted(stated) == ["adverse event", "withdrew consent"]


def test_a_reason_that_differs_between_a_subjects_rows_is_one_problem(tmp_path: Path) -> None:
    wide = _wide_with_reasons()
    long = to_long(wide.drop(columns="discontinuation_reason"))
    long["discontinuation_reason"] = long["subject_id"].map(
        dict(zip(wide["subject_id"], wide["discontinuation_reason"], strict=True))
    )
    first = long.index[long["subject_id"] == "S003"][0]
    long.loc[first, "discontinuation_reason"] = "lost to follow-up"
    write_frame(long, tmp_path / "trial.csv")
    spec = base_spec(
        data={"format": "long", "path": "trial.csv", "visit": "visit", "endpoint": "endpoint", "value": "value"}
    )
    spec["data"].pop("pattern")
    with pytest.raises(tk.ValidationError) as err:
        tk.load(write_spec(tmp_path, spec))
    assert _rules(err.value) == [("covariate_conflict", "discontinuation_reason", "S003")]
    message = err.value.problems[0].message
    assert "'lost to follow-up'" in message and "'adverse event'" in message and "belongs to the subject" in message


def test_the_default_column_in_some_files_only_is_a_problem(tmp_path: Path) -> None:
    wide = _wide_with_reasons()
    write_frame(wide.loc[wide["arm"] == "active"].drop(columns="arm"), tmp_path / "active.csv")
    write_frame(
        wide.loc[wide["arm"] == "placebo"].drop(columns=["arm", "discontinuation_reason"]), tmp_path / "placebo.csv"
    )
    spec = base_spec(
        arms={"control": "placebo", "levels": ["placebo", "active"]},
        data={
            "format": "wide",
            "subject": "subject_id",
            "pattern": "{endpoint}_{visit}",
            "files": {"active": "active.csv", "placebo": "placebo.csv"},
        },
    )
    spec["arms"].pop("column")
    spec["data"].pop("path")
    with pytest.raises(tk.ValidationError) as err:
        tk.load(write_spec(tmp_path, spec))
    assert _rules(err.value) == [("missing_column", "discontinuation_reason", None)]
    assert err.value.problems[0].file.endswith("placebo.csv")


def test_the_spec_key_must_name_a_column_of_its_own(tmp_path: Path) -> None:
    write_frame(_wide_with_reasons(), tmp_path / "trial.csv")
    for bad in ("age", "subject_id", " "):
        with pytest.raises(tk.ValidationError) as err:
            tk.load(write_spec(tmp_path, base_spec(data={"discontinuation_reason": bad})))
        assert [(p.rule.value, p.column) for p in err.value.problems] == [
            ("invalid_value", "data.discontinuation_reason")
        ]
    with pytest.raises(tk.ValidationError) as err:
        tk.load(write_spec(tmp_path, base_spec(data={"discontinuation_reason": 3})))
    assert err.value.problems[0].rule.value == "wrong_type"


def test_a_covariate_called_discontinuation_reason_stays_a_covariate(tmp_path: Path) -> None:
    wide = small_wide()
    wide["discontinuation_reason"] = ["a", "b"] * 5
    write_frame(wide, tmp_path / "trial.csv")
    spec = base_spec(
        analysis={"covariates": ["age", "discontinuation_reason"], "categorical": ["discontinuation_reason"]}
    )
    trial = tk.load(write_spec(tmp_path, spec))
    assert list(trial.subjects.columns) == ["subject", "arm", "age", "discontinuation_reason"]
    assert not reasons_recorded(trial)  # the diagram counts no covariate values as reasons
    assert all(c.discontinued == () for c in consort_counts(trial, "ancova"))


def test_the_input_frame_is_not_modified_and_loading_is_reproducible(tmp_path: Path) -> None:
    write_frame(_wide_with_reasons(), tmp_path / "trial.csv")
    path = write_spec(tmp_path, base_spec())
    before = (tmp_path / "trial.csv").read_bytes()
    a, b = tk.load(path), tk.load(path)
    pd.testing.assert_frame_equal(a.subjects, b.subjects)
    assert (tmp_path / "trial.csv").read_bytes() == before
