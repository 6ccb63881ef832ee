"""Van Elteren's stratified Wilcoxon test against R, written from the definition.

R reference: tests/reference/van_elteren/van_elteren.R (R 4.2.2; the statistic is also checked
there against coin 1.4-2's block-wise permutation test of within-stratum ranks scaled by
1/(n_s + 1)). Tolerances: statistic and p-value 1e-12 relative (closed forms; the sums are taken
in another order); estimate and limits 1e-12 relative (both sides return a within-stratum
difference, or the midpoint of two: the same doubles).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import RankTest, mann_whitney, van_elteren, van_elteren_arrays

REFERENCE = Path(__file__).parents[1] / "reference" / "van_elteren"
EXPECTED = pd.read_csv(REFERENCE / "expected.csv").set_index("case")


def _check(got: RankTest, case: str) -> None:
    row = EXPECTED.loc[case]
    assert got.statistic == pytest.approx(row["statistic"], rel=1e-12)
    assert got.p_value == pytest.approx(row["p_value"], rel=1e-12)
    assert got.estimate == pytest.approx(row["estimate"], rel=1e-12, abs=1e-14)
    for ours, theirs in ((got.ci_low, row["ci_low"]), (got.ci_high, row["ci_high"])):
        if math.isnan(theirs):
            assert math.isnan(ours)
        else:
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)
    assert got.conf_level == pytest.approx(row["conf_level"], rel=1e-12)
    assert not got.exact


def test_btheb_trial_with_four_strata() -> None:
    data = pd.read_csv(REFERENCE / "data_btheb.csv")
    _check(van_elteren(data, arms=["TAU", "BtheB"]), "btheb")
    _check(van_elteren(data, arms=["TAU", "BtheB"], alpha=0.1), "btheb_90")


def test_synthetic_tied_data_recovers_the_shift() -> None:
    data = pd.read_csv(REFERENCE / "data_synthetic.csv")
    got = van_elteren(data, arms=["placebo", "active"])
    _check(got, "synthetic")
    assert got.ci_low <= -1.0 <= got.ci_high  # the true shift


def test_tiny_strata_have_no_interval_and_say_so() -> None:
    got = van_elteren_arrays([3.1, 4.2, 5.0], [2.0, 2.2, 6.0], [0, 0, 1], [0, 1, 1], strata=["a", "b"])
    _check(got, "tiny")
    assert "no lower limit" in got.note and "no upper limit" in got.note


def test_arrays_and_frame_agree() -> None:
    data = pd.read_csv(REFERENCE / "data_synthetic.csv")
    codes = data["stratum"].map({"north": 0, "south": 1, "east": 2}).to_numpy()
    t, c = data["arm"] == "active", data["arm"] == "placebo"
    arrays = van_elteren_arrays(data.loc[t, "y"], data.loc[c, "y"], codes[t], codes[c], alpha=0.05)
    assert arrays == van_elteren(data, arms=["placebo", "active"])


# ---------------------------------------------------------------------------------------------
# properties


def test_equal_strata_sizes_weight_like_the_unstratified_test_when_strata_are_copies() -> None:
    # two identical strata: the statistic is sqrt(2) times one stratum's (uncorrected) z
    x, y = [1.1, 2.3, 3.8, 4.2, 2.9], [0.2, 0.9, 1.5, 2.5]
    one = van_elteren_arrays(x + x, y + y, [0] * 5 + [1] * 5, [0] * 4 + [1] * 4)
    w = mann_whitney(x, y)
    z_plain = (w.statistic - 10) / math.sqrt(5 * 4 * 10 / 12)
    assert one.statistic == pytest.approx(math.sqrt(2) * z_plain, rel=1e-12)


def test_estimate_is_the_hodges_lehmann_shift_within_identical_strata() -> None:
    x, y = [1.1, 2.3, 3.8, 4.2, 2.9], [0.2, 0.9, 1.5, 2.5]
    got = van_elteren_arrays(x + x, y + y, [0] * 5 + [1] * 5, [0] * 4 + [1] * 4)
    assert got.estimate == pytest.approx(float(np.median(np.subtract.outer(x, y))), rel=1e-15)


def test_shift_equivariance_and_antisymmetry() -> None:
    x, y = np.array([3.1, 4.2, 5.0, 7.5, 8.1, 6.0]), np.array([2.0, 2.2, 4.0, 6.0, 6.5, 5.0])
    sx, sy = [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]
    base = van_elteren_arrays(x, y, sx, sy)
    moved = van_elteren_arrays(x + 2.0, y, sx, sy)
    assert moved.estimate == pytest.approx(base.estimate + 2.0, abs=1e-12)
    swapped = van_elteren_arrays(y, x, sy, sx)
    assert swapped.statistic == pytest.approx(-base.statistic, rel=1e-12)
    assert swapped.estimate == pytest.approx(-base.estimate, abs=1e-12)
    assert swapped.p_value == pytest.approx(base.p_value, rel=1e-12)


def test_deterministic_and_inputs_not_modified() -> None:
    data = pd.read_csv(REFERENCE / "data_btheb.csv")
    copy = data.copy(deep=True)
    assert van_elteren(data, arms=["TAU", "BtheB"]) == van_elteren(data, arms=["TAU", "BtheB"])
    pd.testing.assert_frame_equal(data, copy)


# ---------------------------------------------------------------------------------------------
# malformed input and data that cannot support the test


def test_single_stratum_is_an_analysis_error_naming_it() -> None:
    with pytest.raises(tk.AnalysisError, match="every value is in stratum 'only'") as caught:
        van_elteren_arrays([1.0, 2.0], [0.5, 1.5], [0, 0], [0, 0], strata=["only"])
    assert caught.value.term == "stratum"


def test_stratum_with_one_group_only_is_an_analysis_error_naming_it() -> None:
    frame = pd.DataFrame(
        {"arm": ["c", "t", "c", "t", "c"], "y": [1.0, 2.0, 3.0, 4.0, 5.0], "stratum": ["A", "A", "B", "B", "C"]}
    )
    with pytest.raises(tk.AnalysisError, match="stratum 'C' has no value of arm 't'") as caught:
        van_elteren(frame, arms=["c", "t"])
    assert caught.value.term == "stratum"


def test_every_value_equal_is_an_analysis_error() -> None:
    with pytest.raises(tk.AnalysisError, match="all equal") as caught:
        van_elteren_arrays([1.0, 1.0], [1.0, 1.0], [0, 1], [0, 1])
    assert caught.value.term == "value"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"stratum_x": [0, 1]}, "one stratum code per value (3)"),
        ({"stratum_y": [0, 1.5, 1]}, "integer stratum codes"),
        ({"stratum_x": [0, -1, 1]}, "integer stratum codes"),
        ({"stratum_x": [0, 2, 1], "strata": ["a", "b"]}, "below 2"),
        ({"x": [1.0, math.nan, 2.0]}, "got nan at position 1"),
        ({"alpha": 1.0}, "in (0, 1)"),
        ({"strata": "ab"}, "sequence"),
    ],
)
def test_malformed_arrays_are_named(kwargs, text) -> None:
    arguments = {"x": [1.0, 2.0, 3.0], "y": [0.5, 1.5, 2.5], "stratum_x": [0, 0, 1], "stratum_y": [0, 1, 1]}
    arguments |= kwargs
    with pytest.raises(tk.TrialkitError) as caught:
        van_elteren_arrays(**arguments)
    assert not isinstance(caught.value, tk.AnalysisError)
    assert text in str(caught.value)


@pytest.mark.parametrize(
    ("frame", "arms", "text"),
    [
        (pd.DataFrame({"arm": ["c", "t"], "y": [1.0, 2.0]}), ["c", "t"], "columns 'arm', 'y', 'stratum'"),
        (pd.DataFrame({"arm": ["c", "x"], "y": [1.0, 2.0], "stratum": ["a", "a"]}), ["c", "t"], "'x'"),
        (pd.DataFrame({"arm": ["c", "t"], "y": [1.0, np.nan], "stratum": ["a", "a"]}), ["c", "t"], "nan"),
        (pd.DataFrame({"arm": ["c", "t"], "y": [1.0, 2.0], "stratum": ["a", None]}), ["c", "t"], "missing"),
        (pd.DataFrame({"arm": ["c", "t"], "y": [1.0, 2.0], "stratum": ["a", "b"]}), ["c", "t", "u"], "exactly two"),
    ],
)
def test_malformed_frames_are_named(frame, arms, text) -> None:
    with pytest.raises(tk.TrialkitError) as caught:
        van_elteren(frame, arms=arms)
    assert not isinstance(caught.value, tk.AnalysisError)
    assert text in str(caught.value)
