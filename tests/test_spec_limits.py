"""The texts of a spec and a design file are bounded and printable; columns are named once; simulate n is bounded."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._design import parse_design
from trialkit._input import check_input
from trialkit._limits import ID_CHARS, LABEL_CHARS, SIMULATE_SUBJECTS_PER_ARM, TEXT_CHARS
from trialkit._spec import parse_spec
from trialkit._toml import read_toml


def _spec_problems(spec: dict[str, Any], tmp_path: Path) -> list[tuple[str, str | None]]:
    try:
        parse_spec(spec, base=tmp_path, file="study.toml")
    except tk.ValidationError as exc:
        return [(p.rule.value, p.column) for p in exc.problems]
    return []


def _set(document: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``document`` with the dotted ``key`` (``endpoints[0].label``) set to ``value``."""
    out = copy.deepcopy(document)
    node: Any = out
    parts = key.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node.get(last), list):  # an array of ids: its first item
        node[last] = [value, *node[last][1:]]
    else:
        node[last] = value
    return out


def _spec() -> dict[str, Any]:
    spec = base_spec()
    spec["covariates"] = {"age": {"label": "Age", "unit": "years"}, "sex": {"level_labels": {"F": "Female"}}}
    spec["analysis"]["categorical"] = ["sex"]
    return spec


#: key -> its limit; the values written are made valid in every other way (a slug for an id)
SPEC_TEXTS = {
    "study.id": ID_CHARS,
    "study.title": TEXT_CHARS,
    "study.registration": TEXT_CHARS,
    "endpoints[1].id": ID_CHARS,
    "endpoints[0].label": LABEL_CHARS,
    "endpoints[0].unit": LABEL_CHARS,
    "arms.labels.placebo": LABEL_CHARS,
    "visits.labels.week8": LABEL_CHARS,
    "covariates.age.label": LABEL_CHARS,
    "covariates.age.unit": LABEL_CHARS,
    "covariates.sex.level_labels.F": LABEL_CHARS,
}


@pytest.mark.parametrize("key", SPEC_TEXTS)
def test_a_spec_text_at_its_limit_is_read_and_one_character_more_is_too_large(key: str, tmp_path: Path) -> None:
    limit = SPEC_TEXTS[key]
    assert _spec_problems(_set(_spec(), key, "a" * limit), tmp_path) == []
    assert _spec_problems(_set(_spec(), key, "a" * (limit + 1)), tmp_path) == [("too_large", key)]


def test_the_length_message_names_the_key_the_limit_and_the_length(tmp_path: Path) -> None:
    with pytest.raises(tk.ValidationError) as caught:
        parse_spec(_set(_spec(), "study.id", "s" * 300), base=tmp_path, file="study.toml")
    (problem,) = caught.value.problems
    assert problem.message.startswith(f"`study.id` is 300 characters long; an id holds at most {ID_CHARS} (ID_CHARS")
    assert problem.value is not None and len(problem.value) <= 61  # shown cut short


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("arms.levels", "arms.levels"),  # an arm id: each item of the array
        ("visits.order", "visits.order"),
    ],
)
def test_ids_in_arrays_are_bounded_too(key: str, where: str, tmp_path: Path) -> None:
    spec = _spec()
    long_id = "a" * (ID_CHARS + 1)
    spec["arms"]["control"] = long_id if key == "arms.levels" else "placebo"
    found = _spec_problems(_set(spec, key, long_id), tmp_path)
    assert ("too_large", where) in found


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x07", "\n", "\r", "\x7f", "\x85"])
@pytest.mark.parametrize(
    "key", ["study.title", "endpoints[0].label", "endpoints[0].unit", "arms.labels.placebo", "covariates.age.label"]
)
def test_a_control_character_in_a_spec_text_is_named_with_its_key(key: str, character: str, tmp_path: Path) -> None:
    found = _spec_problems(_set(_spec(), key, f"Sleep{character}time"), tmp_path)
    assert found == [("control_character", key)]


