"""The batched logistic-regression kernel against statsmodels, R's glm and the analytic proportions power.

Tolerances: estimates and SEs agree with statsmodels ``Logit`` and with R ``glm(binomial)`` to
1e-8 (absolute; both sides iterate Newton to changes far below that, so what is left is rounding).
Monte Carlo power is compared with the analytic value within 3 Monte Carlo SEs.
"""

from __future__ import annotations

import copy
import tomllib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import trialkit as tk
from trialkit._design import parse_design
from trialkit.power._simulation._analyses import ANALYSES
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._logistic import _fit, logistic
from trialkit.power._simulation._model import TrialModel, trial_model

ROOT = Path(__file__).parents[3]
DESIGN = ROOT / "docs" / "examples" / "sleep-diary-design.toml"
REFERENCE = ROOT / "tests" / "reference" / "power_logistic"
ENDPOINT = "sleep_quality"


def _raw() -> dict[str, Any]:
    with DESIGN.open("rb") as f:
        return tomllib.load(f)


def _three_arm_model() -> TrialModel:
    """Return the sleep-diary design with a third arm (melatonin), parsed like a design file."""
    raw = _raw()
    raw["arms"]["melatonin"] = {"n": 60, "dropout": 6, "prefix": "ML"}
    for ep in raw["endpoints"]:
        if ep["type"] == "binary":
            ep["probability"]["melatonin"] = {"baseline": 0.30, "week4": 0.40, "week8": 0.45}
        else:
            ep["rate"]["melatonin"] = {"baseline": 1.8, "week4": 1.6, "week8": 1.5}
    return trial_model(parse_design(raw, file="three-arm"))


def _no_baseline_model(p_control: float, p_arm: float) -> TrialModel:
    """Return a two-arm design with the binary endpoint at one visit (no baseline), no dropout."""
    raw = _raw()
    raw["visits"] = {"order": ["week8"], "primary": "week8"}
    ep = copy.deepcopy(next(e for e in raw["endpoints"] if e["type"] == "binary"))
    ep.pop("correlation")
    ep["primary"] = True
    ep["probability"] = {"placebo": {"week8": p_control}, "magnesium": {"week8": p_arm}}
    raw["endpoints"] = [ep]
    for arm in ("placebo", "magnesium"):
        raw["arms"][arm]["dropout"] = 0
    return trial_model(parse_design(raw, file="no-baseline"))


