"""Loaders: every layout and file format, read from real files, gives the same tidy trial."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LONG_DATA, base_spec, formats_fixture_spec, small_wide, to_long, write_frame, write_spec

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
    return write_spec(tmp_path, formats_fixture_spec(data, arms, covariates))


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
def test_a_short_or_long_line_is_a_ragged_row_naming_the_line(tmp_path, line) -> None:
    lines = small_wide().to_csv(index=False).splitlines()
    lines.insert(4, line)
    (tmp_path / "trial.csv").write_text("\n".join(lines) + "\n")
    problems = _problems(write_spec(tmp_path, base_spec()))
    assert problems[["rule", "row", "subject", "value"]].values.tolist() == [["ragged_row", 5, "S011", line]]
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


# ------------------------------------------------------------------ binary text endpoints, counts, no baseline


def _binary_wide() -> pd.DataFrame:
    wide = small_wide()
    wide["response_baseline"] = ["good", "poor"] * 5
    wide["response_week8"] = ["good", "good", "NA", "poor", "good", "poor", "poor", "good", "poor", "good"]
    wide["seizures_baseline"] = [3.0, 1, 5, 2, 1, 4, 6, 2, 3, 1]
    wide["seizures_week8"] = [1.0, 0, 2, 2, 0, np.nan, 5, 2, 3, 1]
    wide["years"] = [1.0, 0.5, 1.0, 1.0, 0.75, 1.0, 1.0, 1.0, 0.25, 1.0]
    return wide


def _binary_spec(data: dict) -> dict:
    spec = base_spec()
    spec["endpoints"] += [
        {"id": "response", "type": "binary", "success": "good"},
        {"id": "seizures", "type": "count", "exposure_column": "years", "exposure_unit": "years"},
    ]
    spec["data"] = data
    return spec


def _binary_long(wide: pd.DataFrame, numbers_as_text: bool) -> pd.DataFrame:
    """One row per subject, visit and endpoint; the value column holds numbers and the binary texts."""
    rows = []
    for _, r in wide.iterrows():
        for e in ("isi", "sleep_time", "response", "seizures"):
            for v in ("baseline", "week8"):
                value = r[f"{e}_{v}"]
                if isinstance(value, float) and np.isnan(value):
                    value = ""
                elif numbers_as_text:
                    value = f"{value:g}" if not isinstance(value, str) else value
                rows.append(
                    {
                        "subject_id": r["subject_id"],
                        "arm": r["arm"],
                        "age": r["age"],
                        "sex": r["sex"],
                        "years": r["years"],
                        "visit": v,
                        "endpoint": e,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def binary_reference(tmp_path_factory) -> tk.Trial:
    folder = tmp_path_factory.mktemp("binary")
    write_frame(_binary_wide(), folder / "trial.csv")
    data = {"format": "wide", "subject": "subject_id", "path": "trial.csv", "pattern": "{endpoint}_{visit}"}
    return tk.load(write_spec(folder, _binary_spec(data)))


def test_a_binary_text_endpoint_is_one_for_success_and_zero_for_the_other(binary_reference) -> None:
    data = binary_reference.data
    response = data.loc[data["endpoint"] == "response"].set_index(["subject", "visit"])["value"]
    expected = {"good": 1.0, "poor": 0.0, "NA": np.nan}
    wide = _binary_wide()
    for _, r in wide.iterrows():
        for v in ("baseline", "week8"):
            want, got = expected[r[f"response_{v}"]], response[(r["subject_id"], v)]
            assert (np.isnan(want) and np.isnan(got)) or got == want
    assert binary_reference.subjects["years"].tolist() == wide["years"].tolist()  # the exposure, per subject
    assert list(binary_reference.subjects.columns) == ["subject", "arm", "age", "sex", "years"]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_a_binary_text_endpoint_loads_alike_from_every_format(tmp_path, binary_reference, layout, suffix) -> None:
    wide = _binary_wide()
    if layout == "wide":
        write_frame(wide, tmp_path / f"trial{suffix}")
        data = {"format": "wide", "subject": "subject_id", "path": f"trial{suffix}", "pattern": "{endpoint}_{visit}"}
    else:
        # a spreadsheet keeps numbers as numbers beside the texts; the other formats need one type per column
        write_frame(_binary_long(wide, numbers_as_text=suffix != ".xlsx"), tmp_path / f"trial{suffix}")
        data = {
            "format": "long",
            "subject": "subject_id",
            "path": f"trial{suffix}",
            "visit": "visit",
            "endpoint": "endpoint",
            "value": "value",
        }
    before = (tmp_path / f"trial{suffix}").read_bytes()
    trial = tk.load(write_spec(tmp_path, _binary_spec(data)))
    assert (tmp_path / f"trial{suffix}").read_bytes() == before
    pd.testing.assert_frame_equal(trial.data, binary_reference.data, check_exact=True)
    pd.testing.assert_frame_equal(trial.subjects, binary_reference.subjects, check_exact=True)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_both_csv_readers_read_binary_text_alike(tmp_path, monkeypatch, layout) -> None:
    from trialkit._io import _files

    wide = _binary_wide().astype({"response_week8": object, "isi_week8": object})
    wide.loc[1, "response_week8"] = " fair "  # a third value, padded: named as read after stripping
    wide.loc[7, "isi_week8"] = "<5"
    frame = wide if layout == "wide" else _binary_long(wide, numbers_as_text=True)
    frame.to_csv(tmp_path / "trial.csv", index=False)
    if layout == "wide":
        data = {"format": "wide", "subject": "subject_id", "path": "trial.csv", "pattern": "{endpoint}_{visit}"}
    else:
        data = {**LONG_DATA}
    spec = write_spec(tmp_path, _binary_spec(data))
    fast = _problems(spec)
    monkeypatch.setattr(_files, "_read_csv_arrow", lambda *args, **kwargs: None)
    lines = _problems(spec)
    pd.testing.assert_frame_equal(fast, lines)
    assert sorted(fast["rule"]) == ["non_numeric", "not_binary"]
    assert fast.loc[fast["rule"] == "not_binary", "value"].item() == "fair"
    (tmp_path / "trial.csv").write_text(
        _binary_long(_binary_wide(), True).to_csv(index=False)
        if layout == "long"
        else _binary_wide().to_csv(index=False)
    )
    slow = tk.load(spec)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(slow.data, tk.load(spec).data, check_exact=True)


def test_a_binary_endpoint_of_numbers_takes_any_success_value(tmp_path) -> None:
    wide = small_wide()
    wide["event_baseline"] = [1.0, 2.0] * 5
    wide["event_week8"] = [2.0, 2.0, 1.0, np.nan, 1.0, 2.0, 1.0, 1.0, 2.0, 2.0]
    write_frame(wide, tmp_path / "trial.xlsx")
    spec = base_spec(data={"path": "trial.xlsx"})
    spec["endpoints"].append({"id": "event", "type": "binary", "success": 2})
    trial = tk.load(write_spec(tmp_path, spec))
    got = trial.data.loc[trial.data["endpoint"] == "event", "value"].to_numpy()
    want = np.ravel(np.column_stack([wide["event_baseline"], wide["event_week8"]]))
    np.testing.assert_array_equal(got, np.where(np.isnan(want), np.nan, (want == 2).astype(float)))


@pytest.mark.parametrize("covariates", [True, False])
@pytest.mark.parametrize("layout", ["wide", "long", "adam"])
def test_a_spec_without_a_baseline_visit_loads(tmp_path, layout, covariates) -> None:
    wide = small_wide()
    spec = base_spec(visits={"order": ["baseline", "week8"], "primary": "week8"})
    del spec["visits"]["baseline"]  # the first visit is a follow-up visit like the others
    del spec["endpoints"][0]["responder"]
    if not covariates:
        del spec["analysis"]
    if layout == "wide":
        write_frame(wide, tmp_path / "trial.csv")
    elif layout == "long":
        write_frame(to_long(wide), tmp_path / "trial.csv")
        spec = {**spec, "data": _long_spec("trial.csv")["data"]}
    else:
        long = to_long(wide)
        adam = pd.DataFrame(
            {
                "USUBJID": long["subject_id"],
                "TRTP": long["arm"],
                "AVISIT": long["visit"],
                "PARAMCD": long["endpoint"],
                "AVAL": long["value"],
                "age": long["age"],
                "sex": long["sex"],
            }
        )
        write_frame(adam, tmp_path / "trial.csv")
        spec["arms"] = {"control": "placebo", "levels": ["placebo", "active"]}
        spec["data"] = {"format": "adam", "path": "trial.csv"}
    trial = tk.load(write_spec(tmp_path, spec))
    assert trial.spec.visits.baseline is None
    assert trial.data.shape == (40, 6) and trial.data["value"].notna().sum() == 38
    assert list(trial.subjects.columns) == ["subject", "arm"] + (["age", "sex"] if covariates else [])


def test_a_binary_text_endpoint_in_an_adam_file(tmp_path, binary_reference) -> None:
    long = _binary_long(_binary_wide(), numbers_as_text=True)
    adam = pd.DataFrame(
        {
            "USUBJID": long["subject_id"],
            "TRTP": long["arm"],
            "AVISIT": long["visit"],
            "PARAMCD": long["endpoint"],
            "AVAL": long["value"],
            "ABLFL": np.where(long["visit"] == "baseline", "Y", ""),
            "age": long["age"],
            "sex": long["sex"],
            "years": long["years"],
        }
    )
    write_frame(adam, tmp_path / "adam.xpt")
    spec = _binary_spec({"format": "adam", "path": "adam.xpt"})
    spec["arms"] = {"control": "placebo", "levels": ["placebo", "active"]}
    trial = tk.load(write_spec(tmp_path, spec))
    pd.testing.assert_frame_equal(trial.data, binary_reference.data, check_exact=True)


def test_a_long_text_column_with_rare_entries_after_its_first_rows_is_encoded_entry_by_entry() -> None:
    # the sampled path of the encoder: entries the first 4,096 rows do not hold, but fewer than one in
    # ten, are encoded on their own and written into Arrow's codes (which came back read-only)
    import pyarrow as pa

    from trialkit._io._files import _encode

    entries = ["b", "a"] * 2_048 + ["a"] * 15_000 + ["rare"] * 100 + ["b"] * 900
    codes, table = _encode(pa.array(entries))
    assert [table[int(c)].as_py() for c in codes] == entries
