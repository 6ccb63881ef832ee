"""Iteratively reweighted least squares for log-link count models, step for step as R's ``glm.fit``.

The fit repeats R's iteration exactly (start, weights, convergence test, the weights it keeps for
the covariance), so that the numbers agree with ``glm`` and ``MASS::glm.nb`` to rounding, not just
to the convergence tolerance: R stops when the relative change in deviance falls below 1e-8 and
computes the covariance from the working weights of the last solve, which lag the returned fit by
one step. Each step solves the weighted normal equations by a Cholesky factor of X'WX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.special import xlogy

__all__ = ["EPSILON", "MAX_ITERATIONS", "IrlsFit", "deviance", "irls"]

Floats = npt.NDArray[np.float64]

#: R's ``glm.control()`` defaults: relative change in deviance, and iteration limit
EPSILON = 1e-8
MAX_ITERATIONS = 25
#: R's ``.Machine$double.eps``: the log link's inverse and derivative are kept at least this
_DOUBLE_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class IrlsFit:
    """One IRLS fit at a fixed variance function.

    Attributes
    ----------
    beta : ndarray
        Coefficients.
    mu : ndarray
        Fitted means (offset included).
    weights : ndarray
        Working weights of the last weighted least-squares solve (R's ``fit$weights``).
    unscaled : ndarray
        (X'WX)⁻¹ with those weights (R's ``summary.glm(...)$cov.unscaled``).
    deviance : float
        Deviance at ``mu``.
    iterations : int
        IRLS steps taken.
    converged : bool
        Whether the relative change in deviance fell below the tolerance within the limit.
    """

    beta: Floats
    mu: Floats
    weights: Floats
    unscaled: Floats
    deviance: float
    iterations: int
    converged: bool


def _inverse_link(eta: Floats) -> Floats:
    return np.maximum(np.exp(eta), _DOUBLE_EPS)


def deviance(y: Floats, mu: Floats, theta: float) -> float:
    """Return the deviance of Poisson (``theta`` = inf) or negative-binomial(theta) means ``mu``.

    Poisson: 2 Σ [y log(y/μ) − (y − μ)] (y log y = 0 at y = 0); negative binomial:
    2 Σ [y log(max(1, y)/μ) − (y + θ) log((y + θ)/(μ + θ))], as R's ``poisson()`` and
    ``MASS::negative.binomial()`` families.
    """
    if math.isinf(theta):
        return float(2.0 * np.sum(xlogy(y, y / mu) - (y - mu)))
    terms = y * np.log(np.maximum(1.0, y) / mu) - (y + theta) * np.log((y + theta) / (mu + theta))
    return float(2.0 * terms.sum())


def irls(
    X: Floats,
    y: Floats,
    offset: Floats,
    theta: float,
    eta: Floats,
    *,
    epsilon: float = EPSILON,
    max_iterations: int = MAX_ITERATIONS,
) -> IrlsFit:
    """Fit a log-link GLM with variance μ (``theta`` = inf) or μ + μ²/θ by IRLS from ``eta``.

    ``eta`` is the starting linear predictor: log(y + 0.1) without the offset for R's Poisson
    start, the previous fit's log μ when ``glm.nb`` alternates. A non-finite coefficient, a
    deviance that is not finite, or X'WX not positive definite end the iteration unconverged.
    """
    mu = _inverse_link(eta)
    deviance_old = deviance(y, mu, theta)
    p = X.shape[1]
    beta = np.full(p, np.nan)
    weights = np.full(y.size, np.nan)
    unscaled = np.full((p, p), np.nan)
    dev = deviance_old
    for iteration in range(1, max_iterations + 1):
        # log link: dμ/dη = μ (R's mu.eta(eta), the same floored exp as μ itself), so the working
        # response is η − offset + (y − μ)/μ and the working weight μ²/V(μ)
        z = (eta - offset) + (y - mu) / mu
        weights = mu if math.isinf(theta) else mu / (1.0 + mu / theta)
        root = np.sqrt(weights)
        Xw = X * root[:, None]
        try:
            factor = cho_factor(Xw.T @ Xw, lower=False, check_finite=True)
        except (LinAlgError, ValueError):
            return IrlsFit(beta, mu, weights, unscaled, dev, iteration, False)
        beta = cho_solve(factor, Xw.T @ (z * root))
        if not np.isfinite(beta).all():
            return IrlsFit(beta, mu, weights, unscaled, dev, iteration, False)
        unscaled = cho_solve(factor, np.eye(p))
        eta = X @ beta + offset
        mu = _inverse_link(eta)
        dev = deviance(y, mu, theta)
        if not math.isfinite(dev):
            return IrlsFit(beta, mu, weights, unscaled, dev, iteration, False)
        if abs(dev - deviance_old) / (abs(dev) + 0.1) < epsilon:
            return IrlsFit(beta, mu, weights, unscaled, dev, iteration, True)
        deviance_old = dev
    return IrlsFit(beta, mu, weights, unscaled, dev, max_iterations, False)
