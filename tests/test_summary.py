"""Descriptive summaries against R (mean, sd, median, quantile type 7) on the R-written fixture trial."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import base_spec, write_spec

import trialkit as tk
from trialkit._summary import describe_endpoints, subject_counts

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "formats" / "trial_wide.csv"
EXPECTED = HERE / "reference" / "summary" / "expected.csv"


def _fixture_trial(tmp_path: Path) -> tk.Trial:
    spec = base_spec(
        visits={"baseline": "baseline", "order": ["baseline", "week4", "week8"], "primary": "week8"},
        data={"path": str(FIXTURE)},
    )
    spec["endpoints"] = [
        {"id": "isi", "range": [0, 28], "integer": True},
        {"id": "sleep_time"},
        {"id": "melatonin", "scale": "log"},
    ]
    return tk.load(write_spec(tmp_path, spec))


def test_endpoint_summaries_match_r(tmp_path) -> None:
    """Relative error <= 1e-12: the same closed-form sums in double precision, different order."""
    got = describe_endpoints(_fixture_trial(tmp_path))
    expected = pd.read_csv(EXPECTED)
    key = ["endpoint", "visit", "arm", "quantity"]
    merged = expected.merge(got, on=key, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(expected) == len(got)
    for c in ("n", "n_missing"):
        assert (merged[c] == merged[f"{c}_r"]).all()
    for c in ("mean", "sd", "median", "q1", "q3", "min", "max"):
        np.testing.assert_allclose(merged[c], merged[f"{c}_r"], rtol=1e-12, atol=0, err_msg=c)


def test_subject_counts(tmp_path) -> None:
    counts = subject_counts(_fixture_trial(tmp_path)).set_index(["arm", "visit"])
    assert (counts["n_randomised"] == 6).all()
    assert counts.loc[("active", "week8"), "n_complete"] == 5
    assert counts.loc[("placebo", "week4"), "n_complete"] == 5
