"""The REML / ML likelihood of an MMRM and its gradient with respect to Σ, from sufficient statistics.

For a block of subjects sharing a covariance submatrix S (same group, same observed visits)
every quantity the likelihood needs is linear in S⁻¹:

    Σ_i X_i' S⁻¹ X_i = Σ_ac S⁻¹[a,c] T[a,c],   T[a,c] = Σ_i x_ia x_ic'   (p x p)
    Σ_i X_i' S⁻¹ y_i = Σ_ac S⁻¹[a,c] U[a,c],   U[a,c] = Σ_i x_ia y_ic
    Σ_i y_i' S⁻¹ y_i = Σ_ac S⁻¹[a,c] Y[a,c],   Y[a,c] = Σ_i y_ia y_ic

so T, U and Y are summed once, and one evaluation costs O(blocks x k² x p²) whatever the number
of subjects. With β̂ = A⁻¹b (A = X'V⁻¹X, b = X'V⁻¹y) profiled out, the objective is

    -2 l_REML = (N - p) log 2π + Σ_b n_b log|S_b| + log|A| + y'V⁻¹y - b'β̂     (SAS's convention)
    -2 l_ML   =  N      log 2π + Σ_b n_b log|S_b|          + y'V⁻¹y - b'β̂

and its derivative along a symmetric dΣ is tr(G dΣ) with, per block (S⁻¹ embedded in k x k),

    G_b = n_b S⁻¹ - S⁻¹ (Σ_i r_i r_i') S⁻¹ - [REML] S⁻¹ (Σ_i X_i A⁻¹ X_i') S⁻¹.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit.analysis._mmrm._design import Design

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Statistics:
    """Sufficient statistics of the blocks, embedded in the full ``k x k`` visit grid.

    Attributes
    ----------
    t : ndarray (B, k*k, p*p)
    u : ndarray (B, k*k, p)
    yy : ndarray (B, k*k)
    n : ndarray (B,)
        Subjects per block.
    group : ndarray (B,)
    mask : ndarray (B, k, k)
        1 where both visits are observed in the block.
    pad : ndarray (B, k, k)
        The identity at the block's unobserved visits.
    """

    t: Array
    u: Array
    yy: Array
    n: Array
    group: IntArray
    mask: Array
    pad: Array
    k: int
    p: int
    n_obs: int


@dataclass(frozen=True)
class Evaluation:
    """The objective (−2 log-likelihood) at one Σ, with what inference needs.

    Attributes
    ----------
    value : float
        −2 log-likelihood (REML or ML).
    beta : ndarray (p,)
        Generalised least squares estimate.
    a, a_inv : ndarray (p, p)
        X'V⁻¹X and its inverse, the model-based covariance of β̂.
    s_inv : ndarray (B, k, k)
        Each block's S⁻¹ embedded in the visit grid (zeros at unobserved visits).
    gradient : tuple of ndarray (k, k)
        d(−2l)/dΣ_g for each covariance group.
    residual, tau : ndarray (B, k, k)
        Per block Σ_i r_i r_i' and Σ_i X_i A⁻¹ X_i' (REML only), for :func:`curvature`.
    """

    value: float
    beta: Array
    a: Array
    a_inv: Array
    s_inv: Array
    gradient: tuple[Array, ...]
    residual: Array
    tau: Array


def statistics(design: Design) -> Statistics:
    """Sum the blocks' sufficient statistics once."""
    k, p = len(design.visits), design.x.shape[1]
    nb = len(design.blocks)
    t = np.zeros((nb, k, k, p, p))
    u = np.zeros((nb, k, k, p))
    yy = np.zeros((nb, k, k))
    observed = np.zeros((nb, k))
    for i, block in enumerate(design.blocks):
        ix = np.ix_(block.visits, block.visits)
        t[i][ix] = np.einsum("nap,ncq->acpq", block.x, block.x)
        u[i][ix] = np.einsum("nap,nc->acp", block.x, block.y)
        yy[i][ix] = block.y.T @ block.y
        observed[i, block.visits] = 1.0
    return Statistics(
        t=t.reshape(nb, k * k, p * p),
        u=u.reshape(nb, k * k, p),
        yy=yy.reshape(nb, k * k),
        n=np.array([len(b.subjects) for b in design.blocks], dtype=np.float64),
        group=np.array([b.group for b in design.blocks], dtype=np.intp),
        mask=observed[:, :, None] * observed[:, None, :],
        pad=(1 - observed)[:, :, None] * np.eye(k),
        k=k,
        p=p,
        n_obs=design.n_observations,
    )


