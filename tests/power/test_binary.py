"""The ``"proportions"`` power family against R, and its checks of bad input.

Reference: tests/reference/power_proportions/ (``power.prop.test``, ``pwr::pwr.2p.test``,
``pwr::pwr.2p2n.test``, the pooled z formula with unequal groups, Fisher's exact test by
enumeration with ``fisher.test``). Tolerance: 1e-6 absolute on power (the project's contract for
analytic power; every method is a closed form or a finite sum in double precision, and agrees far
closer, see docs/power-binary-counts.md); sample sizes exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trialkit import TrialkitError
from trialkit.power._binary import EXACT_LIMIT, PROPORTIONS
from trialkit.power._family import Family

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "power_proportions"
EXPECTED = pd.read_csv(REFERENCE / "expected.csv")
EXPECTED_N = pd.read_csv(REFERENCE / "expected_n.csv")
TOLERANCE = 1e-6


def _power(n_per_arm: tuple[int, ...], alpha: float = 0.05, sided: int = 2, **params: Any) -> float:
    return PROPORTIONS.power(n_per_arm, PROPORTIONS.check(params), alpha, sided)


def _smallest_n(params: dict[str, Any], target: float, alpha: float, sided: int) -> int:
    """Return the smallest n per arm (equal groups) whose power reaches ``target``: an integer scan."""
    checked = PROPORTIONS.check(params)
    n = 2
    while PROPORTIONS.power((n, n), checked, alpha, sided) < target:
        n += 1
    return n


def test_the_family_is_a_family_named_proportions() -> None:
    assert isinstance(PROPORTIONS, Family)
    assert PROPORTIONS.name == "proportions"
    assert PROPORTIONS.parameters == ("p_control", "effect", "odds_ratio", "method", "strict", "allocation")


@pytest.mark.parametrize("row", EXPECTED.to_dict("records"), ids=list(EXPECTED["case"]))
def test_power_matches_r(row: dict[str, Any]) -> None:
    power = _power(
        (int(row["n_control"]), int(row["n_arm"])),
        row["alpha"],
        int(row["sided"]),
        p_control=row["p_control"],
        effect=row["p_arm"] - row["p_control"],
        method=row["method"],
        **({"strict": bool(row["strict"])} if row["method"] == "normal" else {}),
    )
    assert power == pytest.approx(row["power"], abs=TOLERANCE, rel=0)


def test_every_method_and_r_function_is_covered() -> None:
    assert set(EXPECTED["method"]) == {"normal", "arcsine", "exact"}
    assert set(EXPECTED["r_function"]) == {"power.prop.test", "formula", "pwr.2p.test", "pwr.2p2n.test", "fisher.test"}


@pytest.mark.parametrize("row", EXPECTED_N.to_dict("records"), ids=list(EXPECTED_N["case"]))
def test_sample_size_matches_r_exactly(row: dict[str, Any]) -> None:
    params = {"p_control": row["p_control"], "effect": row["p_arm"] - row["p_control"], "method": row["method"]}
    n = _smallest_n(params, row["target"], row["alpha"], int(row["sided"]))
    assert n == row["n_per_arm"]
    assert _power((n, n), row["alpha"], int(row["sided"]), **params) == pytest.approx(row["power_at_n"], abs=TOLERANCE)


@pytest.mark.parametrize("method", ["normal", "arcsine", "exact"])
def test_an_odds_ratio_is_its_risk_difference(method: str) -> None:
    # p_control 0.2, odds ratio 2.25: arm odds 0.5625, p_arm 0.36
    by_odds = _power((30, 40), p_control=0.2, odds_ratio=2.25, method=method)
    by_difference = _power((30, 40), p_control=0.2, effect=0.16, method=method)
    assert by_odds == pytest.approx(by_difference, abs=1e-12)
    assert PROPORTIONS.check({"p_control": 0.2, "odds_ratio": 2.25})["odds_ratio"] == 2.25


@pytest.mark.parametrize("method", ["normal", "arcsine", "exact"])
def test_a_one_sided_test_is_in_the_direction_of_the_effect(method: str) -> None:
    # the same contrast seen from either arm: p 0.3 vs 0.5 and, reflected, 0.7 vs 0.5
    up = _power((25, 25), 0.05, 1, p_control=0.3, effect=0.2, method=method)
    down = _power((25, 25), 0.05, 1, p_control=0.7, effect=-0.2, method=method)
    assert up == pytest.approx(down, abs=1e-12)
    assert up > _power((25, 25), 0.05, 2, p_control=0.3, effect=0.2, method=method)


def test_strict_adds_the_wrong_tail_of_the_normal_test_only_when_two_sided() -> None:
    plain = _power((20, 20), p_control=0.4, effect=0.1)
    strict = _power((20, 20), p_control=0.4, effect=0.1, strict=True)
    assert strict > plain
    assert _power((20, 20), 0.05, 1, p_control=0.4, effect=0.1, strict=True) == _power(
        (20, 20), 0.05, 1, p_control=0.4, effect=0.1
    )


@pytest.mark.parametrize("sided", [1, 2])
@pytest.mark.parametrize("n_per_arm", [(10, 10), (17, 23), (40, 35)])
def test_fishers_test_keeps_its_level(n_per_arm: tuple[int, int], sided: int) -> None:
    # at a vanishing effect the exact power is the test's size, which never exceeds alpha
    for p_control in (0.1, 0.5, 0.8):
        size = _power(n_per_arm, 0.05, sided, p_control=p_control, effect=1e-12, method="exact")
        assert 0.0 < size <= 0.05


def test_power_grows_with_n_for_the_approximations() -> None:
    for method in ("normal", "arcsine"):
        powers = [_power((n, 2 * n), p_control=0.3, effect=0.15, method=method) for n in range(5, 200, 5)]
        assert powers == sorted(powers)


def test_allocation_defaults_to_1_and_the_power_reads_the_sizes() -> None:
    assert PROPORTIONS.check({"p_control": 0.2, "effect": 0.1})["allocation"] == 1.0
    assert _power((30, 60), p_control=0.2, effect=0.1, allocation=2) == _power((30, 60), p_control=0.2, effect=0.1)


def test_checking_does_not_modify_the_parameters() -> None:
    params = {"p_control": 0.2, "odds_ratio": 2.0}
    PROPORTIONS.check(params)
    assert params == {"p_control": 0.2, "odds_ratio": 2.0}


def test_the_exact_enumeration_has_a_limit() -> None:
    checked = PROPORTIONS.check({"p_control": 0.3, "effect": 0.1, "method": "exact"})
    half = EXACT_LIMIT // 2
    with pytest.raises(TrialkitError, match=r"`n_per_arm` must total at most 5000 for method 'exact'"):
        PROPORTIONS.power((half, half + 1), checked, 0.05, 2)


BAD_PARAMETERS = [
    ({"p_control": 0.0, "effect": 0.1}, r"`p_control` must be a probability in \(0, 1\); got 0.0."),
    ({"p_control": 1, "effect": -0.1}, r"`p_control` must be a probability in \(0, 1\); got 1."),
    ({"p_control": float("nan"), "effect": 0.1}, r"`p_control` must be a probability in \(0, 1\); got nan."),
    ({"p_control": "0.2", "effect": 0.1}, r"`p_control` must be a probability in \(0, 1\); got '0.2'."),
    ({"effect": 0.1}, r"`p_control` must be a probability in \(0, 1\); got None."),
    ({"p_control": 0.2, "effect": 0}, r"`effect` must be a risk difference other than 0; got 0."),
    ({"p_control": 0.2, "effect": 1.5}, r"`effect` must be a risk difference in \(-1, 1\); got 1.5."),
    ({"p_control": 0.9, "effect": 0.1}, r"`effect` must keep p_control \+ effect in \(0, 1\) \(p_control = 0.9\); got"),
    ({"p_control": 0.2, "effect": -0.3}, r"`effect` must keep p_control \+ effect in \(0, 1\)"),
    ({"p_control": 0.2}, r"`effect` \(a risk difference\) or `odds_ratio` must be given, exactly one; got neither."),
    (
        {"p_control": 0.2, "effect": 0.1, "odds_ratio": 2},
        r"exactly one; got effect=0.1, odds_ratio=2.",
    ),
    ({"p_control": 0.2, "odds_ratio": 1}, r"`odds_ratio` must be an odds ratio other than 1; got 1."),
    ({"p_control": 0.2, "odds_ratio": -2}, r"`odds_ratio` must be an odds ratio > 0; got -2."),
    ({"p_control": 0.2, "effect": 0.1, "method": "wald"}, r"`method` must be one of 'normal', 'arcsine', 'exact'; got"),
    ({"p_control": 0.2, "effect": 0.1, "strict": 1}, r"`strict` must be True or False; got 1."),
    (
        {"p_control": 0.2, "effect": 0.1, "method": "arcsine", "strict": False},
        r"`strict` must be left out unless `method` is 'normal' \(the other methods always count both tails\); "
        r"got False.",
    ),
    ({"p_control": 0.2, "effect": 0.1, "method": "exact", "strict": True}, r"`strict` must be left out unless"),
    ({"p_control": 0.2, "effect": 0.1, "allocation": 0}, r"`allocation` must be a ratio > 0; got 0."),
    ({"p_control": 0.2, "effect": 0.1, "allocation": -1.5}, r"`allocation` must be a ratio > 0; got -1.5."),
    ({"p_control": 0.2, "effect": 0.1, "sd": 1}, r"`sd` is not a parameter of test 'proportions'"),
    ({"p_control": 0.2, "effect": 0.1, "rho": 0.5}, r"`rho` is not a parameter of test 'proportions'.*got 0.5."),
    ({"p_control": 0.2, "effect": 0.1, "dispersion": 1}, r"`dispersion` is not a parameter of test 'proportions'"),
]


@pytest.mark.parametrize(("params", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_named_with_their_value(params: dict[str, Any], message: str) -> None:
    with pytest.raises(TrialkitError, match=message):
        PROPORTIONS.check(params)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(TrialkitError) as caught:
        PROPORTIONS.check({"p_control": 2, "effect": 0.1, "odds_ratio": 3, "method": "z", "sd": 1})
    message = str(caught.value)
    for part in ("`sd` is not a parameter", "`p_control` must be", "`method` must be", "exactly one"):
        assert part in message


@pytest.mark.parametrize(
    ("n_per_arm", "message"),
    [
        ((1, 10), r"`n_per_arm` must be an integer >= 2; got 1."),
        ((10, 2.5), r"`n_per_arm` must be an integer >= 2; got 2.5."),
        ((10,), r"`n_per_arm` must be two sizes \(control, arm\) for test 'proportions'; got \(10,\)."),
        ((10, 10, 10), r"`n_per_arm` must be two sizes \(control, arm\)"),
    ],
)
def test_bad_sample_sizes_are_named_with_their_value(n_per_arm: tuple[int, ...], message: str) -> None:
    checked = PROPORTIONS.check({"p_control": 0.3, "effect": 0.2})
    for method in ("normal", "arcsine", "exact"):
        with pytest.raises(TrialkitError, match=message):
            PROPORTIONS.power(n_per_arm, {**checked, "method": method}, 0.05, 2)