def test_a_tab_is_not_a_control_character_problem(tmp_path: Path) -> None:
    assert _spec_problems(_set(_spec(), "endpoints[0].label", "Sleep\ttime"), tmp_path) == []
    assert _spec_problems(_set(_spec(), "data.delimiter", "\t"), tmp_path) == []


def test_a_control_character_in_a_key_is_named_with_its_table(tmp_path: Path) -> None:
    spec = _spec()
    spec["covariates"]["sex"]["level_labels"] = {"F\x00": "Female"}
    found = _spec_problems(spec, tmp_path)
    assert ("control_character", "covariates.sex.level_labels") in found


def test_the_control_character_message_says_which_and_shows_it_escaped(tmp_path: Path) -> None:
    with pytest.raises(tk.ValidationError) as caught:
        parse_spec(_set(_spec(), "endpoints[0].label", "ISI\x00"), base=tmp_path, file="study.toml")
    (problem,) = caught.value.problems
    assert "U+0000" in problem.message and "\x00" not in problem.message and problem.value == "ISI\\x00"


def test_a_spec_file_with_a_nul_in_a_label_is_refused_before_the_report(tmp_path: Path) -> None:
    """A NUL reaches no report: the load stops with the key named (today the report's XML step crashed)."""
    write_frame(small_wide(), tmp_path / "trial.csv")
    path = write_spec(tmp_path, _set(_spec(), "arms.labels.placebo", "Placebo\x00"))
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(path)
    assert [(p.rule, p.column) for p in caught.value.problems] == [("control_character", "arms.labels.placebo")]


def test_a_300_character_study_id_names_study_id_through_the_cli(tmp_path: Path, capsys: Any) -> None:
    from trialkit.cli import main

    write_frame(small_wide(), tmp_path / "trial.csv")
    path = write_spec(tmp_path, _set(_spec(), "study.id", "s" * 300))
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "study.id" in captured.out + captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# -- the design file -------------------------------------------------------------------------------


def _design() -> dict[str, Any]:
    return read_toml(tk.datasets.study_spec("abbasi2012").with_name("design.toml"), "design file")


def _design_problems(design: dict[str, Any]) -> list[tuple[str, str | None]]:
    try:
        parse_design(design, file="design.toml")
    except tk.ValidationError as exc:
        return [(p.rule.value, p.column) for p in exc.problems]
    return []


DESIGN_TEXTS = {
    "study.id": ID_CHARS,
    "study.title": TEXT_CHARS,
    "endpoints[0].label": LABEL_CHARS,
    "endpoints[0].unit": LABEL_CHARS,
    "arms.placebo.label": LABEL_CHARS,
    "arms.placebo.prefix": ID_CHARS,
}


@pytest.mark.parametrize("key", DESIGN_TEXTS)
def test_a_design_text_at_its_limit_is_read_and_one_character_more_is_too_large(key: str) -> None:
    limit = DESIGN_TEXTS[key]
    assert _design_problems(_set(_design(), key, "A" * limit)) == []
    assert _design_problems(_set(_design(), key, "A" * (limit + 1))) == [("too_large", key)]


@pytest.mark.parametrize("key", ["study.title", "endpoints[0].label", "arms.placebo.label"])
def test_a_control_character_in_a_design_text_is_named_with_its_key(key: str) -> None:
    assert _design_problems(_set(_design(), key, "Pla\x1bcebo")) == [("control_character", key)]


@pytest.mark.parametrize("n", [SIMULATE_SUBJECTS_PER_ARM + 1, 2 * 10**9, 10**20])
def test_simulate_n_over_the_limit_is_a_design_problem_before_anything_is_drawn(n: int) -> None:
    design = _set(_design(), "arms.placebo.n", n)
    with pytest.raises(tk.ValidationError) as caught:
        parse_design(design, file="design.toml")
    (problem,) = caught.value.problems
    assert (problem.rule, problem.column) == ("too_large", "arms.placebo.n")
    assert f"{SIMULATE_SUBJECTS_PER_ARM:,}" in problem.message and f"{n:,}" in problem.message


def test_simulate_n_at_the_limit_is_accepted() -> None:
    design = parse_design(_set(_design(), "arms.placebo.n", SIMULATE_SUBJECTS_PER_ARM), file="design.toml")
    assert dict((a.id, a.n) for a in design.arms)["placebo"] == SIMULATE_SUBJECTS_PER_ARM