def contract(stats: Statistics, blocks: Array) -> Array:
    """Σ_b Σ_ac M_b[a,c] T_b[a,c] for block matrices ``blocks`` (..., B, k, k): X'(·)X summed over subjects."""
    lead = blocks.shape[:-3]
    nb, k, p = len(stats.n), stats.k, stats.p
    flat = blocks.reshape(*lead, nb * k * k)
    return np.asarray(flat @ stats.t.reshape(nb * k * k, p * p), dtype=np.float64).reshape(*lead, p, p)


def acting(stats: Statistics, d_sigma: Array, groups: IntArray) -> Array:
    """dΣ/dθ_i on every block where parameter i acts (its covariance group), zero elsewhere: (m, B, k, k)."""
    belongs = (stats.group[None, :] == groups[:, None]).astype(np.float64)
    return np.asarray(d_sigma[:, None] * belongs[:, :, None, None], dtype=np.float64)


def block_inverses(stats: Statistics, sigmas: list[Array]) -> tuple[Array, Array] | None:
    """Each block's S⁻¹ embedded in the visit grid, and log|S|; None when an S is not positive definite.

    Each block's S is padded to ``k x k`` with the identity at its unobserved visits, so that one
    batched factorisation serves every block: the padded inverse is S⁻¹ on the observed visits
    (the identity, masked out, elsewhere) and the padded log-determinant is log|S|.
    """
    stacked = np.stack(sigmas)[stats.group]
    padded = stacked * stats.mask + stats.pad
    try:
        chol = np.linalg.cholesky(padded)
    except np.linalg.LinAlgError:
        return None
    diag = np.diagonal(chol, axis1=1, axis2=2)
    if not np.all(diag > 0):
        return None
    inv_chol = np.linalg.inv(chol)
    s_inv = (np.swapaxes(inv_chol, 1, 2) @ inv_chol) * stats.mask
    return s_inv, 2 * np.log(diag).sum(axis=1)


def evaluate(stats: Statistics, sigmas: list[Array], *, reml: bool, gradient: bool = True) -> Evaluation | None:
    """Return the −2 log-likelihood at the groups' Σ (and its gradient); None outside the parameter space."""
    inverses = block_inverses(stats, sigmas)
    if inverses is None:
        return None
    s_inv, logdet = inverses
    p, k, nb = stats.p, stats.k, len(stats.n)
    flat = s_inv.reshape(nb, k * k)
    a = contract(stats, s_inv)
    b = flat.ravel() @ stats.u.reshape(nb * k * k, p)
    yy = float(flat.ravel() @ stats.yy.ravel())
    try:
        chol_a = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    a_inv = np.asarray(np.linalg.inv(a), dtype=np.float64)
    beta = a_inv @ b
    quad = yy - float(b @ beta)
    logdet_v = float(stats.n @ logdet)
    if reml:
        value = (stats.n_obs - p) * math.log(2 * math.pi) + logdet_v + 2 * float(np.log(np.diag(chol_a)).sum()) + quad
    else:
        value = stats.n_obs * math.log(2 * math.pi) + logdet_v + quad
    grads: tuple[Array, ...] = ()
    residual: Array = np.zeros(0)
    tau: Array = np.zeros(0)
    if gradient:
        # Σ_i r_i r_i' per block, from the statistics: Y - Uβ - (Uβ)' + β'Tβ
        u_beta = (stats.u @ beta).reshape(nb, k, k)
        t_beta = (stats.t.reshape(nb * k * k, p, p) @ beta) @ beta
        residual = stats.yy.reshape(nb, k, k) - u_beta - np.swapaxes(u_beta, 1, 2) + t_beta.reshape(nb, k, k)
        inner = residual
        if reml:
            tau = (stats.t @ a_inv.ravel()).reshape(nb, k, k)  # Σ_i X_i A⁻¹ X_i'
            inner = residual + tau
        g = stats.n[:, None, None] * s_inv - s_inv @ inner @ s_inv
        grads = tuple(g[stats.group == j].sum(axis=0) for j in range(len(sigmas)))
    return Evaluation(value=value, beta=beta, a=a, a_inv=a_inv, s_inv=s_inv, gradient=grads, residual=residual, tau=tau)


