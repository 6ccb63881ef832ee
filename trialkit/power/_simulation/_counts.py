r"""Negative binomial and Poisson regression of a count endpoint, every replicate at once.

For each replicate the model is the one ``trialkit analyze`` fits to a count endpoint
(:func:`trialkit.analysis.negative_binomial`, :func:`trialkit.analysis.poisson`):

.. math:: \log \mu_i = \log e_p + a + \beta_j [\text{arm}_i = j] + \gamma\, g(x_i / e_b),

``y`` the count at the primary visit, ``e_p`` its exposure (the offset), ``x`` the baseline count,
``e_b`` the baseline exposure and ``g`` the log, ``log1p`` or the identity as the design's
``count_baseline`` says (the term is left out without a baseline visit), fitted to the complete
cases. Each arm is tested against control by the Wald statistic
:math:`z_j = \hat\beta_j / \operatorname{se}(\hat\beta_j)` against the normal, two-sided.

``negative_binomial`` (NB2, Var Y = μ + μ²/θ) repeats ``MASS::glm.nb`` step for step, as trialkit's
own fit does: a Poisson IRLS from R's start ``log(y + 0.1)``, θ by Newton's method at its means
(``theta.ml``: from the moment estimate until a step is below ε^¼, at most 24 steps), then
alternately an IRLS at θ started from the current means and a new θ at the means before that
fit, until :math:`|\Delta\ell|/d_1 + |\Delta\theta| \le 10^{-8}` with :math:`d_1 = \sqrt{2\max(1, n - p)}`;
the SE is that of :math:`(X'WX)^{-1}` with the working weights of the last IRLS solve (θ treated as
known, ``summary.negbin``). Each IRLS is R's ``glm.fit``: it stops when the deviance changes by less
than ``1e-8`` relative, within 25 steps. ``poisson`` is the Poisson IRLS alone with the HC0 sandwich
covariance :math:`U (\sum_i \psi_i\psi_i') U`, :math:`U = (X'WX)^{-1}`,
:math:`\psi_i = W_i r_i x_i` (``sandwich::sandwich``), as trialkit's robust Poisson model.

All of it runs on the replicates still iterating, with (T, p, p) Cholesky solves. A replicate
fails (counted for every comparison, never rejecting) where ``trialkit analyze`` refuses the fit:

* an arm with fewer than 2 complete cases or without any event; no more subjects than terms; the
  baseline term constant or collinear with the arms;
* a baseline count of 0 when ``count_baseline`` is "log" (it has no log);
* an IRLS that does not converge, a singular :math:`X'WX`, or a fitted rate numerically 0;
* negative binomial only: no overdispersion at the Poisson fit, :math:`\sum_i [(y_i - \hat\mu_i)^2 - y_i] \le 0`
  (the ML θ is infinite: the data are Poisson-like and trialkit's negative binomial refuses them),
  θ's Newton iteration reaching its limit or not giving θ > 0, or no convergence of the
  alternation within 25 rounds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln, ndtri, polygamma

from trialkit.power._simulation._batch import Batch, Outcome
from trialkit.power._simulation._linalg import cho_solve, cholesky

__all__ = ["negative_binomial", "negative_binomial_fit", "poisson", "poisson_fit"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Index = npt.NDArray[np.intp]

#: R's glm.control(): relative change in deviance, and iteration limit (also glm.nb's and theta.ml's)
_EPSILON = 1e-8
_MAX_ITERATIONS = 25
_DOUBLE_EPS = float(np.finfo(np.float64).eps)
_LOG_EPS = float(np.log(_DOUBLE_EPS))
#: theta.ml stops when a Newton step is below eps^(1/4)
_THETA_STEP = _DOUBLE_EPS**0.25
#: a fitted rate below this is numerically 0 (R's glm.fit warns; trialkit refuses the fit)
_ZERO_RATE = 10 * _DOUBLE_EPS
#: a term is collinear with those before it when |R_jj| of the QR of the column-scaled design is below
#: this times sqrt(n) (trialkit's rank test); R_jj² is the Cholesky pivot of the scaled X'X
_RANK_TOL = 1e-10


def _deviance(y: Floats, log_y: Floats, mu: Floats, eta: Floats, w: Floats, theta: Floats | None) -> Floats:
    """Return each replicate's Poisson (``theta`` None) or negative binomial deviance (R's families).

    ``log_y`` is log(max(1, y)) and log μ is the linear predictor (μ = exp(η), floored at the
    double epsilon as R's log link does), so the Poisson deviance needs no logarithm.
    """
    log_ratio = y * (log_y - np.maximum(eta, _LOG_EPS))
    if theta is None:
        terms = log_ratio - (y - mu)
    else:
        th = theta[:, None]
        terms = log_ratio - (y + th) * np.log((y + th) / (mu + th))
    return np.asarray(2.0 * np.einsum("tn,tn->t", w, terms), dtype=np.float64)


class _Irls:
    """One IRLS fit of several replicates (R's ``glm.fit`` for the log link), each stopping on its own.

    Attributes hold, per replicate, the coefficients (T, p), the fitted means (T, N), the working
    weights of the last solve (T, N) with their X'WX (T, p, p), and whether the fit converged (T,).
    """

    def __init__(self, X: Floats, y: Floats, w: Floats, offset: float, theta: Floats | None, eta: Floats) -> None:
        trials, _, p = X.shape
        self.beta = np.full((trials, p), np.nan)
        self.mu = np.maximum(np.exp(eta), _DOUBLE_EPS)
        self.weights = np.full(y.shape, np.nan)
        self.gram = np.full((trials, p, p), np.nan)
        self.converged = np.zeros(trials, dtype=bool)
        log_y = np.log(np.maximum(1.0, y))
        dev_old = _deviance(y, log_y, self.mu, eta, w, theta)
        active: Index = np.arange(trials)
        eta = eta.copy()
        for _ in range(_MAX_ITERATIONS):
            if active.size == 0:
                break
            # while every replicate iterates, views instead of copies of the rows
            rows: Index | slice = active if active.size < trials else slice(None)
            Xa, ya, wa, mu = X[rows], y[rows], w[rows], self.mu[rows]
            z = (eta[rows] - offset) + (ya - mu) / mu
            weights = mu if theta is None else mu / (1.0 + mu / theta[rows, None])
            Xw = Xa * (weights * wa)[:, :, None]
            gram = np.matmul(Xw.transpose(0, 2, 1), Xa)
            low, regular = cholesky(gram)
            beta = cho_solve(low, np.einsum("tnp,tn->tp", Xw, z)[:, :, None])[:, :, 0]
            regular &= np.all(np.isfinite(beta), axis=1)
            self.beta[rows], self.weights[rows], self.gram[rows] = beta, weights, gram
            eta_a = np.einsum("tnp,tp->tn", Xa, beta) + offset
            mu = np.maximum(np.exp(eta_a), _DOUBLE_EPS)
            eta[rows], self.mu[rows] = eta_a, mu
            dev = _deviance(ya, log_y[rows], mu, eta_a, wa, None if theta is None else theta[rows])
            regular &= np.isfinite(dev)
            done = regular & (np.abs(dev - dev_old[rows]) / (np.abs(dev) + 0.1) < _EPSILON)
            self.converged[active[done]] = True
            dev_old[rows] = dev
            active = active[regular & ~done]


class _Gammas:
    r"""The sums over subjects of log Γ, ψ and ψ′ at θ + y less their values at θ, per replicate.

    With :math:`G_j = \sum_i w_i [y_i > j]` the subjects with more than ``j`` events,
    :math:`\sum_i w_i [\log\Gamma(\theta + y_i) - \log\Gamma(\theta)] = \sum_j G_j \log(\theta + j)`,
    and the sums of :math:`\psi` and :math:`-\psi'` are :math:`\sum_j G_j/(\theta + j)` and
    :math:`-\sum_j G_j/(\theta + j)^2` (the recurrences of Γ, ψ and ψ′): a few divisions per
    distinct count instead of special functions per subject. When the counts run far above the
    number of subjects the special functions of each subject are cheaper, and used instead.
    """

    def __init__(self, y: Floats, w: Floats) -> None:
        self.y, self.w = y, w
        top = int(np.max(np.where(w > 0, y, 0.0), initial=0.0))
        self.table: Floats | None = None
        if top <= 2 * y.shape[1]:
            trials = y.shape[0]
            codes = (np.arange(trials)[:, None] * (top + 1) + y.astype(np.intp)).ravel()
            counts = np.bincount(codes, weights=w.ravel(), minlength=trials * (top + 1)).reshape(trials, top + 1)
            self.table = w.sum(axis=1)[:, None] - np.cumsum(counts, axis=1)[:, :top]  # G_j, j = 0 .. top - 1

    def rows(self, rows: Index | slice) -> _Gammas:
        """Return the sums of the replicates ``rows``."""
        part = object.__new__(_Gammas)
        part.y, part.w = self.y[rows], self.w[rows]
        part.table = None if self.table is None else self.table[rows]
        return part

    def sums(self, theta: Floats, order: int) -> Floats:
        """Return Σ w [f(θ + y) − f(θ)] per replicate, f = log Γ (order 0), ψ (1) or ψ′ (2)."""
        if self.table is not None:
            shifted = theta[:, None] + np.arange(self.table.shape[1])
            terms = np.log(shifted) if order == 0 else (1.0 / shifted if order == 1 else -1.0 / shifted**2)
            return np.asarray(np.einsum("tj,tj->t", self.table, terms), dtype=np.float64)
        at = np.concatenate([theta[:, None] + self.y, theta[:, None]], axis=1)
        values: Floats = gammaln(at) if order == 0 else (digamma(at) if order == 1 else polygamma(1, at))
        n = self.w.sum(axis=1)
        return np.asarray(np.einsum("tn,tn->t", self.w, values[:, :-1]) - n * values[:, -1], dtype=np.float64)


def _theta_ml(y: Floats, mu: Floats, w: Floats, gammas: _Gammas) -> tuple[Floats, Bools]:
    """Return the ML θ at fixed means per replicate (``MASS::theta.ml``) and whether it is usable.

    Newton's method on the score from the moment estimate n / Σ (y/μ − 1)², each replicate until
    its step is below ε^¼; unusable where R warns (24 steps taken, the iteration limit; θ < 0)
    or θ is not a positive number.
    """
    n = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = n / np.einsum("tn,tn->t", w, (y / mu - 1.0) ** 2)
    steps = np.zeros(y.shape[0], dtype=np.intp)
    active: Index = np.arange(y.shape[0])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_MAX_ITERATIONS - 1):
            if active.size == 0:
                break
            rows: Index | slice = active if active.size < y.shape[0] else slice(None)  # views while all iterate
            th = np.abs(theta[rows])
            part = gammas.rows(rows)
            ya, wa, mu_theta = y[rows], w[rows], mu[rows] + th[:, None]
            ratio = (ya + th[:, None]) / mu_theta
            score = (
                part.sums(th, 1) + n[rows] * (np.log(th) + 1.0) - np.einsum("tn,tn->t", wa, np.log(mu_theta) + ratio)
            )
            information = -part.sums(th, 2) - n[rows] / th + np.einsum("tn,tn->t", wa, (2.0 - ratio) / mu_theta)
            step = score / information
            theta[rows] = th + step
            steps[rows] += 1
            active = active[np.abs(step) > _THETA_STEP]
    usable: Bools = (steps < _MAX_ITERATIONS - 1) & (theta > 0)
    return theta, usable


def _loglik(y: Floats, mu: Floats, w: Floats, theta: Floats, gammas: _Gammas) -> Floats:
    """Return the NB2 log-likelihood per replicate, without the Σ log y! that does not depend on the fit."""
    th = theta[:, None]
    terms = y * np.log(mu) - (th + y) * np.log(th + mu)
    return np.asarray(
        gammas.sums(theta, 0) + w.sum(axis=1) * theta * np.log(theta) + np.einsum("tn,tn->t", w, terms),
        dtype=np.float64,
    )


class _Data:
    """The complete cases of every replicate as a weighted regression: X (T, N, p), y and w (T, N).

    ``w`` is 1 for a complete case and 0 otherwise (the subjects of one dropout pattern are kept
    once for all replicates instead); ``ok`` marks the replicates the data can support (the
    checks of trialkit's count model before any fit).
    """

    def __init__(self, batch: Batch) -> None:
        p_, b = batch.primary, batch.baseline
        exposure = np.ones(batch.values.shape[2]) if batch.exposure is None else batch.exposure
        complete = batch.observed[:, :, p_]
        if b is not None:
            complete = complete & batch.observed[:, :, b]
        arm = batch.arm
        y = batch.values[:, :, p_]
        x = None if b is None else batch.values[:, :, b] / exposure[b]
        if complete.shape[0] == 1:  # one pattern for every replicate: keep the complete cases
            keep = np.flatnonzero(complete[0])
            arm, y = arm[keep], y[:, keep]
            x = None if x is None else x[:, keep]
            w = np.ones(y.shape)
        else:
            w = complete.astype(np.float64)
            y = np.where(complete, y, 0.0)
            x = None if x is None else np.where(complete, x, 1.0)
        k = batch.comparisons
        p = k + 1 + (x is not None)
        trials, n = y.shape
        X = np.zeros((trials, n, p))
        X[:, :, 0] = 1.0
        for j in range(1, k + 1):
            X[:, arm == j, j] = 1.0
        per_arm = np.stack([w[:, arm == j].sum(axis=1) for j in range(k + 1)], axis=1)
        events = np.stack([(w * y)[:, arm == j].sum(axis=1) for j in range(k + 1)], axis=1)
        ok = np.all(per_arm >= 2, axis=1) & np.all(events > 0, axis=1) & (w.sum(axis=1) > p)
        if x is not None:
            analysed = w > 0
            if batch.count_baseline == "log":
                ok &= ~np.any(analysed & (x <= 0), axis=1)  # a zero baseline count has no log
                term = np.log(np.where(x > 0, x, 1.0))
            elif batch.count_baseline == "log1p":
                term = np.log1p(x)
            else:
                term = x
            spread = np.where(analysed, term, -np.inf).max(axis=1) - np.where(analysed, term, np.inf).min(axis=1)
            ok &= spread > 0
            X[:, :, p - 1] = term
        # trialkit's rank test: the QR of the column-scaled design, by the Cholesky factor of its X'X
        gram = np.matmul((X * w[:, :, None]).transpose(0, 2, 1), X)
        scale = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))
        scale = np.where(scale > 0, scale, 1.0)
        low, regular = cholesky(gram / (scale[:, :, None] * scale[:, None, :]))
        pivots = np.diagonal(low, axis1=1, axis2=2)
        ok &= regular & np.all(pivots > _RANK_TOL * np.sqrt(w.sum(axis=1))[:, None], axis=1)
        self.X, self.y, self.w, self.ok = X, y, w, ok
        self.offset = float(np.log(exposure[p_]))
        self.k = k


def _wald(data: _Data, beta: Floats, covariance: Floats, ok: Bools) -> tuple[Floats, Floats, Bools]:
    """Return the arms' coefficients and SEs (T, k), NaN where failed, and the failed replicates (T, k)."""
    k = data.k
    estimate = np.where(ok[:, None], beta[:, 1 : k + 1], np.nan)
    with np.errstate(invalid="ignore"):
        se = np.where(ok[:, None], np.sqrt(np.diagonal(covariance, axis1=1, axis2=2)[:, 1 : k + 1]), np.nan)
    ok = ok & np.all(np.isfinite(estimate) & (se > 0), axis=1)
    return estimate, se, np.repeat((~ok)[:, None], k, axis=1)


def _subset(data: _Data, rows: Index) -> tuple[Floats, Floats, Floats]:
    return data.X[rows], data.y[rows], data.w[rows]


def poisson_fit(batch: Batch) -> tuple[Floats, Floats, Bools]:
    """Return the Poisson arm coefficients, their sandwich SEs and the failed replicates, each (T, k)."""
    data = _Data(batch)
    trials, p = data.X.shape[0], data.X.shape[2]
    rows = np.flatnonzero(data.ok)
    X, y, w = _subset(data, rows)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit = _Irls(X, y, w, data.offset, None, np.log(y + 0.1))
        low, regular = cholesky(fit.gram)
        unscaled = cho_solve(low, np.broadcast_to(np.eye(p), fit.gram.shape).copy())
        residual = (y - fit.mu) / fit.mu
        scores = X * (fit.weights * residual)[:, :, None]
        meat = np.matmul((scores * w[:, :, None]).transpose(0, 2, 1), scores)
        covariance = unscaled @ meat @ unscaled
    fitted = fit.converged & regular & ~np.any((w > 0) & (fit.mu < _ZERO_RATE), axis=1)
    ok = np.zeros(trials, dtype=bool)
    ok[rows] = fitted
    beta = np.full((trials, p), np.nan)
    cov = np.full((trials, p, p), np.nan)
    beta[rows], cov[rows] = fit.beta, covariance
    return _wald(data, beta, cov, ok)


def negative_binomial_fit(batch: Batch) -> tuple[Floats, Floats, Bools]:
    """Return the negative binomial arm coefficients, their SEs and the failed replicates, each (T, k)."""
    data = _Data(batch)
    trials, _, p = data.X.shape
    ok = data.ok.copy()
    rows = np.flatnonzero(ok)
    X, y, w = _subset(data, rows)
    beta = np.full((trials, p), np.nan)
    cov = np.full((trials, p, p), np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        start = _Irls(X, y, w, data.offset, None, np.log(y + 0.1))
        mu = start.mu
        # no overdispersion: the NB likelihood increases towards theta = infinity (trialkit refuses)
        alive = start.converged & (np.einsum("tn,tn->t", w, (y - mu) ** 2 - y) > 0)
        gammas = _Gammas(y, w)
        theta, usable = _theta_ml(y, mu, w, gammas)
        d1 = np.sqrt(2.0 * np.maximum(1.0, w.sum(axis=1) - p))
        change = np.ones(rows.size)
        loglik = _loglik(y, mu, w, theta, gammas)
        loglik_old = loglik + 2.0 * d1
        last_beta = np.full((rows.size, p), np.nan)
        last_gram = np.full((rows.size, p, p), np.nan)
        last_mu = mu.copy()
        active = np.flatnonzero(alive)
        for alternation in range(1, _MAX_ITERATIONS + 2):
            moving = np.abs(loglik_old[active] - loglik[active]) / d1[active] + np.abs(change[active]) > _EPSILON
            settled = active[~moving]
            alive[settled[~usable[settled]]] = False  # the last theta did not converge or is not positive
            active = active[moving]
            if alternation > _MAX_ITERATIONS:
                alive[active] = False  # the alternation did not converge in 25 rounds
                break
            alive[active[~usable[active]]] = False
            active = active[usable[active]]
            if active.size == 0:
                break
            fit = _Irls(X[active], y[active], w[active], data.offset, theta[active], np.log(mu[active]))
            alive[active[~fit.converged]] = False
            keep = fit.converged
            active = active[keep]
            previous = theta[active]
            # theta at the means before this fit, as glm.nb does
            part = gammas.rows(active)
            theta_new, usable_new = _theta_ml(y[active], mu[active], w[active], part)
            theta[active], usable[active] = theta_new, usable_new
            mu[active] = fit.mu[keep]
            last_mu[active], last_beta[active], last_gram[active] = fit.mu[keep], fit.beta[keep], fit.gram[keep]
            change[active] = previous - theta_new
            loglik_old[active] = loglik[active]
            loglik[active] = np.where(theta_new > 0, _loglik(y[active], mu[active], w[active], theta_new, part), np.nan)
        low, regular = cholesky(last_gram)
        unscaled = cho_solve(low, np.broadcast_to(np.eye(p), last_gram.shape).copy())
        alive &= regular & ~np.any((w > 0) & (last_mu < _ZERO_RATE), axis=1)
    ok[rows] = alive
    beta[rows], cov[rows] = last_beta, unscaled
    return _wald(data, beta, cov, ok)


def _outcome(estimate: Floats, se: Floats, failed: Bools, alpha: float) -> Outcome:
    with np.errstate(invalid="ignore"):
        reject = ~failed & (np.abs(estimate / se) > ndtri(1.0 - alpha / 2.0))
    return Outcome(reject, failed)


def negative_binomial(batch: Batch, alpha: float) -> Outcome:
    r"""Test each arm against control by the Wald test of negative binomial regression, in every replicate.

    Parameters
    ----------
    batch : Batch
        Replicates of a count endpoint; the baseline rate enters as ``batch.count_baseline`` says
        when the design has a baseline visit, and log(exposure at the primary visit) is the offset.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections (:math:`|z| > z_{1-\alpha/2}`) and failed fits (see the module), shape (T, k).

    Examples
    --------
    Two arms of 50, rates 2 and 1.4, dispersion 0.5 (θ = 2), no baseline visit:

    >>> rng = np.random.default_rng(1)
    >>> arm = np.repeat([0, 1], 50)
    >>> mean = np.where(arm == 0, 2.0, 1.4)[None, :, None]
    >>> values = rng.negative_binomial(2.0, 2.0 / (2.0 + mean), (1000, 100, 1)).astype(float)
    >>> outcome = negative_binomial(Batch(values, np.ones((1, 100, 1), dtype=bool), arm, (50, 50), None, 0), 0.05)
    >>> round(float(outcome.reject.mean()), 2), int(outcome.failed.sum())  # Zhu & Lakkis (method 2): 0.40
    (0.4, 0)
    """
    return _outcome(*negative_binomial_fit(batch), alpha)


def poisson(batch: Batch, alpha: float) -> Outcome:
    r"""Test each arm against control by the robust (sandwich) Wald test of Poisson regression, in every replicate.

    Parameters
    ----------
    batch : Batch
        Replicates of a count endpoint, as for :func:`negative_binomial`.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections (:math:`|z| > z_{1-\alpha/2}`) and failed fits (see the module), shape (T, k).

    Examples
    --------
    Poisson counts, two arms of 50, rates 2 and 1.4, no baseline visit:

    >>> rng = np.random.default_rng(1)
    >>> arm = np.repeat([0, 1], 50)
    >>> values = rng.poisson(np.where(arm == 0, 2.0, 1.4)[None, :, None], (1000, 100, 1)).astype(float)
    >>> outcome = poisson(Batch(values, np.ones((1, 100, 1), dtype=bool), arm, (50, 50), None, 0), 0.05)
    >>> round(float(outcome.reject.mean()), 2), int(outcome.failed.sum())  # Zhu & Lakkis, dispersion 0: 0.63
    (0.64, 0)
    """
    return _outcome(*poisson_fit(batch), alpha)
