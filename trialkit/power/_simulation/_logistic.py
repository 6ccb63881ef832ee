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
* any other separation, seen as coefficients that diverge: an information matrix that becomes
  numerically singular (reciprocal condition number below ``1e-13``) or no convergence in 50
  iterations.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit, logit, ndtr, ndtri

from trialkit.power._simulation._batch import Batch, Outcome

__all__ = ["logistic"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: convergence: no coefficient moves by more than this (absolute, on the log-odds scale)
_TOLERANCE = 1e-10
#: Newton steps before a replicate that has not converged is counted as failed (diverging)
_MAX_ITERATIONS = 50
#: smallest ratio of the information matrix's eigenvalues treated as non-singular
_RCOND = 1e-13


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
    weight = complete.astype(np.float64)  # (1 | T, N)
    arms = batch.comparisons + 1
    events, subjects = [], []
    for j in range(arms):
        cols = batch.arm_slice(j)
        w, yj = weight[:, cols], y[:, cols]
        n = np.broadcast_to(w.sum(axis=1), (batch.trials,))
        e = (w * yj).sum(axis=1)
        if batch.baseline is None:
            events.append(e)
            subjects.append(n)
        else:
            x = batch.values[:, cols, batch.baseline]
            n1 = (w * x).sum(axis=1)
            e1 = (w * x * yj).sum(axis=1)
            events += [e - e1, e1]
            subjects += [n - n1, n1]
    rows = []
    for j in range(arms):
        dummies = [1.0 if i == j else 0.0 for i in range(1, arms)]
        if batch.baseline is None:
            rows.append([1.0, *dummies])
        else:
            rows += [[1.0, *dummies, 0.0], [1.0, *dummies, 1.0]]
    return np.array(rows), np.stack(events, axis=1), np.stack(subjects, axis=1)


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
    information = np.einsum("tg,gi,gj->tij", weight, design, design)
    return score, information


def _regular(information: Floats) -> Bools:
    """Return whether each information matrix is finite and not numerically singular."""
    finite: Bools = np.all(np.isfinite(information), axis=(1, 2))
    eig = np.linalg.eigvalsh(np.where(finite[:, None, None], information, 0.0))
    return finite & (eig[:, 0] > _RCOND * np.abs(eig[:, -1]))


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
    eye = np.eye(p)
    converged = np.zeros(batch.trials, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(_MAX_ITERATIONS):
            score, information = _information(design, beta, events, subjects)
            ok &= _regular(information)
            information[~ok] = eye
            score[~ok] = 0.0
            step = np.linalg.solve(information, score[:, :, None])[:, :, 0]
            beta += step
            converged = ok & (np.max(np.abs(step), axis=1) < _TOLERANCE)
            if np.all(converged | ~ok):
                break
        score, information = _information(design, beta, events, subjects)
        ok &= converged & _regular(information)
        information[~ok] = eye
        covariance = np.linalg.solve(information, np.broadcast_to(eye, information.shape))
        estimate = beta[:, 1 : k + 1]
        se = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2)[:, 1 : k + 1])
        z = estimate / se
    failed = np.repeat((~ok)[:, None], k, axis=1)
    nan = np.full_like(estimate, np.nan)
    estimate, se, z = (np.where(failed, nan, a) for a in (estimate, se, z))
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
