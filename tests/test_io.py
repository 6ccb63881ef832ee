"""Loaders: every layout and file format, read from real files, gives the same tidy trial."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import base_spec, small_wide, to_long, write_frame, write_spec

import trialkit as tk

FORMATS = (".csv", ".xlsx", ".parquet", ".sav", ".xpt")
FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def _long_spec(path: str) -> dict:
    spec = base_spec()
    spec["data"] = {
        "format": "long",
        "subject": "subject_id",
        "path": path,
        "visit": "visit",
        "endpoint": "endpoint",
        "value": "value",
    }
    return spec


def _per_arm_spec(suffix: str) -> dict:
    spec = base_spec()
    spec["arms"] = {"control": "placebo"}
    spec["data"] = {
        "format": "wide",
        "subject": "subject_id",
        "pattern": "{endpoint}_{visit}",
        "files": {"placebo": f"placebo{suffix}", "active": f"active{suffix}"},
    }
    return spec


def _write_layout(folder: Path, layout: str, suffix: str) -> Path:
    wide = small_wide()
    if layout == "wide":
        write_frame(wide, folder / f"trial{suffix}")
        return write_spec(folder, base_spec(data={"path": f"trial{suffix}"}))
    if layout == "long":
        write_frame(to_long(wide), folder / f"trial{suffix}")
        return write_spec(folder, _long_spec(f"trial{suffix}"))
    for arm in ("active", "placebo"):
        part = wide.loc[wide["arm"] == arm].drop(columns="arm")
        write_frame(part, folder / f"{arm}{suffix}")
    return write_spec(folder, _per_arm_spec(suffix))


@pytest.fixture(scope="module")
def reference_trial(tmp_path_factory) -> tk.Trial:
    return tk.load(_write_layout(tmp_path_factory.mktemp("ref"), "wide", ".csv"))


def test_wide_csv_loads_values_exactly(small_trial_dir: Path) -> None:
    trial = tk.load(small_trial_dir)
    wide = small_wide()
    assert list(trial.data.columns) == ["subject", "arm", "visit", "endpoint", "value", "visit_index"]
    assert len(trial.data) == 10 * 2 * 2
    got = trial.data.set_index(["subject", "endpoint", "visit"])["value"]
    for _, r in wide.iterrows():
        for e in ("isi", "sleep_time"):
            for v in ("baseline", "week8"):
                expected = r[f"{e}_{v}"]
                value = got[(r["subject_id"], e, v)]
                assert (np.isnan(expected) and np.isnan(value)) or value == expected
    assert trial.arms == ("placebo", "active")
    assert trial.subjects["arm"].value_counts().to_dict() == {"active": 5, "placebo": 5}
    assert trial.subjects.loc[trial.subjects["subject"] == "S001", "age"].item() == wide.loc[0, "age"]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("layout", ["wide", "long", "per_arm"])
def test_every_layout_and_format_gives_the_same_tidy_frame(tmp_path, reference_trial, layout, suffix) -> None:
    trial = tk.load(_write_layout(tmp_path, layout, suffix))
    pd.testing.assert_frame_equal(trial.data, reference_trial.data, check_exact=True)
    pd.testing.assert_frame_equal(trial.subjects, reference_trial.subjects, check_exact=True)


def _fixture_spec(tmp_path: Path, data: dict, arms: dict, covariates: tuple[str, str] = ("age", "sex")) -> Path:
    spec = base_spec(
        visits={"baseline": "baseline", "order": ["baseline", "week4", "week8"], "primary": "week8"},
    )
    spec["arms"], spec["data"] = arms, data
    spec["analysis"] = {"covariates": list(covariates), "categorical": [covariates[1]]}
    spec["endpoints"] = [
        {"id": "isi", "code": "ISI", "range": [0, 28], "integer": True, "better": "lower", "primary": True},
        {"id": "sleep_time", "code": "SLEEPTM", "unit": "min", "range": [0, 1440]},
        {"id": "melatonin", "code": "MELATON", "unit": "pg/mL", "scale": "log"},
    ]
    return write_spec(tmp_path, spec)


@pytest.mark.parametrize("name", ["adam_bds.csv", "adam_bds.sas7bdat", "adam_bds.xpt"])
def test_adam_bds_written_by_r_haven_loads_like_the_wide_csv(tmp_path, name) -> None:
    wide_spec = _fixture_spec(
        tmp_path,
        {
            "format": "wide",
            "subject": "subject_id",
            "path": str(FIXTURES / "trial_wide.csv"),
            "pattern": "{endpoint}_{visit}",
        },
        {"column": "arm", "control": "placebo", "levels": ["placebo", "active"]},
    )
    expected = tk.load(wide_spec)
    adam_dir = tmp_path / "adam"
    adam_dir.mkdir()
    adam_spec = _fixture_spec(
        adam_dir,
        {"format": "adam", "path": str(FIXTURES / name)},
        {"control": "placebo", "levels": ["placebo", "active"]},
        ("AGE", "SEX"),
    )
    trial = tk.load(adam_spec)
    pd.testing.assert_frame_equal(trial.data, expected.data, check_exact=True)
    assert trial.subjects["AGE"].tolist() == expected.subjects["age"].tolist()
    assert trial.subjects["SEX"].tolist() == expected.subjects["sex"].tolist()


def test_wide_sas7bdat_written_by_r_haven_matches_its_csv_twin(tmp_path) -> None:
    arms = {"column": "arm", "control": "placebo", "levels": ["placebo", "active"]}
    data = {"format": "wide", "subject": "subject_id", "pattern": "{endpoint}_{visit}"}
    a = _fixture_spec(tmp_path, {**data, "path": str(FIXTURES / "trial_wide.csv")}, arms)
    folder = tmp_path / "sas"
    folder.mkdir()
    b = _fixture_spec(folder, {**data, "path": str(FIXTURES / "trial_wide.sas7bdat")}, arms)
    ta, tb = tk.load(a), tk.load(b)
    pd.testing.assert_frame_equal(ta.data, tb.data, check_exact=True)
    pd.testing.assert_frame_equal(ta.subjects, tb.subjects, check_exact=True)
    empty_cells = (FIXTURES / "trial_wide.csv").read_text().count(",,") + sum(
        line.endswith(",") for line in (FIXTURES / "trial_wide.csv").read_text().splitlines()
    )
    assert ta.data["value"].isna().sum() == empty_cells > 0


def test_adam_flagged_record_is_the_baseline_and_unflagged_baseline_visits_are_not_analysed(tmp_path) -> None:
    long = to_long(small_wide()).rename(
        columns={"subject_id": "USUBJID", "arm": "TRTP", "visit": "AVISIT", "endpoint": "PARAMCD", "value": "AVAL"}
    )
    long["ABLFL"] = np.where(long["AVISIT"] == "baseline", "Y", "")
    screening = long.loc[long["AVISIT"] == "baseline"].assign(ABLFL="", AVAL=99.0)
    extra = long.loc[long["PARAMCD"] == "isi"].assign(PARAMCD="WEIGHT", AVAL=70.0)
    write_frame(pd.concat([long, screening, extra]), tmp_path / "adeff.xpt")
    spec = base_spec(arms={"column": "TRTP"})
    spec["analysis"] = {}
    spec["data"] = {"format": "adam", "path": "adeff.xpt"}
    trial = tk.load(write_spec(tmp_path, spec))
    assert 99.0 not in trial.data["value"].to_numpy()
    assert set(trial.data["endpoint"].astype(str)) == {"isi", "sleep_time"}


@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_or_without_bom_loads(tmp_path, bom) -> None:
    text = small_wide().to_csv(index=False)
    (tmp_path / "trial.csv").write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    trial = tk.load(write_spec(tmp_path, base_spec()))
    assert trial.data["subject"].iloc[0] == "S001"


def test_semicolon_delimiter_and_decimal_comma(tmp_path, reference_trial) -> None:
    small_wide().to_csv(tmp_path / "trial.csv", index=False, sep=";", decimal=",")
    trial = tk.load(write_spec(tmp_path, base_spec(data={"delimiter": ";", "decimal": ","})))
    pd.testing.assert_frame_equal(trial.data, reference_trial.data, check_exact=True)


def test_identifiers_stay_text(tmp_path) -> None:
    wide = small_wide()
    wide["subject_id"] = [f"{i:03d}" for i in range(1, 11)]
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    assert trial.subjects["subject"].tolist()[:2] == ["001", "002"]


def test_categorical_covariate_stays_text_as_written(tmp_path) -> None:
    wide = small_wide()
    wide["sex"] = np.where(wide["sex"] == "M", "01", "02")  # "01" is a code, not the number 1
    write_frame(wide, tmp_path / "trial.csv")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    assert set(trial.subjects["sex"]) == {"01", "02"}


def test_rows_are_lines_after_a_value_spanning_lines(tmp_path) -> None:
    wide = small_wide()
    wide["note"] = ""
    wide.loc[1, "note"] = "first line\nsecond line"  # quoted by the writer; the file gains a line
    wide.loc[6, "isi_week8"] = 29.0
    write_frame(wide, tmp_path / "trial.csv")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems[["rule", "row", "subject"]].values.tolist() == [["out_of_range", 9, "S007"]]


@pytest.mark.parametrize("line", ["S011,active", "S011,active,70,M,12,10,300,310,extra"])
def test_a_short_or_long_line_makes_the_file_unreadable_naming_the_line(tmp_path, line) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines.insert(4, line)
    (tmp_path / "trial.csv").write_text("\n".join(lines) + "\n")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems["rule"].tolist() == ["unreadable_file"]
    assert "line 5 has" in problems["message"].item()


def test_blank_lines_and_lines_of_missing_codes_only_are_dropped(tmp_path, small_trial_dir) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines[3:3] = ["", ",,,,,,,", "NA,NA,NA,NA,NA,NA,NA,NA"]
    (tmp_path / "trial.csv").write_text("\n".join(lines) + "\n")
    trial = tk.load(write_spec(tmp_path, base_spec()))
    pd.testing.assert_frame_equal(trial.data, tk.load(small_trial_dir).data, check_exact=True)


def test_a_missing_code_padded_with_blanks_is_missing(tmp_path) -> None:
    text = small_wide().to_csv(index=False).replace(",18.0,", ", -99 ,", 1)
    assert " -99 " in text
    (tmp_path / "trial.csv").write_text(text)
    trial = tk.load(write_spec(tmp_path, base_spec(data={"missing": ["", "-99"]})))
    assert trial.data["value"].isna().sum() == 3


@pytest.mark.parametrize("text", ["0x1A", "0X10", "1_000", "nan", "Infinity", "1e400"])
def test_text_a_parser_could_take_for_a_number_is_not_one(tmp_path, text) -> None:
    long = to_long(small_wide()).astype({"value": object})
    long.loc[5, "value"] = text
    write_frame(long, tmp_path / "trial.csv")
    problems = _problems(write_spec(tmp_path, _long_spec("trial.csv")))
    assert problems[["rule", "row", "value"]].values.tolist() == [["non_numeric", 7, text]]


def test_inputs_are_not_modified_and_hashed(small_trial_dir: Path) -> None:
    data = small_trial_dir.parent / "trial.csv"
    before = (data.read_bytes(), data.stat().st_mtime_ns, small_trial_dir.read_bytes())
    trial = tk.load(small_trial_dir)
    assert before == (data.read_bytes(), data.stat().st_mtime_ns, small_trial_dir.read_bytes())
    assert [i.sha256 for i in trial.inputs] == [
        hashlib.sha256(small_trial_dir.read_bytes()).hexdigest(),
        hashlib.sha256(before[0]).hexdigest(),
    ]


def _problems(spec_path: Path) -> pd.DataFrame:
    with pytest.raises(tk.ValidationError) as info:
        tk.load(spec_path)
    return info.value.table


@pytest.mark.parametrize("suffix", [".pkl", ".pickle"])
def test_pickles_are_refused_and_never_unpickled(tmp_path, monkeypatch, suffix) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pd, "read_pickle", boom)
    small_wide().to_pickle(tmp_path / f"trial{suffix}")
    problems = _problems(write_spec(tmp_path, base_spec(data={"path": f"trial{suffix}"})))
    assert problems["rule"].tolist() == ["unsupported_format"]
    assert "never read" in problems["message"].item()


def test_pickle_disguised_as_csv_is_refused(tmp_path) -> None:
    (tmp_path / "trial.csv").write_bytes(pickle.dumps(small_wide(), protocol=4))
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems["rule"].tolist() == ["unsupported_format"]
    assert "pickle" in problems["message"].item()


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("trial.json", b"{}", "unsupported_format"),
        ("trial.csv", b"", "empty_file"),
        (
            "trial.csv",
            b"subject_id,arm,age,sex,isi_baseline,isi_week8,sleep_time_baseline,sleep_time_week8\n",
            "empty_file",
        ),
        ("trial.xlsx", b"this is not a zip archive", "unreadable_file"),
        ("trial.parquet", b"PAR1 broken", "unreadable_file"),
        ("trial.sav", b"not spss", "unreadable_file"),
        ("trial.sas7bdat", b"\x00" * 64, "unreadable_file"),
    ],
)
def test_unusable_files_are_named_with_their_rule(tmp_path, name, content, rule) -> None:
    (tmp_path / name).write_bytes(content)
    problems = _problems(write_spec(tmp_path, base_spec(data={"path": name})))
    assert problems["rule"].tolist() == [rule]
    assert problems["file"].item().endswith(name)


def test_missing_file_is_named(tmp_path) -> None:
    problems = _problems(write_spec(tmp_path, base_spec(data={"path": "nowhere.csv"})))
    assert problems["rule"].tolist() == ["file_not_found"]


def test_misspelled_column_names_the_closest(tmp_path) -> None:
    write_frame(small_wide().rename(columns={"subject_id": "subjectid"}), tmp_path / "trial.csv")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems["rule"].tolist() == ["missing_column"]
    assert problems["column"].item() == "subject_id"
    assert "'subjectid'" in problems["message"].item()


def test_wrong_delimiter_gets_a_hint(tmp_path) -> None:
    small_wide().to_csv(tmp_path / "trial.csv", index=False, sep=";")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert set(problems["rule"]) == {"missing_column"}
    assert all('data.delimiter = ";"' in m for m in problems["message"])


def test_bom_read_with_plain_utf8_gets_a_hint(tmp_path) -> None:
    (tmp_path / "trial.csv").write_bytes(b"\xef\xbb\xbf" + small_wide().to_csv(index=False).encode())
    problems = _problems(write_spec(tmp_path, base_spec(data={"encoding": "utf-8"})))
    assert problems["rule"].tolist() == ["missing_column"]
    assert "byte-order mark" in problems["message"].item()


def test_pattern_matching_no_column_is_reported_per_endpoint(tmp_path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    problems = _problems(write_spec(tmp_path, base_spec(data={"pattern": "{visit}.{endpoint}"})))
    assert problems["rule"].tolist() == ["pattern_unmatched", "pattern_unmatched"]
    assert "'baseline.isi'" in problems["message"].iloc[0]


def test_wide_column_absent_for_one_visit_is_named(tmp_path) -> None:
    write_frame(small_wide().drop(columns="isi_week8"), tmp_path / "trial.csv")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems["rule"].tolist() == ["missing_column"]
    assert problems["column"].item() == "isi_week8"


def test_explicit_column_maps_read_a_wide_file(tmp_path, reference_trial) -> None:
    renamed = small_wide().rename(
        columns={"isi_baseline": "ISI0", "isi_week8": "ISI8", "sleep_time_baseline": "TST0", "sleep_time_week8": "TST8"}
    )
    write_frame(renamed, tmp_path / "trial.csv")
    spec = base_spec()
    del spec["data"]["pattern"]
    spec["data"]["columns"] = {
        "isi": {"baseline": "ISI0", "week8": "ISI8"},
        "sleep_time": {"baseline": "TST0", "week8": "TST8"},
    }
    trial = tk.load(write_spec(tmp_path, spec))
    pd.testing.assert_frame_equal(trial.data, reference_trial.data, check_exact=True)
