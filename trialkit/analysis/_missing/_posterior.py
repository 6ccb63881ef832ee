"""Posterior draws of a multivariate normal regression with missing responses, by data augmentation.

The model is Y_i ~ N(x_i' B, Σ) for the T post-baseline visits of subject i, with the Jeffreys
prior p(B, Σ) ∝ |Σ|^{-(T+1)/2}. With complete data the posterior is known in closed form
(Gelman et al., Bayesian Data Analysis, 3rd ed., 2013, ch. 14 and 18; Schafer 1997, ch. 5):
Σ | Y ~ Inverse-Wishart(S, n − p) with S = E'E the residual cross-products of the least-squares
fit, and vec(B) | Σ, Y ~ N(vec(B̂), Σ ⊗ (X'X)⁻¹). With missing responses, data augmentation
(Tanner & Wong 1987) alternates the imputation of the missing values given the parameters (the
I-step: conditional normal, missing at random) and a draw of the parameters given the completed
data (the P-step). M chains run side by side as arrays, one per imputation, so that every
imputation rests on its own independent draw.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from trialkit._errors import AnalysisError
from trialkit.analysis._missing._groups import group_by_pattern
from trialkit.analysis._missing._impute import complete

__all__ = ["inverse_wishart", "posterior_draws"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def inverse_wishart(scale: Floats, df: float, rng: np.random.Generator) -> Floats:
    """Draw Σ ~ Inverse-Wishart(``scale``, ``df``) for each matrix of ``scale`` (…, T, T), by Bartlett's decomposition.

    Σ⁻¹ ~ Wishart(scale⁻¹, df): with scale = C C' and the Bartlett factor A (lower triangular,
    A_jj² ~ χ²(df − j) for j = 0 … T − 1, A_jk ~ N(0, 1) below the diagonal), Σ⁻¹ = C'⁻¹ A A' C⁻¹,
    so Σ = K K' with K = C A'⁻¹. E[Σ] = scale / (df − T − 1).
    """
    t = scale.shape[-1]
    lead = scale.shape[:-2]
    c = np.linalg.cholesky(scale)
    a = np.zeros((*lead, t, t))
    rows, cols = np.tril_indices(t, -1)
    a[..., rows, cols] = rng.standard_normal((*lead, rows.size))
    diag = np.arange(t)
    a[..., diag, diag] = np.sqrt(rng.chisquare(df - diag, size=(*lead, t)))
    # K = C A'^{-1}: solve K A' = C, i.e. A K' = C'
    k = np.swapaxes(np.linalg.solve(a, np.swapaxes(c, -1, -2)), -1, -2)
    out: Floats = k @ np.swapaxes(k, -1, -2)
    return out


def _cross(x: Floats, y: Floats) -> Floats:
    """Return X'Y for every one of the M data sets in ``y`` (M, n, T), as one matrix product: (M, p, T)."""
    m, n, t = y.shape
    flat = np.moveaxis(y, 0, 1).reshape(n, m * t)  # (n, M·T)
    return np.moveaxis((x.T @ flat).reshape(x.shape[1], m, t), 1, 0)


def _start(x: Floats, y: Floats, visits: tuple[str, ...], arm: Ints, arms: tuple[str, ...]) -> tuple[Floats, Floats]:
    """Return starting values: B by least squares per visit on the subjects observed there, Σ diagonal.

    Every arm must be observed at every visit: otherwise its mean there rests on the prior alone,
    which is improper.
    """
    for j, v in enumerate(visits):
        seen_in = np.bincount(arm[~np.isnan(y[:, j])], minlength=len(arms))
        for k in np.flatnonzero(seen_in == 0)[:1]:
            raise AnalysisError(
                f"no subject of arm {arms[k]!r} is observed at visit {v!r}: the imputation model cannot "
                "estimate that arm's mean there.",
                term=v,
            )
    n, p = x.shape
    t = y.shape[1]
    b = np.zeros((p, t))
    var = np.zeros(t)
    for j in range(t):
        seen = ~np.isnan(y[:, j])
        if seen.sum() <= p:
            raise AnalysisError(
                f"{int(seen.sum())} subjects observed at visit {visits[j]!r} for {p} model terms: "
                "the imputation model cannot be estimated there.",
                term=visits[j],
            )
        coef, _, rank, _ = np.linalg.lstsq(x[seen], y[seen, j], rcond=None)
        if rank < p:
            raise AnalysisError(
                f"the model terms cannot all be estimated from the subjects observed at visit {visits[j]!r}.",
                term=visits[j],
            )
        b[:, j] = coef
        r = y[seen, j] - x[seen] @ coef
        var[j] = float(r @ r) / (seen.sum() - p)
    if not (var > 0).all():
        j = int(np.argmin(var))
        raise AnalysisError(f"the values observed at visit {visits[j]!r} are fitted exactly.", term=visits[j])
    return b, np.diag(var)


