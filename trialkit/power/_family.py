"""The interface every power family implements: a name, its parameters, a power function, a checker.

A family is one test for which an analytic power is known (two-sample t, ANCOVA, two proportions,
negative binomial counts). The public functions of :mod:`trialkit.power` look a family up by name,
check its parameters with the family's ``check`` and hand the checked parameters to its ``power``;
the shared solver finds ``n`` or the effect from ``power`` alone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Family:
    """One test with an analytic power function.

    Attributes
    ----------
    name : str
        The test name users pass as ``test=`` ("t", "ancova", "proportions", "negative_binomial").
    parameters : tuple of str
        The keyword parameters the family accepts besides ``n_per_arm``, ``alpha``, ``sided`` and
        ``power``.
    power : callable
        ``power(n_per_arm, params, alpha, sided) -> float``: the power in (0, 1) for the sample sizes
        ``n_per_arm = (control, arm1, ...)``, the checked parameters, the significance level and
        ``sided`` (1 or 2).
    check : callable
        ``check(params) -> params``: validates and normalises the family's parameters (fills defaults),
        raising :class:`trialkit.TrialkitError` that names the argument and value.
    """

    name: str
    parameters: tuple[str, ...]
    power: Callable[[tuple[int, ...], Mapping[str, Any], float, int], float]
    check: Callable[[Mapping[str, Any]], Mapping[str, Any]]
