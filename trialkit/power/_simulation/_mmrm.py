r"""MMRM, every replicate at once: the arm effect at the primary visit, REML with unstructured covariance.

The model is the one ``trialkit analyze`` fits with :func:`trialkit.mmrm` (``[analysis] mmrm``
with its defaults): the responses are the post-baseline visits, the mean is visit + arm +
arm x visit + baseline (a common baseline slope; ``baseline_by_visit=True`` of :func:`mmrm_tests`
gives each visit its own), the residual covariance between post-baseline visits is unstructured
and estimated by REML, and every subject with a post-baseline value enters with every value it
has. Each arm is compared with control at the primary visit by estimate / SE on Satterthwaite's
degrees of freedom (SAS ``DDFM=SATTERTHWAITE``, the default of ``analyze``).

Dropout is monotone, so subjects fall into at most V' patterns (observed at the first m
post-baseline visits, m = 1..V') and the REML log-likelihood of a replicate depends on the data
only through, per pattern, the cross-products :math:`C_m[j,k] = \sum_i z_{ij} z_{ik}'` of the rows
:math:`z_{ij} = (x_{ij}, y_{ij})` of the design and the response. With :math:`W_m = \Sigma_m^{-1}`
and :math:`K(G) = \sum_m \sum_{jk} G_m[j,k]\, C_m[j,k]` for per-pattern matrices G,

.. math:: M = K(W) = \begin{pmatrix} X'V^{-1}X & X'V^{-1}y \\ \cdot & y'V^{-1}y \end{pmatrix}, \quad
          A_r = K(W E_r W), \quad \hat\beta = F^{-1} X'V^{-1}y, \quad F = X'V^{-1}X,

.. math:: -2 l_R = \sum_m n_m \log|\Sigma_m| + \log|F| + u'Mu + \text{const}, \quad u = (-\hat\beta, 1),

with :math:`E_r = \partial\Sigma/\partial\sigma_r` for each unique element :math:`\sigma_r` of
:math:`\Sigma`. Its gradient is :math:`\operatorname{tr}(V^{-1}V_r) - \operatorname{tr}(F^{-1}A_{r,xx})
- u'A_r u` and its observed Hessian :math:`-\operatorname{tr}(PV_rPV_s) + 2\,y'PV_rPV_sPy`, both from
the same statistics. Newton's method (Fisher scoring where the observed Hessian is not positive
definite, with step halving) runs for all replicates at once until the Newton decrement
:math:`g'H^{-1}g` is below 1e-18 (or stops falling below 1e-6: rounding), from two starts: the
factored-likelihood estimate of monotone data (each visit regressed on the covariates and the
earlier visits) and :func:`trialkit.mmrm`'s start (the pairwise covariance of OLS residuals,
eigenvalues floored at 1e-3 of the largest); each replicate keeps the higher likelihood, since
with few subjects the REML likelihood can have two local maxima. Then
:math:`\operatorname{Cov}(\hat\beta) = F^{-1}` and, for the arm coefficient :math:`l'\beta`, Satterthwaite's
:math:`\nu = 2 (l'F^{-1}l)^2 / (g'Wg)` with :math:`g_r = l'F^{-1}A_{r,xx}F^{-1}l` and
:math:`W = 2H^{-1}`. The Satterthwaite df does not depend on how Σ is parametrised at the optimum,
so it is the df of :func:`trialkit.mmrm`, which works on a log-Cholesky factor.

A replicate fails (for every comparison) as :func:`trialkit.mmrm` does: when an arm has no
subject at a post-baseline visit, when Newton does not converge in 100 iterations, or when Σ, F
or the Hessian is not positive definite at the optimum (a covariance on its boundary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import stdtr

from trialkit.power._simulation._batch import Batch, Outcome

__all__ = ["MMRMTests", "mmrm", "mmrm_tests"]

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

#: Newton iterations allowed per replicate
MAX_ITERATIONS = 100
#: the Newton decrement g'H⁻¹g (in units of −2 log L) below which a replicate has converged: about
#: 1e-10 relative in Σ̂ (a decrement d leaves an error of sqrt(d / n) relative)
DECREMENT_TOLERANCE = 1e-18
#: a decrement below this that stops falling has reached rounding (an ill-conditioned Σ̂): converged
#: too, within 1e-6 of the maximum of −2 log L (tk.mmrm accepts a gradient of 1e-4)
ROUNDING_DECREMENT = 1e-6
#: step halvings tried before a replicate is declared not converging
MAX_HALVINGS = 30
#: floats of the per-pattern statistics held at once; replicates are fitted in slices under it
_BUDGET = 2**24


@dataclass(frozen=True, eq=False)
class MMRMTests:
    """Per replicate and comparison: the arm effect at the primary visit and its test.

    Attributes
    ----------
    estimate, std_error, df, p_value : ndarray of float64, shape (T, k)
        Arm minus control at the primary visit, its model-based SE, Satterthwaite df and two-sided
        p-value (NaN where failed).
    failed : ndarray of bool, shape (T, k)
        The fit failed (too few subjects, no convergence, a covariance that is not positive definite).
    iterations : ndarray of int, shape (T,)
        Newton iterations used (from both starts).
    """

    estimate: Array
    std_error: Array
    df: Array
    p_value: Array
    failed: Mask
    iterations: npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class _Stats:
    r"""Sufficient statistics of a slice of replicates, per pattern m = 1..V' (observed at the first m visits).

    The row of subject i at visit j is :math:`z_{ij} = E_j l_{ij}`: the local row
    :math:`l_{ij} = (1, [\text{arm} = 1..k], x_{i0}, y_{ij})` placed at the global columns
    ``index[j]`` of (X, y) (the intercept and arm effects of visit j, the baseline slope, y). So
    :math:`C_m[j,k] = E_j L_m[j,k] E_k'` with the local blocks ``c[m - 1]`` of shape
    (T, m, m, L, L), L = k + 3.
    """

    c: list[Array]
    n: list[Array]
    p: int  # columns of X; P = p + 1
    k: int
    by_visit: bool

    def subset(self, rows: npt.NDArray[np.intp]) -> _Stats:
        """Return the statistics of the replicates ``rows``."""
        return _Stats([c[rows] for c in self.c], [n[rows] for n in self.n], self.p, self.k, self.by_visit)

    @property
    def index(self) -> npt.NDArray[np.intp]:
        """Return the global column of each local entry, per visit: shape (V', L)."""
        v, nc = len(self.c), self.k + 1
        out = np.empty((v, nc + 2), dtype=np.intp)
        for j in range(v):
            out[j, :nc] = np.arange(nc) * v + j
            out[j, nc] = nc * v + (j if self.by_visit else 0)
            out[j, nc + 1] = self.p
        return out

    def contract(self, gs: list[Array]) -> Array:
        r"""Return :math:`K(G) = \sum_m \sum_{jk} G_m[j,k] C_m[j,k]` for stacks G_m (T, S, m, m), each symmetric.

        Shape (T, S, P, P). The arm and intercept columns of a visit are its own; the slope (one,
        or one per visit) and y columns are shared between visits, where the blocks add up.
        """
        v, nc = len(self.c), self.k + 1
        t, size = gs[0].shape[0], gs[0].shape[1]
        ns = v if self.by_visit else 1
        cc = np.zeros((t, size, nc, v, nc, v))
        cs = np.zeros((t, size, nc, v, ns + 1))
        ss = np.zeros((t, size, ns + 1, ns + 1))
        for m, (g, c) in enumerate(zip(gs, self.c, strict=True), start=1):
            blk = np.einsum("tsjk,tjkab->tsjakb", g, c)  # (t, S, m, L, m, L)
            cc[:, :, :, :m, :, :m] += blk[:, :, :, :nc, :, :nc].transpose(0, 1, 3, 2, 5, 4)
            cx = blk[:, :, :, :nc, :, nc].transpose(0, 1, 3, 2, 4)  # (t, S, nc, m, m): [a, j, k]
            cy = blk[:, :, :, :nc, :, nc + 1].transpose(0, 1, 3, 2, 4)
            xx, xy, yy = blk[:, :, :, nc, :, nc], blk[:, :, :, nc, :, nc + 1], blk[:, :, :, nc + 1, :, nc + 1]
            if self.by_visit:
                cs[:, :, :, :m, :m] += cx
                ss[:, :, :m, :m] += xx
                ss[:, :, :m, ns] += xy.sum(axis=3)
            else:
                cs[:, :, :, :m, 0] += cx.sum(axis=4)
                ss[:, :, 0, 0] += xx.sum(axis=(2, 3))
                ss[:, :, 0, ns] += xy.sum(axis=(2, 3))
            cs[:, :, :, :m, ns] += cy.sum(axis=4)
            ss[:, :, ns, ns] += yy.sum(axis=(2, 3))
        ss[:, :, ns, :ns] = ss[:, :, :ns, ns]
        width = self.p + 1
        out = np.empty((t, size, width, width))
        out[:, :, : nc * v, : nc * v] = cc.reshape(t, size, nc * v, nc * v)
        out[:, :, : nc * v, nc * v :] = cs.reshape(t, size, nc * v, ns + 1)
        out[:, :, nc * v :, : nc * v] = np.swapaxes(out[:, :, : nc * v, nc * v :], 2, 3)
        out[:, :, nc * v :, nc * v :] = ss
        return out


def _cholesky(a: Array) -> tuple[Array, Mask]:
    """Return lower Cholesky factors of a stack and whether each exists (the identity where not)."""
    try:
        factor = np.asarray(np.linalg.cholesky(a), dtype=np.float64)
        finite = np.asarray(np.isfinite(factor).all(axis=(-2, -1)), dtype=bool)  # NaN passes through LAPACK
        return factor, finite
    except np.linalg.LinAlgError:
        out = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
        ok = np.zeros(a.shape[0], dtype=bool)
        for i in range(a.shape[0]):
            try:
                out[i] = np.linalg.cholesky(a[i])
                ok[i] = np.isfinite(out[i]).all()
            except np.linalg.LinAlgError:
                out[i] = np.eye(a.shape[-1])
        return out, ok


def _inverse(a: Array) -> tuple[Array, Array, Mask]:
    """Return the inverse and log-determinant of stacked symmetric matrices, and whether each is positive definite."""
    chol, ok = _cholesky(a)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    eye = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    linv = np.linalg.solve(chol, eye)
    return np.swapaxes(linv, -1, -2) @ linv, logdet, ok


def _pick(z: Array, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]) -> Array:
    """Return tr(Z E_s) for every unique element s = (rows[s], cols[s]) of a symmetric matrix (last axis s)."""
    out: Array = z[..., cols, rows] + z[..., rows, cols]
    diagonal = rows == cols
    out[..., diagonal] *= 0.5
    return out