def posterior_draws(
    x: Floats,
    y: Floats,
    *,
    draws: int,
    burn_in: int,
    rng: np.random.Generator,
    visits: tuple[str, ...],
    arm: Ints,
    arms: tuple[str, ...],
) -> tuple[Floats, Floats]:
    """Draw (B, Σ) from their posterior given the observed responses: ``draws`` independent chains.

    Parameters
    ----------
    x : ndarray (n, p)
        Design: every subject, full column rank (the caller checked it).
    y : ndarray (n, T)
        Responses at the post-baseline visits; NaN where missing.
    draws : int
        Number of chains (imputations), M.
    burn_in : int
        Data-augmentation iterations per chain; each chain's last P-step draw is returned.
    rng : numpy.random.Generator
        The source of every random number (its state fixes the result).
    visits : tuple of str
        Visit names, for messages.
    arm : ndarray (n,) of int
        Arm codes (positions in ``arms``), to name an arm never observed at a visit.
    arms : tuple of str
        Arm names.

    Returns
    -------
    B : ndarray (M, p, T)
    Sigma : ndarray (M, T, T)

    Raises
    ------
    AnalysisError
        An arm not observed at a visit; a visit with no more observed subjects than model terms;
        fewer residual df (n − p) than visits (the inverse-Wishart draw needs n − p ≥ T).
    """
    n, p = x.shape
    t = y.shape[1]
    df = n - p
    if df < t:
        raise AnalysisError(
            f"{n} subjects for {p} model terms and {t} visits: the imputation model needs n − p ≥ {t}.",
            term="(model)",
        )
    b0, s0 = _start(x, y, visits, arm, arms)
    gram_inv = np.linalg.inv(x.T @ x)
    root = np.linalg.cholesky(gram_inv)  # root root' = (X'X)⁻¹

    # complete subjects contribute constants to X'Y and Y'Y: only the incomplete rows change per iteration
    seen = ~np.isnan(y).any(axis=1)
    xty_done = x[seen].T @ y[seen]
    yty_done = y[seen].T @ y[seen]
    x_inc, y_inc = x[~seen], y[~seen]
    groups = group_by_pattern(y_inc)
    n_inc = y_inc.shape[0]

    b = np.broadcast_to(b0, (draws, p, t)).copy()
    sigma = np.broadcast_to(s0, (draws, t, t)).copy()
    for _ in range(burn_in):
        # I-step: the missing values under MAR given this iteration's parameters
        filled = complete(y_inc, x_inc @ b, sigma, rng.standard_normal((draws, n_inc, t)), groups)
        # P-step: (B, Σ) given the completed data
        xty = xty_done + _cross(x_inc, filled)
        yty = yty_done + np.swapaxes(filled, -1, -2) @ filled
        b_hat = gram_inv @ xty
        # S = Y'Y − B̂' X'X B̂ = Y'Y − B̂' X'Y
        s = yty - np.swapaxes(b_hat, -1, -2) @ xty
        s = (s + np.swapaxes(s, -1, -2)) / 2
        sigma = inverse_wishart(s, float(df), rng)
        z = rng.standard_normal((draws, p, t))
        b = b_hat + root @ z @ np.swapaxes(np.linalg.cholesky(sigma), -1, -2)
    if not (np.isfinite(b).all() and np.isfinite(sigma).all()):  # pragma: no cover - a sign of a broken model
        raise AnalysisError("the imputation model's posterior draws are not finite.", term="(model)")
    return b, sigma
