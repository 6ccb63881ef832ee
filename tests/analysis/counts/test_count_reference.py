"""Count models and event rates against R (tests/reference/counts/: make_reference.R and its output).

R 4.2.2, MASS 7.3-58.2, sandwich 3.0-2. Cases: MASS::epil (the progabide epilepsy trial; outcome the
sum of the four two-week counts with 8 weeks' exposure, or the fourth period's count with 2 weeks;
covariates log(baseline count / 8 weeks) and age) and a simulated three-arm trial with variable
exposure, a numeric covariate and a five-level factor. Tolerance 1e-10 relative: trialkit repeats
R's iterations step for step (glm.fit's IRLS, glm.nb's alternation and theta.ml's Newton steps), so
the two programs differ by rounding only; the largest difference measured is 1.3e-12 (p-values),
1e-13 elsewhere.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from count_cases import CASES, REFERENCE, Case

from trialkit import analysis
from trialkit.analysis import Analysis

RTOL = 1e-10
FAMILIES = {
    "negative_binomial": analysis.negative_binomial,
    "poisson": analysis.poisson,
    "quasipoisson": analysis.quasipoisson,
}


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "expected.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def expected_fit() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "expected_fit.csv")


def _fit(case: Case, family: str) -> analysis.CountFit:
    return FAMILIES[family](
        case.frame,
        outcome="y",
        arm="arm",
        arms=case.arms,
        numeric=case.numeric,
        categorical=case.categorical,
        exposure="exposure",
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_coefficients_and_standard_errors_match_r(name, family, expected) -> None:
    fit = _fit(CASES[name], family)
    rows = expected[(expected.case == name) & (expected.model == family) & (expected.kind == "coefficient")]
    assert list(fit.names) == rows.name.tolist()
    np.testing.assert_allclose(fit.coefficients, rows.estimate, rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.covariance)), rows.std_error, rtol=RTOL)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_rate_ratio_rows_match_r(name, family, expected) -> None:
    fit = _fit(CASES[name], family)
    rows = expected[(expected.case == name) & (expected.model == family) & (expected.kind == "rate_ratio")]
    assert [r.contrast for r in fit.ratios] == rows.name.tolist()
    for got, (_, want) in zip(fit.ratios, rows.iterrows(), strict=True):
        assert got.analysis is Analysis(family)
        for field in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "p_value"):
            assert getattr(got, field) == pytest.approx(want[field], rel=RTOL), field
        if family == "quasipoisson":
            assert got.df == want["df"]
        else:
            assert math.isnan(got.df) and math.isnan(want["df"])
        arm, control = got.contrast.split(" - ")
        assert (got.n_treatment, got.n_control) == (fit.n_by_arm[arm], fit.n_by_arm[control])


@pytest.mark.parametrize("name", sorted(CASES))
def test_negative_binomial_theta_and_likelihood_match_glm_nb(name, expected_fit) -> None:
    fit = _fit(CASES[name], "negative_binomial")
    want = expected_fit[(expected_fit.case == name) & (expected_fit.model == "negative_binomial")]
    want = want.set_index("quantity").value
    assert fit.dispersion == pytest.approx(want["theta"], rel=RTOL)
    assert fit.dispersion_std_error == pytest.approx(want["theta_std_error"], rel=RTOL)
    assert 2 * fit.log_likelihood == pytest.approx(want["two_log_likelihood"], rel=RTOL)
    assert fit.deviance == pytest.approx(want["deviance"], rel=RTOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_poisson_and_quasipoisson_fit_quantities_match_glm(name, expected_fit) -> None:
    want = expected_fit[expected_fit.case == name].set_index(["model", "quantity"]).value
    poisson, quasi = _fit(CASES[name], "poisson"), _fit(CASES[name], "quasipoisson")
    assert poisson.dispersion == 1.0
    assert math.isnan(poisson.dispersion_std_error)
    assert poisson.deviance == pytest.approx(want["poisson", "deviance"], rel=RTOL)
    assert poisson.iterations == want["poisson", "iterations"]
    assert quasi.dispersion == pytest.approx(want["quasipoisson", "dispersion"], rel=RTOL)
    assert quasi.residual_df == want["quasipoisson", "residual_df"]
    # same point estimates; the quasi-Poisson model SE is sqrt(phi) times the Poisson model SE
    np.testing.assert_array_equal(quasi.coefficients, poisson.coefficients)


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_rates_match_poisson_test(name) -> None:
    case = CASES[name]
    want = pd.read_csv(REFERENCE / "expected_rate.csv")
    want = want[want.case == name]
    for _, row in want.iterrows():
        subjects = case.frame[case.frame.arm == row.arm]
        got = analysis.event_rate(subjects.y, subjects.exposure, arm=row.arm)
        assert got.analysis is Analysis.RATE
        assert (got.contrast, got.n_treatment) == (row.arm, row.n)
        assert got.estimate == pytest.approx(row.rate, rel=1e-14)
        assert got.ci_low == pytest.approx(row.ci_low, rel=1e-12)
        assert got.ci_high == pytest.approx(row.ci_high, rel=1e-12)
        assert got.std_error == pytest.approx(math.sqrt(row.events) / row.exposure, rel=1e-14)


def test_the_simulated_trial_recovers_its_rate_ratios_and_theta() -> None:
    """The simulation's truth (make_reference.R): rate ratios 0.8 (low) and 0.6 (high), theta 2."""
    fit = _fit(CASES["synthetic"], "negative_binomial")
    truth = {"low - placebo": 0.8, "high - placebo": 0.6}
    for row in fit.ratios:
        assert row.ci_low < truth[row.contrast] < row.ci_high
        assert abs(math.log(row.estimate / truth[row.contrast])) < 3 * row.std_error
    assert abs(fit.dispersion - 2.0) < 3 * fit.dispersion_std_error
    # Poisson with the robust covariance is consistent for the same rate ratios
    for row in _fit(CASES["synthetic"], "poisson").ratios:
        assert abs(math.log(row.estimate / truth[row.contrast])) < 3 * row.std_error
