"""The batched MMRM kernel of the power simulation against ``tk.mmrm`` fitted to each replicate.

``tk.mmrm`` is checked against SAS PROC MIXED and R ``nlme::gls`` in tests/analysis/mmrm/
(docs/mmrm.md), so agreeing with it on the same data is agreeing with SAS. Each replicate drawn
by ``draw_batch`` is written out in long form and fitted by ``tk.mmrm`` with the model ``analyze``
fits (REML, unstructured covariance, Satterthwaite df, baseline as a covariate), and with a
baseline slope per visit.

Tolerances: SE 1e-6 relative; estimate 1e-6 relative, or 1e-6 of its SE when it is smaller than
its SE (an estimate near 0 has no relative precision). The kernel iterates Newton's method until
the Newton decrement is below 1e-12 (its gradient in Σ ends near 1e-14); ``tk.mmrm`` stops with
a gradient near 1e-6 in Σ, so the two differ by what is left of ``tk.mmrm``'s convergence: up to
about 1e-7 of the SE in estimates and SEs on these data, and the kernel's is the closer to the
optimum (its −2 REML log L is lower or equal). Satterthwaite df 1e-5 relative for the same reason
(they also carry the inverse Hessian, where that error enters again; the largest seen is about
1e-7). p-values 1e-5 relative: a relative error e in t moves p by about e t² relative in the tail
(|t| f(t) / P(|T| > t) grows like t²), so 1e-7 in t is up to about 2e-6 in p at |t| near 4.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit._design import parse_design
from trialkit.power._simulation import _mmrm as mmrm_module
from trialkit.power._simulation._analyses import ANALYSES
from trialkit.power._simulation._ancova import ancova
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._mmrm import mmrm, mmrm_tests
from trialkit.power._simulation._model import TrialModel, trial_model

VISITS = ["v0", "v1", "v2", "v3"]


def _design(arms: dict[str, tuple[int, int, list[float]]], correlation: Any, visits: list[str] = VISITS) -> TrialModel:
    """Return the model of a design: arm -> (n, dropout, means by visit); SD grows over the visits."""
    raw = {
        "study": {"id": "mmrm_kernel", "alpha": 0.05},
        "arms": {"control": "pbo", **{a: {"n": n, "dropout": d} for a, (n, d, _) in arms.items()}},
        "visits": {"order": visits, "baseline": visits[0], "primary": visits[-1]},
        "endpoints": [
            {
                "id": "y",
                "type": "continuous",
                "correlation": correlation,
                "mean": {a: dict(zip(visits, means, strict=True)) for a, (_, _, means) in arms.items()},
                "sd": {a: dict(zip(visits, [4.0, 4.5, 5.0, 5.5], strict=False)) for a in arms},
            }
        ],
    }
    return trial_model(parse_design(raw, file="design.toml"))


TWO_ARMS = {"pbo": (30, 6, [20.0, 18.0, 17.0, 16.0]), "act": (30, 9, [20.0, 17.0, 15.0, 13.0])}
THREE_ARMS = {
    "pbo": (24, 4, [20.0, 18.0, 17.0, 16.0]),
    "low": (24, 5, [20.0, 17.5, 16.0, 15.0]),
    "high": (24, 6, [20.0, 17.0, 15.0, 13.0]),
}
CORRELATION = [[1.0, 0.6, 0.5, 0.4], [0.6, 1.0, 0.6, 0.5], [0.5, 0.6, 1.0, 0.6], [0.4, 0.5, 0.6, 1.0]]


def _long(batch: Batch, model: TrialModel, i: int) -> pd.DataFrame:
    """Return replicate ``i`` of ``batch`` as the long frame of tk.mmrm: one row per subject and post-baseline visit."""
    observed = batch.observed[0 if batch.observed.shape[0] == 1 else i]
    n, v = observed.shape
    values = np.where(observed, batch.values[i], np.nan)
    return pd.DataFrame(
        {
            "subject": np.repeat([f"s{s}" for s in range(n)], v - 1),
            "visit": np.tile(model.visits[1:], n),
            "arm": np.repeat(np.asarray(model.arms)[batch.arm], v - 1),
            "y": values[:, 1:].reshape(-1),
            "base": np.repeat(batch.values[i, :, 0], v - 1),
        }
    )


def _reference(batch: Batch, model: TrialModel, by_visit: bool) -> dict[str, np.ndarray]:
    """Fit tk.mmrm to each replicate: estimate, SE, df and p of each arm at the primary visit (NaN: it raised)."""
    out: dict[str, list[list[float]]] = {"estimate": [], "std_error": [], "df": [], "p_value": []}
    primary = model.visits[model.primary]
    for i in range(batch.trials):
        try:
            fit = _fit(batch, model, i, by_visit)
        except tk.AnalysisError:
            for key in out:
                out[key].append([np.nan] * batch.comparisons)
            continue
        rows = fit.contrasts[fit.contrasts["visit"] == primary].set_index("arm").loc[list(model.arms[1:])]
        for key in out:
            out[key].append(rows[key].to_list())
    return {key: np.array(value) for key, value in out.items()}


def _fit(batch: Batch, model: TrialModel, i: int, by_visit: bool) -> tk.MMRMFit:
    return tk.mmrm(
        _long(batch, model, i),
        response="y",
        subject="subject",
        visit="visit",
        arm="arm",
        control=model.arms[0],
        baseline="base",
        baseline_by_visit=by_visit,
        covariance="us",
        df_method="satterthwaite",
        visit_order=list(model.visits[1:]),
    )


def _random_dropout(model: TrialModel, by_visit: list[list[float]]) -> TrialModel:
    """Return ``model`` with each subject's last visit drawn from cumulative probabilities (arm x visit)."""
    return dataclasses.replace(model, dropout_by_visit=np.array(by_visit))


