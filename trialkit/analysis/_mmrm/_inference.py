"""Covariance of β̂ and degrees of freedom for linear combinations l'β of an MMRM.

- Model-based: Φ = (X'V̂⁻¹X)⁻¹.
- Satterthwaite (SAS ``DDFM=SATTERTHWAITE``): ν = 2 (l'Φl)² / (g'Wg), g_h = ∂(l'Φl)/∂φ_h
  = −l'Φ P_h Φ l with P_h = X' ∂V⁻¹/∂φ_h X, and W = 2 H⁻¹ the covariance of the covariance
  parameters from the Hessian H of −2 log L (observed information, as SAS and R ``mmrm``).
- Kenward–Roger (Kenward & Roger 1997; SAS ``DDFM=KR``): Φ_A = Φ + 2Φ{Σ_hj W_hj (Q_hj − P_h Φ P_j
  − R_hj/4)}Φ with Q_hj = X' ∂V⁻¹/∂φ_h V ∂V⁻¹/∂φ_j X and R_hj = X'V⁻¹ ∂²V/∂φ_h∂φ_j V⁻¹X, in
  SAS's natural parameters (so R vanishes for ``us``, ``cs`` and ``toep``); for one contrast its
  degrees of freedom reduce to Satterthwaite's on the unadjusted Φ.
- Residual: N − rank(X). Between–within (Schluchter & Elashoff 1990, as R ``mmrm``): a
  coefficient of a between-subject column has n_subjects − 1 − p_between, the intercept and the
  within-subject columns N − n_subjects − p_within; a combination takes the smallest.
- Empirical (sandwich, SAS ``EMPIRICAL``): Φ (Σ_i X_i'V_i⁻¹ r_i r_i' V_i⁻¹ X_i) Φ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit.analysis._mmrm._design import Design
from trialkit.analysis._mmrm._likelihood import Statistics, acting, contract
from trialkit.analysis._mmrm._optimise import Objective, Optimum

Array = npt.NDArray[np.float64]

#: Which information matrix gives W, the covariance of the covariance parameters: "observed" (the
#: Hessian, as SAS and R mmrm) or "expected" (as R pbkrtest, whose Kenward-Roger results the
#: tests reproduce with it to 1e-8).
INFORMATION = "observed"


@dataclass(frozen=True)
class Inference:
    """What the tables need: a covariance of β̂ and a df rule for any set of contrasts."""

    beta: Array
    covariance: Array
    phi: Array
    phi_covariance: Array
    df_method: str
    p_derivatives: Array  # (m, p, p): P_h
    model_covariance: Array
    between_df: float
    within_df: float
    between: npt.NDArray[np.bool_]
    residual_df: float

    def df(self, contrasts: Array) -> Array:
        """Degrees of freedom of each row ``l`` of ``contrasts`` (n, p)."""
        if self.df_method == "residual":
            return np.full(len(contrasts), self.residual_df)
        if self.df_method == "between_within":
            per_column = np.where(self.between, self.between_df, self.within_df)
            per_column[0] = self.within_df  # the intercept: within-subject level
            used = np.abs(contrasts) > 0
            smallest: Array = np.where(used, per_column[None, :], np.inf).min(axis=1)
            return smallest
        phi_l = self.model_covariance @ contrasts.T  # (p, n)
        var = np.einsum("pn,pn->n", contrasts.T, phi_l)
        g = -np.einsum("pn,mpq,qn->nm", phi_l, self.p_derivatives, phi_l)
        denominator = np.einsum("nm,mk,nk->n", g, self.phi_covariance, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: Array = np.asarray(2 * var**2 / denominator, dtype=np.float64)
        return out


def _derivatives(
    objective: Objective, optimum: Optimum, stats: Statistics
) -> tuple[Array, Array, Array, list[Array], list[int]]:
    """φ̂, W (covariance of φ̂), P_h (m, p, p), dΣ/dφ per parameter, and each parameter's group."""
    phis, jacobians, d_sigma, groups = [], [], [], []
    for g, (s, sl) in enumerate(zip(objective.structures, objective.slices, strict=True)):
        phi = s.phi(optimum.theta[sl])
        phis.append(phi)
        jacobians.append(s.phi_jacobian(optimum.theta[sl]))
        for d in s.dsigma_dphi(phi):
            d_sigma.append(d)
            groups.append(g)
    m = len(groups)
    jac = np.zeros((m, m))
    for sl, j in zip(objective.slices, jacobians, strict=True):
        jac[sl, sl] = j
    if INFORMATION == "expected":
        information = objective.curvature(optimum.theta, observed=False)[2]
    else:
        information = optimum.hessian
    w_theta = 2 * np.linalg.inv(information)
    w_phi = jac.T @ w_theta @ jac  # delta method: rows of jac are dφ/dθ_i
    s_inv = optimum.evaluation.s_inv[None]
    p_h = -contract(stats, s_inv @ acting(stats, np.stack(d_sigma), np.array(groups)) @ s_inv)
    return np.concatenate(phis), w_phi, p_h, d_sigma, groups


