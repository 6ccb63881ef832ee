"""Draw a batch of replicate trials of one endpoint from its model, all replicates at once.

The draws of a batch come from one generator in a fixed order: first the ``T x N x V`` standard
normals of the values (replicate, then subject, arms in model order, then visit), then, when the
design gives dropout by visit, ``T x N`` uniforms for each subject's last visit. The model's
numbers enter only after drawing, so changing an effect never changes the draws.
"""

from __future__ import annotations

import numpy as np

from trialkit._moments import count_quantiles
from trialkit.power._simulation._batch import Batch
from trialkit.power._simulation._model import EndpointModel, TrialModel

__all__ = ["draw_batch"]


def draw_batch(
    model: TrialModel, endpoint: EndpointModel, sizes: tuple[int, ...], trials: int, rng: np.random.Generator
) -> Batch:
    """Return ``trials`` replicate trials of ``endpoint`` with ``sizes`` subjects per arm (control first).

    A subject's visits are ``loc + scale * Z`` with ``Z ~ N(0, R)`` (R the correlation between
    visits); a binary value is 1 when ``Z`` is below the threshold ``loc``; a count is the
    ``Phi(Z)``-quantile of its Poisson or negative binomial distribution. Dropout is the design's:
    a fixed share of each arm (the last subjects of the arm, who are exchangeable with the others)
    misses every visit after the first, or, with dropout by visit, each subject leaves at a visit
    drawn from the cumulative probabilities.

    Examples
    --------
    >>> import trialkit as tk
    >>> from trialkit.power._simulation._model import trial_model
    >>> model = trial_model(tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml")))
    >>> batch = draw_batch(model, model.endpoints[0], (23, 23), 4, np.random.default_rng(1))
    >>> batch.values.shape, batch.observed.shape, int(batch.observed[0, :, 1].sum())
    ((4, 46, 2), (1, 46, 2), 43)
    """
    arm = np.repeat(np.arange(len(sizes)), sizes)
    n, visits = int(arm.size), len(model.visits)
    z = rng.standard_normal((trials, n, visits))
    if visits > 1:
        # elementwise rather than a BLAS product, whose rounding differs between CPUs: a worker on another
        # machine draws the same numbers
        lower = endpoint.cholesky
        z = np.stack([sum(z[..., j] * lower[i, j] for j in range(i + 1)) for i in range(visits)], axis=-1)
    loc, scale = endpoint.loc[arm], endpoint.scale[arm]  # (N, V)
    if endpoint.type == "binary":
        values = (z < loc).astype(np.float64)
    elif endpoint.type == "count":
        values = count_quantiles(z, np.broadcast_to(loc, z.shape), endpoint.dispersion)
    else:
        values = z  # this function's own array: scaled and shifted in place, no temporary of T x N x V
        values *= scale
        values += loc
    if model.dropout_by_visit is not None:
        u = rng.random((trials, n))
        observed = u[:, :, None] >= model.dropout_by_visit[arm][None, :, :]
        observed[:, :, 0] = True
    else:
        observed = np.ones((1, n, visits), dtype=bool)
        start = 0
        for size, lost in zip(sizes, model.dropouts(sizes), strict=True):
            observed[0, start + size - lost : start + size, 1:] = False
            start += size
    return Batch(
        values, observed, arm, tuple(sizes), model.baseline, model.primary, endpoint.exposure, endpoint.count_baseline
    )