def _statistics(
    y: Array, x0: Array, arm: npt.NDArray[np.intp], count: npt.NDArray[np.intp], k: int, by_visit: bool
) -> _Stats:
    """Return the per-pattern local cross-products of a slice of replicates (see :class:`_Stats`)."""
    t, n, v = y.shape
    p = v * (1 + k) + (v if by_visit else 1)
    dummies = (arm[:, None] == np.arange(1, k + 1)[None, :]).astype(np.float64)
    d = np.concatenate(
        [np.ones((t, n, 1)), np.broadcast_to(dummies, (t, n, k)), x0[:, :, None], y], axis=2
    )  # (t, n, k + 2 + V'): the local rows of every visit at once
    local = np.empty((v, k + 3), dtype=np.intp)
    local[:, : k + 2] = np.arange(k + 2)
    local[:, k + 2] = k + 2 + np.arange(v)
    cs, ns = [], []
    for m in range(1, v + 1):
        mine = count == m  # (1 | t, n)
        if mine.shape[0] == 1:
            dk = d[:, np.flatnonzero(mine[0])]
            gram = np.swapaxes(dk, 1, 2) @ dk
            nm = np.full(t, float(mine.sum()))
        else:
            gram = np.swapaxes(d * mine[:, :, None], 1, 2) @ d
            nm = mine.sum(axis=1).astype(np.float64)
        idx = local[:m]
        cs.append(gram[:, idx[:, None, :, None], idx[None, :, None, :]])  # (t, m, m, L, L)
        ns.append(nm)
    return _Stats(cs, ns, p, k, by_visit)