def kenward_roger_covariance(
    objective: Objective,
    optimum: Optimum,
    stats: Statistics,
    w: Array,
    p_h: Array,
    d_sigma: list[Array],
    groups: list[int],
) -> Array:
    """Kenward–Roger's adjusted covariance Φ_A of β̂."""
    phi_cov = optimum.evaluation.a_inv
    s_inv = optimum.evaluation.s_inv
    nb, k = s_inv.shape[0], stats.k
    group_of = np.array(groups)
    # Σ_hj W_hj P_h Φ P_j
    p_w = np.einsum("hj,jpq->hpq", w, p_h)
    ppp = np.einsum("hpq,qr,hrs->ps", p_h, phi_cov, p_w)
    # Σ_hj W_hj Q_hj = Σ_b <Σ_h F_h,b (Σ_j W_hj D_j,b) S⁻¹_b, T_b>, D_j,b zero unless j is in b's group
    d = np.stack(d_sigma)
    total = np.zeros((nb, k, k))
    for g, (s, sl) in enumerate(zip(objective.structures, objective.slices, strict=True)):
        mine = stats.group == g
        if not mine.any():
            continue
        in_g = np.flatnonzero(group_of == g)
        w_g = w[np.ix_(in_g, in_g)]
        dw = np.einsum("hj,jkl->hkl", w_g, d[in_g])  # Σ_j W_hj D_j within the group
        sb = s_inv[mine]
        fb = np.einsum("bkl,hlm,bmn->hbkn", sb, d[in_g], sb)  # F_h,b = S⁻¹ D_h S⁻¹
        total[mine] = np.einsum("hbkl,hlm,bmn->bkn", fb, dw, sb)
        if not s.linear:
            phi = s.phi(optimum.theta[sl])
            second = np.einsum("hj,hjkl->kl", w_g, s.d2sigma_dphi2(phi))
            total[mine] -= 0.25 * sb @ second @ sb
    q_r = contract(stats, total)
    adjusted = phi_cov + 2 * phi_cov @ (q_r - ppp) @ phi_cov
    return np.asarray(0.5 * (adjusted + adjusted.T), dtype=np.float64)


def empirical_covariance(design: Design, optimum: Optimum, stats: Statistics) -> Array:
    """Return the sandwich covariance of β̂ over subjects (SAS ``EMPIRICAL``, R clubSandwich CR0)."""
    phi_cov = optimum.evaluation.a_inv
    beta = optimum.evaluation.beta
    s_inv = optimum.evaluation.s_inv
    meat = np.zeros((stats.p, stats.p))
    for b, block in enumerate(design.blocks):
        sub = s_inv[b][np.ix_(block.visits, block.visits)]
        resid = block.y - block.x @ beta  # (n, k_b)
        score = np.einsum("nkp,kl,nl->np", block.x, sub, resid)
        meat += score.T @ score
    return np.asarray(phi_cov @ meat @ phi_cov, dtype=np.float64)


def inference(
    design: Design, objective: Objective, optimum: Optimum, stats: Statistics, *, df_method: str, empirical: bool
) -> Inference:
    """Return the covariance of β̂ and the df rule chosen."""
    phi_cov = optimum.evaluation.a_inv
    phi, w, p_h, d_sigma, groups = _derivatives(objective, optimum, stats)
    covariance = phi_cov
    if df_method == "kenward_roger":
        covariance = kenward_roger_covariance(objective, optimum, stats, w, p_h, d_sigma, groups)
    if empirical:
        covariance = empirical_covariance(design, optimum, stats)
    n_obs, n_subjects, p = design.n_observations, design.n_subjects, stats.p
    between = design.between.copy()
    p_between = int(between[1:].sum())
    p_within = p - 1 - p_between
    return Inference(
        beta=optimum.evaluation.beta,
        covariance=covariance,
        phi=phi,
        phi_covariance=w,
        df_method=df_method,
        p_derivatives=p_h,
        model_covariance=phi_cov,
        between_df=float(n_subjects - 1 - p_between),
        within_df=float(n_obs - n_subjects - p_within),
        between=between,
        residual_df=float(n_obs - p),
    )
