"""Logistic regression by iteratively reweighted least squares, step for step as R's ``glm.fit``.

R's binomial ``glm`` starts from mu = (y + 1/2) / 2, solves one weighted least-squares problem per
iteration, and stops when the deviance changes by less than 1e-8 relative to ``|deviance| + 0.1``
(``glm.control()``: ``epsilon = 1e-8``, ``maxit = 25``). Following the same path gives the same
iterates, so the estimates agree with R's to rounding, not merely to the convergence tolerance.
Each weighted least-squares step here is a Cholesky solve of the equilibrated X'WX (one pass over
the data per iteration, no copies of the design).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.linalg import cho_factor, cho_solve

from trialkit._errors import AnalysisError

__all__ = ["IrlsFit", "MAX_ITERATIONS", "TOLERANCE", "expit", "fit_logistic", "rank_check"]

Floats = npt.NDArray[np.float64]

#: ``glm.control()`` defaults
TOLERANCE = 1e-8
MAX_ITERATIONS = 25
#: R's logit link clamps the linear predictor's exponential beyond |eta| = 30 (family.c)
_EPS = float(np.finfo(float).eps)
_ETA_CLAMP = 30.0
#: relative length of a column's part orthogonal to the columns before it below which the column
#: adds nothing new: exact collinearity leaves ~1e-8 of rounding in a Cholesky of X'X
_RANK_TOL = 1e-7


@dataclass(frozen=True)
class IrlsFit:
    """The path's end: estimates, the information matrix R's ``summary.glm`` inverts, and the path."""

    coefficients: Floats
    covariance: Floats  # (X'WX)⁻¹ with W from the last iteration's weights (as summary.glm)
    eta: Floats
    mu: Floats
    deviance: float
    iterations: int
    converged: bool
    last_step: float  # max |change of eta| in the last iteration: large when coefficients diverge
    weights: Floats  # the last iteration's working weights (R's ``fit$weights``, from the previous mu)


def expit(eta: Floats) -> Floats:
    """Return the logistic function of ``eta`` with R's clamp at |eta| > 30 (``binomial()$linkinv``)."""
    e = np.exp(np.clip(eta, -_ETA_CLAMP, _ETA_CLAMP))
    if np.any(np.abs(eta) > _ETA_CLAMP):  # rare: only where a fit is heading for separation
        e = np.where(eta < -_ETA_CLAMP, _EPS, np.where(eta > _ETA_CLAMP, 1.0 / _EPS, e))
    out: Floats = e / (1.0 + e)
    return out


def _mu_eta(eta: Floats) -> Floats:
    """Return d mu / d eta (R ``binomial()$mu.eta``: DBL_EPSILON beyond |eta| = 30)."""
    e = np.exp(np.clip(eta, -_ETA_CLAMP, _ETA_CLAMP))
    out: Floats = e / (1.0 + e) ** 2
    if np.any(np.abs(eta) > _ETA_CLAMP):
        out = np.where(np.abs(eta) > _ETA_CLAMP, _EPS, out)
    return out


def _deviance(y: Floats, mu: Floats) -> float:
    """Return the binomial deviance of 0/1 outcomes: -2 Σ log P(y_i)."""
    return float(-2.0 * np.sum(np.log(np.where(y > 0.5, mu, 1.0 - mu))))


def rank_check(X: Floats, names: list[str]) -> None:
    """Raise an AnalysisError naming the first column collinear with the columns before it.

    Cholesky of the equilibrated cross-product X'X (unit diagonal): its j-th diagonal entry is
    the length of column j's part orthogonal to the columns before it, relative to the column's
    own length — |R_jj| of a QR of the column-scaled design. Positive weights do not change the
    rank, so one check before the iterations serves them all; X'X costs one pass over the data.
    """
    gram = X.T @ X
    d = np.sqrt(np.diag(gram))
    scaled = gram / np.where(d > 0, d, 1.0)[:, None] / np.where(d > 0, d, 1.0)[None, :]
    for j in range(X.shape[1]):
        block = scaled[: j + 1, : j + 1]
        try:
            residual = float(np.linalg.cholesky(block)[j, j]) if d[j] > 0 else 0.0
        except np.linalg.LinAlgError:
            residual = 0.0
        if residual <= _RANK_TOL:
            raise AnalysisError(
                f"term {names[j]!r} is collinear with the terms before it "
                f"({', '.join(names[:j])}); its effect cannot be estimated.",
                term=names[j],
            )


def _weighted_solve(X: Floats, w: Floats, z: Floats) -> tuple[Floats, Floats]:
    """Return the weighted least-squares coefficients and (X'WX)⁻¹, by Cholesky of the equilibrated X'WX."""
    root = np.sqrt(w)
    A = X * root[:, None]  # one product A'A is cheaper than (XW)'X
    xtwx = A.T @ A
    d = np.sqrt(np.diag(xtwx))
    scaled = xtwx / d[:, None] / d[None, :]
    factor = cho_factor(scaled, lower=True, check_finite=False)
    beta = cho_solve(factor, (A.T @ (root * z)) / d, check_finite=False) / d
    inverse = cho_solve(factor, np.eye(X.shape[1]), check_finite=False) / d[:, None] / d[None, :]
    return beta, inverse


def fit_logistic(X: Floats, y: Floats) -> IrlsFit:
    """Fit a logistic regression of 0/1 ``y`` on the full-rank design ``X`` as R's ``glm.fit``.

    Returns the last iterate whether or not the deviance criterion was met (``converged``); the
    caller decides what a path that did not settle means.
    """
    mu = (y + 0.5) / 2.0
    eta = np.log(mu / (1.0 - mu))
    deviance_old = _deviance(y, mu)
    beta = np.zeros(X.shape[1])
    inverse = np.eye(X.shape[1])
    converged, step, deviance = False, math.inf, deviance_old
    weights = np.ones_like(y)
    iterations = 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        d_mu = _mu_eta(eta)
        variance = mu * (1.0 - mu)
        working = eta + (y - mu) / d_mu
        weights = d_mu**2 / variance
        try:
            beta, inverse = _weighted_solve(X, weights, working)
        except np.linalg.LinAlgError:
            raise AnalysisError(
                "the weighted information matrix became singular during the fit "
                "(fitted probabilities collapsing to 0 or 1).",
                term="(model)",
            ) from None
        eta_new = X @ beta
        step = float(np.max(np.abs(eta_new - eta)))
        eta = eta_new
        mu = expit(eta)
        deviance = _deviance(y, mu)
        if not math.isfinite(deviance):
            raise AnalysisError("the deviance became infinite during the fit.", term="(model)")
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < TOLERANCE:
            converged = True
            break
        deviance_old = deviance
    return IrlsFit(beta, inverse, eta, mu, deviance, iterations, converged, step, weights)