CASES = {
    "fixed dropout, scalar correlation": (_design(TWO_ARMS, 0.6), None),
    "random dropout, correlation matrix": (
        _design(TWO_ARMS, CORRELATION),
        [[0.0, 0.1, 0.2, 0.3], [0.0, 0.15, 0.25, 0.4]],
    ),
    "three arms, random dropout": (
        _design(THREE_ARMS, 0.5),
        [[0.0, 0.05, 0.15, 0.25], [0.0, 0.1, 0.2, 0.3], [0.0, 0.2, 0.3, 0.35]],
    ),
}


@pytest.mark.parametrize("by_visit", [False, True], ids=["common slope", "slope by visit"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_tk_mmrm(case: str, by_visit: bool) -> None:
    model, dropout = CASES[case]
    if dropout is not None:
        model = _random_dropout(model, dropout)
    trials = 8 if model.arms[2:] else 20
    batch = draw_batch(model, model.endpoints[0], model.sizes(30), trials, np.random.default_rng(7))
    got = mmrm_tests(batch, baseline_by_visit=by_visit)
    want = _reference(batch, model, by_visit)
    assert not got.failed.any()
    scale = np.maximum(np.abs(want["estimate"]), want["std_error"])  # an estimate near 0: 1e-6 of its SE
    np.testing.assert_array_less(np.abs(got.estimate - want["estimate"]), 1e-6 * scale)
    np.testing.assert_allclose(got.std_error, want["std_error"], rtol=1e-6)
    np.testing.assert_allclose(got.df, want["df"], rtol=1e-5)
    np.testing.assert_allclose(got.p_value, want["p_value"], rtol=1e-5)


def test_small_trials_fail_where_tk_mmrm_fails() -> None:
    """Six per arm, up to 40% lost: REML Σ̂ on its boundary in some replicates, several local maxima in others.

    The kernel fails exactly where tk.mmrm raises (the covariance on its boundary) and, starting from
    both the factored estimate and tk.mmrm's start, reaches the same maximum elsewhere.
    """
    model = _random_dropout(_design(TWO_ARMS, 0.6), [[0.0, 0.1, 0.2, 0.3], [0.0, 0.15, 0.25, 0.4]])
    batch = draw_batch(model, model.endpoints[0], (6, 6), 150, np.random.default_rng(106))
    chosen = [0, 1, 2, 3, 4, 27, 42, 48, 60, 80, 113]  # 48, 60: boundary; 80: two maxima; 27, 42, 113: hard starts
    batch = dataclasses.replace(batch, values=batch.values[chosen], observed=batch.observed[chosen])
    got = mmrm_tests(batch)
    want = _reference(batch, model, False)
    np.testing.assert_array_equal(got.failed[:, 0], np.isnan(want["p_value"][:, 0]))
    assert got.failed[:, 0].tolist() == [False] * 7 + [True, True, False, False]
    ok = ~got.failed[:, 0]
    scale = np.maximum(np.abs(want["estimate"][ok]), want["std_error"][ok])
    np.testing.assert_array_less(np.abs(got.estimate[ok] - want["estimate"][ok]), 1e-6 * scale)
    # replicate 27's Σ̂ is nearly singular (condition number 2e5): a flat optimum, where the two
    # stopping rules leave 1e-5 relative in its SE and 2e-5 in its df; the others agree to 1e-6
    for name in ("std_error", "df", "p_value"):
        np.testing.assert_allclose(getattr(got, name)[ok], want[name][ok], rtol=1e-4)


def test_degenerate_replicates_fail_alone() -> None:
    model = _design(TWO_ARMS, 0.6)
    batch = draw_batch(model, model.endpoints[0], model.sizes(30), 4, np.random.default_rng(1))
    observed = np.broadcast_to(batch.observed, batch.values.shape).copy()
    observed[1, batch.arm == 1, 3] = False  # replicate 1: nobody of the active arm at the primary visit
    observed[2, :, 2:] = False  # replicate 2: nobody at all at the last two visits
    observed[2, :3, 2:] = True  # ... but three subjects: fewer than k + 3 = 4
    values = batch.values.copy()
    values[3] = 5.0  # replicate 3: no variation, a zero covariance
    got = mmrm_tests(dataclasses.replace(batch, values=values, observed=observed))
    assert got.failed[:, 0].tolist() == [False, True, True, True]
    assert np.isnan(got.p_value[1:]).all() and np.isfinite(got.p_value[0]).all()
    outcome = mmrm(dataclasses.replace(batch, values=values, observed=observed), 0.05)
    assert outcome.failed[:, 0].tolist() == [False, True, True, True]
    assert not outcome.reject[1:].any()


def test_slices_of_replicates_give_the_same_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fitting replicates in slices (to bound memory) changes nothing: every replicate is fitted on its own data."""
    model = _random_dropout(_design(TWO_ARMS, 0.6), [[0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3]])
    batch = draw_batch(model, model.endpoints[0], model.sizes(30), 10, np.random.default_rng(4))
    whole = mmrm_tests(batch)
    monkeypatch.setattr(mmrm_module, "_BUDGET", 1)  # one replicate per slice
    sliced = mmrm_tests(batch)
    for name in ("estimate", "std_error", "df", "p_value"):
        np.testing.assert_allclose(getattr(sliced, name), getattr(whole, name), rtol=1e-9)


def test_too_few_subjects_fail() -> None:
    model = _design(TWO_ARMS, 0.6)
    batch = draw_batch(model, model.endpoints[0], (2, 1), 5, np.random.default_rng(2))
    assert mmrm_tests(batch).failed.all()


def test_one_post_baseline_visit_is_the_ancova() -> None:
    """With one post-baseline visit REML is OLS: Satterthwaite's df are n - k - 2, the test is ANCOVA's."""
    model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    batch = draw_batch(model, model.endpoints[0], (23, 23), 200, np.random.default_rng(5))
    got = mmrm_tests(batch)
    np.testing.assert_allclose(got.df, 43 - 3, rtol=1e-8)
    np.testing.assert_array_equal(mmrm(batch, 0.05).reject, ancova(batch, 0.05).reject)


def test_registered_and_simulated() -> None:
    analysis = ANALYSES["mmrm"]
    assert (analysis.types, analysis.needs_baseline, analysis.kernel) == (("continuous",), True, mmrm)
    model_design = {
        "study": {"id": "mmrm_kernel", "alpha": 0.05},
        "arms": {"control": "pbo", "pbo": {"n": 20, "dropout": 2}, "act": {"n": 20, "dropout": 3}},
        "visits": {"order": VISITS, "baseline": "v0", "primary": "v3"},
        "endpoints": [
            {
                "id": "y",
                "type": "continuous",
                "correlation": 0.5,
                "mean": {"pbo": dict.fromkeys(VISITS, 10.0), "act": {"v0": 10.0, "v1": 9.0, "v2": 8.0, "v3": 7.0}},
                "sd": {a: dict.fromkeys(VISITS, 3.0) for a in ("pbo", "act")},
            }
        ],
    }
    design = parse_design(model_design, file="design.toml")
    first = tk.power.simulate(design, [20], trials=100, seed=3, analyses=["mmrm"], scheduler="serial")
    again = tk.power.simulate(design, [20], trials=100, seed=3, analyses=["mmrm"], scheduler="serial")
    row = first.table.iloc[0]
    assert (row["analysis"], row["failed"]) == ("mmrm", 0)
    assert 0.6 < row["power"] < 1.0
    pd.testing.assert_frame_equal(first.table, again.table)
