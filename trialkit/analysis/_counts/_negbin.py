"""Negative-binomial (NB2) regression with ML shape θ, by the alternation of R's ``MASS::glm.nb``.

``glm.nb`` fits a Poisson GLM, estimates θ at its means (``theta.ml``), then alternates: an IRLS
fit at the current θ started from the current means, and a new θ at the means *before* that fit,
until |Δℓ|/d₁ + |Δθ| ≤ 1e-8 with d₁ = √(2 max(1, n − p)) and ℓ the log-likelihood at the new θ and
the new means. The coefficients and their covariance are those of the last IRLS fit (at the θ
before the last update), θ and 2ℓ those of the last update — the numbers ``glm.nb`` returns. This
module repeats the scheme step for step.

Where ``glm.nb`` warns and returns a fit anyway, this raises an AnalysisError naming the cause:
no overdispersion (the ML θ is infinite; the model is Poisson), θ's Newton iteration failing, the
alternation or an IRLS fit not converging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit._errors import AnalysisError
from trialkit.analysis._counts._irls import EPSILON, MAX_ITERATIONS, IrlsFit, irls
from trialkit.analysis._counts._theta import Counts, negative_binomial_loglik, theta_ml

__all__ = ["NegativeBinomialFit", "fit_negative_binomial", "overdispersion_score", "poisson_start"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NegativeBinomialFit:
    """The last IRLS fit, θ and its SE, the log-likelihood, and the alternations taken."""

    fit: IrlsFit
    theta: float
    theta_std_error: float
    log_likelihood: float
    alternations: int


def poisson_start(y: Floats) -> Floats:
    """Return R's Poisson starting linear predictor, log(y + 0.1) (offset not included, as in R)."""
    return np.log(y + 0.1)


def _converged(fit: IrlsFit, what: str) -> IrlsFit:
    if not fit.converged:
        raise AnalysisError(f"the {what} fit did not converge in {MAX_ITERATIONS} iterations (IRLS).", term="(model)")
    return fit


def overdispersion_score(y: Floats, mu: Floats) -> float:
    """Return Σ [(y − μ)² − y]: the derivative of the NB log-likelihood in 1/θ at 1/θ = 0, times 2."""
    return float(np.sum((y - mu) ** 2 - y))


def fit_negative_binomial(X: Floats, y: Floats, offset: Floats) -> NegativeBinomialFit:
    """Fit NB2 with log link and offset by ``glm.nb``'s alternation; see the module notes."""
    n, p = X.shape
    counts = Counts.of(y)
    fit = _converged(irls(X, y, offset, math.inf, poisson_start(y)), "initial Poisson")
    mu = fit.mu
    if overdispersion_score(y, mu) <= 0:
        raise AnalysisError(
            "no overdispersion: at the Poisson fit the variance does not exceed the mean "
            "(Σ[(y − μ)² − y] ≤ 0), so the ML estimate of theta is infinite and the negative "
            "binomial model reduces to Poisson; use the Poisson (robust) or quasi-Poisson model.",
            term="theta",
        )
    theta = theta_ml(counts, mu, MAX_ITERATIONS)
    d1 = math.sqrt(2.0 * max(1, n - p))
    change = 1.0
    loglik = negative_binomial_loglik(counts, mu, theta.theta)
    loglik_old = loglik + 2.0 * d1
    alternation = 0
    while True:
        alternation += 1
        if not (alternation <= MAX_ITERATIONS and abs(loglik_old - loglik) / d1 + abs(change) > EPSILON):
            break
        if theta.warning is not None or not theta.theta > 0:
            break
        fit = _converged(irls(X, y, offset, theta.theta, np.log(mu)), "negative binomial")
        previous = theta.theta
        theta = theta_ml(counts, mu, MAX_ITERATIONS)
        mu = fit.mu
        change = previous - theta.theta
        loglik_old = loglik
        loglik = negative_binomial_loglik(counts, mu, theta.theta) if theta.theta > 0 else math.nan
    if theta.warning is not None or not theta.theta > 0:
        reason = theta.warning or "theta is not positive"
        raise AnalysisError(
            f"the ML estimate of theta did not converge ({reason}; theta = {theta.theta:.6g}): "
            "the counts may show no overdispersion beyond Poisson; use the Poisson (robust) or "
            "quasi-Poisson model.",
            term="theta",
        )
    if alternation > MAX_ITERATIONS:
        raise AnalysisError(
            f"the alternation between the coefficients and theta did not converge in {MAX_ITERATIONS} rounds.",
            term="theta",
        )
    return NegativeBinomialFit(fit, theta.theta, theta.std_error, loglik, alternation - 1)
