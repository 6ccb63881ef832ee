"""Labels for readers from the spec: arms, visits, covariates and their levels, the [study] description."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import base_spec

import trialkit as tk
from trialkit._labels import default_label, population_label, with_unit
from trialkit._spec import parse_spec


def _problems(raw: dict) -> dict[str, str]:
    with pytest.raises(tk.ValidationError) as info:
        parse_spec(raw, base=Path("."))
    return {p.column: p.message for p in info.value.problems}


def test_labels_come_from_the_spec_and_default_to_words() -> None:
    spec = parse_spec(
        base_spec(
            arms={"labels": {"active": "Magnesium 500 mg/day"}},
            visits={"labels": {"week8": "Week 8 (end of treatment)"}},
            covariates={
                "sex": {"label": "Sex", "levels": ["female", "male"], "level_labels": {"female": "Women"}},
                "age": {"unit": "years", "summary": "median"},
            },
        ),
        base=Path("."),
    )
    assert spec.arms.label("active") == "Magnesium 500 mg/day" and spec.arms.label("placebo") == "Placebo"
    assert spec.visits.label("week8") == "Week 8 (end of treatment)" and spec.visits.label("baseline") == "Baseline"
    sex, age = spec.covariate("sex"), spec.covariate("age")
    assert (
        sex.levels == ("female", "male") and sex.level_label("female") == "Women" and sex.level_label("male") == "Male"
    )
    assert (age.label, age.unit, age.summary, age.levels) == ("Age", "years", "median", None)
    assert spec.covariate("centre").label == "Centre"  # undeclared: the default words


def test_study_description_and_prespecification_are_read() -> None:
    spec = parse_spec(
        base_spec(
            study={
                "registration": "IRCT201109057479N1",
                "blinding": "Double-blind",
                "intervention": "500 mg/day",
                "duration": "8 weeks",
                "synthetic": True,
            },
            analysis={"covariates": ["age", "sex"], "categorical": ["sex"], "prespecified": True},
        ),
        base=Path("."),
    )
    st = spec.study
    assert (st.registration, st.blinding, st.intervention, st.duration, st.synthetic) == (
        "IRCT201109057479N1",
        "Double-blind",
        "500 mg/day",
        "8 weeks",
        True,
    )
    assert spec.analysis.prespecified
    plain = parse_spec(base_spec(), base=Path("."))
    assert not plain.study.synthetic and not plain.analysis.prespecified and plain.study.registration == ""


def test_log_scale_endpoints_are_summarised_by_geometric_means_unless_the_spec_says() -> None:
    eps = base_spec()["endpoints"]
    eps[1] = {**eps[1], "scale": "log"}
    eps.append({"id": "latency", "unit": "min", "summary": "median", "mcid": 10})
    spec = parse_spec(base_spec(endpoints=eps), base=Path("."))
    assert [e.table1_summary for e in spec.endpoints] == ["mean", "geometric", "median"]
    assert [e.mcid for e in spec.endpoints] == [None, None, 10.0]
    assert spec.endpoint("latency").label == "Latency"  # no label given: words from the id


def test_every_label_problem_is_named_at_once() -> None:
    problems = _problems(
        base_spec(
            arms={"labels": {"plaebo": "Placebo", "active": ""}},
            visits={"labels": {"week9": "Week 9"}},
            covariates={
                "sex": {"levels": ["female", "male"], "level_labels": {"mle": "Men"}},
                "age": {"levels": ["60"], "summary": "mode"},
                "bmi": {"label": "BMI"},
            },
            endpoints=[{**base_spec()["endpoints"][0], "summary": "average", "mcid": -6}],
        )
    )
    assert "did you mean 'placebo'" in problems["arms.labels.plaebo"]
    assert "non-blank" in problems["arms.labels.active"]
    assert "not a visit in `visits.order`" in problems["visits.labels.week9"]
    assert "did you mean 'male'" in problems["covariates.sex.level_labels.mle"]
    assert "add 'age' to `analysis.categorical`" in problems["covariates.age.levels"]
    assert "mode" in problems["covariates.age.summary"]
    assert "not in `analysis.covariates`" in problems["covariates.bmi"]
    assert "average" in problems["endpoints[0].summary"]
    assert "positive number" in problems["endpoints[0].mcid"]


def test_unknown_covariate_keys_and_repeated_levels_are_named() -> None:
    problems = _problems(base_spec(covariates={"sex": {"levles": ["female", "male"]}}))
    assert "levels" in problems["covariates.sex.levles"]
    problems = _problems(base_spec(covariates={"sex": {"levels": ["female", "female"]}}))
    assert "'female' twice" in problems["covariates.sex.levels"]
    problems = _problems(base_spec(covariates={"sex": {"levels": ["female ", "male"]}}))
    assert "holds 'female '; write it without leading or trailing blanks" in problems["covariates.sex.levels"]


@pytest.mark.parametrize(
    ("identifier", "words"),
    [("week8", "Week 8"), ("day_14", "Day 14"), ("fas", "Fas"), ("HbA1c", "HbA1c"), ("visit-2b", "Visit 2 b")],
)
def test_default_labels_are_words(identifier: str, words: str) -> None:
    assert default_label(identifier) == words


def test_units_are_never_doubled() -> None:
    assert with_unit("Sleep time (sleep log)", "min") == "Sleep time (sleep log), min"
    assert with_unit("Seizures", "seizures") == "Seizures"
    assert with_unit("Serum magnesium", "mmol/L") == "Serum magnesium (mmol/L)"
    assert population_label("fas") == "Full analysis set"


def test_simulated_specs_carry_the_design_labels_and_say_the_data_are_synthetic(tmp_path: Path) -> None:
    design = tk.read_design(tk.datasets.study_spec("abbasi2012").parent / "design.toml")
    sim = tk.simulate(design, seed=3)
    sim.to_files(tmp_path)
    spec = tk.read_spec(tmp_path / "study.toml")
    assert spec.study.synthetic and spec.study.registration == "IRCT201109057479N1"
    assert spec.arms.label("magnesium") == "Magnesium 500 mg/day" and spec.visits.label("week8") == "Week 8"
    assert spec.covariate("sex").levels == ("male", "female") and spec.covariate("sex").level_label("male") == "Male"
    assert spec.covariate("age").unit == "years"
