"""The interface every power family implements: a name, its parameters, a power function, a checker.

A family is one test for which an analytic power is known (two-sample t, ANCOVA, two proportions,
negative binomial counts). The public functions of :mod:`trialkit.power` look a family up by name,
check its parameters with the family's ``check`` and hand the checked parameters to its ``power``;
the shared solver finds ``n`` or the effect from ``power`` alone.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trialkit._errors import TrialkitError


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


class CheckedParameters:
    """The parameters of one test as its checks read them, and every problem found, reported at once.

    A family's ``check`` makes one, calls :meth:`take` for each parameter and :meth:`values` at the
    end: a parameter the test does not have, and each failed check, is one sentence of the single
    :class:`~trialkit.TrialkitError` raised then.
    """

    def __init__(self, test: str, params: Mapping[str, Any], parameters: Sequence[str]) -> None:
        self.params = params
        self.out: dict[str, Any] = {}
        self.problems = [
            f"`{name}` is not a parameter of test {test!r} (its parameters: {', '.join(parameters)}); "
            f"got {params[name]!r}."
            for name in params
            if name not in parameters
        ]

    def take(
        self, name: str, rule: Callable[[object], object], default: object = None, *, optional: bool = False
    ) -> None:
        """Check parameter ``name`` (``default`` when absent) by ``rule``; with ``optional``, None stays None."""
        value = self.params.get(name, default)
        try:
            self.out[name] = None if optional and value is None else rule(value)
        except TrialkitError as error:
            self.problems.append(str(error))

    def values(self) -> dict[str, Any]:
        """Return the checked parameters; raise one TrialkitError listing every problem, if any."""
        if self.problems:
            raise TrialkitError(" ".join(self.problems))
        return self.out
