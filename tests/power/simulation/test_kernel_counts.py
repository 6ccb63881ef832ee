"""The batched negative binomial and Poisson kernels against trialkit's count models, R and Zhu & Lakkis.

Tolerances: estimates and SEs agree with :func:`trialkit.analysis.negative_binomial` and
:func:`trialkit.analysis.poisson` replicate by replicate to 1e-8 relative, and with R's
``MASS::glm.nb`` / ``glm(poisson)`` + ``sandwich`` (tests/reference/power_counts_sim/) to 1e-8
relative. The kernels repeat glm.nb's alternation and glm.fit's IRLS step for step (the same
starts, the same stopping rules), so the fits stop at the same iterate and what is left is
rounding (seen: 1e-12); a looser match, such as a joint Newton solve stopped elsewhere, would
differ by θ's convergence (glm.nb stops at |Δℓ|/d₁ + |Δθ| ≤ 1e-8), about 1e-7 relative. Monte
Carlo power is compared with Zhu & Lakkis's analytic power within 3 Monte Carlo SEs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

import trialkit as tk
from trialkit.analysis import negative_binomial as nb_model
from trialkit.analysis import poisson as poisson_model
from trialkit.power._simulation._analyses import ANALYSES, default_analysis
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._counts import negative_binomial, negative_binomial_fit, poisson, poisson_fit
from trialkit.power._simulation._draw import draw_batch
from trialkit.power._simulation._model import trial_model

ROOT = Path(__file__).parents[3]
REFERENCE = ROOT / "tests" / "reference" / "power_counts_sim"
DESIGN = ROOT / "docs" / "examples" / "sleep-diary-design.toml"
FITS = {"negative_binomial": (negative_binomial_fit, nb_model), "poisson": (poisson_fit, poisson_model)}
ARMS = ["c", "a", "b"]


def _batch(
    values: npt.NDArray[np.float64],
    sizes: tuple[int, ...],
    observed: npt.NDArray[np.bool_] | None = None,
    exposure: tuple[float, float] | None = None,
    mode: str = "log",
    baseline: bool = True,
) -> Batch:
    if observed is None:
        observed = np.ones((1, *values.shape[1:]), dtype=bool)
    arm = np.repeat(np.arange(len(sizes)), sizes)
    exp = None if exposure is None else np.asarray(exposure, dtype=float)[-values.shape[2] :]
    return Batch(values, observed, arm, sizes, 0 if baseline else None, values.shape[2] - 1, exp, mode)


def _nb_counts(
    rng: np.random.Generator, sizes: tuple[int, ...], trials: int, rates: tuple[float, ...], theta: float, base: float
) -> npt.NDArray[np.float64]:
    """Return (T, N, 2) baseline and primary counts sharing a gamma frailty (so the baseline predicts).

    The primary count has a second, independent frailty: overdispersed given the baseline too.
    """
    n = sum(sizes)
    frailty = rng.gamma(theta, 1.0 / theta, (trials, n))
    x = rng.poisson(base * frailty)
    y = rng.poisson(np.repeat(rates, sizes) * frailty * rng.gamma(3.0, 1.0 / 3.0, (trials, n)))
    return np.stack([x, y], axis=2).astype(np.float64)


def _reference_fit(
    family: str, batch: Batch, r: int, mode: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """Return trialkit's own log rate ratios and SEs of replicate ``r`` (None where it refuses the fit)."""
    pattern = batch.observed[min(r, batch.observed.shape[0] - 1)]
    keep = pattern[:, batch.primary] & (pattern[:, 0] if batch.baseline is not None else True)
    exposure = np.ones(batch.values.shape[2]) if batch.exposure is None else batch.exposure
    frame = pd.DataFrame(
        {
            "arm": np.array(ARMS)[batch.arm[keep]],
            "y": batch.values[r, keep, batch.primary],
            "e": exposure[batch.primary],
        }
    )
    numeric = []
    if batch.baseline is not None:
        rate = batch.values[r, keep, 0] / exposure[0]
        if mode == "log" and (rate <= 0).any():
            return None  # trialkit analyze: a zero baseline count has no log (AnalysisError)
        frame["x"] = {"log": np.log(np.where(rate > 0, rate, 1.0)), "log1p": np.log1p(rate), "raw": rate}[mode]
        numeric = ["x"]
    try:
        fit = FITS[family][1](frame, arms=ARMS[: len(batch.sizes)], numeric=numeric, exposure="e")
    except tk.AnalysisError:
        return None
    return np.log([e.estimate for e in fit.ratios]), np.array([e.std_error for e in fit.ratios])


