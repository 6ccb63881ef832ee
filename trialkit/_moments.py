"""Normal, log-normal and count distribution helpers shared by design checking and the simulations.

Private: :func:`lognormal_params` is public as :func:`trialkit.simulate.lognormal_params`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import ndtr

__all__ = ["count_distribution", "count_quantiles", "lognormal_params", "model_params", "normal_mass", "z_bounds"]


def lognormal_params(mean: npt.ArrayLike, sd: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r"""Return the log-normal parameters with natural-scale mean ``m`` and standard deviation ``s``.

    .. math:: \sigma^2 = \ln(1 + s^2/m^2), \qquad \mu = \ln m - \sigma^2/2,

    so that :math:`Y = e^{\mu + \sigma Z}` with :math:`Z \sim N(0, 1)` has
    :math:`E[Y] = e^{\mu + \sigma^2/2} = m` and
    :math:`\operatorname{Var}[Y] = (e^{\sigma^2} - 1)\, e^{2\mu + \sigma^2} = s^2`.
    The geometric mean is :math:`e^\mu = m / \sqrt{1 + s^2/m^2}`.
    """
    m, s = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    sigma2 = np.log1p((s / m) ** 2)
    return np.log(m) - sigma2 / 2, np.sqrt(sigma2)


def model_params(
    mean: npt.ArrayLike, sd: npt.ArrayLike, scale: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the location and scale of the normal model of an endpoint (of its log on the log scale)."""
    return lognormal_params(mean, sd) if scale == "log" else (np.asarray(mean, float), np.asarray(sd, float))


def z_bounds(window: tuple[float, float], loc: float, scale: float, kind: str) -> tuple[float, float]:
    """Standard-normal bounds of a natural-scale window (log-transformed for log endpoints)."""
    if scale == 0:
        return -math.inf, math.inf
    lo, hi = window
    if kind == "log":
        lo, hi = (math.log(lo) if lo > 0 else -math.inf), math.log(hi)
    return (lo - loc) / scale, (hi - loc) / scale


def normal_mass(mean: float, sd: float, window: tuple[float, float]) -> float:
    if sd == 0:
        return float(window[0] <= mean <= window[1])
    a, b = z_bounds(window, mean, sd, "linear")
    return float(ndtr(b) - ndtr(a))


def count_distribution(mean: np.ndarray, dispersion: float) -> Any:
    r"""Return the frozen scipy distribution of counts with ``mean`` and NB2 ``dispersion`` k (0: Poisson).

    Negative binomial with variance :math:`\mu + k\mu^2`: size :math:`1/k`, probability
    :math:`1/(1 + k\mu)` in scipy's ``nbinom`` parametrisation.
    """
    if dispersion == 0:
        return stats.poisson(mean)
    return stats.nbinom(1.0 / dispersion, 1.0 / (1.0 + dispersion * mean))


def count_quantiles(z: np.ndarray, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Return the counts ``F^{-1}(Phi(z))``; the upper half by the survival function, so no tail rounds to 1."""
    dist = count_distribution(np.broadcast_to(mean, z.shape), dispersion)
    upper = z > 0
    y: np.ndarray = np.where(upper, dist.isf(ndtr(-z)), dist.ppf(ndtr(z))).astype(np.float64)
    return y
