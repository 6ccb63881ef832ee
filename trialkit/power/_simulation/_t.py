r"""Two-sample Student t-test, every replicate at once: on the primary visit (``t``) or on change from baseline.

For each replicate the outcome ``y`` is the primary-visit value (``t``) or the primary-visit value
minus the baseline value (``t_change``), of the subjects observed at the visits used (complete
cases). The variance is pooled over every arm, as the analytic ``"t"`` family of
:func:`trialkit.power.power` assumes (df = n − (k + 1)); with one arm against control this is the
classical two-sample t-test (R ``t.test(y ~ arm, var.equal = TRUE)``),

.. math:: s^2 = \frac{\sum_j \sum_{i \in j} (y_i - \bar y_j)^2}{n - k - 1}, \qquad
          t_j = \frac{\bar y_j - \bar y_0}{s \sqrt{1/n_j + 1/n_0}},

and the test rejects when :math:`|t_j| > t_{1-\alpha/2,\, n-k-1}` (n observed subjects, k arms
against control): the test of the arm coefficient of OLS of ``y`` on the arm indicators.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import stdtr

from trialkit.power._simulation._ancova import t_critical
from trialkit.power._simulation._batch import Batch, Outcome

__all__ = ["t_change", "t_p_values", "t_statistics", "t_test"]


def _arm_sums(
    y: npt.NDArray[np.float64], w: npt.NDArray[np.float64] | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return n, mean and the centred sum of squares of one arm, per replicate."""
    if w is None:
        n = np.full(y.shape[0], float(y.shape[1]))
        m = y.mean(axis=1)
        d = y - m[:, None]
        return n, m, np.einsum("ij,ij->i", d, d)
    n = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (w * y).sum(axis=1) / n
    d = w * (y - m[:, None])
    return n, m, np.einsum("ij,ij->i", d, d)


def t_statistics(
    batch: Batch, change: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Return the t statistic (T, k), its degrees of freedom (T,) and the failed fits (T, k) of each replicate.

    ``change``: test the change from baseline (the batch must have a baseline) instead of the
    primary-visit value. A fit fails when an arm of the comparison has no complete case, the
    pooled variance has no degree of freedom or is zero, or the statistic is not finite.
    """
    y = batch.values[:, :, batch.primary]
    complete = batch.observed[:, :, batch.primary]
    if change:
        assert batch.baseline is not None  # the caller checks that the analysis has a baseline
        y = y - batch.values[:, :, batch.baseline]
        complete = complete & batch.observed[:, :, batch.baseline]
    arm = batch.arm
    weights: npt.NDArray[np.float64] | None = None
    if complete.shape[0] == 1:  # one pattern for every replicate: keep the complete cases
        keep = np.flatnonzero(complete[0])
        y, arm = y[:, keep], arm[keep]
    else:
        weights = complete.astype(np.float64)
    k = batch.comparisons
    per_arm = []
    for j in range(k + 1):
        cols = np.flatnonzero(arm == j)
        per_arm.append(_arm_sums(y[:, cols], None if weights is None else weights[:, cols]))
    n = sum(a[0] for a in per_arm)
    ss = sum(a[2] for a in per_arm)
    df = n - k - 1
    t = np.empty((batch.trials, k))
    failed = np.empty((batch.trials, k), dtype=bool)
    n0, m0 = per_arm[0][:2]
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = ss / df
        for j in range(1, k + 1):
            nj, mj = per_arm[j][:2]
            t[:, j - 1] = (mj - m0) / np.sqrt(s2 * (1.0 / nj + 1.0 / n0))
            failed[:, j - 1] = (nj < 1) | (n0 < 1) | (df < 1) | ~(s2 > 0) | ~np.isfinite(t[:, j - 1])
    return t, np.asarray(df, dtype=np.float64), failed


def t_p_values(batch: Batch, change: bool) -> npt.NDArray[np.float64]:
    """Return the two-sided p-value (T, k) of each comparison, NaN where the fit failed."""
    t, df, failed = t_statistics(batch, change)
    with np.errstate(invalid="ignore"):
        p = 2.0 * stdtr(df[:, None], -np.abs(t))
    return np.where(failed, np.nan, p)


def _outcome(batch: Batch, alpha: float, change: bool) -> Outcome:
    t, df, failed = t_statistics(batch, change)
    with np.errstate(invalid="ignore"):
        reject = ~failed & (np.abs(t) > t_critical(df, alpha)[:, None])
    return Outcome(reject, failed)


def t_test(batch: Batch, alpha: float) -> Outcome:
    """Test each arm against control by the two-sample t-test on the primary visit, in every replicate.

    Parameters
    ----------
    batch : Batch
        Replicates of a continuous or count endpoint.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections and failed fits, shape (T, k).

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.power._simulation._draw import draw_batch
    >>> from trialkit.power._simulation._model import trial_model
    >>> model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    >>> batch = draw_batch(model, model.endpoints[0], (23, 23), 2000, np.random.default_rng(1))
    >>> round(float(t_test(batch, 0.05).reject.mean()), 1)  # analytic t power at 22 and 21: 0.57
    0.6
    """
    return _outcome(batch, alpha, change=False)


def t_change(batch: Batch, alpha: float) -> Outcome:
    """Test each arm against control by the two-sample t-test on change from baseline, in every replicate.

    Parameters
    ----------
    batch : Batch
        Replicates of a continuous or count endpoint with a baseline visit.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections and failed fits, shape (T, k).
    """
    return _outcome(batch, alpha, change=True)
