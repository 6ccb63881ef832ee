"""Standardisation (g-computation): marginal risks from a logistic model, and their two variances.

For each arm a the counterfactual risk is r_a = (1/n) Σ_i expit(x_i(a)'b), the mean over *all*
analysed subjects of the fitted probability with their arm set to a (FDA 2023 guidance on
covariate adjustment; R ``beeca::predict_counterfactuals`` + ``average_predictions``).
Two covariance matrices of r = (r_a):

- Ge et al. (2011), delta method: D V Dᵀ with D_a = (1/n) Σ_i p_i(a)(1 − p_i(a)) x_i(a)ᵀ and V
  the HC0 sandwich covariance of b, (X'WX)⁻¹ X' diag((y − p)²) X (X'WX)⁻¹ — beeca's default
  (``estimate_varcov(method = "Ge", type = "HC0")``), computed as ``sandwich::vcovHC`` does on a
  ``glm`` fit (W and the scores from the last IRLS iteration).
- Ye et al. (2023), robust: with π_a = n_a / n, Y the outcome and p(a) the counterfactual
  predictions, moments estimated with n − 1 denominators,
  V_aa = [var_a(Y) − 2 cov_a(Y, p(a)) + var(p(a))] / π_a + 2 cov_a(Y, p(a)) − var(p(a)),
  V_ab = cov_a(Y, p(b)) + cov_b(Y, p(a)) − cov(p(a), p(b)),   all divided by n;
  var_a / cov_a over the subjects of arm a, var / cov over all subjects. The diagonal's first
  term decomposes var_a(Y − p(a)) with var(p(a)) taken over all subjects, as RobinCar and beeca's
  default (``method = "Ye"``, ``mod = FALSE``) do; the paper's own plug-in takes it over arm a.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit.analysis._binary._irls import expit

__all__ = ["Standardised", "standardise"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Standardised:
    """Counterfactual risks per arm (control first) and their covariance matrices."""

    risks: Floats
    covariance_ye: Floats
    covariance_ge: Floats
    beta_sandwich: Floats  # HC0 covariance of the coefficients (the V of Ge's method)


def _cov(a: Floats, b: Floats) -> float:
    """Return the sample covariance with an n − 1 denominator (R ``cov``)."""
    return float(np.dot(a - a.mean(), b - b.mean()) / (a.size - 1))


def standardise(
    X: Floats, y: Floats, arm: Ints, k: int, beta: Floats, bread: Floats, mu: Floats, weights: Floats
) -> Standardised:
    """Return the counterfactual risks of the ``k`` arms and their Ge and Ye covariances.

    ``X`` has the intercept in column 0 and the non-control arm dummies in columns 1..k−1;
    ``bread`` is (X'WX)⁻¹ of the fit, ``mu`` its fitted probabilities and ``weights`` the working
    weights W of its last iteration. The sandwich's scores are R's ``estfun.glm``: working residual
    (y − mu) / [mu (1 − mu)] times working weight, times x — (y − mu) x once the fit has settled.
    """
    n = y.size
    arm_effect = np.concatenate(([0.0], beta[1:k]))
    base = X @ beta - arm_effect[arm]  # linear predictor with every subject in the control arm
    predictions = np.column_stack([expit(base + arm_effect[a]) for a in range(k)])
    risks = predictions.mean(axis=0)

    # Ge: gradient of r_a in b, then the delta method with the HC0 sandwich
    gradient = np.empty((k, X.shape[1]))
    for a in range(k):
        slope = predictions[:, a] * (1.0 - predictions[:, a])
        row = slope @ X / n
        row[1:k] = 0.0
        if a > 0:
            row[a] = slope.mean()
        gradient[a] = row
    scores = X * ((y - mu) / (mu * (1.0 - mu)) * weights)[:, None]
    sandwich = bread @ (scores.T @ scores) @ bread
    covariance_ge = gradient @ sandwich @ gradient.T

    # Ye
    members = [arm == a for a in range(k)]
    share = np.array([m.mean() for m in members])
    y_in = [y[m] for m in members]
    centred = predictions - risks
    between = centred.T @ centred / (n - 1)  # cov(p(a), p(b)) over all subjects
    covariance_ye = np.empty((k, k))
    for a in range(k):
        cross = _cov(y_in[a], predictions[members[a], a])
        spread = float(np.var(y_in[a], ddof=1)) - 2.0 * cross + between[a, a]
        covariance_ye[a, a] = spread / share[a] + 2.0 * cross - between[a, a]
        for b in range(a + 1, k):
            value = (
                _cov(y_in[a], predictions[members[a], b]) + _cov(y_in[b], predictions[members[b], a]) - between[a, b]
            )
            covariance_ye[a, b] = covariance_ye[b, a] = value
    return Standardised(risks, covariance_ye / n, covariance_ge, sandwich)
