"""The missing-data pattern: observed, intermittent and monotone missing values, counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis._missing._pattern import missing_pattern

NAN = np.nan
COLUMNS = ["arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone"]


def _counts(table: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {(r.arm, r.visit): (r.n_subjects, r.n_observed, r.n_intermittent, r.n_monotone) for r in table.itertuples()}


def test_counts_by_hand() -> None:
    values = np.array(
        [
            [1.0, 2.0, 3.0],  # complete
            [1.0, NAN, 3.0],  # an intermittent gap at visit 2
            [1.0, NAN, NAN],  # left after visit 1
            [NAN, NAN, NAN],  # nothing after baseline: monotone missing at every visit
            [NAN, 2.0, NAN],  # a gap at visit 1, gone after visit 2
        ]
    )
    arm = np.array([0, 0, 1, 1, 1])
    before = values.copy(), arm.copy()
    table = missing_pattern(values, arm, arms=("placebo", "active"), visits=("w1", "w2", "w3"))
    assert _counts(table) == {
        ("placebo", "w1"): (2, 2, 0, 0),
        ("placebo", "w2"): (2, 1, 1, 0),
        ("placebo", "w3"): (2, 2, 0, 0),
        ("active", "w1"): (3, 1, 1, 1),
        ("active", "w2"): (3, 1, 0, 2),
        ("active", "w3"): (3, 0, 0, 3),
    }
    assert list(table.columns) == COLUMNS
    assert list(zip(table["arm"], table["visit"], strict=True))[:4] == [
        ("placebo", "w1"),
        ("placebo", "w2"),
        ("placebo", "w3"),
        ("active", "w1"),
    ]
    assert all(table[c].dtype == np.int64 for c in COLUMNS[2:])
    # inputs are not modified
    np.testing.assert_array_equal(values, before[0])
    np.testing.assert_array_equal(arm, before[1])


def test_arms_keep_the_order_given_and_an_arm_without_subjects_has_zero_rows() -> None:
    values = np.array([[NAN, 1.0], [2.0, NAN]])
    table = missing_pattern(values, np.array([2, 2]), arms=("high", "placebo", "low"), visits=("w4", "w8"))
    assert list(table["arm"]) == ["high", "high", "placebo", "placebo", "low", "low"]
    assert _counts(table) == {
        ("high", "w4"): (0, 0, 0, 0),
        ("high", "w8"): (0, 0, 0, 0),
        ("placebo", "w4"): (0, 0, 0, 0),
        ("placebo", "w8"): (0, 0, 0, 0),
        ("low", "w4"): (2, 1, 1, 0),
        ("low", "w8"): (2, 1, 0, 1),
    }


def test_one_visit_has_no_intermittent_values_and_no_subjects_give_zero_counts() -> None:
    table = missing_pattern(np.array([[NAN], [1.0], [NAN]]), [0, 1, 1], arms=("a", "b"), visits=("w1",))
    assert _counts(table) == {("a", "w1"): (1, 0, 0, 1), ("b", "w1"): (2, 1, 0, 1)}
    empty = missing_pattern(np.empty((0, 2)), np.empty(0, np.int64), arms=("a", "b"), visits=("w1", "w2"))
    assert len(empty) == 4 and not empty[COLUMNS[2:]].to_numpy().any()


def test_integer_values_have_nothing_missing() -> None:
    table = missing_pattern(np.array([[1, 2], [3, 4]]), np.array([0, 1]), arms=("a", "b"), visits=("w1", "w2"))
    assert (table["n_observed"] == 1).all() and (table["n_subjects"] == 1).all()


def test_agrees_with_a_subject_by_subject_count() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(200, 6))
    values[rng.random(values.shape) < 0.3] = NAN
    arm = rng.integers(0, 3, size=200)
    arms, visits = ("a", "b", "c"), tuple(f"v{j}" for j in range(6))
    expected = {}
    for k, a in enumerate(arms):
        for j, v in enumerate(visits):
            counts = [0, 0, 0, 0]
            for i in np.flatnonzero(arm == k):
                counts[0] += 1
                if not np.isnan(values[i, j]):
                    counts[1] += 1
                elif any(not np.isnan(x) for x in values[i, j + 1 :]):
                    counts[2] += 1
                else:
                    counts[3] += 1
            expected[(a, v)] = tuple(counts)
    assert _counts(missing_pattern(values, arm, arms=arms, visits=visits)) == expected


@pytest.mark.parametrize(
    ("values", "arm", "message"),
    [
        (
            np.zeros((3, 2)),
            np.zeros(3, np.int64),
            r"`values` must be an array of shape \(subjects, 3\).*got shape \(3, 2\)",
        ),
        (np.zeros(3), np.zeros(3, np.int64), r"`values` must be an array of shape \(subjects, 3\).*got shape \(3,\)"),
        (np.full((3, 3), "x"), np.zeros(3, np.int64), r"`values` must be an array of real numbers.*got dtype <U1"),
        (np.zeros((3, 3), bool), np.zeros(3, np.int64), r"`values` must be an array of real numbers.*got dtype bool"),
        (np.zeros((3, 3)), np.zeros(2, np.int64), r"`arm` must hold one code per row of `values` \(shape \(3,\)\)"),
        (np.zeros((3, 3)), np.array([0.0, 1.0, 0.5]), r"`arm` must be integer codes.*got dtype float64"),
        (np.zeros((3, 3)), np.array([0, 2, 5]), r"`arm` must hold codes 0 to 1 .*\('a', 'b'\)\); got 2, 5\."),
        (np.zeros((3, 3)), np.array([-1, 0, 1]), r"`arm` must hold codes 0 to 1 .*; got -1\."),
    ],
)
def test_malformed_input_is_named(values, arm, message) -> None:
    with pytest.raises(tk.TrialkitError, match=message):
        missing_pattern(values, arm, arms=("a", "b"), visits=("w1", "w2", "w3"))
