"""Spec problems and data problems reported together when the spec's problems do not touch the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import base_spec, small_wide, write_frame, write_spec

import trialkit as tk
from trialkit._io._spec_problems import blocks_reading
from trialkit.cli import main


def _broken_wide() -> pd.DataFrame:
    wide = small_wide()
    wide.loc[1, "isi_week8"] = 40.0  # out of the range [0, 28]
    return wide


def _table(folder: Path, spec: dict[str, Any]) -> pd.DataFrame:
    with pytest.raises(tk.ValidationError) as info:
        tk.load(write_spec(folder, spec))
    return info.value.table


def _with(spec: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """Return ``spec`` with the key at ``path`` (section, ..., key) set to ``value``."""
    table = spec
    for key in path[:-1]:
        table = table.setdefault(key, {}) if isinstance(key, str) else table[key]
    table[path[-1]] = value
    return spec


#: one spec problem in a descriptive key each: (key path in the spec dict, bad value, the problem's key)
DESCRIPTIVE = [
    (("study", "title"), 3, "study.title"),
    (("study", "id"), "not a slug", "study.id"),
    (("study", "registraton"), "IRCT", "study.registraton"),
    (("arms", "labels"), {"placbo": "Placebo"}, "arms.labels.placbo"),
    (("visits", "labels"), {"week8": ""}, "visits.labels.week8"),
    (("visits", "primary"), "week9", "visits.primary"),
    (("endpoints", 0, "label"), 5, "endpoints[0].label"),
    (("endpoints", 1, "summary"), "mode", "endpoints[1].summary"),
    (("endpoints", 0, "mcid"), -1, "endpoints[0].mcid"),
    (("endpoints", 0, "responder"), {"change": 6}, "endpoints[0].responder.change"),
    (("covariates", "sex"), {"levels": ["F", "M"], "level_labels": {"X": "Other"}}, "covariates.sex.level_labels.X"),
    (("covariates", "age"), {"unit": 1}, "covariates.age.unit"),
    (("analysis", "mmrm"), {"covariance": "unstructred"}, "analysis.mmrm.covariance"),
    (("analysis", "mmrm"), {"covarance": "us"}, "analysis.mmrm.covarance"),
    (("analysis", "multiplicity"), "holmes", "analysis.multiplicity"),
    (("analysis", "primary"), "mmrm", "analysis.mmrm"),
    (("analysis", "populations"), ["everyone"], "analysis.populations"),
    (("analysis", "missing_data"), {"reference": "nobody"}, "analysis.missing_data.reference"),
    (("analysis", "prespecified"), "yes", "analysis.prespecified"),
]


@pytest.mark.parametrize(("path", "value", "key"), DESCRIPTIVE, ids=[k for _, _, k in DESCRIPTIVE])
def test_a_descriptive_spec_problem_comes_with_the_data_problems(tmp_path, path, value, key) -> None:
    write_frame(_broken_wide(), tmp_path / "trial.csv")
    table = _table(tmp_path, _with(base_spec(), path, value))
    assert table["column"].iloc[0] == key and table["file"].iloc[0].endswith("study.toml")
    data = table.iloc[1:]
    assert data[["rule", "row", "subject", "column"]].values.tolist() == [["out_of_range", 3, "S002", "isi_week8"]]


@pytest.mark.parametrize("name", ["trial.csv", "trial.xlsx", "trial.parquet"])
def test_spec_and_data_problems_of_every_format_come_together(tmp_path, name) -> None:
    wide = _broken_wide()
    wide.loc[4, "arm"] = "activ"
    write_frame(wide, tmp_path / name)
    spec = base_spec(arms={"labels": {"placbo": "Placebo"}}, data={"path": name})
    spec["analysis"]["mmrm"] = {"df": "satterwaite"}
    table = _table(tmp_path, spec)
    assert table["rule"].tolist() == ["invalid_value", "invalid_value", "unknown_arm", "out_of_range"]
    assert table["column"].tolist()[:2] == ["arms.labels.placbo", "analysis.mmrm.df"]


def test_a_descriptive_spec_problem_alone_still_fails_the_load(tmp_path) -> None:
    write_frame(small_wide(), tmp_path / "trial.csv")
    table = _table(tmp_path, base_spec(arms={"labels": {"placbo": "Placebo"}}))
    assert table[["rule", "column"]].values.tolist() == [["invalid_value", "arms.labels.placbo"]]


#: spec problems that block reading: (key path, bad value, the problem's key)
BLOCKING = [
    (("data", "delimiter"), ";;", "data.delimiter"),
    (("data", "delimeter"), ";", "data.delimeter"),
    (("data", "missing"), [1], "data.missing"),
    (("arms", "control"), "placbo", "arms.control"),
    (("visits", "baseline"), "week8", "visits.baseline"),
    (("endpoints", 0, "range"), [28, 0], "endpoints[0].range"),
    (("endpoints", 0, "lable"), "ISI", "endpoints[0].lable"),
    (("analysis", "covarites"), ["age"], "analysis.covarites"),
    (("analysis", "categorical"), ["centre"], "analysis.categorical"),
    (("covariates", "sex"), {"levels": []}, "covariates.sex.levels"),
    (("anlysis",), {"covariates": ["age"]}, "anlysis"),
]


@pytest.mark.parametrize(("path", "value", "key"), BLOCKING, ids=[k for _, _, k in BLOCKING])
def test_a_spec_problem_that_touches_the_data_is_reported_alone(tmp_path, path, value, key) -> None:
    write_frame(_broken_wide(), tmp_path / "trial.csv")
    table = _table(tmp_path, _with(base_spec(), path, value))
    assert key in table["column"].tolist()
    assert (table["file"].str.endswith("study.toml")).all()  # the data were not read


def test_a_descriptive_problem_beside_a_blocking_one_reads_no_data(tmp_path) -> None:
    write_frame(_broken_wide(), tmp_path / "trial.csv")
    spec = base_spec(arms={"labels": {"placbo": "Placebo"}}, data={"delimiter": ";;"})
    table = _table(tmp_path, spec)
    assert sorted(table["column"]) == ["arms.labels.placbo", "data.delimiter"]


def test_the_keys_that_do_not_block_reading_are_exactly_the_documented_ones() -> None:
    def blocks(key: str) -> bool:
        return blocks_reading(tk.Problem(tk.Rule.INVALID_VALUE, "study.toml", "...", column=key))

    assert not any(blocks(k) for _, _, k in DESCRIPTIVE)
    assert all(blocks(k) for _, _, k in BLOCKING)
    assert blocks("endpoints") and blocks("endpoints[0].exposure") and blocks("covariates.sex")
    assert blocks_reading(tk.Problem(tk.Rule.SPEC_UNREADABLE, "study.toml", "not TOML"))
    docs = (Path(__file__).parents[1] / "docs" / "study-spec.md").read_text(encoding="utf-8")
    paragraph = docs[docs.index("**Spec problems and data problems together.**") :].split("\n\n")[0]
    for word in ("[study]", "arms.labels", "visits.labels", "visits.primary", "exposure_unit", "level_labels"):
        assert word in paragraph


def test_a_spec_that_is_not_toml_is_reported_alone(tmp_path) -> None:
    write_frame(_broken_wide(), tmp_path / "trial.csv")
    (tmp_path / "study.toml").write_text("[study\nid = 'x'\n", encoding="utf-8")
    with pytest.raises(tk.ValidationError) as info:
        tk.load(tmp_path / "study.toml")
    assert [p.rule.value for p in info.value.problems] == ["spec_unreadable"]


def test_the_cli_exits_2_and_writes_spec_and_data_rows_together(tmp_path, capsys) -> None:
    write_frame(_broken_wide(), tmp_path / "trial.csv")
    spec = base_spec(visits={"labels": {"week9": "Week 9"}})
    problems = tmp_path / "problems.csv"
    assert main(["validate", str(write_spec(tmp_path, spec)), "--problems", str(problems)]) == 2
    err = capsys.readouterr().err
    assert "2 problems found" in err and "all 2 problems written" in err
    table = pd.read_csv(problems, dtype={"row": "Int64"})
    assert table[["rule", "row", "column"]].astype(object).values.tolist() == [
        ["invalid_value", pd.NA, "visits.labels.week9"],
        ["out_of_range", 3, "isi_week8"],
    ]
