"""The design of a power simulation on the analysis scale: arms, sizes, dropout and each endpoint's model.

A design file (:class:`trialkit.Design`) states means and SDs on the natural scale, event
probabilities and event rates. A power simulation draws the values its analyses see: the normal
model of a continuous endpoint (of its log on the log scale), the latent normal thresholds of a
binary endpoint, the expected counts of a count endpoint. Values are neither rounded nor clipped
and a baseline window is not applied: the power is that of the model the design states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from trialkit._design import Design, EndpointDesign
from trialkit._moments import model_params
from trialkit._provenance import sha256_bytes

__all__ = ["EndpointModel", "TrialModel", "endpoint_key", "trial_model"]


@dataclass(frozen=True, eq=False)
class EndpointModel:
    """One endpoint's model, per arm (control first) and visit, on the analysis scale.

    Attributes
    ----------
    id, label, type : str
        As in the design; ``type`` is "continuous", "binary" or "count".
    loc : ndarray, shape (A, V)
        Continuous: the mean (of the log on the log scale). Binary: the latent threshold
        ``ndtri(p)`` (an event when the latent normal is below it). Count: the expected count,
        rate x exposure.
    scale : ndarray, shape (A, V)
        Continuous: the SD (of the log on the log scale); 1 for binary and count endpoints.
    cholesky : ndarray, shape (V, V)
        Lower Cholesky factor of the correlation between visits.
    dispersion : float
        Count endpoints: the negative binomial dispersion (0 for Poisson).
    exposure : ndarray, shape (V,), or None
        Count endpoints: the time at risk of each visit (the design's ``exposure``, 1 per visit
        when it gives none); None for the other types.
    count_baseline : str
        Count endpoints: the design's ``count_baseline`` ("log" when it gives none, as in the
        study spec it generates).
    """

    id: str
    label: str
    type: str
    loc: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    cholesky: npt.NDArray[np.float64]
    dispersion: float = 0.0
    exposure: npt.NDArray[np.float64] | None = None
    count_baseline: str = "log"


@dataclass(frozen=True, eq=False)
class TrialModel:
    """The arms, visits and endpoints of a design, ready to draw replicate trials from.

    Attributes
    ----------
    arms : tuple of str
        Arm ids, control first, then the other arms in design order.
    arm_labels : tuple of str
        Their labels (the id when the design gives none).
    allocation : tuple of float
        Each arm's size relative to control (``n_arm / n_control`` of the design).
    dropout : tuple of float
        Each arm's share lost after the first visit (``dropout / n`` of the design); used when
        ``dropout_by_visit`` is None.
    dropout_by_visit : ndarray of shape (A, V), or None
        The probability of having left by each visit, per arm, when the design gives it.
    visits : tuple of str
        Visit ids in order.
    baseline : int or None
        Index of the baseline visit (0) or None.
    primary : int
        Index of the primary visit.
    endpoints : tuple of EndpointModel
        In design order.
    alpha : float
        The design's significance level (two-sided).
    """

    arms: tuple[str, ...]
    arm_labels: tuple[str, ...]
    allocation: tuple[float, ...]
    dropout: tuple[float, ...]
    dropout_by_visit: npt.NDArray[np.float64] | None
    visits: tuple[str, ...]
    baseline: int | None
    primary: int
    endpoints: tuple[EndpointModel, ...]
    alpha: float

    def sizes(self, n: int) -> tuple[int, ...]:
        """Return the subjects randomised per arm (control first) when control has ``n``.

        Each other arm keeps the design's allocation, rounded up as the formulas of
        :func:`trialkit.power.sample_size` round it: ``max(2, ceil(n * n_arm / n_control))``.
        """
        # a product within 1e-9 of an integer is that integer (1.1 * 10 gives 11, not 12)
        return tuple(n if j == 0 else max(2, math.ceil(n * ratio - 1e-9)) for j, ratio in enumerate(self.allocation))

    def dropouts(self, sizes: tuple[int, ...]) -> tuple[int, ...]:
        """Return the fixed number of subjects lost per arm at these sizes: ``round(share * n)``."""
        return tuple(round(share * n) for share, n in zip(self.dropout, sizes, strict=True))

    def endpoint(self, endpoint_id: str) -> EndpointModel:
        """Return the model of the endpoint ``endpoint_id``."""
        return next(ep for ep in self.endpoints if ep.id == endpoint_id)


def endpoint_key(endpoint_id: str) -> int:
    """Return a stable 32-bit key of an endpoint id, so that its random stream does not depend on its position.

    Examples
    --------
    >>> endpoint_key("isi")
    1438720793
    """
    return int(sha256_bytes(endpoint_id.encode("utf-8"))[:8], 16)  # the digest's first 4 bytes


def _endpoint_model(ep: EndpointDesign, arms: tuple[str, ...], visits: int) -> EndpointModel:
    chol = np.linalg.cholesky(np.asarray(ep.correlation, dtype=float))
    ones = np.ones((len(arms), visits))
    if ep.type == "binary":
        loc = np.array([ndtri(np.asarray(ep.probability[a], dtype=float)) for a in arms])
        return EndpointModel(ep.id, ep.label or ep.id, ep.type, loc, ones, chol)
    if ep.type == "count":
        exposure = np.array([length for _, length in ep.exposure], dtype=float) if ep.exposure else np.ones(visits)
        loc = np.array([np.asarray(ep.rate[a], dtype=float) * exposure for a in arms])
        return EndpointModel(
            ep.id, ep.label or ep.id, ep.type, loc, ones, chol, ep.dispersion, exposure, ep.count_baseline or "log"
        )
    params = [model_params(ep.mean[a], ep.sd[a], ep.scale) for a in arms]
    loc = np.array([p[0] for p in params], dtype=float)
    scale = np.array([p[1] for p in params], dtype=float)
    return EndpointModel(ep.id, ep.label or ep.id, ep.type, loc, scale, chol)


def trial_model(design: Design) -> TrialModel:
    """Return the analysis-scale model of a checked design (control arm first).

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    >>> model = trial_model(design)
    >>> model.arms, model.sizes(30), model.dropouts(model.sizes(23))
    (('placebo', 'magnesium'), (30, 30), (1, 2))
    """
    by_id = {a.id: a for a in design.arms}
    order = (design.control, *(a.id for a in design.arms if a.id != design.control))
    control = by_id[design.control]
    arms = tuple(by_id[a] for a in order)
    visits = len(design.visits)
    by_visit = None
    if any(a.dropout_by_visit for a in arms):
        # an arm that gives `dropout` instead loses the same share after the first visit, drawn the same way
        by_visit = np.array(
            [a.dropout_by_visit or (0.0, *(a.dropout / a.n,) * (visits - 1)) for a in arms], dtype=float
        )
    return TrialModel(
        arms=order,
        arm_labels=tuple(a.label or a.id for a in arms),
        allocation=tuple(a.n / control.n for a in arms),
        dropout=tuple(a.dropout / a.n for a in arms),
        dropout_by_visit=by_visit,
        visits=design.visits,
        baseline=None if design.baseline is None else design.visits.index(design.baseline),
        primary=design.visits.index(design.primary_visit),
        endpoints=tuple(_endpoint_model(ep, order, visits) for ep in design.endpoints),
        alpha=design.alpha,
    )