def _start(y: Array, x0: Array, arm: npt.NDArray[np.intp], observed: Mask, k: int) -> tuple[Array, Mask]:
    """Return the factored-likelihood ML covariance of monotone data (each visit on covariates and earlier visits)."""
    t, n, v = y.shape
    d = np.concatenate(
        [
            np.ones((t, n, 1)),
            np.broadcast_to((arm[:, None] == np.arange(1, k + 1)[None, :]).astype(np.float64), (t, n, k)),
            x0[:, :, None],
            y,
        ],
        axis=2,
    )
    sigma = np.zeros((t, v, v))
    ok = np.ones(t, dtype=bool)
    for j in range(v):
        w = observed[:, :, j].astype(np.float64)  # (1 | t, n)
        s = np.einsum("tn,tna,tnb->tab", np.broadcast_to(w, (t, n)), d, d, optimize=True)
        c = 2 + k + j
        a_xx, a_xy, a_yy = s[:, :c, :c], s[:, :c, c], s[:, c, c]
        chol, good = _cholesky(a_xx)
        coef = np.linalg.solve(np.swapaxes(chol, 1, 2), np.linalg.solve(chol, a_xy[:, :, None]))[:, :, 0]
        used = np.broadcast_to(w.sum(axis=1), (t,))
        with np.errstate(invalid="ignore", divide="ignore"):
            tau = (a_yy - np.einsum("ta,ta->t", coef, a_xy)) / used
        ok &= good & (tau > 0) & (used >= c + 1)  # a regression with a residual df
        tau = np.where(ok, tau, 1.0)
        phi = coef[:, 2 + k :]  # (t, j): regression on the earlier visits
        prior = sigma[:, :j, :j]
        cross = np.einsum("ta,tab->tb", phi, prior)
        sigma[:, j, :j] = cross
        sigma[:, :j, j] = cross
        sigma[:, j, j] = tau + np.einsum("ta,ta->t", cross, phi)
    return sigma, ok


