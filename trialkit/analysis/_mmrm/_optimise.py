"""Maximise the (restricted) likelihood over the covariance parameters, or say why not.

Optimisers are tried in turn (L-BFGS-B, BFGS, Nelder–Mead), each from the best point so far,
until the gradient is small; Newton steps with a finite-difference Hessian of the analytic
gradient then polish the optimum, so that estimates agree with SAS and R to their printed
digits. The Hessian is returned: its inverse gives the covariance of the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit._errors import AnalysisError
from trialkit.analysis._mmrm._likelihood import Evaluation, Statistics, curvature, evaluate
from trialkit.analysis._mmrm._structures import Structure

Array = npt.NDArray[np.float64]

#: Largest |d(−2 log L)/dθ| accepted as an optimum.
GRADIENT_TOLERANCE = 1e-4
_OPTIMISERS = ("L-BFGS-B", "BFGS", "Nelder-Mead")


@dataclass(frozen=True)
class Optimum:
    """The maximum of the likelihood over θ (all groups' parameters, concatenated)."""

    theta: Array
    evaluation: Evaluation
    hessian: Array
    gradient: Array
    iterations: int
    optimisers: tuple[str, ...]


class Objective:
    """−2 log-likelihood and its gradient as functions of the unconstrained parameters θ."""

    def __init__(self, stats: Statistics, structures: list[Structure], *, reml: bool) -> None:
        self.stats = stats
        self.structures = structures
        self.reml = reml
        self.slices = []
        start = 0
        for s in structures:
            self.slices.append(slice(start, start + s.size))
            start += s.size
        self.size = start

    def sigmas(self, theta: Array) -> list[Array]:
        """Each group's Σ at ``theta``."""
        return [s.sigma(theta[sl]) for s, sl in zip(self.structures, self.slices, strict=True)]

    def evaluate(self, theta: Array, gradient: bool = True) -> tuple[Evaluation | None, Array]:
        """Return the evaluation at ``theta`` and d(−2 log L)/dθ (None outside the parameter space)."""
        ev = evaluate(self.stats, self.sigmas(theta), reml=self.reml, gradient=gradient)
        grad = np.zeros(self.size)
        if ev is not None and gradient:
            for s, sl, g in zip(self.structures, self.slices, ev.gradient, strict=True):
                grad[sl] = np.einsum("mkl,kl->m", s.sigma_jacobian(theta[sl]), g)
        return ev, grad

    def value_and_gradient(self, theta: Array) -> tuple[float, Array]:
        """For scipy: a huge value (and zero gradient) outside the parameter space, so line searches back off."""
        ev, grad = self.evaluate(theta)
        if ev is None or not np.isfinite(ev.value):
            return 1e300, np.zeros(self.size)
        return ev.value, grad

    def curvature(self, theta: Array, *, observed: bool) -> tuple[Evaluation | None, Array, Array]:
        """Return the evaluation, gradient and the observed Hessian (or the expected information) of −2 log L in θ."""
        ev, grad = self.evaluate(theta)
        if ev is None:
            return None, grad, np.zeros((self.size, self.size))
        jac = np.concatenate([s.sigma_jacobian(theta[sl]) for s, sl in zip(self.structures, self.slices, strict=True)])
        groups = np.concatenate([np.full(s.size, g) for g, s in enumerate(self.structures)]).astype(np.intp)
        second = [s.sigma_hessian(theta[sl]) for s, sl in zip(self.structures, self.slices, strict=True)]
        hess = curvature(self.stats, ev, jac, groups, second if observed else None, reml=self.reml)
        return ev, grad, hess


def maximise(objective: Objective, theta0: Array) -> Optimum:
    """Find the maximum-likelihood θ; raise AnalysisError saying why when there is none.

    Fisher scoring (expected information, always positive definite) from the start, then
    Newton–Raphson with the observed Hessian near the optimum — as SAS PROC MIXED does; if that
    stalls, quasi-Newton and simplex optimisers are tried in turn from the best point so far.
    """
    tried = ["Fisher scoring / Newton-Raphson"]
    theta, value, grad, hessian, iterations = _newton(objective, theta0)
    if not _converged(grad, hessian):
        from scipy.optimize import minimize

        for method in _OPTIMISERS:
            tried.append(method)
            if method == "Nelder-Mead":
                res = minimize(  # type: ignore[call-overload]  # scipy-stubs reject a plain callable of ndarray
                    lambda t: objective.value_and_gradient(t)[0],
                    theta,
                    method=method,
                    options={"maxiter": 400 * objective.size, "xatol": 1e-10, "fatol": 1e-12},
                )
            else:
                res = minimize(  # type: ignore[call-overload]  # as above
                    objective.value_and_gradient,
                    theta,
                    jac=True,
                    method=method,
                    options={"maxiter": 5000, "gtol": 1e-6},
                )
            iterations += int(res.get("nit", 0))
            if objective.value_and_gradient(res.x)[0] <= value:
                theta, value, grad, hessian, steps = _newton(objective, res.x)
                iterations += steps
            if _converged(grad, hessian):
                break
    norm = float(np.max(np.abs(grad))) if grad.size else 0.0
    problems = []
    if hessian is None:
        problems.append("the Hessian could not be computed at the optimum (the covariance is on its boundary)")
    else:
        smallest = float(np.linalg.eigvalsh(hessian).min()) if hessian.size else 1.0
        if not smallest > 0:
            problems.append(f"the Hessian is not positive definite (smallest eigenvalue {smallest:.3g})")
    if not norm < GRADIENT_TOLERANCE:
        problems.append(f"the gradient norm is {norm:.3g} (tolerance {GRADIENT_TOLERANCE:g})")
    ev, _ = objective.evaluate(theta)
    if problems or hessian is None or ev is None:
        raise AnalysisError(
            "the MMRM did not converge: " + "; ".join(problems) + f"; optimisers tried: {', '.join(tried)}. "
            "Try a simpler covariance structure.",
            term="covariance",
        )
    return Optimum(theta, ev, hessian, grad, iterations, tuple(tried))


def _converged(grad: Array, hessian: Array | None) -> bool:
    if hessian is None or not np.all(np.isfinite(hessian)):
        return False
    if grad.size and not np.max(np.abs(grad)) < GRADIENT_TOLERANCE:
        return False
    return not hessian.size or bool(np.linalg.eigvalsh(hessian).min() > 0)


def _newton(objective: Objective, theta: Array) -> tuple[Array, float, Array, Array | None, int]:
    """Fisher scoring, then Newton–Raphson once the gradient is small; a step that does not lower −2 log L is halved.

    Returns θ, −2 log L, its gradient and the observed Hessian at the last point, and the steps taken.
    """
    value = np.inf
    grad = np.zeros(objective.size)
    hessian: Array | None = None
    steps = 0
    observed = False
    for _ in range(200):
        ev, grad, curv = objective.curvature(theta, observed=observed)
        if ev is None:
            return theta, np.inf, grad, None, steps
        value = ev.value
        norm = float(np.max(np.abs(grad))) if grad.size else 0.0
        if observed:
            hessian = curv
        if norm < 1e-9 and observed:
            break
        if not observed and norm < 1e-2:
            observed = True  # close enough: Newton's quadratic convergence from here
            continue
        try:
            step = np.linalg.solve(curv, grad)
        except np.linalg.LinAlgError:
            step = grad / max(norm, 1.0)
        if observed and float(step @ grad) <= 0:  # not a descent direction: score instead
            observed = False
            continue
        scale = 1.0
        while scale > 1e-6:
            trial = theta - scale * step
            t_value = objective.value_and_gradient(trial)[0]
            if t_value <= value:
                break
            scale /= 2
        else:
            break  # no lower point along the step: at the optimum to rounding, or stuck
        theta = trial
        steps += 1
        if observed and value - t_value < 1e-12 * max(1.0, abs(value)) and norm < GRADIENT_TOLERANCE:
            ev, grad, hessian = objective.curvature(theta, observed=True)
            value = ev.value if ev is not None else np.inf
            break
    return theta, value, grad, hessian, steps
