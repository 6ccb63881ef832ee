"""The missing-data pattern: observed, intermittent and monotone missing values, counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

import trialkit as tk
from trialkit.analysis._missing._pattern import missing_pattern

NAN = np.nan


def test_counts_by_hand() -> None:
    values = np.array(
        [
            [1.0, 2.0, 3.0],  # complete
            [1.0, NAN, 3.0],  # an intermittent gap at visit 2
            [1.0, NAN, NAN],  # left after visit 1
            [NAN, NAN, NAN],  # nothing after baseline
            [NAN, 2.0, NAN],  # a gap at visit 1, gone after visit 2
        ]
    )
    arm = np.array([0, 0, 1, 1, 1])
    table = missing_pattern(values, arm, arms=("placebo", "active"), visits=("w1", "w2", "w3"))
    got = {(r.arm, r.visit): (r.n_subjects, r.n_observed, r.n_intermittent, r.n_monotone) for r in table.itertuples()}
    assert got == {
        ("placebo", "w1"): (2, 2, 0, 0),
        ("placebo", "w2"): (2, 1, 1, 0),
        ("placebo", "w3"): (2, 2, 0, 0),
        ("active", "w1"): (3, 1, 1, 1),
        ("active", "w2"): (3, 1, 0, 2),
        ("active", "w3"): (3, 0, 0, 3),
    }
    assert list(table.columns) == ["arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone"]


def test_malformed_input_is_named() -> None:
    with pytest.raises(tk.TrialkitError, match="`values` must be an array of shape"):
        missing_pattern(np.zeros((3, 2)), np.zeros(3, np.int64), arms=("a", "b"), visits=("w1", "w2", "w3"))
    with pytest.raises(tk.TrialkitError, match="`arm` must hold one code in 0..1"):
        missing_pattern(np.zeros((3, 2)), np.array([0, 1, 2]), arms=("a", "b"), visits=("w1", "w2"))
