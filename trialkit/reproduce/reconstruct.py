"""Calibrated reconstruction: individual-level data whose between-arm tests reproduce published p's.

When only the abstract of a trial is available (n, directions, p-values), synthetic data of the
trial's shape can still be made to *agree* with it: every between-arm test on change gives the
published p-value, in the published direction. That dataset lets a reader run the analysis a
statistician would pre-specify today (ANCOVA) beside the one the paper is assumed to have used,
on data consistent with everything that was published.

The building blocks are pure functions:

* :func:`match_moments` - exact moment matching of a continuous sample;
* :func:`match_moments_integer` - the closest integer sample within bounds (integer scales);
* :func:`calibrate_difference` - the between-arm mean difference that gives a target p;
* :func:`targets_from_published` - the p-values and directions of a published-results file;
* :func:`reconstruct` - all of them applied to a :class:`~trialkit.simulate.Design` and a seed.

The assumed test is **Student's two-sample t-test (pooled variance, df = n_t + n_c - 2) on the
change from baseline** (on the change of the natural log for log-scale endpoints). The 2012
magnesium trial does not state its test; a sister paper on the same 46 people used "independent
t-tests between arms", and Student is SPSS's default "equal variances assumed" row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from trialkit._errors import TrialkitError
from trialkit.analysis.ttests import two_sample_t
from trialkit.reproduce.published import PublishedTrial
from trialkit.simulate import PATTERN, Design, EndpointDesign, Simulation, lognormal_params, simulate

__all__ = [
    "ASSUMED_TEST",
    "SIGNIFICANT_DIGITS",
    "DifferenceCalibration",
    "EndpointCalibration",
    "IntegerMoments",
    "Reconstruction",
    "Target",
    "calibrate_difference",
    "change_moments",
    "match_moments",
    "match_moments_integer",
    "reconstruct",
    "targets_from_published",
]

#: the between-arm test every calibration reproduces (stated in manifests and reports)
ASSUMED_TEST = ("Student two-sample t-test (pooled variance, df = n_t + n_c - 2) of the change from "
                "baseline to the primary visit, treatment - control; change of the natural log for "
                "log-scale endpoints")

#: digits of the unrounded draws that give each change its shape (see reconstruct)
_FINE_DECIMALS = 12
#: significant digits kept in calibrated follow-up values of continuous endpoints (see reconstruct)
SIGNIFICANT_DIGITS = 14


@dataclass(frozen=True)
class Target:
    """A published between-arm result to reproduce.

    Attributes
    ----------
    endpoint : str
        Endpoint id of the design.
    reported : str
        The p-value as published, e.g. ``"0.006"`` or ``"< 0.001"`` (a bound).
    p_value : float
        The two-sided p the data are calibrated to: the reported value, or for a bound a
        documented value inside it.
    low, high : float
        The p-values the report admits: ``"0.006"`` admits [0.0055, 0.0065] (its rounding),
        ``"< 0.001"`` admits [0, 0.001].
    direction : int
        Sign of treatment - control in mean change: +1 or -1.
    direction_published : bool
        False when the publication gives no direction and ``direction`` is an assumption.
    note : str
        Why ``p_value`` or ``direction`` differ from what is published, when they do.
    """

    endpoint: str
    reported: str
    p_value: float
    low: float
    high: float
    direction: int
    direction_published: bool = True
    note: str = ""

    def admits(self, p_value: float) -> bool:
        """Whether ``p_value`` agrees with the report: ``low <= p_value <= high``."""
        return self.low <= p_value <= self.high


_DIRECTION_SIGN = {"increase": 1, "decrease": -1}


def targets_from_published(published: PublishedTrial, *,
                           assumed_directions: Mapping[str, int] | None = None) -> tuple[Target, ...]:
    """One :class:`Target` per published outcome, in the file's order.

    Parameters
    ----------
    published : PublishedTrial
        From :func:`~trialkit.reproduce.published.read_published`.
    assumed_directions : mapping of str to int, optional
        +1 or -1 for each outcome published without a direction (``direction = "none"``, e.g. "no
        significant difference"): a p-value above 0 needs a non-zero difference, whose sign the
        publication does not give. The target is marked ``direction_published = False``.

    Returns
    -------
    tuple of Target

    Raises
    ------
    TrialkitError
        An outcome without a p-value, or without a direction and absent from
        ``assumed_directions`` (or given there as other than +1 or -1).

    Notes
    -----
    A reported value is the target itself; its rounding gives ``low`` and ``high``. A bound is
    replaced by the middle of the interval it allows (``PValue.interval``): ``"< 0.001"`` is
    calibrated to 0.0005, ``"> 0.05"`` to 0.525. The choice only has to lie inside the bound;
    the middle is a rule, not a guess at the unpublished value.
    """
    assumed = dict(assumed_directions or {})
    out = []
    for o in published.outcomes:
        if o.p is None:
            raise TrialkitError(f"outcome {o.id!r} has no published p-value to calibrate to.")
        low, high = o.p.interval
        notes = []
        if o.p.is_bound:
            p_value = (low + high) / 2
            notes.append(f"published as the bound P {o.p.bound} {o.p.value:g}; calibrated to {p_value:g}, "
                         "the middle of the interval it allows")
        else:
            p_value = float(o.p.value)
        sign = _DIRECTION_SIGN.get(o.direction.value)
        if sign is None:
            sign = assumed.get(o.id)
            if sign not in (-1, 1):
                raise TrialkitError(f"outcome {o.id!r} is published without a direction: give +1 or -1 for "
                                    f"it in `assumed_directions`; got {sign!r}.")
            notes.append(f"published without a direction; {'an increase' if sign > 0 else 'a decrease'} "
                         "in the treatment arm is ASSUMED")
        if o.note:
            notes.append(o.note)
        out.append(Target(endpoint=o.id, reported=o.p.as_written or f"{o.p.value:g}", p_value=p_value,
                          low=float(low), high=float(high), direction=int(sign),
                          direction_published=sign == _DIRECTION_SIGN.get(o.direction.value),
                          note="; ".join(notes)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Moment matching

def _check_sample(z: np.ndarray, what: str) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or len(z) < 2 or not np.all(np.isfinite(z)):
        raise TrialkitError(f"`{what}` must be a 1-d array of at least 2 finite numbers; got shape "
                            f"{z.shape} with {int(np.sum(~np.isfinite(z)))} non-finite values.")
    if not z.std(ddof=1) > 0:
        raise TrialkitError(f"`{what}` has no spread (all values equal): it cannot be standardised.")
    return z


def _check_target(mean: float, sd: float) -> None:
    if not math.isfinite(mean):
        raise TrialkitError(f"`mean` must be a finite number; got {mean!r}.")
    if not (math.isfinite(sd) and sd >= 0):
        raise TrialkitError(f"`sd` must be a finite number >= 0; got {sd!r}.")


def match_moments(z: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """Affine transform of ``z`` with sample mean ``mean`` and sample SD ``sd`` exactly.

    Parameters
    ----------
    z : array of float, shape (n,)
        At least 2 finite values, not all equal: the shape (ranks and spacing) to keep.
    mean, sd : float
        Target sample mean and sample SD (divisor n - 1).

    Returns
    -------
    ndarray of float
        :math:`x_i = m + s\\,(z_i - \\bar z)/s_z` with :math:`s_z^2 = \\sum (z_i - \\bar z)^2/(n-1)`,
        so :math:`\\bar x = m` and :math:`s_x = s` up to floating-point rounding (relative error
        about :math:`10^{-15}`; checked to :math:`10^{-10}` by the tests).

    Examples
    --------
    >>> x = match_moments(np.array([0.0, 1.0, 5.0]), 10.0, 2.0)
    >>> round(float(x.mean()), 12), round(float(x.std(ddof=1)), 12)
    (10.0, 2.0)
    """
    z = _check_sample(z, "z")
    _check_target(mean, sd)
    centred = z - z.mean()
    standard = centred / np.sqrt(np.sum(centred**2) / (len(z) - 1))
    return mean + sd * standard


@dataclass(frozen=True, eq=False)
class IntegerMoments:
    """Integers from :func:`match_moments_integer` and the moments they reach.

    ``mean`` and ``sd`` (divisor n - 1) are the achieved moments; ``target_mean`` and
    ``target_sd`` the requested ones; ``n_moves`` the number of +-1 steps after rounding.
    """

    values: np.ndarray
    mean: float
    sd: float
    target_mean: float
    target_sd: float
    n_moves: int


def _bounds(bound: float | np.ndarray, n: int, what: str) -> np.ndarray:
    b = np.broadcast_to(np.asarray(bound, dtype=float), (n,)).astype(float)
    if np.any(np.isnan(b)):
        raise TrialkitError(f"`{what}` must not be NaN.")
    return b


def _pair_moves(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                q_star: float) -> tuple[np.ndarray, np.ndarray]:
    """|Q - Q*| after each move x_i + 1, x_j - 1 (inf where not allowed) and its cost."""
    n = len(x)
    q = float(np.sum(x**2))
    gap = np.abs(q + 2 * (x[:, None] - x[None, :] + 1) - q_star)
    allowed = (x < hi)[:, None] & (x > lo)[None, :] & ~np.eye(n, dtype=bool)
    cost = (2 * (x - y) + 1)[:, None] + (1 - 2 * (x - y))[None, :]  # change of sum (x - y)^2
    return np.where(allowed, gap, np.inf), cost


def _best_pair_move(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    q_star: float) -> tuple[float, int, int] | None:
    """The move x_i + 1, x_j - 1 leaving Q closest to Q*: ties to the lowest cost, then indices."""
    gap, cost = _pair_moves(x, y, lo, hi, q_star)
    best = gap.min()
    if not np.isfinite(best):
        return None
    i, j = min(map(tuple, np.argwhere(gap <= best + 1e-9)), key=lambda ij: (cost[ij], ij))
    return float(best), int(i), int(j)


def _best_two_moves(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, q_star: float):
    """Two successive pair moves leaving Q closest to Q*.

    First moves are tried once per pair of values (x_i, x_j), at its lowest-cost pair of
    subjects (then lowest indices): moves between the same two values change Q alike.
    """
    gap, cost = _pair_moves(x, y, lo, hi, q_star)
    pairs = np.argwhere(np.isfinite(gap))
    if not len(pairs):
        return None
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0], cost[pairs[:, 0], pairs[:, 1]]))]
    _, first = np.unique(np.column_stack([x[pairs[:, 0]], x[pairs[:, 1]]]), axis=0, return_index=True)
    best = None
    for i, j in pairs[np.sort(first)]:
        x[i] += 1
        x[j] -= 1
        after = _pair_moves(x, y, lo, hi, q_star)[0].min()
        if np.isfinite(after) and (best is None or after < best[0] - 1e-9):
            best = (float(after), (int(i), int(j)))
        x[i] -= 1
        x[j] += 1
    if best is None:
        return None
    i, j = best[1]
    x[i] += 1
    x[j] -= 1
    second = _best_pair_move(x, y, lo, hi, q_star)
    x[i] -= 1
    x[j] += 1
    return best[0], (i, j), (second[1], second[2])


def match_moments_integer(z: np.ndarray, mean: float, sd: float, low: float | np.ndarray,
                          high: float | np.ndarray) -> IntegerMoments:
    """Integers in ``[low, high]`` whose sample mean and SD are as close as possible to the targets.

    Deterministic (no random numbers): the same input gives the same integers.

    Parameters
    ----------
    z : array of float, shape (n,)
        The shape to keep, as in :func:`match_moments`.
    mean, sd : float
        Target sample mean and SD (divisor n - 1).
    low, high : float or array of float, shape (n,)
        Inclusive bounds, one pair for all values or one per value (e.g. the changes an integer
        score can make from each subject's baseline without leaving its range). Non-integer bounds
        are tightened to the integers inside them.

    Returns
    -------
    IntegerMoments

    Raises
    ------
    TrialkitError
        When ``z`` cannot be standardised, a target is not finite or ``sd`` < 0, or some
        ``low`` > ``high`` leaves no integer.

    Notes
    -----
    Exact matching is impossible on an integer scale. The mean of *n* integers is a multiple
    of :math:`1/n`. Given the sum :math:`S`, the SD is fixed by :math:`Q = \\sum x_i^2`, and since
    :math:`x^2 \\equiv x \\pmod 2`, :math:`Q \\equiv S \\pmod 2`: *Q* moves in steps of 2, so the
    variance :math:`s^2 = (Q - S^2/n)/(n-1)` can only take values :math:`2/(n-1)` apart. The best
    achievable therefore is

    .. math:: |\\bar x - m| \\le \\frac{1}{2n}, \\qquad |s^2 - \\sigma^2| \\le \\frac{1}{n-1}
              \\quad\\Big(|s - \\sigma| \\le \\frac{1}{(n-1)(s + \\sigma)}\\Big),

    which this function reaches when the bounds do not bind and the sample is not tiny: the
    tests check it on 1,000 random samples of 10 to 40 values; with 3 to 5 values the search can
    stop one step short. With n = 21 (the magnesium arm of the 2012 trial) that is a mean within
    0.024 and a variance within 0.05 of the targets.

    Algorithm: (1) :math:`y` = :func:`match_moments` (z, mean, sd), the continuous target;
    :math:`x = \\operatorname{clip}(\\operatorname{round}(y), low, high)`. (2) The sum is moved
    one unit at a time to :math:`S^* = \\operatorname{round}(n m)` (clipped to what the bounds
    allow), each time at the value furthest from its continuous target in the needed direction.
    (3) With the sum (hence the mean) fixed, moves :math:`x_i + 1, x_j - 1` (which change *Q* by
    :math:`2(x_i - x_j + 1)`) are taken greedily, each time the one that brings *Q* closest to
    :math:`Q^* = (n-1)\\sigma^2 + S^{*2}/n`, ties broken by the smallest increase of
    :math:`\\sum (x - y)^2` (keeping the shape of *z*) and then the lowest indices; when no single
    move improves, the best two successive moves are tried, and the search stops when those do
    not improve either. The mean is matched first (it is the coarser moment), then the SD, through
    the variance, whose achievable values are equally spaced: the squared error of (mean, SD) is
    minimised lexicographically, and :math:`|s^2 - \\sigma^2|` picks the same integers as
    :math:`|s - \\sigma|` except when :math:`\\sigma^2` sits almost midway between two achievable
    variances.
    """
    y = match_moments(z, mean, sd)
    n = len(y)
    lo = np.ceil(_bounds(low, n, "low") - 1e-9)
    hi = np.floor(_bounds(high, n, "high") + 1e-9)
    if np.any(lo > hi):
        i = int(np.argmax(lo > hi))
        raise TrialkitError(f"`low` > `high` for value {i} ({lo[i]:g} > {hi[i]:g}): no integer fits.")
    x = np.clip(np.round(y), lo, hi)
    moves = 0
    target_sum = float(np.clip(np.round(n * mean), lo.sum(), hi.sum()))
    while x.sum() < target_sum:
        room = np.where(x < hi, y - x, -np.inf)
        x[int(np.argmax(room))] += 1
        moves += 1
    while x.sum() > target_sum:
        room = np.where(x > lo, y - x, np.inf)
        x[int(np.argmin(room))] -= 1
        moves += 1

    q_star = (n - 1) * sd**2 + x.sum() ** 2 / n  # the sum of squares the target SD needs
    while True:
        gap = abs(float(np.sum(x**2)) - q_star)
        step = _best_pair_move(x, y, lo, hi, q_star)
        if step is not None and step[0] < gap - 1e-9:
            _, i, j = step
            x[i] += 1
            x[j] -= 1
            moves += 2
            continue
        pair = _best_two_moves(x, y, lo, hi, q_star)  # stuck: look one move further ahead
        if pair is None or not pair[0] < gap - 1e-9:
            break
        _, (i, j), (k, l) = pair
        x[i] += 1
        x[j] -= 1
        x[k] += 1
        x[l] -= 1
        moves += 4
    values = x.astype(np.int64)
    return IntegerMoments(values=values, mean=float(values.mean()), sd=float(values.std(ddof=1)),
                          target_mean=float(mean), target_sd=float(sd), n_moves=moves)


# ---------------------------------------------------------------------------------------------
# Inverting the test

@dataclass(frozen=True)
class DifferenceCalibration:
    """The between-arm mean difference that gives ``p_value`` under Student's t.

    ``estimate`` is that difference (treatment - control), ``std_error`` its pooled standard
    error, ``statistic`` the t value and ``df`` = n_t + n_c - 2.
    """

    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    direction: int


def calibrate_difference(p_value: float, *, n_treatment: int, n_control: int, sd_treatment: float,
                         sd_control: float, direction: int) -> DifferenceCalibration:
    """Mean difference in change for which Student's two-sample t-test gives ``p_value``.

    Parameters
    ----------
    p_value : float
        Target two-sided p, in (0, 1).
    n_treatment, n_control : int
        Subjects with a change in each arm (>= 2 each).
    sd_treatment, sd_control : float
        The SDs of change the two samples will have (> 0).
    direction : int
        +1 (treatment higher) or -1.

    Returns
    -------
    DifferenceCalibration

    Notes
    -----
    With :math:`\\nu = n_t + n_c - 2`, :math:`s_p^2 = ((n_t-1)s_t^2 + (n_c-1)s_c^2)/\\nu` and
    :math:`SE = s_p\\sqrt{1/n_t + 1/n_c}`,

    .. math:: t = F^{-1}_{t_\\nu}(1 - p/2), \\qquad \\Delta = \\operatorname{sign} \\cdot t \\cdot SE,

    computed as the inverse survival function at :math:`p/2` so that small p keep their relative
    precision. Samples with these SDs and means differing by :math:`\\Delta` give Student's
    :math:`2\\,(1 - F_{t_\\nu}(|t|)) = p` (R ``t.test(var.equal = TRUE)``).

    Examples
    --------
    >>> c = calibrate_difference(0.05, n_treatment=10, n_control=10, sd_treatment=1.0,
    ...                          sd_control=1.0, direction=1)
    >>> round(c.statistic, 4), round(c.estimate, 4)
    (2.1009, 0.9396)
    """
    if not (isinstance(p_value, (int, float)) and 0 < p_value < 1):
        raise TrialkitError(f"`p_value` must be a number in (0, 1); got {p_value!r}.")
    for name, n in (("n_treatment", n_treatment), ("n_control", n_control)):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
            raise TrialkitError(f"`{name}` must be an integer >= 2; got {n!r}.")
    for name, s in (("sd_treatment", sd_treatment), ("sd_control", sd_control)):
        if not (isinstance(s, (int, float)) and math.isfinite(s) and s > 0):
            raise TrialkitError(f"`{name}` must be a finite number > 0; got {s!r}.")
    if direction not in (-1, 1):
        raise TrialkitError(f"`direction` must be +1 or -1; got {direction!r}.")
    df = n_treatment + n_control - 2
    sp2 = ((n_treatment - 1) * sd_treatment**2 + (n_control - 1) * sd_control**2) / df
    se = math.sqrt(sp2 * (1 / n_treatment + 1 / n_control))
    t = float(stats.t.isf(p_value / 2, df))
    return DifferenceCalibration(estimate=direction * t * se, std_error=se, df=float(df),
                                 statistic=direction * t, p_value=float(p_value), direction=int(direction))


# ---------------------------------------------------------------------------------------------
# The reconstruction of a trial

def change_moments(endpoint: EndpointDesign, arm: str, *, baseline: int = 0, visit: int = -1) -> tuple[float, float]:
    """Mean and SD of change from ``baseline`` to ``visit`` that the design implies for ``arm``.

    Linear scale: :math:`m_v - m_0` and :math:`\\sqrt{s_0^2 + s_v^2 - 2\\rho s_0 s_v}`. Log scale:
    the same on the log scale, with :math:`\\mu, \\sigma` from
    :func:`~trialkit.simulate.lognormal_params` and :math:`\\rho` the log-scale correlation.
    """
    mean = np.asarray(endpoint.mean[arm], dtype=float)
    sd = np.asarray(endpoint.sd[arm], dtype=float)
    if endpoint.scale == "log":
        mean, sd = lognormal_params(mean, sd)
    rho = endpoint.correlation[baseline][visit]
    var = sd[baseline] ** 2 + sd[visit] ** 2 - 2 * rho * sd[baseline] * sd[visit]
    return float(mean[visit] - mean[baseline]), float(math.sqrt(var))


@dataclass(frozen=True)
class EndpointCalibration:
    """What one endpoint was calibrated to and what the written values give.

    Target side: ``reported`` (as published), ``target_p``, ``direction`` (and whether it is
    published), the design's change moments (``mean_change_control``, ``sd_change_control``,
    ``sd_change_treatment``) and the calibrated ``difference``. Achieved side, from the rounded
    values: ``estimate`` (treatment - control mean change), ``std_error``, ``df``, ``statistic``
    and ``p_value`` of the assumed test, and ``reproduced``: the estimate has the target
    direction and ``p_value`` equals ``target_p`` to 1e-10 relative (continuous endpoints) or
    lies within the reported rounding or bound (integer scores, ``Target.admits``).
    """

    endpoint: str
    scale: str
    integer: bool
    reported: str
    target_p: float
    direction: int
    direction_published: bool
    n_treatment: int
    n_control: int
    mean_change_control: float
    sd_change_control: float
    sd_change_treatment: float
    difference: float
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    reproduced: bool
    note: str = ""


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """A calibrated dataset and the record of its calibration.

    Attributes
    ----------
    simulation : Simulation
        The calibrated frames (same columns, subjects, covariates, baselines and dropouts as
        :func:`~trialkit.simulate.simulate` gives for the design and seed), their print digits and
        study spec: ready for :func:`trialkit._write.write_simulation`.
    calibrations : tuple of EndpointCalibration
        One per endpoint, design order.
    treatment, control : str
        The two arms compared (treatment - control).
    test : str
        The assumed test (:data:`ASSUMED_TEST`).
    """

    simulation: Simulation
    calibrations: tuple[EndpointCalibration, ...]
    treatment: str
    control: str
    test: str = ASSUMED_TEST

    @property
    def table(self) -> pd.DataFrame:
        """One row per endpoint: the fields of :class:`EndpointCalibration`."""
        rows = [c.__dict__ for c in self.calibrations]
        return pd.DataFrame(rows, columns=list(EndpointCalibration.__dataclass_fields__))


def _targets_by_endpoint(design: Design, targets: Sequence[Target] | Mapping[str, Target]) -> dict[str, Target]:
    items = list(targets.values()) if isinstance(targets, Mapping) else list(targets)
    by_id: dict[str, Target] = {}
    for t in items:
        if not isinstance(t, Target):
            raise TrialkitError(f"`targets` must hold Target objects; got {t!r}.")
        if t.endpoint in by_id:
            raise TrialkitError(f"two targets for endpoint {t.endpoint!r}; give one per endpoint.")
        if not 0 < t.p_value < 1:
            raise TrialkitError(f"target {t.endpoint!r}: `p_value` must be in (0, 1); got {t.p_value!r}.")
        if t.direction not in (-1, 1):
            raise TrialkitError(f"target {t.endpoint!r}: `direction` must be +1 or -1; got {t.direction!r}.")
        by_id[t.endpoint] = t
    ids = [e.id for e in design.endpoints]
    missing = [i for i in ids if i not in by_id]
    unknown = [i for i in by_id if i not in ids]
    if missing or unknown:
        parts = ([f"no target for {', '.join(missing)}"] if missing else []) + (
            [f"targets for endpoints the design lacks: {', '.join(unknown)}"] if unknown else [])
        raise TrialkitError(f"targets and design endpoints must match one to one: {'; '.join(parts)} "
                            f"(design endpoints: {', '.join(ids)}).")
    return by_id


def _digits(values: np.ndarray, decimals: int) -> int:
    """Decimals that keep :data:`SIGNIFICANT_DIGITS` significant digits of the largest value."""
    largest = float(np.max(np.abs(values))) if len(values) else 1.0
    integer_digits = max(1, math.floor(math.log10(largest)) + 1) if largest > 0 else 1
    return max(decimals, SIGNIFICANT_DIGITS - integer_digits)


def _spec_header(spec_toml: str, design: Design, seed: int) -> str:
    body = spec_toml.split("\n")
    while body and body[0].startswith("#"):
        body.pop(0)
    header = [
        f"# Study spec of SYNTHETIC data: trialkit.simulate draws from design {design.study_id!r} with",
        f"# seed {seed}, calibrated by trialkit.reproduce.reconstruct so that the Student t-test on change",
        "# between arms reproduces each published p-value. The values are not the trial's records.",
    ]
    return "\n".join(header + body)


def reconstruct(design: Design, targets: Sequence[Target] | Mapping[str, Target], seed: int) -> Reconstruction:
    """Individual-level data of the design's shape whose between-arm tests give the target p's.

    Parameters
    ----------
    design : Design
        Two arms (the control and one treatment), two visits (baseline, then the primary visit);
        every number it holds is a scale assumption (baseline distributions, SDs, correlations).
    targets : sequence or mapping of Target
        One per endpoint of the design.
    seed : int
        Seed of :func:`~trialkit.simulate.simulate`, whose draws give everything not calibrated.

    Returns
    -------
    Reconstruction

    Raises
    ------
    TrialkitError
        When the design has other than two arms or two visits, an endpoint lacks a target (or a
        target an endpoint), or a calibrated follow-up value falls outside the endpoint's range
        (naming endpoint, arm and subjects; another seed or a smaller SD of change avoids it).

    Notes
    -----
    1. ``simulate(design, seed)`` gives subjects, covariates, dropouts and baseline values, which
       are kept as they are, and a simulated follow-up value per analysed subject.
    2. Per arm, the simulated change :math:`z_i = y_{i1} - y_{i0}` (log scale:
       :math:`\\ln y_{i1} - \\ln y_{i0}`) gives the shape (ranks, spacing, link with baseline).
       It is taken from the same draws before rounding and clipping (``simulate`` of the design
       with 12 decimals and no range: simulate draws every random number before applying means,
       SDs, digits and ranges, so the draws are identical), so that rounding makes no ties.
    3. Targets: the control arm's change has the design's mean and SD (:func:`change_moments`);
       the treatment arm's change has the design's SD and the control mean plus the difference of
       :func:`calibrate_difference` for the target p and direction, with n the analysed subjects.
    4. Continuous endpoints: :func:`match_moments` of *z* to the targets; integer endpoints:
       :func:`match_moments_integer` with per-subject bounds keeping the follow-up value within
       the range, the control arm first, and the treatment target recomputed from the control
       arm's *achieved* SD and mean so that only the treatment arm's granularity remains.
    5. Follow-up = baseline + change (log scale: baseline :math:`\\times e^{change}`). Baselines
       keep the design's digits; follow-up values of continuous endpoints are rounded to
       :data:`SIGNIFICANT_DIGITS` significant digits, so that the written files reproduce the
       target p to about :math:`10^{-12}` relative (rounded to the design's digits, the 2012
       follow-up values would move p by 0.04 % to 8 %; serum magnesium at 2 decimals the most). Integer scores stay integers, so their p can only match to the published
       rounding (``Target.admits``): the mean change of n integers moves in steps of 1/n and its
       SD in similar steps (:func:`match_moments_integer`), so t takes discrete values; for the
       2012 ISI (21 vs 22 analysed, SD of change about 4.1) one unit more or less in either arm's
       sum of changes moves p by about 0.0006 around 0.006: p cannot be set exactly, but it can
       be brought inside [0.0055, 0.0065], the interval "0.006" stands for.

    Log-scale endpoints are calibrated on the log scale: the test reproduced is Student's t of
    :math:`\\ln(y_1/y_0)`, the scale trialkit analyses them on (ratio of geometric means).
    """
    if len(design.arms) != 2:
        raise TrialkitError(f"reconstruct needs a two-arm design; {design.study_id!r} has "
                            f"{len(design.arms)} arms.")
    if len(design.visits) != 2 or design.baseline != design.visits[0]:
        raise TrialkitError(f"reconstruct needs two visits, the baseline first; {design.study_id!r} has "
                            f"visits {list(design.visits)} with baseline {design.baseline!r}.")
    by_id = _targets_by_endpoint(design, targets)
    control = design.control
    treatment = next(a.id for a in design.arms if a.id != control)
    sim = simulate(design, seed)
    # the same draws (simulate applies means, SDs, digits and ranges only after drawing), kept
    # unrounded and unclipped: the shape of each change without ties made by rounding
    fine = replace(design, endpoints=tuple(replace(e, decimals=_FINE_DECIMALS, range=None)
                                           for e in design.endpoints))
    draws = simulate(fine, seed).frames
    frames = {arm: frame.copy() for arm, frame in sim.frames.items()}
    decimals = dict(sim.decimals)
    calibrations, out_of_range = [], []
    b_visit, f_visit = design.visits
    for ep in design.endpoints:
        target = by_id[ep.id]
        if ep.integer and ep.scale == "log":
            raise TrialkitError(f"endpoint {ep.id!r}: an integer score on the log scale is not supported.")
        b_col = PATTERN.format(endpoint=ep.id, visit=b_visit)
        f_col = PATTERN.format(endpoint=ep.id, visit=f_visit)
        analysed = {arm: frames[arm][f_col].notna().to_numpy() & frames[arm][b_col].notna().to_numpy()
                    for arm in (treatment, control)}
        base = {arm: frames[arm].loc[analysed[arm], b_col].to_numpy(float) for arm in (treatment, control)}
        log = ep.scale == "log"
        shape = {}
        for arm in (treatment, control):
            d0 = draws[arm].loc[analysed[arm], b_col].to_numpy(float)
            d1 = draws[arm].loc[analysed[arm], f_col].to_numpy(float)
            shape[arm] = np.log(d1) - np.log(d0) if log else d1 - d0
        m_c, s_c = change_moments(ep, control)
        _, s_t = change_moments(ep, treatment)
        n_t, n_c = len(shape[treatment]), len(shape[control])
        if ep.integer:
            lo, hi = ep.range if ep.range is not None else (-np.inf, np.inf)
            ctrl = match_moments_integer(shape[control], m_c, s_c, lo - base[control], hi - base[control])
            cal = calibrate_difference(target.p_value, n_treatment=n_t, n_control=n_c, sd_treatment=s_t,
                                       sd_control=ctrl.sd, direction=target.direction)
            trt = match_moments_integer(shape[treatment], ctrl.mean + cal.estimate, s_t,
                                        lo - base[treatment], hi - base[treatment])
            change = {control: ctrl.values.astype(float), treatment: trt.values.astype(float)}
        else:
            cal = calibrate_difference(target.p_value, n_treatment=n_t, n_control=n_c, sd_treatment=s_t,
                                       sd_control=s_c, direction=target.direction)
            change = {control: match_moments(shape[control], m_c, s_c),
                      treatment: match_moments(shape[treatment], m_c + cal.estimate, s_t)}
        new = {arm: base[arm] * np.exp(change[arm]) if log else base[arm] + change[arm]
               for arm in (treatment, control)}
        if not ep.integer:
            digits = _digits(np.concatenate(list(new.values())), ep.decimals)
            decimals[f_col] = digits
            new = {arm: np.round(v, digits) + 0.0 for arm, v in new.items()}
        for arm in (treatment, control):
            lo, hi = ep.range if ep.range is not None else (-np.inf, np.inf)
            bad = (new[arm] < lo) | (new[arm] > hi) | ((new[arm] <= 0) if log else False)
            if bad.any():
                ids = frames[arm].loc[analysed[arm], design.subject].to_numpy()[bad]
                out_of_range.append(f"{ep.id} in {arm}: {', '.join(map(str, ids))} "
                                    f"({', '.join(f'{v:g}' for v in new[arm][bad])})")
            frames[arm].loc[analysed[arm], f_col] = new[arm]
        achieved = {arm: (np.log(new[arm]) - np.log(base[arm])) if log else new[arm] - base[arm]
                    for arm in (treatment, control)}
        test = two_sample_t(achieved[treatment], achieved[control], equal_var=True)
        reproduced = bool(np.sign(test.estimate) == target.direction
                          and (target.admits(test.p_value) if ep.integer
                               else math.isclose(test.p_value, target.p_value, rel_tol=1e-10)))
        calibrations.append(EndpointCalibration(
            endpoint=ep.id, scale=ep.scale, integer=ep.integer, reported=target.reported,
            target_p=target.p_value, direction=target.direction,
            direction_published=target.direction_published, n_treatment=n_t, n_control=n_c,
            mean_change_control=m_c, sd_change_control=s_c, sd_change_treatment=s_t,
            difference=cal.estimate, estimate=test.estimate, std_error=test.std_error, df=test.df,
            statistic=test.statistic, p_value=test.p_value, reproduced=reproduced, note=target.note))
    if out_of_range:
        raise TrialkitError(f"calibrated follow-up values outside the endpoint's range with seed {seed} "
                            f"(try another seed or a smaller SD of change): {'; '.join(out_of_range)}.")
    calibrated = replace(sim, frames=frames, decimals=decimals,
                         spec_toml=_spec_header(sim.spec_toml, design, int(seed)))
    return Reconstruction(simulation=calibrated, calibrations=tuple(calibrations),
                          treatment=treatment, control=control)
