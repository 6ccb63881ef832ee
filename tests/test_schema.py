"""The shared TOML-schema checks (trialkit._schema) and the wording options each format keeps."""

from __future__ import annotations

import math

import pytest

from trialkit._errors import Rule, ValidationError
from trialkit._schema import (
    BOOL,
    INT,
    LIST,
    NUM,
    SLUG,
    STR,
    ProblemCollector,
    check_table,
    choice,
    interval,
    is_number,
    string_list,
    type_name,
)

SCHEMA = {"id": (STR, True), "n": (INT, False), "alpha": (NUM, False), "on": (BOOL, False), "tags": (LIST, False)}


def _problems(out: ProblemCollector) -> list[tuple[str, str | None, str, str | None]]:
    return [(p.rule.value, p.column, p.message, p.value) for p in out.problems]


def test_collector_records_file_key_and_value_as_text_and_raises_all_at_once() -> None:
    out = ProblemCollector("f.toml")
    out.raise_if_any()  # nothing collected: no error
    out.add(Rule.INVALID_VALUE, "a.b", "first.", 3)
    out.add(Rule.MISSING_KEY, "a.c", "second.")
    with pytest.raises(ValidationError) as info:
        out.raise_if_any()
    assert [(p.file, p.column, p.value) for p in info.value.problems] == [
        ("f.toml", "a.b", "3"),
        ("f.toml", "a.c", None),
    ]


def test_check_table_keeps_good_keys_and_reports_unknown_wrong_and_missing() -> None:
    out = ProblemCollector("f")
    good = check_table({"n": True, "alpha": 0.1, "tgas": ["x"], "on": False}, SCHEMA, "sec", out)
    assert good == {"alpha": 0.1, "on": False}
    assert _problems(out) == [
        ("wrong_type", "sec.n", "`sec.n` must be an integer; got True.", "True"),
        (
            "unknown_key",
            "sec.tgas",
            "unknown key `sec.tgas` (did you mean 'tags'?); valid keys: alpha, id, n, on, tags.",
            None,
        ),
        ("missing_key", "sec.id", "required key `sec.id` is missing.", None),
    ]


def test_check_table_top_level_paths_have_no_leading_dot() -> None:
    out = ProblemCollector("f")
    check_table({"zz": 1}, SCHEMA, "", out)
    assert [p.column for p in out.problems] == ["zz", "id"]


def test_check_table_wording_options() -> None:
    out = ProblemCollector("f")
    check_table([1], SCHEMA, "sec", out)
    check_table([1], SCHEMA, "sec", out, got_value=True)
    check_table({"id": "a", "x": 1}, SCHEMA, "sec", out, sort_keys=False)
    check_table({"id": 1}, SCHEMA, "sec", out, phrases={STR: "text"})
    assert [m for _, _, m, _ in _problems(out)] == [
        "`sec` must be a table; got list.",
        "`sec` must be a table; got [1].",
        "unknown key `sec.x`; valid keys: id, n, alpha, on, tags.",
        "`sec.id` must be text; got 1.",
    ]
    assert out.problems[0].value is None and out.problems[1].value == "[1]"


def test_type_name() -> None:
    assert type_name(NUM) == "a number"
    assert type_name((str, int)) == "a string or an integer"
    assert type_name((int, float, list), {(int, float, list): "a number or an array"}) == "a number or an array"


def test_choice_string_list_interval_and_slug() -> None:
    out = ProblemCollector("f")
    assert choice("holm", ("holm", "bh"), "k", out) == "holm"
    assert choice("hlom", ("holm", "bh"), "k", out) is None
    assert string_list(["a", "b"], "s", out) == ("a", "b")
    assert string_list(["a", 1], "s", out) is None
    assert string_list(["a", "b", "a"], "s", out) is None
    assert interval([0, math.inf], "r", out) == (0.0, math.inf)
    assert interval([0, math.inf], "r", out, finite=True, what="[low, high] with low < high") is None
    assert interval([2, 1], "r", out) is None
    assert [m for _, _, m, _ in _problems(out)] == [
        "`k` must be one of 'holm', 'bh'; got 'hlom' (did you mean 'holm'?).",
        "`s` must be an array of strings; got ['a', 1].",
        "`s` lists 'a' twice.",
        "`r` must be [low, high] with low < high; got [0, inf].",
        "`r` must be [low, high] numbers with low < high; got [2, 1].",
    ]
    assert not is_number(True) and not is_number(math.nan) and is_number(math.nan, finite=False)
    assert SLUG.match("abc_1-x") and not SLUG.match("1abc")
