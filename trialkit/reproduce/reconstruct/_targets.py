"""What a reconstruction reproduces: the published p-values and directions, and the difference that gives a p.

:func:`targets_from_published` turns a published-results file into one :class:`Target` per
outcome (a bound becomes the middle of the interval it allows; a missing direction must be
assumed, and is marked so); :func:`calibrate_difference` gives the between-arm mean difference for
which Student's t-test gives a target p.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from trialkit._checks import check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.reproduce.audit import t_from_p
from trialkit.reproduce.published import PublishedTrial


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


def targets_from_published(
    published: PublishedTrial, *, assumed_directions: Mapping[str, int] | None = None
) -> tuple[Target, ...]:
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

    Examples
    --------
    >>> from trialkit.reproduce.published import read_published
    >>> targets = targets_from_published(read_published("abbasi2012"), assumed_directions={"total_sleep_time": 1})
    >>> renin = targets[2]
    >>> renin.endpoint, renin.reported, renin.p_value, renin.direction
    ('renin', '< 0.001', 0.0005, 1)
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
            notes.append(
                f"published as the bound P {o.p.bound} {o.p.value:g}; calibrated to {p_value:g}, "
                "the middle of the interval it allows"
            )
        else:
            p_value = float(o.p.value)
        sign = _DIRECTION_SIGN.get(o.direction.value)
        if sign is None:
            sign = assumed.get(o.id)
            if sign not in (-1, 1):
                raise TrialkitError(
                    f"outcome {o.id!r} is published without a direction: give +1 or -1 for "
                    f"it in `assumed_directions`; got {sign!r}."
                )
            notes.append(
                f"published without a direction; {'an increase' if sign > 0 else 'a decrease'} "
                "in the treatment arm is ASSUMED"
            )
        if o.note:
            notes.append(o.note)
        out.append(
            Target(
                endpoint=o.id,
                reported=o.p.as_written or f"{o.p.value:g}",
                p_value=p_value,
                low=float(low),
                high=float(high),
                direction=int(sign),
                direction_published=sign == _DIRECTION_SIGN.get(o.direction.value),
                note="; ".join(notes),
            )
        )
    return tuple(out)


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


def calibrate_difference(
    p_value: float, *, n_treatment: int, n_control: int, sd_treatment: float, sd_control: float, direction: int
) -> DifferenceCalibration:
    r"""Mean difference in change for which Student's two-sample t-test gives ``p_value``.

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
    With :math:`\nu = n_t + n_c - 2`, :math:`s_p^2 = ((n_t-1)s_t^2 + (n_c-1)s_c^2)/\nu` and
    :math:`SE = s_p\sqrt{1/n_t + 1/n_c}`,

    .. math:: t = F^{-1}_{t_\nu}(1 - p/2), \qquad \Delta = \operatorname{sign} \cdot t \cdot SE,

    computed as the inverse survival function at :math:`p/2` so that small p keep their relative
    precision. Samples with these SDs and means differing by :math:`\Delta` give Student's
    :math:`2\,(1 - F_{t_\nu}(|t|)) = p` (R ``t.test(var.equal = TRUE)``).

    Examples
    --------
    >>> c = calibrate_difference(0.05, n_treatment=10, n_control=10, sd_treatment=1.0,
    ...                          sd_control=1.0, direction=1)
    >>> round(c.statistic, 4), round(c.estimate, 4)
    (2.1009, 0.9396)
    """
    check_interval(p_value, "p_value", "(0, 1)")
    for name, n in (("n_treatment", n_treatment), ("n_control", n_control)):
        check_integer(n, name, 2)
    for name, s in (("sd_treatment", sd_treatment), ("sd_control", sd_control)):
        check_interval(s, name, "(0, inf)")
    if direction not in (-1, 1):
        raise TrialkitError(f"`direction` must be +1 or -1; got {direction!r}.")
    df = n_treatment + n_control - 2
    sp2 = ((n_treatment - 1) * sd_treatment**2 + (n_control - 1) * sd_control**2) / df
    se = math.sqrt(sp2 * (1 / n_treatment + 1 / n_control))
    t = t_from_p(p_value, df)
    return DifferenceCalibration(
        estimate=direction * t * se,
        std_error=se,
        df=float(df),
        statistic=direction * t,
        p_value=float(p_value),
        direction=int(direction),
    )