def _statsmodels(batch: Batch, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the arm coefficients and SEs of statsmodels Logit on replicate ``t`` (complete cases)."""
    observed = batch.observed[min(t, batch.observed.shape[0] - 1)]
    keep = observed[:, batch.primary].copy()
    if batch.baseline is not None:
        keep &= observed[:, batch.baseline]
    arm = batch.arm[keep]
    k = batch.comparisons
    columns = [np.ones(arm.size)] + [(arm == j).astype(float) for j in range(1, k + 1)]
    if batch.baseline is not None:
        columns.append(batch.values[t, keep, batch.baseline])
    fit = sm.Logit(batch.values[t, keep, batch.primary], np.column_stack(columns)).fit(
        method="newton", tol=1e-14, maxiter=100, disp=0
    )
    return fit.params[1 : k + 1], fit.bse[1 : k + 1]


def _agree_with_statsmodels(batch: Batch) -> int:
    estimate, se, z, p, failed = _fit(batch)
    checked = 0
    for t in range(batch.trials):
        if failed[t].any():
            continue
        params, bse = _statsmodels(batch, t)
        np.testing.assert_allclose(estimate[t], params, rtol=0, atol=1e-8)
        np.testing.assert_allclose(se[t], bse, rtol=0, atol=1e-8)
        checked += 1
    np.testing.assert_allclose(z, estimate / se, rtol=1e-12)
    return checked


def test_registered_for_binary_endpoints() -> None:
    analysis = ANALYSES["logistic"]
    assert analysis.types == ("binary",) and not analysis.needs_baseline and analysis.kernel is logistic


def test_agrees_with_statsmodels_with_fixed_dropout() -> None:
    model = trial_model(tk.read_design(DESIGN))
    batch = draw_batch(model, model.endpoint(ENDPOINT), (20, 24), 40, np.random.default_rng(5))
    assert batch.observed.shape[0] == 1 and not batch.observed.all()  # the design's dropout
    assert _agree_with_statsmodels(batch) >= 35


@pytest.mark.parametrize("mask", ["fixed dropout", "random per replicate"])
def test_agrees_with_statsmodels_three_arms(mask: str) -> None:
    model = _three_arm_model()
    batch = draw_batch(model, model.endpoint(ENDPOINT), (18, 18, 20), 40, np.random.default_rng(6))
    if mask == "random per replicate":
        rng = np.random.default_rng(7)
        # monotone dropout drawn per replicate and subject: observed up to a random last visit
        last = rng.choice(len(model.visits), size=batch.values.shape[:2], p=[0.1, 0.1, 0.8])
        observed = np.arange(len(model.visits))[None, None, :] <= last[:, :, None]
        batch = Batch(batch.values, observed, batch.arm, batch.sizes, batch.baseline, batch.primary)
    assert batch.comparisons == 2
    assert _agree_with_statsmodels(batch) >= 30


def test_agrees_with_statsmodels_without_baseline() -> None:
    model = _no_baseline_model(0.3, 0.5)
    batch = draw_batch(model, model.endpoint(ENDPOINT), (15, 15), 30, np.random.default_rng(8))
    assert batch.baseline is None
    assert _agree_with_statsmodels(batch) >= 25


def test_matches_r_glm() -> None:
    data = pd.read_csv(REFERENCE / "datasets.csv")
    expected = pd.read_csv(REFERENCE / "expected.csv")
    for name, d in data.groupby("dataset", sort=False):
        d = d.sort_values("arm", kind="stable")
        has_baseline = bool(d["baseline"].notna().any())
        y = d["y"].to_numpy()
        columns = [np.nan_to_num(y)] if not has_baseline else [d["baseline"].to_numpy(), np.nan_to_num(y)]
        observed = np.ones((1, len(d), len(columns)), dtype=bool)
        observed[0, :, -1] = ~np.isnan(y)
        sizes = tuple(int(v) for v in d["arm"].value_counts(sort=False).sort_index())
        batch = Batch(
            np.column_stack(columns)[None],
            observed,
            d["arm"].to_numpy(),
            sizes,
            0 if has_baseline else None,
            1 if has_baseline else 0,
        )
        estimate, se, z, p, failed = _fit(batch)
        want = expected[expected["dataset"] == name]
        assert not failed.any() and estimate.shape == (1, len(want))
        for got, column in ((estimate, "estimate"), (se, "se"), (z, "z"), (p, "p")):
            np.testing.assert_allclose(got[0], want[column].to_numpy(), rtol=0, atol=1e-8, err_msg=f"{name} {column}")


def _batch(y: list[list[int]], x: list[list[int]] | None) -> Batch:
    """Return a one-replicate batch from per-arm lists of primary values (and baseline values)."""
    arm = np.repeat(np.arange(len(y)), [len(v) for v in y])
    primary = np.concatenate([np.asarray(v, dtype=float) for v in y])
    if x is None:
        return Batch(
            primary[None, :, None], np.ones((1, arm.size, 1), dtype=bool), arm, tuple(len(v) for v in y), None, 0
        )
    baseline = np.concatenate([np.asarray(v, dtype=float) for v in x])
    values = np.stack([baseline, primary], axis=1)[None]
    return Batch(values, np.ones((1, arm.size, 2), dtype=bool), arm, tuple(len(v) for v in y), 0, 1)


SEPARATED = {
    "an arm without events": ([[0, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0]], [[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]]),
    "control all events": ([[1, 1, 1, 1], [0, 1, 0, 1]], [[0, 1, 0, 1], [1, 0, 1, 0]]),
    "every baseline-1 subject has the event": ([[0, 1, 1, 0, 1], [1, 0, 1, 1, 1]], [[0, 1, 0, 0, 1], [1, 0, 1, 0, 1]]),
    # no margin is separated, but x - arm separates: control with baseline 1 all events, arm 1
    # with baseline 0 no events, the other two patterns mixed (quasi-complete separation)
    "separated by a combination": ([[0, 1, 1, 1], [0, 0, 0, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]]),
    "a constant baseline": ([[0, 1, 0, 1, 1], [1, 1, 0, 1, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]),
    "too few subjects": ([[1], [0, 1]], [[0], [1, 0]]),
    "one subject per arm": ([[1], [0]], [[0], [1]]),
    "no baseline, arm without events": ([[0, 1, 1], [0, 0, 0], [1, 0, 1]], None),
}


@pytest.mark.parametrize("case", SEPARATED)
def test_separation_and_degenerate_fits_fail_without_rejecting(case: str) -> None:
    y, x = SEPARATED[case]
    batch = _batch(y, x)
    outcome = logistic(batch, 0.999)  # alpha near 1: any finite test would reject
    assert outcome.failed.all() and not outcome.reject.any()
    if case == "separated by a combination":  # statsmodels confirms that the MLE does not exist
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception, match="[Ss]eparation|[Ss]ingular|converge"):
                _statsmodels_strict(batch)


def _statsmodels_strict(batch: Batch) -> None:
    warnings.simplefilter("error")
    _statsmodels(batch, 0)


def test_an_arm_without_complete_cases_fails() -> None:
    batch = _batch([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 1, 0]], [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    observed = batch.observed.copy()
    observed[0, 8:, 1] = False  # the third arm misses the primary visit
    outcome = logistic(Batch(batch.values, observed, batch.arm, batch.sizes, 0, 1), 0.999)
    assert outcome.failed.all() and not outcome.reject.any()


def test_failed_replicates_do_not_disturb_the_others() -> None:
    good = _batch([[0, 1, 0, 1, 1, 0], [1, 1, 0, 1, 1, 0]], [[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]])
    bad = _batch([[0, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0]], [[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]])
    both = Batch(np.concatenate([good.values, bad.values]), good.observed, good.arm, good.sizes, 0, 1)
    alone, together = _fit(good), _fit(both)
    assert together[4].tolist() == [[False], [True]] and np.isnan(together[0][1, 0])
    np.testing.assert_array_equal(together[0][:1], alone[0])
    np.testing.assert_array_equal(together[1][:1], alone[1])


def test_power_matches_normal_approximation_without_baseline() -> None:
    # Without a baseline the model is saturated: the arm coefficient is the log odds ratio of the
    # two observed proportions and its Wald SE the delta-method sqrt(1/(n1 p1 q1) + 1/(n0 p0 q0)).
    # The log odds ratio is a smooth one-to-one function of (p0, p1) that is 0 exactly when the
    # risk difference is, so its Wald test and the z test of the risk difference have the same
    # normal-approximation power to first order; at n >= 50 per arm and probabilities well inside
    # (0, 1) the two differ by less than a point. At smaller n the discreteness of the binomial
    # moves either rejection rate by a few points (0.309 simulated against 0.288 at n = 50 with
    # 200,000 replicates), so the check uses n = 80.
    n, p0, p1, trials = 80, 0.38, 0.52, 4000
    model = _no_baseline_model(p0, p1)
    batch = draw_batch(model, model.endpoint(ENDPOINT), (n, n), trials, np.random.default_rng(11))
    outcome = logistic(batch, 0.05)
    expected = tk.power.power("proportions", n, p_control=p0, effect=p1 - p0, method="normal")
    mcse = np.sqrt(expected * (1 - expected) / trials)
    assert not outcome.failed.any()
    assert abs(outcome.reject.mean() - expected) < 3 * mcse


def test_end_to_end_binary_endpoint() -> None:
    design = tk.read_design(DESIGN)
    sim = tk.power.simulate(design, [30, 60], trials=2000, seed=1, endpoints=[ENDPOINT], scheduler="serial")
    table = sim.table
    assert list(table["analysis"]) == ["logistic", "logistic"] and list(table["n_per_arm"]) == [30, 60]
    assert table["power"].is_monotonic_increasing and (table["failed"] < 20).all()