# -- columns named once --------------------------------------------------------------------------------

LONG = {"format": "long", "subject": "subject_id", "path": "t.csv", "visit": "visit", "endpoint": "endpoint"}


@pytest.mark.parametrize(
    ("covariate", "data", "words"),
    [
        ("arm", None, "the arm column (`arms.column`)"),
        ("subject_id", None, "the subject id column (`data.subject`)"),
        ("isi_baseline", None, "the column of endpoint 'isi' at visit 'baseline'"),
        ("visit", {**LONG, "value": "value"}, "the visit column (`data.visit`)"),
        ("endpoint", {**LONG, "value": "value"}, "the endpoint column (`data.endpoint`)"),
        ("value", {**LONG, "value": "value"}, "the value column (`data.value`)"),
    ],
)
def test_a_covariate_named_like_a_data_column_is_a_spec_problem_naming_both(
    covariate: str, data: dict[str, str] | None, words: str, tmp_path: Path
) -> None:
    spec = _spec()
    if data is not None:
        spec["data"] = data
    spec["analysis"] = {"covariates": ["age", covariate]}
    spec["covariates"] = {}
    with pytest.raises(tk.ValidationError) as caught:
        parse_spec(spec, base=tmp_path, file="study.toml")
    (problem,) = caught.value.problems
    assert (problem.rule, problem.column, problem.value) == ("invalid_value", "analysis.covariates", covariate)
    assert words in problem.message


