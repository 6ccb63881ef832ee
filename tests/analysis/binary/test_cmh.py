"""Cochran–Mantel–Haenszel and the MH risk difference: bad input, unusable strata, edge cases.

The numbers themselves are checked against R in test_binary_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import cmh, cmh_arrays

FRAME = pd.DataFrame(
    {
        "arm": ["c", "c", "t", "t"] * 3,
        "y": [0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0],
        "centre": ["1"] * 4 + ["2"] * 4 + ["3"] * 4,
    }
)
STRATA = ["1", "2", "3"]


def _cmh(frame: pd.DataFrame, **kwargs):
    options = {"outcome": "y", "arm": "arm", "arms": ["c", "t"], "stratum": "centre", "strata": STRATA} | kwargs
    return cmh(frame, **options)


def test_a_stratum_with_one_arm_only_is_named() -> None:
    frame = FRAME.assign(arm=np.where(FRAME["centre"] == "2", "t", FRAME["arm"]))
    with pytest.raises(tk.AnalysisError, match="stratum '2' has 4 subject\\(s\\) on arm 't' and 0 on 'c'") as caught:
        _cmh(frame)
    assert caught.value.term == "stratum"


def test_a_stratum_with_a_single_subject_is_named() -> None:
    frame = pd.concat([FRAME, pd.DataFrame({"arm": ["t"], "y": [1], "centre": ["4"]})], ignore_index=True)
    with pytest.raises(tk.AnalysisError, match="stratum '4' has 1 subject\\(s\\) on arm 't' and 0 on 'c'"):
        _cmh(frame, strata=[*STRATA, "4"])


def test_a_declared_stratum_without_subjects_is_named() -> None:
    with pytest.raises(tk.AnalysisError, match="stratum '4' has 0 subject"):
        _cmh(FRAME, strata=[*STRATA, "4"])


def test_a_single_stratum_is_refused_as_mantelhaen_test_does() -> None:
    with pytest.raises(tk.TrialkitError, match="`strata` must be a sequence of at least 2 distinct names"):
        _cmh(FRAME.assign(centre="1"), strata=["1"])


def test_bad_outcomes_and_missing_values_are_refused() -> None:
    with pytest.raises(tk.TrialkitError, match=r"`frame\['y'\]` must hold only 0 and 1 .*got 3.0 at position 0"):
        _cmh(FRAME.assign(y=[3, *FRAME["y"][1:]]))
    with pytest.raises(tk.TrialkitError, match=r"got nan at position 2"):
        _cmh(FRAME.assign(y=FRAME["y"].astype(float).where(FRAME.index != 2)))
    with pytest.raises(tk.TrialkitError, match=r"`frame\['centre'\]` must hold only '1', '2', '3'; got '9'"):
        _cmh(FRAME.assign(centre=["9", *FRAME["centre"][1:]]))


def test_arrays_of_different_lengths_are_refused() -> None:
    arm = np.array([0, 0, 1, 1] * 3)
    stratum = np.repeat(np.arange(3), 4)
    y = FRAME["y"].to_numpy(float)
    with pytest.raises(tk.TrialkitError, match=r"`stratum` must hold one value per subject \(12\); got stratum has 11"):
        cmh_arrays(arm, y, stratum[:-1], arms=("c", "t"), strata=("1", "2", "3"), alpha=0.05)
    rows = cmh_arrays(arm, y, stratum, arms=("c", "t"), strata=("1", "2", "3"), alpha=0.05)
    assert rows == _cmh(FRAME)


def test_an_outcome_constant_in_every_stratum_is_an_analysis_error() -> None:
    with pytest.raises(tk.AnalysisError, match="constant outcome") as caught:
        _cmh(FRAME.assign(y=0))
    assert caught.value.term == "y"


def test_an_infinite_common_odds_ratio_is_an_analysis_error() -> None:
    # every treated subject an event, every control subject a non-event in every stratum but one
    frame = FRAME.assign(y=(FRAME["arm"] == "t").astype(int))
    with pytest.raises(tk.AnalysisError, match="odds ratio is infinite"):
        _cmh(frame)


def test_three_arms_give_a_pair_of_rows_per_arm_using_only_the_two_arms_compared() -> None:
    rng = np.random.default_rng(4)
    n = 300
    frame = pd.DataFrame(
        {
            "arm": np.tile(["p", "a", "b"], n // 3),
            "y": rng.integers(0, 2, n),
            "centre": np.repeat(["1", "2", "3"], n // 3),
        }
    )
    rows = _cmh(frame, arms=["p", "a", "b"])
    assert [(r.analysis.value, r.contrast) for r in rows] == [
        ("cmh", "a - p"),
        ("cmh", "b - p"),
        ("mh_risk_difference", "a - p"),
        ("mh_risk_difference", "b - p"),
    ]
    two = _cmh(frame[frame["arm"] != "b"], arms=["p", "a"])
    assert rows[0] == two[0] and rows[2] == two[1]
    assert all(r.n_treatment == 100 and r.n_control == 100 for r in rows)
    assert rows[0].df == 1.0 and math.isnan(rows[2].df)


def test_the_mh_risk_difference_of_one_large_stratum_approaches_the_unstratified_wald_variance() -> None:
    # Sato's variance is consistent in large strata: one stratum of 20,000 against p1 q1/n1 + p0 q0/n0
    n1 = n0 = 10_000
    x1, x0 = 4_000, 3_000
    frame = pd.DataFrame(
        {
            "arm": ["t"] * n1 + ["c"] * n0 + ["t", "c"] * 2,
            "y": [1] * x1 + [0] * (n1 - x1) + [1] * x0 + [0] * (n0 - x0) + [1, 0, 0, 1],
            "centre": ["1"] * (n1 + n0) + ["2"] * 4,
        }
    )
    rd = _cmh(frame, strata=["1", "2"])[1]
    p1, p0 = x1 / n1, x0 / n0
    assert rd.estimate == pytest.approx(p1 - p0, abs=2e-4)
    assert rd.std_error == pytest.approx(math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0), rel=2e-3)


def test_results_are_deterministic_and_the_frame_unchanged() -> None:
    copy = FRAME.copy(deep=True)
    assert _cmh(FRAME) == _cmh(FRAME.copy())
    pd.testing.assert_frame_equal(FRAME, copy, check_exact=True)