def _check_against_trialkit(family: str, batch: Batch, mode: str) -> int:
    """Assert the kernel's fit of every replicate is trialkit's; return the failed replicates."""
    estimate, se, failed = FITS[family][0](batch)
    for r in range(batch.trials):
        reference = _reference_fit(family, batch, r, mode)
        if reference is None:
            assert failed[r].all(), r
            assert np.isnan(estimate[r]).all()
        else:
            assert not failed[r].any(), r
            np.testing.assert_allclose(estimate[r], reference[0], rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(se[r], reference[1], rtol=1e-8)
    return int(failed[:, 0].sum())


# --- against R --------------------------------------------------------------------------------


def _reference_batches() -> dict[str, tuple[Batch, pd.DataFrame]]:
    data = pd.read_csv(REFERENCE / "datasets.csv")
    expected = pd.read_csv(REFERENCE / "expected.csv")
    out = {}
    for name, d in data.groupby("dataset", sort=False):
        sizes = tuple(int(k) for k in d["arm"].value_counts().sort_index())
        mode = str(d["mode"].iloc[0])
        has_baseline = mode != "none"
        y = d["y"].to_numpy(dtype=float)
        columns = [d["baseline"].to_numpy(dtype=float), y] if has_baseline else [y]
        values = np.nan_to_num(np.stack(columns, axis=1)[None], nan=7.0)  # unobserved: any finite number
        observed = np.ones(values.shape, dtype=bool)
        observed[0, :, -1] = ~np.isnan(y)
        exposure = (float(d["exposure_baseline"].iloc[0]), float(d["exposure"].iloc[0]))
        batch = _batch(values, sizes, observed, exposure, mode if has_baseline else "log", has_baseline)
        out[str(name)] = (batch, expected[expected["dataset"] == name])
    return out


@pytest.mark.parametrize("family", ["negative_binomial", "poisson"])
def test_against_r(family: str) -> None:
    """Estimates and SEs of glm.nb (model-based) and glm(poisson) (HC0 sandwich) on five small trials."""
    for name, (batch, expected) in _reference_batches().items():
        rows = expected[expected["family"] == family]
        estimate, se, failed = FITS[family][0](batch)
        assert not failed.any(), name
        np.testing.assert_allclose(estimate[0], rows["estimate"], rtol=1e-8, err_msg=name)
        np.testing.assert_allclose(se[0], rows["se"], rtol=1e-8, err_msg=name)
        kernel = negative_binomial if family == "negative_binomial" else poisson
        for alpha in (0.02, 0.05, 0.2):
            reject = kernel(batch, alpha).reject[0]
            np.testing.assert_array_equal(reject, rows["p"].to_numpy() < alpha, err_msg=name)


def test_against_r_stacked_with_random_dropout() -> None:
    """Each R trial among replicates with other dropout patterns: the per-replicate weights give the same fit."""
    rng = np.random.default_rng(5)
    for name, (single, expected) in _reference_batches().items():
        if single.baseline is None:
            continue
        values = np.repeat(single.values, 4, axis=0)
        observed = np.repeat(single.observed, 4, axis=0)
        observed[1:, :, 1] &= rng.random((3, values.shape[1])) > 0.25
        batch = Batch(values, observed, single.arm, single.sizes, 0, 1, single.exposure, single.count_baseline)
        for family in FITS:
            estimate, se, _ = FITS[family][0](batch)
            rows = expected[expected["family"] == family]
            np.testing.assert_allclose(estimate[0], rows["estimate"], rtol=1e-8, err_msg=name)
            np.testing.assert_allclose(se[0], rows["se"], rtol=1e-8, err_msg=name)
            _check_against_trialkit(family, batch, single.count_baseline)


# --- against trialkit's own count models, replicate by replicate ---------------------------------


@pytest.mark.parametrize("family", ["negative_binomial", "poisson"])
@pytest.mark.parametrize("mode", ["log", "log1p", "raw"])
def test_replicates_fixed_dropout(family: str, mode: str) -> None:
    rng = np.random.default_rng(11)
    sizes = (14, 16)
    values = _nb_counts(rng, sizes, 40, (2.0, 1.3), 1.5, 8.0 if mode == "log" else 2.0)
    observed = np.ones((1, 30, 2), dtype=bool)
    observed[0, [12, 13, 28, 29], 1] = False
    _check_against_trialkit(family, _batch(values, sizes, observed, (2.0, 3.0), mode), mode)


@pytest.mark.parametrize("family", ["negative_binomial", "poisson"])
def test_replicates_three_arms_random_dropout(family: str) -> None:
    rng = np.random.default_rng(12)
    sizes = (12, 15, 10)
    values = _nb_counts(rng, sizes, 40, (2.0, 1.2, 3.0), 1.0, 2.0)
    observed = np.ones((40, 37, 2), dtype=bool)
    observed[:, :, 1] = rng.random((40, 37)) > 0.2
    _check_against_trialkit(family, _batch(values, sizes, observed, (1.0, 2.5), "log1p"), "log1p")


@pytest.mark.parametrize("family", ["negative_binomial", "poisson"])
def test_replicates_no_baseline(family: str) -> None:
    rng = np.random.default_rng(13)
    sizes = (20, 20)
    values = _nb_counts(rng, sizes, 40, (1.5, 0.9), 2.0, 1.0)[:, :, 1:]
    batch = _batch(values, sizes, None, (1.0, 4.0), "log", baseline=False)
    _check_against_trialkit(family, batch, "log")


def test_replicates_large_counts() -> None:
    """Counts far above the number of subjects: θ's sums use the special functions of each subject."""
    rng = np.random.default_rng(18)
    sizes = (8, 9)
    values = _nb_counts(rng, sizes, 30, (60.0, 45.0), 3.0, 50.0)
    assert values[:, :, 1].max(axis=1).min() > 2 * sum(sizes)
    _check_against_trialkit("negative_binomial", _batch(values, sizes, None, (1.0, 1.0), "log"), "log")


def test_poisson_data_negative_binomial_fails_where_trialkit_does() -> None:
    """Counts without overdispersion: the ML θ is infinite and trialkit's NB refuses the fit; so does the kernel."""
    rng = np.random.default_rng(14)
    sizes = (25, 25)
    values = np.stack([rng.poisson(3.0, (60, 50)), rng.poisson(np.repeat([2.0, 1.4], sizes), (60, 50))], axis=2)
    batch = _batch(values.astype(float), sizes, None, None, "log1p")
    failed = _check_against_trialkit("negative_binomial", batch, "log1p")
    assert 10 < failed < 50  # about half the replicates look underdispersed
    assert _check_against_trialkit("poisson", batch, "log1p") == 0
    outcome = negative_binomial(batch, 0.5)
    assert not (outcome.reject & outcome.failed).any()


# --- failures ------------------------------------------------------------------------------------


def test_zero_baseline_fails_with_log_only() -> None:
    rng = np.random.default_rng(15)
    sizes = (20, 20, 20)
    values = _nb_counts(rng, sizes, 6, (2.0, 1.0, 3.0), 2.0, 10.0)
    values[:, :, 0] = np.maximum(values[:, :, 0], 1.0)
    values[2, 5, 0] = 0.0
    values[4, 45, 0] = 0.0
    for kernel in (negative_binomial, poisson):
        outcome = kernel(_batch(values, sizes, None, None, "log"), 0.99)
        np.testing.assert_array_equal(outcome.failed[:, 0], [False, False, True, False, True, False])
        assert outcome.failed.shape == (6, 2) and (outcome.failed[:, 0] == outcome.failed[:, 1]).all()
        assert not (outcome.reject & outcome.failed).any()
        assert not kernel(_batch(values, sizes, None, None, "log1p"), 0.05).failed.any()
    # a zero baseline count of a subject missing at the primary visit is not analysed
    observed = np.ones((1, 60, 2), dtype=bool)
    observed[0, [5, 45], 1] = False
    assert not negative_binomial(_batch(values, sizes, observed, None, "log"), 0.05).failed.any()


def test_degenerate_replicates_fail() -> None:
    rng = np.random.default_rng(16)
    sizes = (10, 10)
    values = _nb_counts(rng, sizes, 5, (2.0, 1.5), 2.0, 3.0)
    values[:, :, 0] = np.maximum(values[:, :, 0], 1.0)
    values[1, 10:, 1] = 0.0  # no event in the arm
    values[2, :, 0] = 4.0  # a constant baseline
    observed = np.ones((5, 20, 2), dtype=bool)
    observed[3, 1:10, 1] = False  # one control subject left
    values[4, :10, 0], values[4, 10:, 0] = 2.0, 5.0  # the baseline term is collinear with the arm
    for family, (fit, _) in FITS.items():
        estimate, _, failed = fit(_batch(values, sizes, observed, None, "log"))
        np.testing.assert_array_equal(failed[:, 0], [False, True, True, True, True], err_msg=family)
        assert np.isnan(estimate[1:]).all()


# --- Monte Carlo power against the analytic formula ------------------------------------------------


def test_power_against_zhu_lakkis() -> None:
    """No baseline, 150 per arm, rates 2 and 1.6, dispersion 0.5 (θ = 2), exposure 1.5.

    The Wald test of the NB GLM divides the estimate by its SE at the fitted (alternative) rates,
    so its power is Zhu & Lakkis's formula with the null variance at the true rates, method 2
    (V₀ = V₁); their default, method 3, is for a test whose variance is estimated under the null.
    At 60 per arm the Wald test with θ treated as known is liberal (5.9% type I error in 4,000
    null replicates), so the comparison is made where the large-sample formula applies.
    """
    rng = np.random.default_rng(17)
    trials, sizes = 4000, (150, 150)
    mean = np.repeat([2.0 * 1.5, 1.6 * 1.5], sizes)
    values = rng.negative_binomial(2.0, 2.0 / (2.0 + mean), (trials, 300)).astype(float)[:, :, None]
    outcome = negative_binomial(_batch(values, sizes, None, (1.0, 1.5), "log", baseline=False), 0.05)
    assert outcome.failed.sum() == 0
    simulated = float(outcome.reject.mean())
    analytic = tk.power.power(
        "negative_binomial",
        n_per_arm=(150, 150),
        rate_control=2.0,
        effect=0.8,
        dispersion=0.5,
        exposure=1.5,
        variance_method=2,
    )
    mcse = math.sqrt(analytic * (1 - analytic) / trials)
    assert abs(simulated - analytic) < 3 * mcse, (simulated, analytic)


# --- the simulation pipeline -------------------------------------------------------------------


def test_registry_and_default() -> None:
    assert default_analysis("count", True) == "negative_binomial"
    assert default_analysis("count", False) == "negative_binomial"
    for name in ("negative_binomial", "poisson"):
        assert ANALYSES[name].types == ("count",) and not ANALYSES[name].needs_baseline


def test_draw_carries_exposure_and_count_baseline() -> None:
    model = trial_model(tk.read_design(DESIGN))
    endpoint = model.endpoint("awakenings")
    batch = draw_batch(model, endpoint, (30, 30), 50, np.random.default_rng(1))
    np.testing.assert_array_equal(batch.exposure, [14.0, 7.0, 14.0])
    assert batch.count_baseline == "log1p"
    binary = draw_batch(model, model.endpoint("sleep_quality"), (30, 30), 5, np.random.default_rng(1))
    assert binary.exposure is None and binary.count_baseline == "log"
    _check_against_trialkit("negative_binomial", batch, "log1p")


def test_simulate_counts_by_default() -> None:
    design = tk.read_design(DESIGN)
    sim = tk.power.simulate(design, [30], trials=200, endpoints=["awakenings"], seed=3, scheduler="serial")
    assert list(sim.table["analysis"]) == ["negative_binomial"]
    both = tk.power.simulate(
        design,
        [30],
        trials=200,
        endpoints=["awakenings"],
        analyses=["negative_binomial", "poisson"],
        seed=3,
        scheduler="serial",
    )
    table = both.table.set_index("analysis")
    assert table.loc["negative_binomial", "power"] == sim.table["power"].iloc[0]
    assert 0.0 < table.loc["poisson", "power"] < 1.0