def curvature(
    stats: Statistics,
    ev: Evaluation,
    d_sigma: Array,
    groups: IntArray,
    d2_sigma: list[Array] | None,
    *,
    reml: bool,
) -> Array:
    """Second derivatives of −2 log L over the covariance parameters (profiled over β).

    With ``d_sigma`` the derivatives dΣ/dθ_i (m, k, k) of parameter i of covariance group
    ``groups[i]``, P the REML projection (V⁻¹ for ML) and s = V⁻¹r:

    - expected (``d2_sigma`` None): tr(P D_i P D_j), the Fisher information of Fisher scoring;
    - observed: tr(P D_ij) − s'D_ij s − tr(P D_i P D_j) + 2 s'D_i P D_j s, with ``d2_sigma`` one
      array (m_g, m_g, k, k) of d²Σ_g/dθ_i dθ_j per group.

    Every term is a contraction of the blocks' statistics, as in :func:`evaluate`.
    """
    s_inv, a_inv = ev.s_inv, ev.a_inv
    nb, k, p = s_inv.shape[0], stats.k, stats.p
    m = len(groups)
    dm = acting(stats, d_sigma, groups)
    f = s_inv[None] @ dm @ s_inv[None]  # S⁻¹ D_i S⁻¹ (m, B, k, k)
    hess = np.einsum("ibkl,jblk,b->ij", f, dm, stats.n, optimize=True)
    if reml:
        ap = a_inv[None] @ contract(stats, f)  # A⁻¹ X'V⁻¹D_iV⁻¹X
        q = np.einsum("ibkl,jblm,bmn,bkn->ij", f, dm, s_inv, ev.tau, optimize=True)  # tr(A⁻¹ Q_ij)
        hess = hess - 2 * q + np.einsum("ipq,jqp->ij", ap, ap, optimize=True)
    if d2_sigma is None:
        return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)
    # 2 s'D_i P D_j s = 2 [Σ_b tr(D_i S⁻¹ D_j K_b) − u_i'A⁻¹u_j], K_b = S⁻¹ R_b S⁻¹, u_i = X'V⁻¹D_i s
    kb = s_inv @ ev.residual @ s_inv
    ydk = s_inv[None] @ dm @ kb[None]
    quad = np.einsum("ibnk,jbkn->ij", dm, ydk, optimize=True)
    z = stats.u.reshape(nb, k, k, p) - (stats.t.reshape(nb, k, k, p, p) @ ev.beta)  # Σ_n x_na r_nc
    u = f.reshape(m, nb * k * k) @ z.reshape(nb * k * k, p)
    quad = quad - u @ a_inv @ u.T
    first = np.zeros((m, m))
    for g, d2 in enumerate(d2_sigma):
        idx = np.flatnonzero(groups == g)
        first[np.ix_(idx, idx)] = np.einsum("ijkl,kl->ij", d2, ev.gradient[g])
    out = first - hess + 2 * quad
    return np.asarray(0.5 * (out + out.T), dtype=np.float64)
