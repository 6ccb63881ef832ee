"""Reproductions: the 2012 trial against its calibrated reconstruction, and Student's 1908 table end to end.

Student's table against R: tests/reference/student1908/ (student1908.R writes expected.csv). Tolerances:
p-values and t 1e-10 relative (closed forms on both sides); the r interval 1e-8 absolute (roots found
to 1e-14 here and 1e-13 by R's uniroot, of p-values both sides compute to about 1e-15).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import trialkit as tk
from trialkit.cli import main
from trialkit.reproduce import BY_CONSTRUCTION, REPRODUCTION_COLUMNS, Verdict, reproduce
from trialkit.reproduce.audit import AuditFlag, TableFlag

ROOT = Path(__file__).resolve().parents[2]
UNCALIBRATED = ROOT / "tests" / "reference" / "analyses" / "abbasi2012" / "study.toml"
STUDENT = ROOT / "tests" / "reference" / "student1908" / "expected.csv"


def _reproduce(spec: Path | None, *, calibrated: bool | None = None):
    return reproduce("abbasi2012", tk.load(spec) if spec is not None else None, calibrated=calibrated)


@pytest.fixture(scope="module")
def bundled():
    return reproduce(tk.datasets.published("abbasi2012"), tk.load(tk.datasets.study_spec("abbasi2012")))


def test_calibrated_reconstruction_reproduces_all_ten_outcomes(bundled) -> None:
    r = bundled
    t = r.table.set_index("outcome")
    assert tuple(r.table.columns) == REPRODUCTION_COLUMNS and len(t) == 10
    assert REPRODUCTION_COLUMNS[-1] == "data" and REPRODUCTION_COLUMNS[-3:-1] == ("verdict", "reason")
    assert (t["verdict"] == "reproduced").all(), t[["p_published", "p_recomputed", "reason"]]
    # no table is published: every verdict comes from the data, the table-level audit has nothing to say
    assert (t["verdict_table"] == Verdict.NOT_ASSESSABLE).all() and (t["verdict_data"] == t["verdict"]).all()
    # true by construction: the data were calibrated so that this test gives each published p
    assert r.calibrated and BY_CONSTRUCTION == "by construction: the data were calibrated to the published p; "
    assert t["reason"].str.startswith(BY_CONSTRUCTION).all(), t["reason"]
    assert t["reason"].str.contains("prints as the published").all()
    assert set(t["data"]) == {"calibrated reconstruction (synthetic)"}
    assert t.loc["serum_magnesium", "direction_recomputed"] == "decrease"
    assert t.loc["serum_magnesium", AuditFlag.COUNTER_INTUITIVE.column]
    assert t.loc["renin", "p_recomputed"] < 0.001
    # the side-by-side: ANCOVA on the same data is a different test, with its own p
    assert t["p_ancova"].notna().all() and (t["p_ancova"] != t["p_recomputed"]).any()


def test_group_sizes_come_from_the_data(bundled) -> None:
    """The bundled trial is 21 (magnesium) vs 22 (placebo) at week 8, not the 22 vs 21 an equal split assumes."""
    t = bundled.table
    assert set(t["n_treatment"]) == {21} and set(t["n_control"]) == {22} and set(t["n_source"]) == {"data"}
    assert bundled.audit.n_treatment == 21 and bundled.audit.n_control == 22
    assert "per-arm n counted in the individual-level data: magnesium 21, placebo 22." in bundled.assumptions
    assert _reproduce(None).audit.n_source == "equal_split_of_analysed"


def test_text_says_what_the_table_says(bundled) -> None:
    text = bundled.text
    assert text.startswith("Reproduction of abbasi2012 from ")
    assert "calibrated synthetic reconstruction" in text and "no independent confirmation" in text
    assert text.count("reproduced") >= 10 and "counter-intuitive direction" in text
    assert "magnesium 21, placebo 22" in text


def test_uncalibrated_data_are_not_reproducible_and_say_why() -> None:
    r = _reproduce(UNCALIBRATED)
    t = r.table.set_index("outcome")
    assert not r.calibrated  # no MANIFEST.json beside the spec
    bad = t.loc[t["verdict"] == "not_reproducible"]
    assert len(bad) >= 5
    assert bad["reason"].str.contains("does not print as").all()
    assert set(t["data"]) == {"individual data"} and not t["reason"].str.startswith("by construction").any()


def test_calibrated_flag_never_turns_a_mismatch_into_a_match() -> None:
    plain = _reproduce(UNCALIBRATED).table.set_index("outcome")
    flagged = _reproduce(UNCALIBRATED, calibrated=True).table.set_index("outcome")
    assert (plain["verdict"] == flagged["verdict"]).all()
    matched = flagged["verdict"] == "reproduced"
    assert flagged.loc[matched, "reason"].str.startswith(BY_CONSTRUCTION).all()
    assert not flagged.loc[~matched, "reason"].str.startswith("by construction").any()
    assert flagged.loc[~matched, "reason"].str.contains("calibrated to the published p").all()
    assert set(flagged["data"]) == {"calibrated reconstruction (synthetic)"}


def test_without_data_every_outcome_is_not_assessable() -> None:
    t = _reproduce(None).table
    assert set(t["verdict"]) == {"not_assessable"} and t["p_recomputed"].isna().all()
    assert set(t["data"]) == {"none"}
    # no data, nothing calibrated: the flag alone does not mark a verdict as by construction
    t = _reproduce(None, calibrated=True).table
    assert set(t["data"]) == {"none"} and not t["reason"].str.startswith("by construction").any()
    assert set(Verdict) >= set(t["verdict"])


def test_holm_and_bh_survival_over_the_ten_published_p_values() -> None:
    t = _reproduce(None).table.set_index("outcome")
    assert set(t.index[t["survives_holm"]]) == {"renin", "sleep_time", "isi", "melatonin", "cortisol"}
    assert set(t.index[t["survives_bh"]]) == {
        "renin",
        "sleep_time",
        "isi",
        "melatonin",
        "cortisol",
        "sleep_onset_latency",
        "sleep_efficiency",
    }


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda trial: reproduce("abbasi2012", results=tk.analyze(trial)), "`results` need the `trial`"),
        (lambda trial: reproduce("abbasi2012", trial, visit="week12"), "`visit` must be one of 'baseline', 'week8'"),
        (lambda trial: reproduce("abbasi2012", trial, recomputed_test="t_test"), "`recomputed_test` must be one of"),
        (lambda trial: reproduce("student1908", trial), "are not arms of the data"),
    ],
)
def test_bad_arguments_are_refused(call, says) -> None:
    with pytest.raises(tk.TrialkitError, match=says):
        call(tk.load(tk.datasets.study_spec("abbasi2012")))


# ---------------------------------------------------------------------------------------------
# Student's 1908 table, end to end through the command line


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> tuple[pd.Series, str, pd.Series]:
    out = tmp_path_factory.mktemp("student1908")
    assert main(["reproduce", "student1908", "--out", str(out)]) == 0
    row = pd.read_csv(out / "reproduction.csv").iloc[0]
    expected = pd.read_csv(STUDENT).set_index("quantity")["value"]
    return row, (out / "reproduction.txt").read_text(encoding="utf-8"), expected


def test_students_table_reproduces_the_printed_p_with_the_paired_t_of_r(student) -> None:
    row, _, want = student
    assert (row["outcome"], row["verdict"], row["verdict_table"]) == ("extra_sleep", "reproduced", "reproduced")
    assert (row["verdict_data"], row["data"]) == ("not_assessable", "none")  # the verdict comes from the table
    assert (row["table_on"], row["table_test"]) == ("paired", "paired")
    assert row["table_estimate"] == pytest.approx(1.58, rel=1e-15)
    assert row["table_p_value"] == pytest.approx(want["p_printed"], rel=1e-10)  # 0.00288: inside [0.0025, 0.0035)
    assert row["table_p_min"] == pytest.approx(want["p_min"], rel=1e-10)  # over the rounding of 1.58 and 1.17
    assert row["table_p_max"] == pytest.approx(want["p_max"], rel=1e-10)
    assert not any(row[f.column] for f in TableFlag)  # every check passes
    assert row["reason"].startswith("paired t on change (published change SDs): p = 0.002879")


def test_students_per_drug_rows_imply_the_within_patient_correlation(student) -> None:
    """The per-drug S.D.s give the printed p only for r in [0.777, 0.806]; the data's r is 0.795."""
    row, _, want = student
    assert row["r_low"] == pytest.approx(want["r_low"], abs=1e-8)
    assert row["r_high"] == pytest.approx(want["r_high"], abs=1e-8)
    assert (round(row["r_low"], 3), round(row["r_high"], 3)) == (0.777, 0.806)
    assert row["r_low"] < want["r_data"] < row["r_high"] and row["r_low"] < want["r_sds"] < row["r_high"]


def test_students_abstract_level_numbers_are_those_of_r(student) -> None:
    row, text, want = student
    assert (row["implied_test"], row["n_source"]) == ("paired", "crossover_all_subjects")
    assert row["implied_d"] == pytest.approx(want["d_implied"], rel=1e-8)
    assert row["implied_d_ci_low"] == pytest.approx(want["d_ci_low"], rel=1e-8)
    assert text.startswith("Reproduction of student1908 from ") and "individual-level data: none" in text
    assert "extra_sleep: reproduced" in text and "table paired p 0.002752 to 0.003012, for r in [0.777, 0.806]" in text
