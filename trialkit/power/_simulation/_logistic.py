r"""Logistic regression of a binary endpoint on arm (and the baseline value), every replicate at once.

For each replicate the model is :math:`\operatorname{logit} P(y = 1) = a + \beta_j [\text{arm} = j]
+ \gamma x`, with ``y`` the 0/1 value at the primary visit and ``x`` the 0/1 value at the baseline
visit (the term is left out when the design has no baseline visit), fitted by maximum likelihood to
the complete cases; each arm is tested against control by the Wald statistic
:math:`z_j = \hat\beta_j / \operatorname{se}(\hat\beta_j)` against the normal, two-sided, the
coefficient test of ``glm(family = binomial)``.

Both covariates are binary, so a replicate is a table of at most :math:`2(k + 1)` covariate
patterns (arm x baseline value), each with a count of subjects and of events. Newton--Raphson
(IRLS: the same iteration for the canonical link) runs on the grouped data of every replicate at
once, with batched :math:`p \times p` solves, until no coefficient moves by more than ``1e-10``.

A replicate fails (counted, never rejecting) for every comparison when the maximum-likelihood
estimate does not exist or cannot be found, as ``trialkit analyze`` refuses such a fit:

* an arm, or the subjects with either baseline value, with no event or only events among the
  complete cases (quasi-complete separation; an arm without complete cases falls here too);
* the baseline value the same for every complete case (its term is collinear with the intercept);
* any other separation (such as control subjects with baseline 0 having no event and treated
  subjects with baseline 1 all having it), seen as coefficients that diverge: an information
  matrix that becomes numerically singular (a Cholesky pivot below ``1e-13`` of its diagonal
  entry) or no convergence in 50 iterations.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit, logit, ndtr, ndtri

from trialkit.power._simulation._batch import Batch, Outcome
from trialkit.power._simulation._linalg import cho_solve, cholesky

__all__ = ["logistic"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: convergence: no coefficient moves by more than this (absolute, on the log-odds scale)
_TOLERANCE = 1e-10
#: Newton steps before a replicate that has not converged is counted as failed (diverging)
_MAX_ITERATIONS = 50


def _arm_sums(values: Floats, arm: npt.NDArray[np.intp], arms: int) -> Floats:
    """Return the sum of ``values`` (T, N) over each arm's subjects (contiguous, in arm order), shape (T, arms).

    Differences of cumulative sums at the arms' bounds (exact: the sums are of small integers); an
    arm without subjects sums to 0.
    """
    total = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=total[:, 1:])
    levels = np.arange(arms)
    return total[:, np.searchsorted(arm, levels, side="right")] - total[:, np.searchsorted(arm, levels, side="left")]


def _grouped(batch: Batch) -> tuple[Floats, Floats, Floats]:
    """Return the patterns' design matrix (G, p), and per replicate their events and subjects (T, G).

    Patterns are ordered arm by arm (control first), baseline 0 then 1 within an arm when the
    design has a baseline visit; columns are the intercept, one dummy per arm against control and
    the baseline value.
    """
    y = batch.values[:, :, batch.primary]
    complete = batch.observed[:, :, batch.primary]
    if batch.baseline is not None:
        complete = complete & batch.observed[:, :, batch.baseline]
    arms = batch.comparisons + 1
    x = None if batch.baseline is None else batch.values[:, :, batch.baseline]
    if complete.shape[0] == 1:  # one pattern for every replicate: keep the complete cases
        keep = np.flatnonzero(complete[0])
        y, arm = y[:, keep], batch.arm[keep]
        x = None if x is None else x[:, keep]
        n = np.broadcast_to(np.bincount(arm, minlength=arms).astype(np.float64), (batch.trials, arms))
    else:
        weight = complete.astype(np.float64)
        y, arm = y * weight, batch.arm
        x = None if x is None else x * weight
        n = _arm_sums(weight, arm, arms)
    e = _arm_sums(y, arm, arms)
    if x is None:
        events, subjects = e, n
    else:
        n1, e1 = _arm_sums(x, arm, arms), _arm_sums(x * y, arm, arms)
        events = np.stack([e - e1, e1], axis=2).reshape(batch.trials, 2 * arms)
        subjects = np.stack([n - n1, n1], axis=2).reshape(batch.trials, 2 * arms)
    rows = []
    for j in range(arms):
        dummies = [1.0 if i == j else 0.0 for i in range(1, arms)]
        if batch.baseline is None:
            rows.append([1.0, *dummies])
        else:
            rows += [[1.0, *dummies, 0.0], [1.0, *dummies, 1.0]]
    return np.array(rows), events, subjects


def _estimable(batch: Batch, events: Floats, subjects: Floats) -> Bools:
    """Return, per replicate, whether no margin is separated and the baseline varies (shape (T,))."""
    k = batch.comparisons
    per = 1 if batch.baseline is None else 2
    ev = events.reshape(batch.trials, k + 1, per)
    sub = subjects.reshape(batch.trials, k + 1, per)
    margins_e, margins_n = [ev.sum(axis=2)], [sub.sum(axis=2)]  # arms
    if batch.baseline is not None:
        margins_e.append(ev.sum(axis=1))  # baseline 0, baseline 1
        margins_n.append(sub.sum(axis=1))
    e, n = np.concatenate(margins_e, axis=1), np.concatenate(margins_n, axis=1)
    # a baseline value nobody has makes its margin (0 of 0) fail this test too
    mixed: Bools = np.all((e > 0) & (e < n), axis=1)
    return mixed


def _information(design: Floats, beta: Floats, events: Floats, subjects: Floats) -> tuple[Floats, Floats]:
    """Return the score (T, p) and the information (T, p, p) of the grouped binomial likelihood at ``beta``."""
    eta = beta @ design.T
    mu = expit(eta)
    weight = subjects * mu * expit(-eta)  # n mu (1 - mu) without cancellation near 1
    score = (events - subjects * mu) @ design
    p = design.shape[1]
    outer = (design[:, :, None] * design[:, None, :]).reshape(design.shape[0], p * p)  # (G, p * p)
    return score, (weight @ outer).reshape(-1, p, p)


def _solve(matrix: Floats, rhs: Floats) -> tuple[Floats, Bools]:
    """Solve ``matrix @ x = rhs`` for a stack of symmetric matrices (T, p, p), ``rhs`` (T, p, q), by Cholesky.

    Returns ``x`` and whether each matrix is finite and numerically non-singular (``x`` is
    meaningless where not).
    """
    low, regular = cholesky(matrix)
    return cho_solve(low, rhs), regular


def _fit(batch: Batch) -> tuple[Floats, Floats, Floats, Floats, Bools]:
    """Return the arm coefficients, their SEs, Wald z, two-sided p and the failed replicates, each (T, k).

    A failed replicate holds NaN in the four numbers.
    """
    design, events, subjects = _grouped(batch)
    k, p = batch.comparisons, design.shape[1]
    ok = _estimable(batch, events, subjects)
    # start at the fit without baseline: the arms' observed log-odds (finite where ok)
    arm_events = events.reshape(batch.trials, k + 1, -1).sum(axis=2)
    arm_subjects = subjects.reshape(batch.trials, k + 1, -1).sum(axis=2)
    arm_logit = logit(np.where(ok[:, None], arm_events / np.where(ok[:, None], arm_subjects, 1.0), 0.5))
    beta = np.zeros((batch.trials, p))
    beta[:, 0] = arm_logit[:, 0]
    beta[:, 1 : k + 1] = arm_logit[:, 1:] - arm_logit[:, :1]
    converged = np.zeros(batch.trials, dtype=bool)
    active = np.flatnonzero(ok)  # replicates still iterating: most leave after four or five steps
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(_MAX_ITERATIONS):
            if active.size == 0:
                break
            score, information = _information(design, beta[active], events[active], subjects[active])
            step, regular = _solve(information, score[:, :, None])
            ok[active[~regular]] = False
            active, step = active[regular], step[regular, :, 0]
            beta[active] += step
            done = np.max(np.abs(step), axis=1) < _TOLERANCE
            converged[active[done]] = True
            active = active[~done]
        ok &= converged  # still moving after the last step: diverging
        fitted = np.flatnonzero(ok)
        _, information = _information(design, beta[fitted], events[fitted], subjects[fitted])
        covariance, regular = _solve(information, np.broadcast_to(np.eye(p), information.shape))
        ok[fitted[~regular]] = False
        fitted, covariance = fitted[regular], covariance[regular]
    estimate = np.full((batch.trials, k), np.nan)
    se = np.full((batch.trials, k), np.nan)
    estimate[fitted] = beta[fitted, 1 : k + 1]
    se[fitted] = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2)[:, 1 : k + 1])
    z = estimate / se
    failed = np.repeat((~ok)[:, None], k, axis=1)
    return estimate, se, z, 2.0 * ndtr(-np.abs(z)), failed


def logistic(batch: Batch, alpha: float) -> Outcome:
    r"""Test each arm against control by the Wald test of logistic regression, in every replicate of ``batch``.

    Parameters
    ----------
    batch : Batch
        Replicates of a binary endpoint (values 0/1); the baseline value is a covariate when the
        design has a baseline visit.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections (:math:`|z| > z_{1-\alpha/2}`) and failed fits (separation, a constant baseline,
        no convergence), shape (T, k).

    Examples
    --------
    Two arms of 60 with event probabilities 0.38 and 0.52, no baseline visit:

    >>> rng = np.random.default_rng(1)
    >>> arm = np.repeat([0, 1], 60)
    >>> values = (rng.random((2000, 120, 1)) < np.where(arm == 0, 0.38, 0.52)[None, :, None]).astype(float)
    >>> batch = Batch(values, np.ones((1, 120, 1), dtype=bool), arm, (60, 60), None, 0)
    >>> outcome = logistic(batch, 0.05)
    >>> round(float(outcome.reject.mean()), 2), int(outcome.failed.sum())  # normal-approximation power 0.34
    (0.35, 0)
    """
    _, _, z, _, failed = _fit(batch)
    with np.errstate(invalid="ignore"):
        reject = ~failed & (np.abs(z) > ndtri(1.0 - alpha / 2.0))
    return Outcome(reject, failed)