def _floor(sigma: Array) -> Array:
    """Raise eigenvalues below 1e-3 of the largest to it: a start that is well inside the parameter space."""
    vals, vecs = np.linalg.eigh(sigma)
    floor = 1e-3 * vals.max(axis=1, keepdims=True)
    out: Array = (vecs * np.maximum(vals, floor)[:, None, :]) @ np.swapaxes(vecs, 1, 2)
    return out


def _moment_start(stats: _Stats, v: int) -> Array:
    """Return the start of :func:`trialkit.mmrm`: the pairwise covariance of OLS residuals, eigenvalues floored.

    Pairs of visits are centred on their own means (as ``pandas.DataFrame.cov``); a pair seen in
    fewer than two subjects has covariance 0, a variance that cannot be computed the mean square
    residual; eigenvalues below 1e-3 of the largest are raised to it.
    """
    t, p = stats.c[0].shape[0], stats.p
    gram = stats.contract([np.broadcast_to(np.eye(m), (t, 1, m, m)) for m in range(1, v + 1)])[:, 0]
    chol, regular = _cholesky(gram[:, :p, :p])
    ols = np.linalg.solve(np.swapaxes(chol, 1, 2), np.linalg.solve(chol, gram[:, :p, p:]))[:, :, 0]
    for i in np.flatnonzero(~regular):  # a start only: least squares that tolerates a singular X'X
        ols[i] = np.linalg.lstsq(gram[i, :p, :p], gram[i, :p, p], rcond=None)[0]
    u = np.concatenate([-ols, np.ones((t, 1))], axis=1)
    u_local = u[:, stats.index]  # (t, V', L)
    total = np.zeros((t, v, v))  # Σ r_j r_k over subjects observed at both
    sums = np.zeros((t, v, v))  # Σ r_j over subjects observed at j and k
    count = np.zeros((t, v, v))
    for m, c in enumerate(stats.c, start=1):
        cu = np.einsum("tjkab,tkb->tjka", c, u_local[:, :m])  # Σ_i l_ij r_ik
        total[:, :m, :m] += np.einsum("tjka,tja->tjk", cu, u_local[:, :m])
        own = cu[:, np.arange(m), np.arange(m), 0]  # Σ_i r_ij (the local row starts with 1)
        sums[:, :m, :m] += own[:, :, None]
        count[:, :m, :m] += stats.n[m - 1][:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (total - sums * np.swapaxes(sums, 1, 2) / count) / (count - 1)
        square = np.trace(total, axis1=1, axis2=2) / np.trace(count, axis1=1, axis2=2)
    cov = np.where(count >= 2, cov, 0.0)
    diagonal = np.diagonal(cov, axis1=1, axis2=2)
    fill = np.where((diagonal > 0) & (np.diagonal(count, axis1=1, axis2=2) >= 2), diagonal, square[:, None])
    cov[:, np.arange(v), np.arange(v)] = fill
    return _floor(np.nan_to_num(cov))


@dataclass(frozen=True, eq=False)
class _Evaluation:
    """−2 REML log L (without its constant) and, with ``full``, what Newton and the tests need."""

    value: Array
    ok: Mask
    gradient: Array | None = None
    hessian: Array | None = None
    information: Array | None = None
    beta: Array | None = None
    phi: Array | None = None  # F⁻¹
    a_xx: Array | None = None  # (T, q, p, p)


def _evaluate(
    stats: _Stats, sigma: Array, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], full: bool
) -> _Evaluation:
    """Evaluate −2 REML log L of each replicate at ``sigma`` (T, V', V') from its statistics."""
    t, v = sigma.shape[0], sigma.shape[1]
    p = stats.p
    q = rows.size
    unit = np.zeros((q, v, v))
    unit[np.arange(q), rows, cols] = 1.0
    unit[np.arange(q), cols, rows] = 1.0
    ok = np.ones(t, dtype=bool)
    value = np.zeros(t)
    tr_we = np.zeros((t, q))
    tr_wewe = np.zeros((t, q, q))
    gs, per_pattern = [], []
    for m in range(1, v + 1):
        nm = stats.n[m - 1]
        w, logdet, good = _inverse(sigma[:, :m, :m])
        ok &= good | (nm == 0)
        value += nm * np.where(nm > 0, logdet, 0.0)
        if not full:
            gs.append(w[:, None])
            continue
        wew = np.einsum("tab,rbc,tcd->trad", w, unit[:, :m, :m], w, optimize=True)
        gs.append(np.concatenate([w[:, None], wew], axis=1))
        tr_we += nm[:, None] * _pick(_embed(w, v), rows, cols)
        tr_wewe += nm[:, None, None] * _pick(_embed(wew, v), rows, cols)
        per_pattern.append((m, stats.c[m - 1], w, wew))
    kg = stats.contract(gs)  # (t, 1 [+ q], P, P)
    mm = kg[:, 0]
    phi, logdet_f, good_f = _inverse(mm[:, :p, :p])
    ok &= good_f
    beta = np.einsum("tab,tb->ta", phi, mm[:, :p, p])
    u = np.concatenate([-beta, np.ones((t, 1))], axis=1)
    value += logdet_f + np.einsum("ta,tab,tb->t", u, mm, u, optimize=True)
    ok &= np.isfinite(value)
    if not full:
        return _Evaluation(value, ok)
    a = kg[:, 1:]
    a_xx = a[:, :, :p, :p]
    phi_a = phi[:, None] @ a_xx  # (t, q, p, p)
    au = np.einsum("trab,tb->tra", a, u)
    gradient = tr_we - np.trace(phi_a, axis1=2, axis2=3) - np.einsum("tra,ta->tr", au, u)
    # second-order terms S_rs = Σ_m Σ_jk (W E_r W E_s W)[jk] Q_m[jk] = Σ_m tr(E_s (W Q_m)(W E_r W)), for
    # Q = u'C u (the residual cross-products: r'V⁻¹V_rV⁻¹V_sV⁻¹r) and Q = tr(F⁻¹ C_xx) (tr F⁻¹X'V⁻¹V_rV⁻¹V_sV⁻¹X)
    resid_term = np.zeros((t, q, q))
    trace_term = np.zeros((t, q, q))
    index = stats.index  # (V', L): global columns of the local rows
    u_local = u[:, index]
    phi_local = phi[:, index[:, None, :-1, None], index[None, :, None, :-1]]  # (t, V', V', L-1, L-1)
    for m, c, w, wew in per_pattern:
        q_res = np.einsum("tja,tjkab,tkb->tjk", u_local[:, :m], c, u_local[:, :m], optimize=True)
        q_tr = np.einsum("tjkab,tjkab->tjk", phi_local[:, :m, :m], c[:, :, :, :-1, :-1])
        for target, qm in ((resid_term, q_res), (trace_term, q_tr)):
            target += _pick(_embed((w @ qm)[:, None] @ wew, v), rows, cols)
    tr_pvpv = tr_wewe - 2.0 * trace_term + np.einsum("trab,tsba->trs", phi_a, phi_a)
    aux = au[:, :, :p]
    quad = np.einsum("tra,tab,tsb->trs", aux, phi, aux, optimize=True)
    hessian = -tr_pvpv + 2.0 * (resid_term - quad)
    hessian = 0.5 * (hessian + np.swapaxes(hessian, 1, 2))
    information = 0.5 * (tr_pvpv + np.swapaxes(tr_pvpv, 1, 2))
    return _Evaluation(value, ok, gradient, hessian, information, beta, phi, a_xx)


