"""The "t" and "ancova" power families against R (tests/reference/power_t/, tests/reference/power_ancova/).

Tolerances: power 1e-6 absolute (R's pt with ncp, AS 243, and SciPy's Boost noncentral t agree to
about 1e-12; the Dunnett critical value is a root to 1e-12 of a tail probability computed to
1e-14 on both sides); n exact (both search the integers on the exact power); effect 1e-6
absolute (R's uniroot tolerance in pwr is 1e-10, power.t.test's was set to 1e-12).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import trialkit as tk

REFERENCE = Path(__file__).parents[1] / "reference"
T_CASES = pd.read_csv(REFERENCE / "power_t" / "expected.csv", keep_default_na=False, na_values=[""])
ANCOVA_CASES = pd.read_csv(REFERENCE / "power_ancova" / "expected.csv", keep_default_na=False, na_values=[""])
CASES = [("t", row) for row in T_CASES.itertuples()] + [("ancova", row) for row in ANCOVA_CASES.itertuples()]


def _params(test: str, row: object) -> dict[str, object]:
    params: dict[str, object] = {"sd": row.sd, "arms": int(row.arms)}  # type: ignore[attr-defined]
    if isinstance(row.multiplicity, str):  # type: ignore[attr-defined]  # empty (NaN) for one arm
        params["multiplicity"] = row.multiplicity  # type: ignore[attr-defined]
    if test == "ancova":
        params["rho"] = row.rho  # type: ignore[attr-defined]
    return params


@pytest.mark.parametrize(("test", "row"), CASES, ids=[f"{test}: {row.case}" for test, row in CASES])
def test_matches_r(test: str, row) -> None:
    params = _params(test, row)
    common = {"alpha": row.alpha, "sided": int(row.sided)}
    if row.quantity == "power":
        sizes = (int(row.n_control), *[int(row.n_arm)] * int(row.arms))
        got = tk.power.power(test, sizes, effect=row.effect, **common, **params)
        assert got == pytest.approx(row.value, abs=1e-6)
    elif row.quantity == "n":
        size = tk.power.sample_size(
            test, power=row.target, effect=row.effect, allocation=row.allocation, **common, **params
        )
        assert size.n_analysed == (int(row.value), *[int(row.n_arm)] * int(row.arms))
        assert size.power >= row.target
        smaller = (
            size.n_analysed[0] - 1,
            *[math.ceil(row.allocation * (size.n_analysed[0] - 1) - 1e-9)] * int(row.arms),
        )
        assert smaller[0] < 2 or tk.power.power(test, smaller, effect=row.effect, **common, **params) < row.target
    else:
        sizes = (int(row.n_control), *[int(row.n_arm)] * int(row.arms))
        got = tk.power.effect(test, sizes, power=row.target, **common, **params)
        assert got == pytest.approx(row.value, abs=1e-6)


def test_sample_size_inflates_each_arm_for_dropout_and_keeps_the_analysed_power() -> None:
    size = tk.power.sample_size("t", effect=0.5, allocation=2, dropout=0.15)
    plain = tk.power.sample_size("t", effect=0.5, allocation=2)
    assert size.n_analysed == plain.n_analysed
    assert size.n_per_arm == tuple(math.ceil(n / 0.85) for n in plain.n_analysed)
    assert size.total == sum(size.n_per_arm)
    assert size.power == plain.power
    assert (size.test, size.dropout, size.alpha, size.sided) == ("t", 0.15, 0.05, 2)
    assert dict(size.params) == {"effect": 0.5, "sd": 1.0, "allocation": 2.0, "arms": 1, "multiplicity": None}
    with pytest.raises(TypeError):
        size.params["effect"] = 1.0  # type: ignore[index]  # the checked parameters are read-only


def test_ancova_with_rho_zero_is_the_t_test_on_one_df_less() -> None:
    t = tk.power.power("t", 30, effect=0.6)
    ancova = tk.power.power("ancova", 30, effect=0.6, rho=0.0)
    assert ancova < t
    assert ancova == pytest.approx(t, abs=2e-3)


def test_a_control_size_expands_by_the_allocation_and_equals_the_explicit_sizes() -> None:
    assert tk.power.power("t", 20, effect=0.5, allocation=1.5) == tk.power.power("t", (20, 30), effect=0.5)
    assert tk.power.power("t", 10, effect=0.5, allocation=1.1) == tk.power.power("t", (10, 11), effect=0.5)


def test_dunnett_is_between_bonferroni_and_unadjusted() -> None:
    one = tk.power.power("t", (30, 30), effect=0.7, alpha=0.05)
    bonferroni = tk.power.power("t", (30, 30, 30), effect=0.7, arms=2, multiplicity="bonferroni")
    dunnett = tk.power.power("t", (30, 30, 30), effect=0.7, arms=2, multiplicity="dunnett")
    assert bonferroni < dunnett < one


def test_one_sided_dunnett_is_between_one_sided_bonferroni_and_unadjusted() -> None:
    one = tk.power.power("ancova", (30, 30), effect=0.5, rho=0.5, alpha=0.025, sided=1)
    bonferroni = tk.power.power(
        "ancova", (30, 30, 30, 30), effect=0.5, rho=0.5, alpha=0.025, sided=1, arms=3, multiplicity="bonferroni"
    )
    dunnett = tk.power.power(
        "ancova", (30, 30, 30, 30), effect=0.5, rho=0.5, alpha=0.025, sided=1, arms=3, multiplicity="dunnett"
    )
    assert bonferroni < dunnett < one


def test_four_and_five_arm_dunnett_sample_sizes_are_the_smallest_reaching_the_power() -> None:
    for arms in (4, 5):
        size = tk.power.sample_size("ancova", effect=0.6, rho=0.5, arms=arms, multiplicity="dunnett")
        assert size.power >= 0.8
        smaller = (size.n_analysed[0] - 1,) * (arms + 1)
        below = tk.power.power("ancova", smaller, effect=0.6, rho=0.5, arms=arms, multiplicity="dunnett")
        assert below < 0.8


def test_the_table_holds_the_continuous_families_under_their_names() -> None:
    assert {"t", "ancova"} <= set(tk.power.TESTS)
    assert all(family.name == name for name, family in tk.power.TESTS.items())


def test_the_same_call_gives_the_same_bits() -> None:
    first = tk.power.sample_size("ancova", effect=0.6, rho=0.5, arms=3, multiplicity="dunnett")
    assert tk.power.sample_size("ancova", effect=0.6, rho=0.5, arms=3, multiplicity="dunnett") == first


#: every registered test, in the table's order (the binary and count families join it at merge)
ALL_TESTS = ", ".join(repr(name) for name in tk.power.TESTS)

BAD = [
    ({"test": "z"}, f"`test` must be one of {ALL_TESTS}; got 'z'."),
    ({"test": None}, f"`test` must be one of {ALL_TESTS}; got None."),
    ({"n_per_arm": 1}, "`n_per_arm` must be an integer >= 2; got 1."),
    ({"n_per_arm": 10.5}, "`n_per_arm` must be an integer >= 2; got 10.5."),
    ({"n_per_arm": (10, 1)}, "`n_per_arm` must be an integer >= 2; got 1."),
    (
        {"n_per_arm": (10, 10, 10)},
        "`n_per_arm` must hold 2 sizes (control first, then each of 1 arm(s)); got (10, 10, 10).",
    ),
    (
        {"n_per_arm": (10, 20), "allocation": 2},
        "`allocation` must not be given with one size per arm in `n_per_arm`; got 2.",
    ),
    ({"alpha": 0}, "`alpha` must be a number in (0, 1); got 0."),
    ({"alpha": 1}, "`alpha` must be a number in (0, 1); got 1."),
    ({"sided": 3}, "`sided` must be one of 1, 2; got 3."),
    ({"sided": "two"}, "`sided` must be one of 1, 2; got 'two'."),
    ({"effect": 0}, "`effect` must be a number other than 0; got 0."),
    ({"effect": float("nan")}, "`effect` must be a finite number; got nan."),
    ({"effect": "0.5"}, "`effect` must be a finite number; got '0.5'."),
    ({"sd": 0}, "`sd` must be a standard deviation > 0; got 0."),
    ({"sd": -1.0}, "`sd` must be a standard deviation > 0; got -1.0."),
    ({"allocation": 0}, "`allocation` must be a ratio > 0; got 0."),
    ({"allocation": math.inf}, "`allocation` must be a finite number; got inf."),
    ({"arms": 0}, "`arms` must be an integer >= 1; got 0."),
    ({"arms": 2}, "`multiplicity` must be one of 'bonferroni', 'dunnett' when arms > 1; got None."),
    ({"arms": 2, "multiplicity": "holm"}, "`multiplicity` must be one of 'bonferroni', 'dunnett'; got 'holm'."),
    (
        {"rho": 0.5},
        "parameters of test 't' must be among effect, sd, allocation, arms, multiplicity; got `rho` = 0.5.",
    ),
    (
        {"p_control": 0.3, "odds_ratio": 2},
        "parameters of test 't' must be among effect, sd, allocation, arms, multiplicity; "
        "got `p_control` = 0.3, `odds_ratio` = 2.",
    ),
    ({"test": "ancova"}, "`rho` must be a correlation in (-1, 1); got None."),
    ({"test": "ancova", "rho": 1}, "`rho` must be a correlation in (-1, 1); got 1."),
    ({"test": "ancova", "rho": -1.0}, "`rho` must be a correlation in (-1, 1); got -1.0."),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_power_refuses_bad_arguments_naming_the_argument_and_value(change: dict[str, object], message: str) -> None:
    call: dict[str, object] = {"test": "t", "n_per_arm": 20, "effect": 0.5} | change
    with pytest.raises(tk.TrialkitError) as info:
        tk.power.power(**call)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"power": 0}, "`power` must be a number in (0, 1); got 0."),
        ({"power": 1}, "`power` must be a number in (0, 1); got 1."),
        ({"dropout": 1}, "`dropout` must be a fraction in [0, 1); got 1."),
        ({"dropout": -0.1}, "`dropout` must be a fraction in [0, 1); got -0.1."),
        ({"effect": 1e-9}, "`power` must be reachable with at most 10000000 per arm; got 0.8."),
    ],
)
def test_sample_size_refuses_bad_arguments(change: dict[str, object], message: str) -> None:
    call: dict[str, object] = {"effect": 0.5} | change
    with pytest.raises(tk.TrialkitError) as info:
        tk.power.sample_size("t", **call)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tk.power.effect("t", 20, effect=0.5), "`effect` must not be given when solving for it; got 0.5."),
        (lambda: tk.power.effect("t", 20, power=0.01), "`power` must exceed the size of the test (0.05); got 0.01."),
        (lambda: tk.power.effect("t", 20, power=1.0), "`power` must be a number in (0, 1); got 1.0."),
        (lambda: tk.power.effect("t", 1), "`n_per_arm` must be an integer >= 2; got 1."),
    ],
)
def test_effect_refuses_bad_arguments(call, message: str) -> None:
    with pytest.raises(tk.TrialkitError) as info:
        call()
    assert str(info.value) == message


def test_a_refused_call_leaves_its_arguments_alone() -> None:
    sizes = [10, 10, 10]
    with pytest.raises(tk.TrialkitError):
        tk.power.power("t", sizes, effect=0.5)
    assert sizes == [10, 10, 10]
