"""The imputation step of each method: the joint mean a subject's values are drawn around, and the draw.

Under every method a subject's post-baseline values are multivariate normal with the covariance
Σ of the imputation model; the methods differ only in the mean (Carpenter, Roger & Kenward 2013,
J Biopharm Stat 23:1352-1371, section 4):

- ``mi_mar`` (missing at random): the subject's own arm's mean x_i' B at every visit;
- ``mi_j2r`` (jump to reference): the own arm's mean up to the last observed visit, the reference
  arm's mean after it — the benefit of the treatment vanishes when the subject stops;
- ``mi_cr`` (copy reference): the reference arm's mean at every visit — the subject is taken to
  have been on the reference arm throughout, so what it gained before stopping decays through the
  correlation with its observed values.

Subjects of the reference arm are imputed under MAR by every method. The missing values are then
drawn from their normal distribution conditional on the subject's observed values:
mean μ_m + Σ_mo Σ_oo⁻¹ (y_o − μ_o), covariance Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from trialkit._errors import TrialkitError
from trialkit._spec import MI_IMPUTATION_METHODS
from trialkit.analysis._missing._groups import Groups, group_by_pattern

__all__ = ["METHODS", "complete", "conditional_moments", "fitted", "joint_mean"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: the imputation methods (result ids)
METHODS = MI_IMPUTATION_METHODS


def fitted(x: Floats, b: Floats) -> Floats:
    """Return x B: (n, T) for ``b`` (p, T); (M, n, T) for M matrices (M, p, T), as one matrix product."""
    if b.ndim == 2:
        out: Floats = x @ b
        return out
    m, p, t = b.shape
    flat = np.moveaxis(b, 0, 1).reshape(p, m * t)  # (p, M·T)
    return np.moveaxis((x @ flat).reshape(x.shape[0], m, t), 1, 0)


def _reference_design(x: Floats, reference: int, arm_columns: Sequence[int]) -> Floats:
    """Return ``x`` with every subject moved to the reference arm (its arm dummies set to the reference's)."""
    out = x.copy()
    columns = list(arm_columns)
    out[:, columns] = 0.0
    if reference > 0:
        out[:, columns[reference - 1]] = 1.0
    return out


def joint_mean(
    x: Floats, y: Floats, b: Floats, *, method: str, arm: Ints, reference: int, arm_columns: Sequence[int]
) -> Floats:
    """Return the mean every subject's post-baseline values are imputed around, under ``method``.

    ``b`` is (p, T) or (M, p, T); the result (n, T) or (M, n, T).
    """
    if method not in METHODS:
        raise TrialkitError(f"`method` must be one of {', '.join(map(repr, METHODS))}; got {method!r}.")
    own = fitted(x, b)
    if method == "mi_mar":
        return own
    ref = fitted(_reference_design(x, reference, arm_columns), b)
    switched = (arm != reference)[:, None]  # (n, 1)
    if method == "mi_j2r":
        seen = ~np.isnan(y)
        t = y.shape[1]
        # position of the last observed visit, -1 when none
        last = np.where(seen.any(axis=1), t - 1 - np.argmax(seen[:, ::-1], axis=1), -1)
        switched = switched & (np.arange(t)[None, :] > last[:, None])
    out: Floats = np.where(switched, ref, own)
    return out


def conditional_moments(
    x: Floats,
    y: Floats,
    b: Floats,
    sigma: Floats,
    *,
    method: str,
    arm: Ints,
    reference: int,
    arm_columns: Sequence[int],
) -> tuple[Floats, Floats]:
    """Return each subject's conditional mean (n, T) and covariance (n, T, T) given its observed values.

    Observed entries of the mean are the observed values and their rows and columns of the
    covariance are zero. ``b`` (p, T) and ``sigma`` (T, T) are one value of the parameters.
    """
    mu = joint_mean(x, y, b, method=method, arm=arm, reference=reference, arm_columns=arm_columns)
    n, t = y.shape
    mean = y.copy()
    cov = np.zeros((n, t, t))
    for g in group_by_pattern(y).incomplete:
        o, m = g.observed, g.missing
        s_om = sigma[np.ix_(o, m)]
        coef = np.linalg.solve(sigma[np.ix_(o, o)], s_om) if o.size else np.zeros((0, m.size))
        resid = y[np.ix_(g.rows, o)] - mu[np.ix_(g.rows, o)]
        mean[np.ix_(g.rows, m)] = mu[np.ix_(g.rows, m)] + resid @ coef
        cov[np.ix_(g.rows, m, m)] = sigma[np.ix_(m, m)] - s_om.T @ coef
    return mean, cov


def complete(
    y: Floats, mu: Floats, sigma: Floats, z: Floats | np.random.Generator, groups: Groups | None = None
) -> Floats:
    """Return M completed copies of ``y`` (M, n, T): the missing values drawn around the joint mean ``mu``.

    ``mu`` (M, n, T) and ``sigma`` (M, T, T) per imputation. ``z`` is either (M, n, T) standard
    normal deviates (only those at missing entries are used), shared by the methods so that they
    differ by their means alone, or a generator to draw them from, group by group.
    """
    groups = group_by_pattern(y) if groups is None else groups
    out = np.empty(mu.shape)
    out[:] = np.where(np.isnan(y), 0.0, y)
    for g in groups.incomplete:
        rows, o, m = g.cells
        mu_g = mu[:, rows]
        s_mm = sigma[:, m][:, :, m]
        if g.observed.size:
            s_om = sigma[:, o][:, :, m]
            coef = np.linalg.solve(sigma[:, o][:, :, o], s_om)
            mean = mu_g[:, :, m] + (y[rows][:, o][None] - mu_g[:, :, o]) @ coef
            cov = s_mm - np.swapaxes(s_om, -1, -2) @ coef
        else:
            mean, cov = mu_g[:, :, m], s_mm
        chol_t = np.swapaxes(np.linalg.cholesky(cov), -1, -2)
        if isinstance(z, np.random.Generator):
            noise = z.standard_normal(mean.shape)
        else:
            noise = z[:, rows][:, :, m]
        if isinstance(rows, slice) and isinstance(m, slice):
            out[:, rows, m] = mean + noise @ chol_t
        else:
            out[:, np.asarray(g.rows)[:, None], g.missing[None, :]] = mean + noise @ chol_t
    return out
