"""Malformed input to the count models and event rates: each a clear error naming the value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from count_cases import REFERENCE

import trialkit as tk
from trialkit import analysis

FRAME = pd.DataFrame(
    {
        "arm": ["c"] * 6 + ["t"] * 6,
        "y": [2, 9, 0, 14, 5, 7, 1, 3, 0, 6, 2, 11],
        "weeks": [4.0, 4.0, 2.0, 4.0, 3.0, 4.0, 4.0, 4.0, 2.0, 3.0, 4.0, 4.0],
        "age": [61.0, 70.0, 66.0, 64.0, 72.0, 68.0, 63.0, 65.0, 59.0, 71.0, 62.0, 67.0],
        "site": ["a", "b"] * 6,
    }
)
MODELS = [analysis.negative_binomial, analysis.poisson, analysis.quasipoisson]


def _with(column: str, position: int, value: object) -> pd.DataFrame:
    frame = FRAME.copy()
    frame[column] = frame[column].astype(object if isinstance(value, str) else float)
    frame.loc[position, column] = value
    return frame


def _fit(model, frame: pd.DataFrame, **options):
    return model(frame, arms=["c", "t"], exposure="weeks", **options)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-1.0, "`frame['y']` must hold counts (non-negative integers); got -1.0 at position 3."),
        (2.5, "`frame['y']` must hold counts (non-negative integers); got 2.5 at position 3."),
        (math.nan, "`frame['y']` must hold finite numbers (remove missing values first); got nan at position 3."),
        (math.inf, "`frame['y']` must hold finite numbers (remove missing values first); got inf at position 3."),
    ],
)
def test_counts_must_be_non_negative_integers(model, value, text) -> None:
    with pytest.raises(tk.TrialkitError) as caught:
        _fit(model, _with("y", 3, value))
    assert not isinstance(caught.value, tk.AnalysisError)
    assert str(caught.value) == text


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "`frame['weeks']` must hold positive numbers; got 0.0 at position 5."),
        (-2.0, "`frame['weeks']` must hold positive numbers; got -2.0 at position 5."),
        (math.nan, "`frame['weeks']` must hold finite numbers (remove missing values first); got nan at position 5."),
    ],
)
def test_exposure_must_be_positive_and_finite(model, value, text) -> None:
    with pytest.raises(tk.TrialkitError, match=None) as caught:
        _fit(model, _with("weeks", 5, value))
    assert str(caught.value) == text


def test_every_bad_count_is_named_not_just_the_first() -> None:
    frame = FRAME.assign(y=[2, -1, 0, 1.5, 5, 7, 1, 3, 0, 6, 2, 11])
    with pytest.raises(tk.TrialkitError, match=r"got -1\.0 at position 1, 1\.5 at position 3\."):
        analysis.poisson(frame, arms=["c", "t"])


def test_text_in_the_count_column_is_refused() -> None:
    with pytest.raises(tk.TrialkitError, match=r"`frame\['y'\]` must hold numbers; got dtype"):
        analysis.poisson(_with("y", 0, "two"), arms=["c", "t"])


def test_nan_in_a_covariate_and_unknown_values_are_named() -> None:
    with pytest.raises(tk.TrialkitError, match=r"`frame\['age'\]` must hold finite numbers .* nan at position 2"):
        _fit(analysis.poisson, _with("age", 2, math.nan), numeric=["age"])
    with pytest.raises(tk.TrialkitError, match=r"`frame\['arm'\]` must hold only 'c', 't'; got 'x'"):
        _fit(analysis.poisson, _with("arm", 2, "x"))
    with pytest.raises(tk.TrialkitError, match=r"`frame\['site'\]` must hold only 'a'; got 'b'"):
        _fit(analysis.poisson, FRAME, categorical={"site": ["a"]})
    with pytest.raises(tk.TrialkitError, match=r"`frame` must have the distinct columns 'arm', 'y', 'dose', 'weeks'"):
        _fit(analysis.poisson, FRAME, numeric=["dose"])


@pytest.mark.parametrize("model", MODELS)
def test_one_arm_only_is_refused(model) -> None:
    with pytest.raises(tk.TrialkitError, match=r"`arms` must be a sequence of at least 2 distinct names"):
        model(FRAME[FRAME.arm == "c"], arms=["c"])
    with pytest.raises(tk.AnalysisError, match=r"arm 't' has 0 analysable subject\(s\)") as caught:
        model(FRAME[FRAME.arm == "c"], arms=["c", "t"])
    assert caught.value.term == "arm"


@pytest.mark.parametrize("model", MODELS)
def test_an_arm_without_any_event_is_an_analysis_error_naming_it(model) -> None:
    frame = FRAME.assign(y=[2, 9, 0, 14, 5, 7, 0, 0, 0, 0, 0, 0])
    with pytest.raises(tk.AnalysisError, match=r"arm 't' has no event in total") as caught:
        _fit(model, frame)
    assert caught.value.term == "arm"


@pytest.mark.parametrize("model", MODELS)
def test_a_level_without_any_event_is_an_analysis_error_naming_it(model) -> None:
    frame = FRAME.assign(y=[2, 0, 3, 0, 5, 0, 1, 0, 4, 0, 2, 0])
    with pytest.raises(tk.AnalysisError, match=r"level 'b' of covariate 'site' has no event") as caught:
        _fit(model, frame, categorical={"site": ["a", "b"]})
    assert caught.value.term == "site"


@pytest.mark.parametrize("model", MODELS)
def test_a_collinear_covariate_is_named(model) -> None:
    frame = FRAME.assign(age_months=FRAME.age * 12)
    with pytest.raises(tk.AnalysisError, match=r"term 'age_months' is collinear with the terms before it") as caught:
        _fit(model, frame, numeric=["age", "age_months"])
    assert caught.value.term == "age_months"


def test_no_overdispersion_is_an_analysis_error_for_the_negative_binomial_only() -> None:
    """R's glm.nb returns theta = 79701.8 with "iteration limit reached" (make_reference.Rout)."""
    data = pd.read_csv(REFERENCE / "no_overdispersion.csv")
    with pytest.raises(tk.AnalysisError, match=r"no overdispersion.*theta is infinite") as caught:
        analysis.negative_binomial(data, arms=["c", "t"], numeric=["x"])
    assert caught.value.term == "theta"
    # the Poisson models are the ones for these data
    assert analysis.quasipoisson(data, arms=["c", "t"], numeric=["x"]).dispersion < 1
    assert math.isfinite(analysis.poisson(data, arms=["c", "t"], numeric=["x"]).ratios[0].p_value)


