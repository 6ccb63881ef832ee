"""The ``"negative_binomial"`` power family against R, and its checks of bad input.

Reference: tests/reference/power_negative_binomial/ (Zhu & Lakkis 2014's power and sample-size
formulas written out in R, variance methods 1-3, unequal groups, exposure, one- and two-sided).
Tolerance: 1e-6 absolute on power (the project's contract for analytic power; the formula is a
closed form in double precision and agrees far closer, see docs/power-binary-counts.md); sample
sizes exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trialkit import TrialkitError
from trialkit.power._counts import NEGATIVE_BINOMIAL, VarianceMethod
from trialkit.power._family import Family

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "power_negative_binomial"
EXPECTED = pd.read_csv(REFERENCE / "expected.csv")
EXPECTED_N = pd.read_csv(REFERENCE / "expected_n.csv")
TOLERANCE = 1e-6


def _params(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "rate_control": row["rate_control"],
        "effect": row["rate_ratio"],
        "dispersion": row["dispersion"],
        "exposure": row["exposure"],
        "variance_method": int(row["variance_method"]),
    }


def _power(n_per_arm: tuple[int, ...], alpha: float = 0.05, sided: int = 2, **params: Any) -> float:
    return NEGATIVE_BINOMIAL.power(n_per_arm, NEGATIVE_BINOMIAL.check(params), alpha, sided)


def test_the_family_is_a_family_named_negative_binomial() -> None:
    assert isinstance(NEGATIVE_BINOMIAL, Family)
    assert NEGATIVE_BINOMIAL.name == "negative_binomial"
    assert NEGATIVE_BINOMIAL.parameters == (
        "rate_control",
        "effect",
        "dispersion",
        "exposure",
        "variance_method",
        "allocation",
    )


@pytest.mark.parametrize("row", EXPECTED.to_dict("records"), ids=list(EXPECTED["case"]))
def test_power_matches_r(row: dict[str, Any]) -> None:
    checked = NEGATIVE_BINOMIAL.check(_params(row))
    power = NEGATIVE_BINOMIAL.power(
        (int(row["n_control"]), int(row["n_arm"])), checked, row["alpha"], int(row["sided"])
    )
    assert power == pytest.approx(row["power"], abs=TOLERANCE, rel=0)


@pytest.mark.parametrize("row", EXPECTED_N.to_dict("records"), ids=list(EXPECTED_N["case"]))
def test_sample_size_matches_r_exactly(row: dict[str, Any]) -> None:
    checked = NEGATIVE_BINOMIAL.check(_params(row))
    alpha, sided = row["alpha"], int(row["sided"])
    n = 2
    while NEGATIVE_BINOMIAL.power((n, n), checked, alpha, sided) < row["target"]:
        n += 1
    assert n == row["n_per_arm"] == math.ceil(row["r_n"])
    assert NEGATIVE_BINOMIAL.power((n, n), checked, alpha, sided) == pytest.approx(row["power_at_n"], abs=TOLERANCE)


def test_the_defaults_are_exposure_1_and_variance_method_3() -> None:
    checked = NEGATIVE_BINOMIAL.check({"rate_control": 2.0, "effect": 0.5, "dispersion": 1.0})
    assert checked["exposure"] == 1.0
    assert checked["variance_method"] is VarianceMethod.NULL_MLE
    assert checked["allocation"] == 1.0
    explicit = {"rate_control": 2.0, "effect": 0.5, "dispersion": 1.0, "exposure": 1, "variance_method": 3}
    assert _power((40, 40), **explicit) == _power((40, 40), rate_control=2.0, effect=0.5, dispersion=1.0)


def test_the_variance_methods_agree_as_the_rate_ratio_nears_1() -> None:
    powers = [
        _power((5000, 5000), rate_control=1.0, effect=1.00001, dispersion=0.5, variance_method=m) for m in (1, 2, 3)
    ]
    assert max(powers) - min(powers) < 1e-6


def test_exposure_and_rate_enter_only_as_their_product() -> None:
    assert _power((60, 80), rate_control=0.5, effect=0.7, dispersion=0.3, exposure=4.0) == pytest.approx(
        _power((60, 80), rate_control=2.0, effect=0.7, dispersion=0.3, exposure=1.0), abs=1e-14
    )


def test_a_one_sided_test_is_in_the_direction_of_the_effect() -> None:
    # method 2 is symmetric in the arms: the ratio 0.5 with 2 and 1 events equals the ratio 2 with 1 and 2
    down = _power((30, 30), 0.05, 1, rate_control=2.0, effect=0.5, dispersion=0.5, variance_method=2)
    up = _power((30, 30), 0.05, 1, rate_control=1.0, effect=2.0, dispersion=0.5, variance_method=2)
    assert down == pytest.approx(up, abs=1e-14)
    assert down > _power((30, 30), 0.05, 2, rate_control=2.0, effect=0.5, dispersion=0.5, variance_method=2)


def test_power_grows_with_n_and_falls_with_dispersion() -> None:
    by_n = [_power((n, n), rate_control=1.0, effect=0.7, dispersion=0.8) for n in range(10, 400, 10)]
    assert by_n == sorted(by_n)
    by_k = [_power((100, 100), rate_control=1.0, effect=0.7, dispersion=k) for k in (0.0, 0.5, 1.0, 2.0)]
    assert by_k == sorted(by_k, reverse=True)


def test_checking_does_not_modify_the_parameters() -> None:
    params = {"rate_control": 1.0, "effect": 0.7, "dispersion": 0.8}
    NEGATIVE_BINOMIAL.check(params)
    assert params == {"rate_control": 1.0, "effect": 0.7, "dispersion": 0.8}


GOOD = {"rate_control": 1.0, "effect": 0.7, "dispersion": 0.8}
BAD_PARAMETERS = [
    ({**GOOD, "rate_control": 0}, r"`rate_control` must be an event rate > 0; got 0."),
    ({**GOOD, "rate_control": float("inf")}, r"`rate_control` must be a finite number; got inf."),
    ({**GOOD, "rate_control": None}, r"`rate_control` must be an event rate > 0; got None."),
    ({**GOOD, "effect": 1}, r"`effect` must be a rate ratio other than 1; got 1."),
    ({**GOOD, "effect": 0}, r"`effect` must be a rate ratio > 0; got 0."),
    ({**GOOD, "effect": -0.5}, r"`effect` must be a rate ratio > 0; got -0.5."),
    ({**GOOD, "dispersion": -0.1}, r"`dispersion` must be a dispersion >= 0; got -0.1."),
    ({"rate_control": 1.0, "effect": 0.7}, r"`dispersion` must be a dispersion >= 0; got None."),
    ({**GOOD, "exposure": 0}, r"`exposure` must be an exposure time > 0; got 0."),
    ({**GOOD, "variance_method": 4}, r"`variance_method` must be one of 1, 2, 3; got 4."),
    ({**GOOD, "variance_method": 0}, r"`variance_method` must be an integer >= 1; got 0."),
    ({**GOOD, "variance_method": True}, r"`variance_method` must be an integer >= 1; got True."),
    ({**GOOD, "variance_method": "3"}, r"`variance_method` must be an integer >= 1; got '3'."),
    ({**GOOD, "allocation": 0}, r"`allocation` must be a ratio > 0; got 0."),
    ({**GOOD, "p_control": 0.2}, r"`p_control` is not a parameter of test 'negative_binomial'.*got 0.2."),
    ({**GOOD, "sd": 1}, r"`sd` is not a parameter of test 'negative_binomial'"),
    ({**GOOD, "rho": 0.5}, r"`rho` is not a parameter of test 'negative_binomial'"),
]


@pytest.mark.parametrize(("params", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_named_with_their_value(params: dict[str, Any], message: str) -> None:
    with pytest.raises(TrialkitError, match=message):
        NEGATIVE_BINOMIAL.check(params)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(TrialkitError) as caught:
        NEGATIVE_BINOMIAL.check({"rate_control": -1, "effect": 1, "exposure": 0, "odds_ratio": 2})
    message = str(caught.value)
    for name in ("odds_ratio", "rate_control", "effect", "dispersion", "exposure"):
        assert f"`{name}`" in message


@pytest.mark.parametrize(
    ("n_per_arm", "message"),
    [
        ((1, 10), r"`n_per_arm` must be an integer >= 2; got 1."),
        ((10, 2.5), r"`n_per_arm` must be an integer >= 2; got 2.5."),
        ((10,), r"`n_per_arm` must be two sizes \(control, arm\) for test 'negative_binomial'; got \(10,\)."),
        ((10, 10, 10), r"`n_per_arm` must be two sizes \(control, arm\)"),
    ],
)
def test_bad_sample_sizes_are_named_with_their_value(n_per_arm: tuple[int, ...], message: str) -> None:
    with pytest.raises(TrialkitError, match=message):
        NEGATIVE_BINOMIAL.power(n_per_arm, NEGATIVE_BINOMIAL.check(GOOD), 0.05, 2)
