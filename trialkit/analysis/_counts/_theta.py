"""The negative-binomial shape θ by maximum likelihood at fixed means, as R's ``MASS::theta.ml``.

NB2: Var(Y) = μ + μ²/θ. The log-likelihood in θ at fixed μ is

    ℓ(θ) = Σ [log Γ(θ + y) − log Γ(θ) − log y! + θ log θ + y log μ − (θ + y) log(θ + μ)],

its score Σ [ψ(θ + y) − ψ(θ) + log θ + 1 − log(θ + μ) − (y + θ)/(μ + θ)] and observed information
Σ [−ψ′(θ + y) + ψ′(θ) − 1/θ + 2/(μ + θ) − (y + θ)/(μ + θ)²]. Newton's method from the moment
estimate n / Σ (y/μ − 1)² until a step is below ε^¼ (ε the double precision), at most ``limit`` − 1
steps; the SE is 1/√information at the last θ a step was taken from — all as ``theta.ml``.
Terms that depend on y alone are summed over the distinct counts (y takes few values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, polygamma

__all__ = ["Counts", "ThetaML", "negative_binomial_loglik", "theta_ml"]

Floats = npt.NDArray[np.float64]

_STEP = float(np.finfo(np.float64).eps) ** 0.25


@dataclass(frozen=True)
class Counts:
    """The outcome, and its distinct values with their frequencies (for sums of functions of y)."""

    y: Floats
    values: Floats
    frequencies: Floats
    log_factorial_sum: float

    @classmethod
    def of(cls, y: Floats) -> Counts:
        """Return ``y`` with its distinct values and frequencies."""
        values, frequencies = np.unique(y, return_counts=True)
        freq = frequencies.astype(np.float64)
        return cls(y, values, freq, float(freq @ gammaln(values + 1.0)))


@dataclass(frozen=True)
class ThetaML:
    """θ, its SE, and R's warning when the Newton iteration failed (None when it converged)."""

    theta: float
    std_error: float
    warning: str | None


def theta_ml(counts: Counts, mu: Floats, limit: int) -> ThetaML:
    """Return the ML θ at fixed means ``mu`` by Newton's method on the score (``MASS::theta.ml``)."""
    y, values, freq = counts.y, counts.values, counts.frequencies
    theta = y.size / float(np.sum((y / mu - 1.0) ** 2))
    step, information, iteration = 1.0, math.nan, 0
    while True:
        iteration += 1
        if not (iteration < limit and abs(step) > _STEP):
            break
        theta = abs(theta)
        mu_theta = mu + theta
        ratio = (y + theta) / mu_theta
        score = (
            float(freq @ digamma(theta + values))
            - y.size * (float(digamma(theta)) - math.log(theta) - 1.0)
            - float(np.sum(np.log(mu_theta)))
            - float(ratio.sum())
        )
        information = (
            -float(freq @ polygamma(1, theta + values))
            + y.size * (float(polygamma(1, theta)) - 1.0 / theta)
            + float(np.sum(2.0 / mu_theta - ratio / mu_theta))
        )
        step = score / information
        theta += step
    warning = None
    if theta < 0:
        theta, warning = 0.0, "estimate truncated at zero"
    if iteration == limit:
        warning = "iteration limit reached"
    return ThetaML(theta, 1.0 / math.sqrt(information) if information > 0 else math.nan, warning)


def negative_binomial_loglik(counts: Counts, mu: Floats, theta: float) -> float:
    """Return the NB2 log-likelihood at means ``mu`` and shape ``theta`` (``glm.nb``'s ``loglik``)."""
    y, values, freq = counts.y, counts.values, counts.frequencies
    n = y.size
    return (
        float(freq @ gammaln(theta + values))
        - n * (float(gammaln(theta)) - theta * math.log(theta))
        - counts.log_factorial_sum
        + float(y @ np.log(mu))
        - float((theta + y) @ np.log(theta + mu))
    )
