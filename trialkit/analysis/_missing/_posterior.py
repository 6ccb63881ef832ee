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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit._errors import AnalysisError
from trialkit.analysis._missing._groups import Indices, group_by_pattern

__all__ = ["inverse_wishart", "posterior_draws"]

Floats = npt.NDArray[np.float64]


def _bartlett(df: float, k: int, lead: tuple[int, ...], rng: np.random.Generator) -> Floats:
    """Draw Bartlett's factor A (…, k, k) of Wishart(df, I_k): A A' ~ W; A_jj² ~ χ²(df − j), N(0, 1) below."""
    a = np.zeros((*lead, k, k))
    rows, cols = np.tril_indices(k, -1)
    a[..., rows, cols] = rng.standard_normal((*lead, rows.size))
    diag = np.arange(k)
    a[..., diag, diag] = np.sqrt(rng.chisquare(df - diag, size=(*lead, k)))
    return a


def inverse_wishart(scale: Floats, df: float, rng: np.random.Generator) -> Floats:
    """Draw Σ ~ Inverse-Wishart(``scale``, ``df``) for each matrix of ``scale`` (…, T, T), by Bartlett's decomposition.

    Σ⁻¹ ~ Wishart(scale⁻¹, df): with scale = C C' and the Bartlett factor A (lower triangular,
    A_jj² ~ χ²(df − j) for j = 0 … T − 1, A_jk ~ N(0, 1) below the diagonal), Σ⁻¹ = C'⁻¹ A A' C⁻¹,
    so Σ = K K' with K = C A'⁻¹. E[Σ] = scale / (df − T − 1).
    """
    c = np.linalg.cholesky(scale)
    a = _bartlett(df, scale.shape[-1], scale.shape[:-2], rng)
    # K = C A'^{-1}: solve K A' = C, i.e. A K' = C'
    k = np.swapaxes(np.linalg.solve(a, np.swapaxes(c, -1, -2)), -1, -2)
    out: Floats = k @ np.swapaxes(k, -1, -2)
    return out


def _start(x: Floats, y: Floats, visits: tuple[str, ...]) -> tuple[Floats, Floats]:
    """Return starting values: B by least squares per visit on the subjects observed there, Σ diagonal.

    The caller has checked that the model is identified at every visit (every arm observed, the
    terms estimable from the subjects observed there).
    """
    n, p = x.shape
    t = y.shape[1]
    b = np.zeros((p, t))
    var = np.zeros(t)
    for j in range(t):
        seen = ~np.isnan(y[:, j])
        coef, *_ = np.linalg.lstsq(x[seen], y[seen, j], rcond=None)
        b[:, j] = coef
        r = y[seen, j] - x[seen] @ coef
        var[j] = float(r @ r) / (seen.sum() - p)
    if not (var > 0).all():
        j = int(np.argmin(var))
        raise AnalysisError(f"the values observed at visit {visits[j]!r} are fitted exactly.", term=visits[j])
    return b, np.diag(var)


@dataclass(frozen=True)
class _Block:
    """One missingness pattern: its design A = [x, observed values], reduced to what the I-step needs.

    With A = U C (U orthonormal, n_g x r; C = r x q, r = rank A) the statistics of the imputed
    values depend on the pattern's rows only through A'A and C, whatever their number.
    """

    gram: Floats  # (q, q): A'A
    root_t: Floats  # (q, r): C'
    spare: int  # n_g − r: the residual degrees of freedom of the pattern's rows
    p: int  # the columns of A that are x
    o: slice | Indices
    m: slice | Indices
    n_observed: int


def _bartlett_gram(df: int, k: int, draws: int, rng: np.random.Generator) -> Floats:
    """Draw Z'Z for Z (df x k) standard normal, M times: Wishart(df, I_k), by Bartlett's factor when df ≥ k."""
    if df >= k:
        a = _bartlett(df, k, (draws,), rng)
        out: Floats = a @ np.swapaxes(a, -1, -2)
        return out
    z = rng.standard_normal((draws, df, k))
    small: Floats = np.swapaxes(z, -1, -2) @ z
    return small


