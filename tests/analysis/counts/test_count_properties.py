"""Properties of the count models that need no reference: determinism, offsets, invariances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from count_cases import CASES

from trialkit import analysis
from trialkit.analysis._counts import count_arrays

MODELS = {
    "negative_binomial": analysis.negative_binomial,
    "poisson": analysis.poisson,
    "quasipoisson": analysis.quasipoisson,
}


def _fit(family: str, frame: pd.DataFrame | None = None, **changes):
    case = CASES["synthetic"]
    options = {"arms": case.arms, "numeric": case.numeric, "categorical": case.categorical, "exposure": "exposure"}
    return MODELS[family](case.frame if frame is None else frame, **(options | changes))


@pytest.mark.parametrize("family", sorted(MODELS))
def test_reruns_are_bit_identical(family) -> None:
    first, second = _fit(family), _fit(family)
    assert repr(first.ratios) == repr(second.ratios)
    assert first.coefficients.tobytes() == second.coefficients.tobytes()
    assert first.covariance.tobytes() == second.covariance.tobytes()
    assert first.dispersion == second.dispersion


@pytest.mark.parametrize("family", sorted(MODELS))
def test_exposure_in_another_unit_changes_only_the_intercept(family) -> None:
    frame = CASES["synthetic"].frame
    years, months = _fit(family), _fit(family, frame.assign(exposure=frame.exposure * 12))
    assert months.coefficients[0] == pytest.approx(years.coefficients[0] - math.log(12), rel=1e-9)
    np.testing.assert_allclose(months.coefficients[1:], years.coefficients[1:], rtol=1e-9)
    for a, b in zip(years.ratios, months.ratios, strict=True):
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9)
        assert a.std_error == pytest.approx(b.std_error, rel=1e-9)


def test_without_exposure_every_subject_has_exposure_one() -> None:
    frame = CASES["synthetic"].frame
    ones = _fit("negative_binomial", frame.assign(exposure=1.0))
    none = _fit("negative_binomial", exposure=None)
    assert ones.coefficients.tobytes() == none.coefficients.tobytes()


def test_the_ratio_covariance_is_the_arm_block_and_matches_the_rows() -> None:
    fit = _fit("negative_binomial")
    assert fit.ratio_covariance.shape == (2, 2)
    np.testing.assert_array_equal(fit.ratio_covariance, fit.covariance[1:3, 1:3])
    assert [r.std_error**2 for r in fit.ratios] == pytest.approx(np.diag(fit.ratio_covariance).tolist(), rel=1e-15)


def test_arrays_and_frame_give_the_same_numbers() -> None:
    case = CASES["synthetic"]
    frame = case.frame
    regions = case.categorical["region"]  # type: ignore[index]
    fit = count_arrays(
        pd.Index(case.arms).get_indexer(frame.arm).astype(np.int64),
        frame.y.to_numpy(float),
        np.log(frame.exposure.to_numpy(float)),
        {c: frame[c].to_numpy(float) for c in case.numeric},
        {"region": pd.Index(regions).get_indexer(frame.region).astype(np.int64)},
        arms=case.arms,
        levels={"region": regions},
        alpha=0.05,
        family="negative_binomial",
    )
    assert repr(fit.ratios) == repr(_fit("negative_binomial").ratios)


def test_a_simulated_trial_with_variable_exposure_recovers_its_rate_ratio() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    arm = rng.integers(0, 2, n)
    years = rng.uniform(0.2, 3.0, n)
    x = rng.normal(size=n)
    mu = years * np.exp(0.3 + math.log(0.7) * arm + 0.4 * x)
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu))  # NB2 with theta 1.5
    frame = pd.DataFrame({"arm": np.where(arm == 1, "t", "c"), "y": y, "years": years, "x": x})
    fit = analysis.negative_binomial(frame, arms=["c", "t"], numeric=["x"], exposure="years")
    (row,) = fit.ratios
    assert abs(math.log(row.estimate / 0.7)) < 3 * row.std_error
    assert abs(fit.dispersion - 1.5) < 3 * fit.dispersion_std_error
    assert row.ci_low < 0.7 < row.ci_high


def test_family_must_be_a_count_model() -> None:
    with pytest.raises(ValueError, match="`family` must be one of 'negative_binomial', 'poisson', 'quasipoisson'"):
        count_arrays(
            np.array([0, 0, 1, 1]),
            np.array([1.0, 2.0, 3.0, 4.0]),
            np.zeros(4),
            {},
            {},
            arms=("c", "t"),
            levels={},
            alpha=0.05,
            family="binomial",
        )