def test_event_rate_refuses_bad_counts_and_exposure() -> None:
    with pytest.raises(
        tk.TrialkitError, match=r"^`y` must hold counts \(non-negative integers\); got -1.0 at position 1\.$"
    ):
        analysis.event_rate([3, -1], [1.0, 1.0], arm="c")
    with pytest.raises(tk.TrialkitError, match=r"^`exposure` must hold positive numbers; got 0.0 at position 0\.$"):
        analysis.event_rate([3, 1], [0.0, 1.0], arm="c")
    with pytest.raises(tk.TrialkitError, match=r"^`exposure` must hold one value per count \(2\); got 3 values\.$"):
        analysis.event_rate([3, 1], [1.0, 1.0, 2.0], arm="c")


def test_zero_events_give_a_zero_rate_with_an_exact_upper_limit() -> None:
    row = analysis.event_rate([0, 0, 0], [1.0, 2.0, 1.0], arm="c")
    assert (row.estimate, row.ci_low, row.std_error) == (0.0, 0.0, 0.0)
    assert row.ci_high == pytest.approx(-math.log(0.025) / 4.0, rel=1e-14)  # qgamma(0.975, 1) / T


def test_inputs_are_not_modified() -> None:
    frame = FRAME.copy(deep=True)
    for model in MODELS:
        _fit(model, frame, numeric=["age"], categorical={"site": ["a", "b"]})
    pd.testing.assert_frame_equal(frame, FRAME, check_exact=True)
    y, exposure = np.array([3.0, 1.0]), np.array([1.0, 2.0])
    analysis.event_rate(y, exposure, arm="c")
    assert y.tolist() == [3.0, 1.0] and exposure.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("model", MODELS)
def test_a_covariate_separating_the_zero_counts_is_refused(model) -> None:
    """R's glm gives x a coefficient of -19.6 and warns "fitted rates numerically 0 occurred"."""
    frame = pd.DataFrame(
        {
            "arm": ["c"] * 8 + ["t"] * 8,
            "y": [3, 5, 0, 8, 0, 0, 0, 0, 2, 4, 1, 6, 0, 0, 0, 0],
            "x": [0, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 0, 2, 1, 3, 2.0],
        }
    )
    with pytest.raises(tk.AnalysisError, match=r"fitted rate is numerically 0 for \d+ subject") as caught:
        model(frame, arms=["c", "t"], numeric=["x"])
    assert caught.value.term == "(model)"
