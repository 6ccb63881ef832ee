r"""ANCOVA on the baseline, every replicate at once: the treatment effect at the primary visit.

For each replicate the model is :math:`y = a + \tau_j [\text{arm} = j] + \beta x + e`, with ``y``
the primary-visit value and ``x`` the baseline value, fitted to the subjects observed at both (the
complete cases, as ``trialkit analyze`` fits it). With a common slope the least-squares estimates
come from the within-arm sums of squares and products,

.. math:: \hat\beta = S_{xy}/S_{xx}, \qquad
          \hat\tau_j = (\bar y_j - \bar y_0) - \hat\beta (\bar x_j - \bar x_0), \qquad
          s^2 = (S_{yy} - S_{xy}^2/S_{xx}) / (n - k - 2),

:math:`\operatorname{se}(\hat\tau_j)^2 = s^2 (1/n_j + 1/n_0 + (\bar x_j - \bar x_0)^2/S_{xx})`, and the
test rejects when :math:`|\hat\tau_j/\operatorname{se}| > t_{1-\alpha/2,\, n-k-2}` (n observed
subjects, k arms against control): the coefficient test of OLS on the same data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import stdtrit

from trialkit.power._simulation._batch import Batch, Outcome

__all__ = ["ancova", "ancova_statistics", "t_critical"]


def _sums(block: npt.NDArray[np.float64], w: npt.NDArray[np.float64] | None) -> tuple[npt.NDArray[np.float64], ...]:
    """Return n, mean x, mean y, Sxx, Sxy, Syy of one arm (centred sums: no cancellation at large means).

    ``block`` (T, 2, subjects) holds the arm's baseline and primary-visit values, C-contiguous, this
    function's own: it is centred in place (one pass over contiguous rows).
    """
    if w is None:
        n = np.full(block.shape[0], float(block.shape[2]))
        means = block.mean(axis=2)
        block -= means[:, :, None]
    else:
        n = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (w[:, None, :] * block).sum(axis=2) / n[:, None]
        block -= means[:, :, None]
        block *= w[:, None, :]
    dx, dy = block[:, 0], block[:, 1]
    sxx, sxy, syy = np.einsum("ij,ij->i", dx, dx), np.einsum("ij,ij->i", dx, dy), np.einsum("ij,ij->i", dy, dy)
    return n, means[:, 0], means[:, 1], sxx, sxy, syy


def _block(
    values: npt.NDArray[np.float64], cols: slice | npt.NDArray[np.intp], b: int, p: int
) -> npt.NDArray[np.float64]:
    """Return the arm's (T, 2, subjects) baseline and primary values as a new C-contiguous array."""
    # subjects last: the sums then run over contiguous rows, x and y read in one pass over the arm
    arm = np.moveaxis(values[:, cols, :], 2, 1)
    if (b, p) != (0, 1) or values.shape[2] != 2:
        arm = arm[:, [b, p]]
    # always a copy: a view that happens to be contiguous (one trial, one subject) would be centred in
    # place, changing the batch that the next analysis reads
    return np.array(arm, dtype=np.float64, order="C", copy=True)


def _columns(batch: Batch, j: int, complete: npt.NDArray[np.bool_] | None) -> slice | npt.NDArray[np.intp]:
    """Return arm ``j``'s subjects to analyse: its complete cases under one pattern, else all of them.

    A slice when they are contiguous (the lost subjects are the arm's last ones): no index to gather by.
    """
    arm = batch.arm_slice(j)
    if complete is None:
        return arm
    cols: npt.NDArray[np.intp] = np.flatnonzero(complete[arm]) + arm.start
    if cols.size and cols[-1] - cols[0] + 1 == cols.size:
        return slice(int(cols[0]), int(cols[-1]) + 1)
    return cols


def ancova(batch: Batch, alpha: float) -> Outcome:
    """Test each arm against control by ANCOVA on the baseline, in every replicate of ``batch``.

    Parameters
    ----------
    batch : Batch
        Replicates of a continuous endpoint with a baseline visit.
    alpha : float
        Two-sided significance level.

    Returns
    -------
    Outcome
        Rejections and failed fits (fewer than k + 3 complete cases, an arm without one, or no
        spread of the baseline within arms), shape (T, k).

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.power._simulation._draw import draw_batch
    >>> from trialkit.power._simulation._model import trial_model
    >>> model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    >>> batch = draw_batch(model, model.endpoints[0], (23, 23), 2000, np.random.default_rng(1))
    >>> round(float(ancova(batch, 0.05).reject.mean()), 1)  # analytic ANCOVA power 0.69
    0.7
    """
    t, df, failed = ancova_statistics(batch)
    with np.errstate(invalid="ignore"):
        reject = ~failed & (np.abs(t) > t_critical(df, alpha)[:, None])
    return Outcome(reject, failed)


def t_critical(df: npt.NDArray[np.float64], alpha: float) -> npt.NDArray[np.float64]:
    """Return the two-sided critical value of t on ``df`` degrees of freedom, once per distinct df."""
    distinct, where = np.unique(df, return_inverse=True)  # stdtrit is slow, and most replicates share df
    return np.asarray(stdtrit(distinct, 1.0 - alpha / 2.0), dtype=np.float64)[where.reshape(df.shape)]


def ancova_statistics(
    batch: Batch,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Return the t statistic of each arm's coefficient (T, k), its df (T,) and the failed fits (T, k)."""
    assert batch.baseline is not None  # the caller checks that the analysis has a baseline
    values, b, p = batch.values, batch.baseline, batch.primary
    complete = batch.observed[:, :, b] & batch.observed[:, :, p]
    one_pattern = complete.shape[0] == 1  # one pattern for every replicate: keep the complete cases
    k = batch.comparisons
    per_arm = []
    for j in range(k + 1):
        cols = _columns(batch, j, complete[0] if one_pattern else None)
        weights = None if one_pattern else complete[:, cols].astype(np.float64)
        per_arm.append(_sums(_block(values, cols, b, p), weights))
    n = sum(a[0] for a in per_arm)
    sxx, sxy, syy = (sum(a[i] for a in per_arm) for i in (3, 4, 5))
    df = n - k - 2
    t = np.empty((batch.trials, k))
    failed = np.empty((batch.trials, k), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = sxy / sxx
        s2 = (syy - sxy * beta) / df
        n0, mx0, my0 = per_arm[0][:3]
        for j in range(1, k + 1):
            nj, mxj, myj = per_arm[j][:3]
            gap = mxj - mx0
            tau = (myj - my0) - beta * gap
            se = np.sqrt(s2 * (1.0 / nj + 1.0 / n0 + gap * gap / sxx))
            t[:, j - 1] = tau / se
            failed[:, j - 1] = (nj < 1) | (n0 < 1) | (df < 1) | ~(sxx > 0) | ~np.isfinite(t[:, j - 1])
    return t, np.asarray(df, dtype=np.float64), failed