def test_the_covariate_named_like_the_arm_column_no_longer_fails_the_load(tmp_path: Path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    spec = _spec()
    spec["analysis"] = {"covariates": ["age", "arm"]}
    spec["covariates"] = {}
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(write_spec(tmp_path, spec))
    assert [p.column for p in caught.value.problems] == ["analysis.covariates"]


def _mapped(columns: dict[str, dict[str, str]]) -> dict[str, Any]:
    spec = _spec()
    spec["data"] = {"format": "wide", "subject": "subject_id", "path": "trial.csv", "columns": columns}
    return spec


FULL_MAP = {
    "isi": {"baseline": "isi_baseline", "week8": "isi_week8"},
    "sleep_time": {"baseline": "sleep_time_baseline", "week8": "sleep_time_week8"},
}


def test_the_full_column_map_is_read(tmp_path: Path) -> None:
    assert _spec_problems(_mapped(FULL_MAP), tmp_path) == []


def test_an_endpoint_without_columns_in_the_map_is_named(tmp_path: Path) -> None:
    assert _spec_problems(_mapped({"isi": FULL_MAP["isi"]}), tmp_path) == [("missing_key", "data.columns.sleep_time")]


def test_an_endpoint_without_its_primary_visit_in_the_map_is_named(tmp_path: Path) -> None:
    partial = {**FULL_MAP, "sleep_time": {"baseline": "sleep_time_baseline"}}
    assert _spec_problems(_mapped(partial), tmp_path) == [("missing_key", "data.columns.sleep_time.week8")]


def test_two_pairs_mapped_to_one_column_are_a_spec_problem_naming_both(tmp_path: Path) -> None:
    shared = {**FULL_MAP, "sleep_time": {"baseline": "isi_baseline", "week8": "sleep_time_week8"}}
    with pytest.raises(tk.ValidationError) as caught:
        parse_spec(_mapped(shared), base=tmp_path, file="study.toml")
    (problem,) = caught.value.problems
    assert (problem.rule, problem.column, problem.value) == ("invalid_value", "data.columns", "isi_baseline")
    assert "`data.columns.isi.baseline` and `data.columns.sleep_time.baseline`" in problem.message


def test_a_pattern_that_gives_two_pairs_one_column_is_a_spec_problem(tmp_path: Path) -> None:
    spec = _spec()
    spec["endpoints"][1]["id"] = "isi_week"
    spec["visits"] = {"baseline": "baseline", "order": ["baseline", "week", "week_week"], "primary": "week_week"}
    found = _spec_problems(spec, tmp_path)
    assert found == [("invalid_value", "data.pattern")]


def test_the_load_of_an_unmapped_endpoint_stops_at_the_spec(tmp_path: Path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(write_spec(tmp_path, _mapped({"isi": FULL_MAP["isi"]})))
    assert [p.column for p in caught.value.problems] == ["data.columns.sleep_time"]


# -- the reference pages quote these messages word for word ---------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _messages(call: Any) -> list[str]:
    with pytest.raises(tk.ValidationError) as caught:
        call()
    return [p.message for p in caught.value.problems]


def test_docs_spec_quotes_the_messages_word_for_word(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")

    def parsed(spec: dict[str, Any]) -> Any:
        return lambda: parse_spec(spec, base=tmp_path, file="study.toml")

    pattern = _spec()
    pattern["endpoints"][1]["id"] = "isi_week"
    pattern["visits"] = {"baseline": "baseline", "order": ["baseline", "week", "week_week"], "primary": "week_week"}
    arm = _spec()
    arm["analysis"], arm["covariates"] = {"covariates": ["age", "arm"]}, {}
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    (tmp_path / "folder.toml").mkdir()
    quoted = [
        *_messages(parsed(_set(_spec(), "study.id", "s" * 300))),
        *_messages(parsed(_set(_spec(), "endpoints[0].label", "ISI\x00"))),
        *_messages(parsed(_mapped({"isi": FULL_MAP["isi"]}))),
        *_messages(parsed(_mapped({**FULL_MAP, "sleep_time": {"baseline": "sleep_time_baseline"}}))),
        *_messages(parsed(_mapped({**FULL_MAP, "sleep_time": {"baseline": "isi_baseline", "week8": "x"}}))),
        *_messages(parsed(pattern)),
        *_messages(parsed(arm)),
        *_messages(lambda: tk.read_spec(tmp_path / "folder.toml")),
        *_messages(lambda: tk.read_spec(Path("x" * 295 + ".toml"))),  # 300 characters, relative
    ]
    assert all(message in page for message in quoted), [m for m in quoted if m not in page]
    problem = check_input(fifo, "data file")
    assert problem is not None and problem.message in page


def test_docs_design_file_quotes_the_messages_word_for_word(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "design-file.md").read_text(encoding="utf-8")
    quoted = [
        *_messages(lambda: parse_design(_set(_design(), "endpoints[0].label", "x" * 201), file="d")),
        *_messages(lambda: parse_design(_set(_design(), "endpoints[0].label", "a\x1bb"), file="d")),
    ]
    big = _set(_design(), "arms.placebo.n", 2 * 10**9)
    quoted += [m.replace("arms.placebo.n", "arms.active.n") for m in _messages(lambda: parse_design(big, file="d"))]
    assert all(message in page for message in quoted), [m for m in quoted if m not in page]


# -- texts of the data that reports show: subject ids, arms read from the data, categories ------------


@pytest.mark.parametrize(
    ("column", "rule_column", "what"),
    [("arm", "arm", "arm"), ("subject_id", "subject_id", "subject id"), ("sex", "sex", "category")],
)
def test_a_control_character_in_a_data_identifier_is_a_problem_at_its_row(
    column: str, rule_column: str, what: str, tmp_path: Path
) -> None:
    frame = small_wide()
    frame[column] = frame[column].astype(object)
    frame.loc[3, column] = f"{frame.loc[3, column]}\x1b[31m"
    write_frame(frame, tmp_path / "trial.csv")
    spec = _spec()
    spec["arms"].pop("levels")  # arms read from the data: nothing else would stop an arm holding an escape
    with pytest.raises(tk.ValidationError) as caught:
        tk.load(write_spec(tmp_path, spec))
    found = [p for p in caught.value.problems if p.rule == "control_character"]
    assert [(p.column, p.row) for p in found] == [(rule_column, 5)]  # the header is row 1, frame row 3 is row 5
    assert found[0].message.startswith(f"the {what} '") and "U+001B (ESCAPE)" in found[0].message
    assert found[0].value is not None and "\x1b" not in found[0].value