def _embed(z: Array, v: int) -> Array:
    """Pad the last two axes of ``z`` (m x m) with zeros to v x v."""
    m = z.shape[-1]
    if m == v:
        return z
    out = np.zeros((*z.shape[:-2], v, v))
    out[..., :m, :m] = z
    return out


def _fit_slice(
    y: Array, x0: Array, arm: npt.NDArray[np.intp], observed: Mask, primary: int, k: int, by_visit: bool
) -> tuple[Array, Array, Array, Mask, npt.NDArray[np.intp]]:
    """Fit a slice of replicates; return estimate, variance and df per comparison, failed, iterations.

    Newton runs from two starts, the factored-likelihood estimate and :func:`trialkit.mmrm`'s, and
    each replicate keeps the higher restricted likelihood: with few subjects the likelihood can
    have several local maxima, and either start may lead to the lower one.
    """
    t, n, v = y.shape
    count = observed.sum(axis=2)  # monotone: the number of leading observed post-baseline visits
    enough = np.ones(observed.shape[0], dtype=bool)  # every arm at every visit: X of full rank
    for j in range(v):
        for a in range(k + 1):
            enough &= observed[:, arm == a, j].any(axis=1)
    enough = np.broadcast_to(enough, (t,))
    stats = _statistics(y, x0, arm, count, k, by_visit)
    factored, ok = _start(y, x0, arm, observed, k)
    moments = _moment_start(stats, v)
    # too few subjects at a visit for its regression on the earlier ones: only tk.mmrm's start
    first = _newton(stats, np.where(ok[:, None, None], factored, moments), enough & ok, primary, k)
    second = _newton(stats, moments, enough, primary, k)
    better = second[3] & (~first[3] | (second[5] < first[5]))  # converged, and higher likelihood
    estimate, variance, df = (np.where(better[:, None], s2, s1) for s1, s2 in zip(first[:3], second[:3], strict=True))
    failed = ~(first[3] | second[3])
    failed |= ~np.isfinite(df).all(axis=1) | ~(variance > 0).all(axis=1) | ~(df > 0).all(axis=1)
    return estimate, variance, df, failed, first[4] + second[4]


