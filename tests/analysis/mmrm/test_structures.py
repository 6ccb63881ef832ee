"""Covariance structures: positive definite everywhere, exact derivatives, SAS's parameters."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.analysis._mmrm._structures import _autocorrelations, _partial_autocorrelations, structure

TYPES = ("us", "cs", "csh", "ar1", "arh1", "toep", "toeph")


@pytest.mark.parametrize("name", TYPES)
def test_every_parameter_vector_gives_a_positive_definite_covariance(name: str) -> None:
    rng = np.random.default_rng(1)
    s = structure(name, 5)
    for _ in range(50):
        sigma = s.sigma(rng.normal(0, 2, s.size))
        assert np.allclose(sigma, sigma.T)
        assert np.linalg.eigvalsh(sigma).min() > 0


@pytest.mark.parametrize("name", TYPES)
def test_complex_step_derivatives_agree_with_central_differences(name: str) -> None:
    rng = np.random.default_rng(2)
    s = structure(name, 4)
    theta = rng.normal(0, 0.5, s.size)
    exact = s.sigma_jacobian(theta)
    h = 1e-6
    for i in range(s.size):
        step = np.zeros(s.size)
        step[i] = h
        numeric = (s.sigma(theta + step) - s.sigma(theta - step)) / (2 * h)
        np.testing.assert_allclose(exact[i], numeric, rtol=1e-6, atol=1e-8)
    phi = s.phi(theta)
    np.testing.assert_allclose(s.sigma_of_phi(phi), s.sigma(theta), rtol=1e-12)


@pytest.mark.parametrize("name", ["us", "cs", "toep"])
def test_sas_linear_structures_have_no_second_derivative_in_their_parameters(name: str) -> None:
    s = structure(name, 4)
    assert s.linear
    phi = s.phi(np.zeros(s.size))
    assert not s.d2sigma_dphi2(phi).any()
    # linear: Σ(φ) = Σ_h φ_h dΣ/dφ_h
    np.testing.assert_allclose(np.einsum("h,hkl->kl", phi, s.dsigma_dphi(phi)), s.sigma_of_phi(phi), rtol=1e-12)


def test_natural_parameters_are_sas_covariance_parameters() -> None:
    us = structure("us", 3)
    assert us.names == ("UN(1,1)", "UN(2,1)", "UN(2,2)", "UN(3,1)", "UN(3,2)", "UN(3,3)")
    sigma = np.array([[4.0, 1.0, 0.5], [1.0, 9.0, 2.0], [0.5, 2.0, 16.0]])
    theta = us.start(sigma)
    np.testing.assert_allclose(us.sigma(theta), sigma, rtol=1e-12)
    np.testing.assert_allclose(us.phi(theta), [4.0, 1.0, 9.0, 0.5, 2.0, 16.0], rtol=1e-12)
    ar1 = structure("ar1", 3)
    np.testing.assert_allclose(
        ar1.sigma_of_phi(np.array([2.0, 0.5])), 2.0 * 0.5 ** np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    )
    cs = structure("cs", 3)
    np.testing.assert_allclose(cs.sigma_of_phi(np.array([1.5, 2.0])), 1.5 + 2.0 * np.eye(3))


def test_partial_autocorrelations_invert_the_durbin_levinson_recursion() -> None:
    partial = np.array([0.6, -0.3, 0.2])
    rho = _autocorrelations(partial.astype(complex)).real
    np.testing.assert_allclose(_partial_autocorrelations(rho), partial, rtol=1e-12)
    # an AR(1) series: partial autocorrelations (ρ, 0, 0) give ρ, ρ², ρ³
    np.testing.assert_allclose(_autocorrelations(np.array([0.5, 0, 0], dtype=complex)).real, [0.5, 0.25, 0.125])


def test_second_derivatives_in_sas_parameters_match_their_formula_for_ar1() -> None:
    ar1 = structure("ar1", 4)
    var, rho = 2.0, 0.6
    lag = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    d2 = ar1.d2sigma_dphi2(np.array([var, rho]))
    np.testing.assert_allclose(d2[0, 0], 0.0, atol=1e-8)
    np.testing.assert_allclose(d2[0, 1], lag * rho ** np.maximum(lag - 1, 0) * (lag > 0), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(d2[1, 1], var * lag * (lag - 1) * rho ** np.maximum(lag - 2, 0), rtol=1e-7, atol=1e-8)
