"""Dropout by visit: the design key ``dropout_by_visit``, its checks, and the missing values it draws.

Shares are checked at n = 20,000 per arm within 4 binomial standard errors, sqrt(p (1 - p) / n)
(a two-sided 4-SE band holds with probability 0.99994 under the model).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import trialkit as tk
from trialkit._errors import Rule
from trialkit._simulate import parse_design, simulate
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._model import trial_model

N_LARGE = 20_000
SE_BAND = 4.0
VISITS = ("baseline", "week4", "week8", "week12")
BY_VISIT = {"a": {"week4": 0.05, "week8": 0.12, "week12": 0.2}, "b": {"week8": 0.1}}
#: the cumulative probabilities per visit the design above means (an unnamed visit keeps the one before)
EXPECTED = {"a": (0.0, 0.05, 0.12, 0.2), "b": (0.0, 0.0, 0.1, 0.1)}


def _design(n: int = 8) -> dict[str, Any]:
    per_visit = {v: 10.0 for v in VISITS}
    return {
        "study": {"id": "drop"},
        "arms": {
            "control": "b",
            "a": {"n": n, "dropout_by_visit": dict(BY_VISIT["a"])},
            "b": {"n": n, "dropout_by_visit": dict(BY_VISIT["b"])},
        },
        "visits": {"order": list(VISITS), "baseline": "baseline"},
        "endpoints": [
            {
                "id": "score",
                "primary": True,
                "correlation": 0.5,
                "mean": {"a": {**per_visit, "week12": 8.0}, "b": per_visit},
                "sd": {"a": {v: 3.0 for v in VISITS}, "b": {v: 3.0 for v in VISITS}},
            },
            {
                "id": "event",
                "type": "binary",
                "correlation": 0.3,
                "probability": {"a": {v: 0.4 for v in VISITS}, "b": {v: 0.3 for v in VISITS}},
            },
        ],
    }


def _problems(raw: dict[str, Any]) -> dict[tuple[Rule, str], str]:
    with pytest.raises(tk.ValidationError) as info:
        parse_design(raw, file="bad.toml")
    return {(p.rule, p.column): p.message for p in info.value.problems}


def test_a_good_design_reads_the_cumulative_probabilities_per_visit() -> None:
    design = parse_design(_design(), file="drop.toml")
    assert {a.id: a.dropout_by_visit for a in design.arms} == EXPECTED
    assert all(a.dropout == 0 for a in design.arms)


def test_without_the_key_an_arm_has_no_dropout_by_visit() -> None:
    raw = _design()
    del raw["arms"]["b"]["dropout_by_visit"]
    design = parse_design(raw, file="drop.toml")
    assert [a.dropout_by_visit for a in design.arms] == [EXPECTED["a"], ()]


@pytest.fixture(scope="module")
def large() -> tk.Simulation:
    return simulate(parse_design(_design(N_LARGE), file="drop.toml"), 20261201)


@pytest.mark.parametrize("arm", ["a", "b"])
def test_the_share_missing_at_each_visit_is_its_probability(large, arm) -> None:
    frame = large.frames[arm]
    for endpoint in ("score", "event"):
        for visit, p in zip(VISITS, EXPECTED[arm], strict=True):
            share = frame[f"{endpoint}_{visit}"].isna().mean()
            assert abs(share - p) <= SE_BAND * math.sqrt(p * (1 - p) / N_LARGE), (endpoint, visit, share, p)


@pytest.mark.parametrize("arm", ["a", "b"])
def test_missing_values_are_monotone_and_shared_by_the_endpoints(large, arm) -> None:
    frame = large.frames[arm]
    missing = frame[[f"score_{v}" for v in VISITS]].isna().to_numpy()
    assert not missing[:, 0].any()
    assert (missing[:, 1:] >= missing[:, :-1]).all()  # once missing, missing at every later visit
    np.testing.assert_array_equal(missing, frame[[f"event_{v}" for v in VISITS]].isna().to_numpy())


def test_the_same_seed_gives_the_same_bytes() -> None:
    design = parse_design(_design(40), file="drop.toml")
    assert simulate(design, 3).contents() == simulate(design, 3).contents()


def test_the_power_simulation_draws_the_same_shares() -> None:
    model = trial_model(parse_design(_design(), file="drop.toml"))
    assert model.arms == ("b", "a")
    batch = draw_batch(model, model.endpoints[0], (N_LARGE, N_LARGE), 2, np.random.default_rng(5))
    for j, arm in enumerate(model.arms):
        observed = batch.observed[:, batch.arm == j, :]
        assert (observed[..., 1:] <= observed[..., :-1]).all()
        for v, p in enumerate(EXPECTED[arm]):
            share = 1.0 - observed[..., v].mean()  # 2 x N_LARGE subjects
            assert abs(share - p) <= SE_BAND * math.sqrt(p * (1 - p) / (2 * N_LARGE)), (arm, v, share, p)


def test_power_simulate_runs_end_to_end_with_dropout_by_visit() -> None:
    design = parse_design(_design(), file="drop.toml")
    result = tk.power.simulate(design, [50], trials=2000, scheduler="serial", endpoints=["score"])
    row = result.table.iloc[0]
    assert row["failed"] == 0
    assert 0.3 < row["power"] < 1.0  # an effect of 2 at week12 with sd 3, 50 per arm, some lost


BAD = [
    ({"a": {"week4": 1.0}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"), "must be a probability in [0, 1)"),
    ({"a": {"week4": -0.1}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"), "got -0.1."),
    ({"a": {"week4": "0.1"}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"), "got '0.1'."),
    ({"a": {"week4": True}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"), "got True."),
    ({"a": {"week4": math.nan}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"), "got nan."),
    ({"a": {"wek8": 0.1}}, (Rule.UNKNOWN_KEY, "arms.a.dropout_by_visit.wek8"), "did you mean 'week8'"),
    ({"a": {"baseline": 0.0}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.baseline"), "name only later visits"),
    (
        {"a": {"week4": 0.3, "week12": 0.1}},
        (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week12"),
        "`arms.a.dropout_by_visit.week12` = 0.1 is below `arms.a.dropout_by_visit.week4` = 0.3: the "
        "probability of having left by a visit cannot decrease along `visits.order`.",
    ),
    ({"a": {}}, (Rule.INVALID_VALUE, "arms.a.dropout_by_visit"), "must name at least one visit after the first"),
    ({"a": 0.1}, (Rule.WRONG_TYPE, "arms.a.dropout_by_visit"), "dropout_by_visit"),
]


@pytest.mark.parametrize(("value", "where", "text"), BAD, ids=[w[1] + ": " + t for _, w, t in BAD])
def test_a_bad_value_is_refused_naming_its_key(value: dict[str, Any], where: tuple[Rule, str], text: str) -> None:
    raw = _design()
    raw["arms"]["a"]["dropout_by_visit"] = value["a"]
    got = _problems(raw)
    assert set(got) == {where}
    assert text in got[where]


def test_every_problem_is_reported_at_once() -> None:
    raw = _design()
    raw["arms"]["a"]["dropout_by_visit"] = {"week4": 1.5, "wek8": 0.1}
    raw["arms"]["b"]["dropout_by_visit"] = {"week8": 0.3, "week12": 0.2}
    raw["arms"]["b"]["dropout_by_vist"] = {}
    got = _problems(raw)
    assert set(got) == {
        (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4"),
        (Rule.UNKNOWN_KEY, "arms.a.dropout_by_visit.wek8"),
        (Rule.INVALID_VALUE, "arms.b.dropout_by_visit.week12"),
        (Rule.UNKNOWN_KEY, "arms.b.dropout_by_vist"),
    }
    assert "did you mean 'dropout_by_visit'" in got[(Rule.UNKNOWN_KEY, "arms.b.dropout_by_vist")]


def test_dropout_and_dropout_by_visit_together_are_refused_naming_both() -> None:
    raw = _design()
    raw["arms"]["a"]["dropout"] = 1
    raw["arms"]["a"]["dropout_by_visit"]["week4"] = 2.0
    got = _problems(raw)
    assert got[(Rule.INVALID_VALUE, "arms.a.dropout_by_visit")] == (
        "`arms.a.dropout` and `arms.a.dropout_by_visit` cannot both be given: give the subjects lost after "
        "the first visit (`dropout`) or the probability of having left by each visit (`dropout_by_visit`)."
    )
    assert (Rule.INVALID_VALUE, "arms.a.dropout_by_visit.week4") in got  # the values are still checked


def test_a_design_with_one_visit_has_none_to_miss() -> None:
    raw = copy.deepcopy(_design())
    raw["visits"] = {"order": ["week4"]}
    raw["arms"]["b"].pop("dropout_by_visit")
    for ep in raw["endpoints"]:
        for key in ("mean", "sd", "probability"):
            if key in ep:
                ep[key] = {arm: {"week4": values["week4"]} for arm, values in ep[key].items()}
        ep.pop("correlation")
    got = _problems(raw)
    assert got == {
        (Rule.INVALID_VALUE, "arms.a.dropout_by_visit"): (
            "`arms.a.dropout_by_visit` needs a visit after the first one to miss."
        )
    }


def test_an_arm_with_dropout_beside_one_with_dropout_by_visit_keeps_its_share_in_the_power_model() -> None:
    raw = _design(20)
    raw["arms"]["b"] = {"n": 20, "dropout": 5}
    model = trial_model(parse_design(raw, file="drop.toml"))
    assert model.dropout_by_visit is not None
    np.testing.assert_allclose(model.dropout_by_visit, [[0.0, 0.25, 0.25, 0.25], EXPECTED["a"]])
