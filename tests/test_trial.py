"""Trial: baseline and change derivation, missing counts, ADaM export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk


def test_changes_are_follow_up_minus_baseline(small_trial_dir) -> None:
    trial = tk.load(small_trial_dir)
    wide = small_wide().set_index("subject_id")
    ch = trial.changes().set_index(["subject", "endpoint"])
    assert list(trial.changes().columns) == [
        "subject",
        "arm",
        "endpoint",
        "visit",
        "visit_index",
        "baseline",
        "value",
        "change",
    ]
    for subject, row in wide.iterrows():
        for e in ("isi", "sleep_time"):
            got = ch.loc[(subject, e)]
            assert got["baseline"] == row[f"{e}_baseline"]
            expected = row[f"{e}_week8"] - row[f"{e}_baseline"]
            assert (np.isnan(expected) and np.isnan(got["change"])) or got["change"] == expected


def test_changes_need_a_baseline_visit(tmp_path) -> None:
    spec = base_spec(visits={"order": ["baseline", "week8"], "primary": "week8"})
    del spec["visits"]["baseline"]
    write_frame(small_wide(), tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, spec))
    with pytest.raises(tk.TrialkitError, match="visits.baseline"):
        trial.changes()


def test_to_adam_uses_bds_names_and_derives_base_and_chg(small_trial_dir) -> None:
    trial = tk.load(small_trial_dir)
    adam = trial.to_adam()
    assert list(adam.columns) == [
        "USUBJID",
        "TRTP",
        "AVISIT",
        "AVISITN",
        "PARAMCD",
        "PARAM",
        "AVAL",
        "BASE",
        "CHG",
        "ABLFL",
    ]
    s1 = adam.loc[(adam["USUBJID"] == "S001") & (adam["PARAMCD"] == "ISI")].set_index("AVISIT")
    wide = small_wide().iloc[0]
    assert s1.loc["baseline", "ABLFL"] == "Y" and np.isnan(s1.loc["baseline", "CHG"])
    assert s1.loc["week8", "BASE"] == wide["isi_baseline"]
    assert s1.loc["week8", "CHG"] == wide["isi_week8"] - wide["isi_baseline"]
    assert s1.loc["week8", "PARAM"] == "ISI" and s1.loc["week8", "TRTP"] == "active"


def test_to_adam_round_trips_through_the_adam_loader(small_trial_dir, tmp_path) -> None:
    trial = tk.load(small_trial_dir)
    folder = tmp_path / "adam"
    folder.mkdir()
    adam = trial.to_adam().merge(trial.subjects.rename(columns={"subject": "USUBJID"})[["USUBJID", "age", "sex"]])
    write_frame(adam, folder / "adeff.parquet")
    spec = base_spec(arms={"column": "TRTP"})
    spec["data"] = {"format": "adam", "path": "adeff.parquet"}
    for e in spec["endpoints"]:
        e["code"] = e["id"].upper()
    again = tk.load(write_spec(folder, spec))
    pd.testing.assert_frame_equal(again.data, trial.data, check_exact=True)


def test_loading_does_not_depend_on_row_order(tmp_path, small_trial_dir) -> None:
    reference = tk.load(small_trial_dir)
    write_frame(small_wide().iloc[::-1], tmp_path / "shuffled.csv")
    trial = tk.load(write_spec(tmp_path, base_spec(data={"path": "shuffled.csv"}), name="s.toml"))
    pd.testing.assert_frame_equal(trial.data, reference.data, check_exact=True)
