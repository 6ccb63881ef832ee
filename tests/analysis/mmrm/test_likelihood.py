"""The likelihood's analytic derivatives against finite differences of the likelihood itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis._mmrm._design import build_design
from trialkit.analysis._mmrm._likelihood import statistics
from trialkit.analysis._mmrm._optimise import Objective
from trialkit.analysis._mmrm._structures import structure


def objective(name: str, reml: bool, group_by_arm: bool = False) -> Objective:
    frame = pd.read_csv(tk.datasets.longitudinal("fev_data"))
    design = build_design(
        frame,
        response="FEV1",
        subject="USUBJID",
        visit="AVISIT",
        arm="ARMCD",
        control="PBO",
        covariates=["RACE", "SEX"],
        categorical=None,
        baseline=None,
        baseline_by_visit=False,
        baseline_visit=None,
        group_by_arm=group_by_arm,
        visit_order=None,
        reference={},
    )
    return Objective(statistics(design), [structure(name, 4) for _ in design.groups], reml=reml)


@pytest.mark.parametrize(
    ("name", "reml", "grouped"),
    [
        ("us", True, False),
        ("us", False, False),
        ("ar1", True, False),
        ("csh", False, False),
        ("toeph", True, False),
        ("cs", True, True),
    ],
)
def test_gradient_and_observed_hessian_match_finite_differences(name: str, reml: bool, grouped: bool) -> None:
    obj = objective(name, reml, grouped)
    rng = np.random.default_rng(3)
    base = np.concatenate([s.start(np.diag([30.0, 25.0, 15.0, 90.0]) + 5.0) for s in obj.structures])
    theta = base + rng.normal(0, 0.05, obj.size)
    ev, grad, hess = obj.curvature(theta, observed=True)
    assert ev is not None
    h = 1e-5
    numeric_grad = np.empty(obj.size)
    numeric_hess = np.empty((obj.size, obj.size))
    for i in range(obj.size):
        step = np.zeros(obj.size)
        step[i] = h
        up, g_up = obj.evaluate(theta + step)
        down, g_down = obj.evaluate(theta - step)
        assert up is not None and down is not None
        numeric_grad[i] = (up.value - down.value) / (2 * h)
        numeric_hess[i] = (g_up - g_down) / (2 * h)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-4)
    _, _, expected = obj.curvature(theta, observed=False)
    assert np.linalg.eigvalsh(expected).min() > 0