class _Statistics:
    """X'Y and Y'Y of the completed data, for M chains: the constants of the observed values, once.

    The I-step's missing values of a pattern are Y_m = A W + Z L' with A = [x, y_o] the pattern's
    rows, W = [B_m − B_o Σ_oo⁻¹Σ_om; Σ_oo⁻¹Σ_om] the conditional mean's coefficients, L the Cholesky
    factor of the conditional covariance and Z standard normal. The P-step needs only
    A'Y_m = A'A W + A'Z L' and Y_m'Y_m = W'A'A W + W'A'Z L' + L Z'A W + L Z'Z L'. With A = U C,
    A'Z = C'G for G = U'Z (r x k standard normal) and Z'Z = G'G + V with V ~ Wishart(n_g − r, I_k)
    independent of G (Cochran's theorem): the same joint distribution as imputing every value,
    drawn with O(rk + k²) random numbers per chain instead of n_g k.
    """

    def __init__(self, x: Floats, y: Floats) -> None:
        seen = ~np.isnan(y)
        filled = np.where(seen, y, 0.0)
        # the observed values' share of X'Y and Y'Y is the same at every iteration
        self.xty = x.T @ filled
        self.yty = filled.T @ filled
        self.blocks = []
        for g in group_by_pattern(y).incomplete:
            _, o, m = g.cells
            a = np.column_stack([x[g.rows], y[g.rows][:, o]])
            _, sv, vt = np.linalg.svd(a, full_matrices=False)
            rank = int((sv > sv[0] * 1e-12 * max(a.shape)).sum()) if sv.size else 0
            self.blocks.append(
                _Block(
                    gram=a.T @ a,
                    root_t=np.ascontiguousarray((sv[:rank, None] * vt[:rank]).T),
                    spare=a.shape[0] - rank,
                    p=x.shape[1],
                    o=o,
                    m=m,
                    n_observed=g.observed.size,
                )
            )

    def draw(self, b: Floats, sigma: Floats, rng: np.random.Generator) -> tuple[Floats, Floats]:
        """Impute every missing value under MAR given (B, Σ) of each chain; return X'Y (M, p, T) and Y'Y (M, T, T)."""
        draws, p, t = b.shape
        xty = np.broadcast_to(self.xty, (draws, p, t)).copy()
        yty = np.broadcast_to(self.yty, (draws, t, t)).copy()
        for blk in self.blocks:
            o, m = blk.o, blk.m
            s_mm = sigma[:, m][:, :, m]
            b_m = b[:, :, m]
            if blk.n_observed:
                s_om = sigma[:, o][:, :, m]
                coef = np.linalg.solve(sigma[:, o][:, :, o], s_om)  # (M, o, m)
                weights = np.concatenate([b_m - b[:, :, o] @ coef, coef], axis=1)  # (M, q, m)
                cov = s_mm - np.swapaxes(s_om, -1, -2) @ coef
            else:
                weights, cov = b_m, s_mm
            k = weights.shape[2]
            chol_t = np.swapaxes(np.linalg.cholesky(cov), -1, -2)  # L'
            g = rng.standard_normal((draws, blk.root_t.shape[1], k))  # U'Z
            zz = np.swapaxes(g, -1, -2) @ g
            if blk.spare:
                zz += _bartlett_gram(blk.spare, k, draws, rng)
            noise = (blk.root_t @ g) @ chol_t  # A'Z L' (M, q, m)
            a_ym = blk.gram @ weights + noise  # A'Y_m
            ym_ym = np.swapaxes(weights, -1, -2) @ a_ym + np.swapaxes(noise, -1, -2) @ weights
            ym_ym += np.swapaxes(chol_t, -1, -2) @ zz @ chol_t
            ym_ym = (ym_ym + np.swapaxes(ym_ym, -1, -2)) / 2
            _add(xty, (slice(None), m), a_ym[:, :p])
            _add(yty, (m, m), ym_ym)
            if blk.n_observed:
                _add(yty, (o, m), a_ym[:, p:])
                _add(yty, (m, o), np.swapaxes(a_ym[:, p:], -1, -2))
        return xty, yty


def _add(target: Floats, where: tuple[slice | Indices, slice | Indices], values: Floats) -> None:
    """Add ``values`` (M, r, c) into the (rows, columns) block of every chain's matrix in ``target``."""
    rows, cols = where
    if isinstance(rows, slice) and isinstance(cols, slice):
        target[:, rows, cols] += values
    else:
        r = np.arange(target.shape[1])[rows]
        c = np.arange(target.shape[2])[cols]
        target[:, r[:, None], c[None, :]] += values


def posterior_draws(
    x: Floats,
    y: Floats,
    *,
    draws: int,
    burn_in: int,
    rng: np.random.Generator,
    visits: tuple[str, ...],
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

    Returns
    -------
    B : ndarray (M, p, T)
    Sigma : ndarray (M, T, T)

    Raises
    ------
    AnalysisError
        Fewer residual df (n − p) than visits (the inverse-Wishart draw needs n − p ≥ T); values
        fitted exactly at a visit. Whether the data identify the model at every visit (every arm
        observed, the terms estimable, every two visits observed together) the caller checks
        first (:func:`trialkit.analysis._missing._mi.impute_arrays`).
    """
    n, p = x.shape
    t = y.shape[1]
    df = n - p
    if df < t:
        raise AnalysisError(
            f"{n} subjects for {p} model terms and {t} visits: the imputation model needs n − p ≥ {t}.",
            term="(model)",
        )
    b0, s0 = _start(x, y, visits)
    gram_inv = np.linalg.inv(x.T @ x)
    root = np.linalg.cholesky(gram_inv)  # root root' = (X'X)⁻¹

    statistics = _Statistics(x, y)
    b = np.broadcast_to(b0, (draws, p, t)).copy()
    sigma = np.broadcast_to(s0, (draws, t, t)).copy()
    for _ in range(burn_in):
        # I-step (the missing values under MAR given this iteration's parameters), as the statistics
        # of the P-step need them: X'Y and Y'Y of the completed data
        xty, yty = statistics.draw(b, sigma, rng)
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
