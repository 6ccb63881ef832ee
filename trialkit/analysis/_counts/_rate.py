"""Event rates per unit of exposure with the exact Poisson interval (R ``poisson.test(x, T)``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv

from trialkit._checks import check_alpha, check_counts, check_instance, check_positive_sample
from trialkit._errors import TrialkitError
from trialkit.analysis._arguments import sample
from trialkit.analysis._results import NAN, Analysis, Estimate

__all__ = ["event_rate", "rate_arrays"]

Floats = npt.NDArray[np.float64]


def rate_arrays(y: Floats, exposure: Floats, *, arm: str, alpha: float) -> Estimate:
    """Return the ``rate`` row of checked arrays: Σy / Σexposure with its exact Poisson interval.

    :func:`event_rate` checks its arguments and calls this; :func:`~trialkit.analyze` calls it with
    arrays from the validated trial.
    """
    events = float(y.sum())
    time = float(exposure.sum())
    # Garwood's interval: the gamma quantiles are the chi-square quantiles χ²(2x)/2, χ²(2x + 2)/2
    low = float(gammaincinv(events, alpha / 2)) / time if events > 0 else 0.0
    high = float(gammaincinv(events + 1.0, 1.0 - alpha / 2)) / time
    return Estimate(Analysis.RATE, arm, events / time, math.sqrt(events) / time, low, high, NAN, NAN, NAN, y.size, None)


def event_rate(
    y: Iterable[Any] | npt.ArrayLike,
    exposure: Iterable[Any] | npt.ArrayLike,
    *,
    arm: str,
    alpha: float = 0.05,
) -> Estimate:
    """Return the event rate of one arm: total events over total exposure, with an exact CI.

    Parameters
    ----------
    y : sequence of int
        Events per subject: non-negative whole numbers, no missing values.
    exposure : sequence of float
        Time at risk per subject (> 0, any unit; the rate is per that unit), as many as ``y``.
    arm : str
        The arm's code (the row's ``contrast``).
    alpha : float
        1 - confidence level of the interval, in (0, 1).

    Returns
    -------
    Estimate
        Analysis ``rate``: ``estimate`` = x / T with x = Σy and T = Σexposure; ``std_error`` =
        √x / T; ``ci_low``, ``ci_high`` the exact interval; ``n_treatment`` the subjects;
        ``df``, ``statistic``, ``p_value`` NaN.

    Raises
    ------
    TrialkitError
        ``y`` not counts or with missing values; ``exposure`` not positive, of another length,
        or with missing values; ``arm`` not text; ``alpha`` outside (0, 1).
    AnalysisError
        ``y`` or ``exposure`` empty (``term`` names it).

    Notes
    -----
    Treats the events as Poisson with mean rate·T. The interval is Garwood's (1936) exact
    interval, [G⁻¹(α/2; x), G⁻¹(1 − α/2; x + 1)] / T with G⁻¹(q; s) the q quantile of the
    gamma distribution with shape s (χ²₂ₓ(α/2)/2 ... χ²₂ₓ₊₂(1 − α/2)/2); the lower limit is 0
    when x = 0. This is R's ``poisson.test(x, T)$conf.int`` (tests/reference/counts/,
    agreement to 1e-12 relative).

    Examples
    --------
    >>> row = event_rate([3, 0, 5, 2], [2.0, 1.5, 2.0, 1.0], arm="placebo")
    >>> round(row.estimate, 4), round(row.ci_low, 4), round(row.ci_high, 4)
    (1.5385, 0.7378, 2.8293)
    """
    counts = check_counts(sample(y, "y"), "y")
    time = check_positive_sample(sample(exposure, "exposure"), "exposure")
    if time.size != counts.size:
        raise TrialkitError(f"`exposure` must hold one value per count ({counts.size}); got {time.size} values.")
    label = check_instance(arm, "arm", str, "an arm code (text)")
    return rate_arrays(counts, time, arm=label, alpha=check_alpha(alpha))