def _newton(
    stats: _Stats, sigma: Array, ok: Mask, primary: int, k: int
) -> tuple[Array, Array, Array, Mask, npt.NDArray[np.intp], Array]:
    """Maximise the restricted likelihood from ``sigma`` where ``ok``.

    Returns estimate, variance and df per comparison, converged, iterations, and −2 l_R at the optimum.
    """
    sigma = sigma.copy()
    t, v = sigma.shape[0], sigma.shape[1]
    value = np.full(t, np.inf)
    rows, cols = np.triu_indices(v)
    columns = [v * a + primary for a in range(1, k + 1)]
    estimate = np.full((t, k), np.nan)
    variance = np.full((t, k), np.nan)
    df = np.full((t, k), np.nan)
    iterations = np.zeros(t, dtype=np.intp)
    active = np.flatnonzero(ok)
    failed = ~ok
    last = np.full(t, np.inf)  # the previous Newton decrement
    for _ in range(MAX_ITERATIONS):
        if active.size == 0:
            break
        sub = stats.subset(active)
        ev = _evaluate(sub, sigma[active], rows, cols, full=True)
        assert ev.gradient is not None and ev.hessian is not None and ev.information is not None
        iterations[active] += 1
        failed[active[~ev.ok]] = True
        curvature = ev.hessian
        _, newton = _cholesky(curvature)
        curvature = np.where(newton[:, None, None], curvature, ev.information)
        _, scoring = _cholesky(curvature)
        usable = ev.ok & scoring
        failed[active[~usable]] = True
        safe = np.where(usable[:, None, None], curvature, np.eye(rows.size))
        step = -np.linalg.solve(safe, ev.gradient[:, :, None])[:, :, 0]
        decrement = -np.einsum("tr,tr->t", step, ev.gradient)
        stalled = (decrement < ROUNDING_DECREMENT) & (decrement >= last[active])
        last[active] = decrement
        done = usable & newton & ((decrement < DECREMENT_TOLERANCE) | stalled)
        if done.any():
            assert ev.phi is not None and ev.beta is not None and ev.a_xx is not None
            idx = np.flatnonzero(done)
            w = 2.0 * np.linalg.inv(ev.hessian[idx])
            for c_i, col in enumerate(columns):
                phi_l = ev.phi[idx, :, col]  # (d, p)
                var = phi_l[:, col]
                g = np.einsum("ta,trab,tb->tr", phi_l, ev.a_xx[idx], phi_l, optimize=True)
                value[active[idx]] = ev.value[idx]
                estimate[active[idx], c_i] = ev.beta[idx, col]
                variance[active[idx], c_i] = var
                with np.errstate(divide="ignore", invalid="ignore"):
                    df[active[idx], c_i] = 2.0 * var**2 / np.einsum("tr,trs,ts->t", g, w, g, optimize=True)
        going = usable & ~done
        moving = np.flatnonzero(going)
        if moving.size:
            base = sigma[active[moving]]
            delta = np.zeros_like(base)
            delta[:, rows, cols] = step[moving]
            delta[:, cols, rows] = step[moving]
            before = ev.value[moving]
            length = np.ones(moving.size)
            pending = np.arange(moving.size)
            for _ in range(MAX_HALVINGS):
                trial = base[pending] + length[pending, None, None] * delta[pending]
                part = stats.subset(active[moving[pending]])
                tried = _evaluate(part, trial, rows, cols, full=False)
                better = tried.ok & (tried.value <= before[pending] + 1e-10 * np.abs(before[pending]))
                sigma[active[moving[pending[better]]]] = trial[better]
                pending = pending[~better]
                if pending.size == 0:
                    break
                length[pending] *= 0.5
            failed[active[moving[pending]]] = True
        active = active[going]
        active = active[~failed[active]]
    failed[active] = True  # still iterating: not converged
    return estimate, variance, df, ~failed & np.isfinite(value), iterations, value


