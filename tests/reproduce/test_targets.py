"""The difference that gives a target p under Student's t (what a reconstruction is calibrated to)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from trialkit import TrialkitError
from trialkit.analysis import two_sample_t
from trialkit.reproduce.reconstruct import calibrate_difference, match_moments

REL = 1e-10


@pytest.mark.parametrize("p", [0.37, 0.08, 0.006, 0.0005, 1e-8])
def test_calibrated_difference_gives_the_target_p_under_student_t(p: float) -> None:
    rng = np.random.default_rng(11)
    cal = calibrate_difference(p, n_treatment=21, n_control=22, sd_treatment=0.9, sd_control=1.3, direction=-1)
    x = match_moments(rng.standard_normal(21), 5.0 + cal.estimate, 0.9)
    y = match_moments(rng.standard_normal(22), 5.0, 1.3)
    scipy_p = stats.ttest_ind(x, y, equal_var=True).pvalue
    assert math.isclose(scipy_p, p, rel_tol=REL) and math.isclose(
        two_sample_t(x, y, equal_var=True).p_value, p, rel_tol=REL
    )
    assert cal.estimate < 0 and cal.df == 41 and math.isclose(cal.estimate / cal.std_error, cal.statistic)


def test_calibrate_difference_uses_the_student_quantile() -> None:
    # qt(0.975, 18) = 2.10092204024096 (R); SE = sqrt(1/10 + 1/10) for unit SDs
    cal = calibrate_difference(0.05, n_treatment=10, n_control=10, sd_treatment=1.0, sd_control=1.0, direction=1)
    assert math.isclose(cal.statistic, 2.10092204024096, rel_tol=1e-12)
    assert math.isclose(cal.estimate, 2.10092204024096 * math.sqrt(0.2), rel_tol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"p_value": 1.0}, "p_value"),
        ({"p_value": 0.0}, "p_value"),
        ({"n_control": 1}, "n_control"),
        ({"sd_treatment": 0.0}, "sd_treatment"),
        ({"direction": 0}, "direction"),
    ],
)
def test_calibrate_difference_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    args = {
        "p_value": 0.05,
        "n_treatment": 10,
        "n_control": 10,
        "sd_treatment": 1.0,
        "sd_control": 1.0,
        "direction": 1,
    } | kwargs
    p = args.pop("p_value")
    with pytest.raises(TrialkitError, match=match):
        calibrate_difference(p, **args)
