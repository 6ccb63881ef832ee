"""Separation in logistic regression: when the maximum-likelihood estimate does not exist.

The outcome is *separated* (Albert and Anderson 1984) when some direction b ≠ 0 of the
coefficients has (2y_i − 1)·x_i'b ≥ 0 for every subject, strictly for at least one: moving the
coefficients along b raises the likelihood for ever, so the iterations drift to infinity and
report a huge odds ratio with a huge standard error (R's ``glm`` merely warns). Two checks:

- :func:`constant_outcome_groups` — the common case in trials, and exact: an arm or a level of a
  factor whose subjects all had the event, or none did (quasi-complete separation along that
  dummy). Cheap, run before the fit.
- :func:`separating_direction` — the general case (Konis 2007): a linear programme that
  maximises Σ (2y_i − 1)·x_i'b subject to (2y_i − 1)·x_i'b ≥ 0 and −1 ≤ b_j ≤ 1; its optimum is
  positive exactly when the data are separated. It costs seconds at 10⁵ subjects, so the caller
  runs it when the fit shows the signature of divergence (no convergence, or a last step that
  still moved the linear predictor: at a finite optimum IRLS converges quadratically and the last
  step is negligible).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["constant_outcome_groups", "separating_direction"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: a column of the scaled design counts as part of the separating direction above this weight
_DIRECTION_TOL = 1e-6
#: margin (scaled design) that makes a subject strictly separated; below it, on the hyperplane
_MARGIN_TOL = 1e-7


def constant_outcome_groups(codes: Ints, y: Floats, labels: tuple[str, ...]) -> list[tuple[str, str]]:
    """Return (label, "no" | "every") for each group whose subjects all share one outcome."""
    k = len(labels)
    n = np.bincount(codes, minlength=k)
    events = np.bincount(codes, weights=y, minlength=k)
    out = []
    for j, label in enumerate(labels):
        if n[j] > 0 and events[j] == 0:
            out.append((label, "no"))
        elif n[j] > 0 and events[j] == n[j]:
            out.append((label, "every"))
    return out


def separating_direction(X: Floats, y: Floats) -> tuple[Floats, int] | None:
    """Return a separating direction of the coefficients and the subjects it separates strictly, or None.

    The direction is on the scale of ``X`` (entries of magnitude < 1e-6 relative to its largest
    set to 0); None when the linear programme finds none (the estimate exists).
    """
    from scipy.optimize import linprog  # a second to import; needed only for suspect fits

    scale = np.sqrt(np.mean(X**2, axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    signed = (2.0 * y - 1.0)[:, None] * (X / scale)
    result = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(X.shape[0]),
        bounds=[(-1.0, 1.0)] * X.shape[1],
        method="highs",
    )
    if result.status != 0:  # pragma: no cover - the programme is feasible (b = 0) and bounded
        return None
    direction = np.asarray(result.x, dtype=np.float64)
    if not np.any(np.abs(direction) > 0):
        return None
    direction = np.where(np.abs(direction) > _DIRECTION_TOL * np.max(np.abs(direction)), direction, 0.0)
    margins = signed @ direction
    size = math.sqrt(float(direction @ direction))
    strict = int(np.sum(margins > _MARGIN_TOL * size))
    if strict == 0 or float(margins.min()) < -_MARGIN_TOL * size:
        return None
    return direction / scale, strict