def mmrm_tests(batch: Batch, *, baseline_by_visit: bool = False) -> MMRMTests:
    """Fit the MMRM of every replicate of ``batch`` and test each arm against control at the primary visit.

    Parameters
    ----------
    batch : Batch
        Replicates of a continuous endpoint with a baseline visit and at least one post-baseline visit.
    baseline_by_visit : bool
        A baseline slope per post-baseline visit instead of a common one.

    Returns
    -------
    MMRMTests
        Estimate, SE, Satterthwaite df and two-sided p-value per replicate and comparison.
    """
    assert batch.baseline is not None  # the caller checks that the analysis has a baseline
    post = [j for j in range(batch.values.shape[2]) if j != batch.baseline]
    primary = post.index(batch.primary)
    y = batch.values[:, :, post]
    x0 = batch.values[:, :, batch.baseline]
    observed = batch.observed[:, :, post]
    t, n, v = y.shape
    k = batch.comparisons
    p = v * (1 + k) + (v if baseline_by_visit else 1)
    q = v * (v + 1) // 2  # the largest intermediates: (1 + q) stacks of local blocks and of (p + 1)² matrices
    per_trial = n * (k + 2 + v) + 3 * (1 + q) * (v * v * (k + 3) ** 2 + (p + 1) ** 2)
    size = max(1, _BUDGET // per_trial)
    parts = []
    for start in range(0, t, size):
        part = slice(start, min(t, start + size))
        mask = observed if observed.shape[0] == 1 else observed[part]
        parts.append(_fit_slice(y[part], x0[part], batch.arm, mask, primary, k, baseline_by_visit))
    estimate, variance, df, failed, iterations = (np.concatenate(x) for x in zip(*parts, strict=True))
    failed = np.broadcast_to(failed[:, None], (t, k)).copy()
    with np.errstate(invalid="ignore"):
        se = np.sqrt(variance)
        p_value = 2.0 * stdtr(df, -np.abs(estimate / se))
    for a in (estimate, se, df, p_value):
        a[failed] = np.nan
    return MMRMTests(estimate, se, df, p_value, failed, iterations)


def mmrm(batch: Batch, alpha: float) -> Outcome:
    """Test each arm against control at the primary visit by the MMRM, in every replicate of ``batch``.

    Parameters
    ----------
    batch : Batch
        Replicates of a continuous endpoint with a baseline visit.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections (p < alpha) and failed fits, shape (T, k).

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.power._simulation._draw import draw_batch
    >>> from trialkit.power._simulation._model import trial_model
    >>> model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    >>> batch = draw_batch(model, model.endpoints[0], (23, 23), 2000, np.random.default_rng(1))
    >>> round(float(mmrm(batch, 0.05).reject.mean()), 1)  # one post-baseline visit: the ANCOVA
    0.7
    """
    tests = mmrm_tests(batch)
    failed = tests.failed
    reject = ~failed & (np.nan_to_num(tests.p_value, nan=1.0) < alpha)
    return Outcome(reject, failed)
