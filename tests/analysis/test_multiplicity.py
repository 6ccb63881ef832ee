"""adjust_p against R's p.adjust (tests/reference/multiplicity/, written by p_adjust.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit._errors import TrialkitError
from trialkit._spec import Multiplicity
from trialkit.analysis import adjust_p

HERE = Path(__file__).parents[1]
EXPECTED = HERE / "reference" / "multiplicity" / "expected.csv"
SHARED = HERE / "reference" / "analyses"


def _reference() -> pd.DataFrame:
    return pd.read_csv(
        EXPECTED, dtype={"case": str, "method": str, "p": "float64", "adjusted": "float64", "position": "int64"}
    )


def test_reference_covers_every_method() -> None:
    assert set(_reference()["method"]) == {m.value for m in Multiplicity}


@pytest.mark.parametrize("method", list(Multiplicity), ids=lambda m: m.value)
def test_adjusted_p_values_match_r_p_adjust(method) -> None:
    """Absolute error <= 1e-12 (the same products and running extrema in double precision)."""
    ref = _reference()
    ref = ref[ref["method"] == method.value]
    for case, part in ref.groupby("case", sort=False):
        part = part.sort_values("position")
        got = adjust_p(part["p"].tolist(), method)
        np.testing.assert_allclose(
            got, part["adjusted"].to_numpy(), rtol=0, atol=1e-12, err_msg=f"{method.value} / {case}"
        )


def test_strings_name_the_methods_too() -> None:
    p = [0.01, 0.04, 0.03]
    np.testing.assert_array_equal(adjust_p(p, "bh"), adjust_p(p, Multiplicity.BH))


def test_holm_small_example_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    np.testing.assert_allclose(adjust_p([0.01, 0.04, 0.03], Multiplicity.HOLM), [0.03, 0.06, 0.06])


def test_fixed_sequence_is_the_running_maximum_in_the_given_order() -> None:
    got = adjust_p([0.01, 0.03, 0.02, 0.2, 0.04], Multiplicity.FIXED_SEQUENCE)
    np.testing.assert_array_equal(got, [0.01, 0.03, 0.03, 0.2, 0.2])


def test_adjusted_p_values_are_never_below_the_raw_ones_or_above_one() -> None:
    rng = np.random.default_rng(11)
    p = rng.uniform(size=40) ** 2
    for method in Multiplicity:
        got = adjust_p(p, method)
        assert (got >= p - 1e-15).all() and (got <= 1).all(), method


def test_empty_and_single_families() -> None:
    for method in Multiplicity:
        assert adjust_p([], method).shape == (0,)
        np.testing.assert_array_equal(adjust_p([0.03], method), [0.03])


def test_input_is_not_mutated_and_a_new_array_is_returned() -> None:
    p = np.array([0.02, 0.01])
    out = adjust_p(p, Multiplicity.NONE)
    out[0] = 1.0
    assert p[0] == 0.02


@pytest.mark.parametrize("p", [[0.01, float("nan")], [0.01, 1.2], [-0.1, 0.5], [float("inf")]])
def test_p_values_outside_the_unit_interval_are_rejected(p) -> None:
    with pytest.raises(TrialkitError, match=r"^`p_values` must hold (finite numbers|numbers in \[0, 1\])") as err:
        adjust_p(p, Multiplicity.HOLM)
    assert isinstance(err.value, ValueError)


def test_non_numbers_and_unknown_methods_are_rejected() -> None:
    with pytest.raises(TrialkitError, match="p_values"):
        adjust_p(["a", 0.1], Multiplicity.HOLM)
    with pytest.raises(TrialkitError, match="must be one of"):
        adjust_p([0.1, 0.2], "sidak")


@pytest.mark.parametrize("case", ["abbasi2012", "three_arm", "missing"])
def test_secondary_families_of_the_shared_r_cases(case) -> None:
    """make_reference.R: p.adjust over the secondary endpoints' ANCOVA p-values, per contrast."""
    path = SHARED / case / "expected_multiplicity.csv"
    if not path.exists():
        pytest.fail(f"{path} not produced yet")
    expected = pd.read_csv(path)
    for contrast, family in expected.groupby("contrast", sort=False):
        for method in Multiplicity:
            column = "p_value" if method is Multiplicity.NONE else method.value
            np.testing.assert_allclose(
                adjust_p(family["p_value"].tolist(), method),
                family[column],
                rtol=0,
                atol=1e-12,
                err_msg=f"{case} {contrast} {method.value}",
            )
