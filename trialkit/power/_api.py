"""The public functions of :mod:`trialkit.power`: ``power``, ``sample_size``, ``effect`` and ``SampleSize``.

Each looks the test up in :data:`TESTS` (test name -> :class:`~trialkit.power._family.Family`),
checks the common arguments here and the family's own parameters with the family's ``check``,
and leaves the search to :mod:`trialkit.power._solve`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from trialkit._checks import check_alpha, check_in, check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.power._binary import PROPORTIONS
from trialkit.power._continuous import ANCOVA, T_TEST, Sided
from trialkit.power._counts import NEGATIVE_BINOMIAL
from trialkit.power._family import Family
from trialkit.power._solve import smallest_n, solve_effect

__all__ = ["TESTS", "SampleSize", "effect", "power", "sample_size"]

#: test name -> family: the continuous tests, two proportions and the negative binomial rate ratio
TESTS: Mapping[str, Family] = MappingProxyType(
    {family.name: family for family in (T_TEST, ANCOVA, PROPORTIONS, NEGATIVE_BINOMIAL)}
)

#: the tests whose ``effect`` is a difference with null value 0 and no upper bound (``effect`` solves it)
_EFFECT_TESTS = ("t", "ancova")


@dataclass(frozen=True)
class SampleSize:
    """The sample size that reaches a power, per arm, before and after inflating for dropout.

    Attributes
    ----------
    n_per_arm : tuple of int
        Subjects to enrol per arm, control first then each arm: ``ceil(n / (1 - dropout))`` of
        each entry of ``n_analysed``.
    total : int
        Sum of ``n_per_arm``.
    power : float
        Power achieved at ``n_analysed`` (before dropout), at least the power asked for.
    n_analysed : tuple of int
        The smallest sizes (control n, each arm ``ceil(allocation * n)``) that reach the power.
    test : str
        The test name.
    params : mapping
        The test's checked parameters, defaults filled in.
    alpha : float
        Significance level (familywise over the arms when ``arms > 1``).
    sided : int
        1 or 2.
    dropout : float
        The fraction of enrolled subjects expected not to be analysed, in [0, 1).
    """

    n_per_arm: tuple[int, ...]
    total: int
    power: float
    n_analysed: tuple[int, ...]
    test: str
    params: Mapping[str, Any]
    alpha: float
    sided: int
    dropout: float


def _family(test: object) -> Family:
    if isinstance(test, str) and test in TESTS:
        return TESTS[test]
    allowed = ", ".join(repr(name) for name in TESTS)
    raise TrialkitError(f"`test` must be one of {allowed}; got {test!r}.")


def _checked(family: Family, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the family's checked parameters; every parameter it does not take is named at once."""
    foreign = [name for name in params if name not in family.parameters]
    if foreign:
        shown = ", ".join(f"`{name}` = {params[name]!r}" for name in foreign)
        raise TrialkitError(
            f"parameters of test {family.name!r} must be among {', '.join(family.parameters)}; got {shown}."
        )
    return MappingProxyType(dict(family.check(params)))


def _sizes(n_control: int, params: Mapping[str, Any]) -> tuple[int, ...]:
    """Return (control, arm1, ...) from the control size: each arm ``ceil(allocation * n_control)``."""
    arms = int(params.get("arms", 1))
    # a product within 1e-9 of an integer is that integer (1.1 * 10 must give 11, not 12)
    arm = max(2, math.ceil(float(params.get("allocation", 1.0)) * n_control - 1e-9))
    return (n_control, *([arm] * arms))


def _n_per_arm(value: object, params: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[int, ...]:
    if isinstance(value, tuple | list):
        arms = int(params.get("arms", 1))
        if "allocation" in given:
            raise TrialkitError(
                f"`allocation` must not be given with one size per arm in `n_per_arm`; got {given['allocation']!r}."
            )
        if len(value) != arms + 1:
            raise TrialkitError(
                f"`n_per_arm` must hold {arms + 1} sizes (control first, then each of {arms} arm(s)); got {value!r}."
            )
        return tuple(check_integer(v, "n_per_arm", 2) for v in value)
    return _sizes(check_integer(value, "n_per_arm", 2), params)


def _common(alpha: object, sided: object) -> tuple[float, int]:
    return check_alpha(alpha), int(check_in(sided, "sided", Sided))


def power(test: str, n_per_arm: int | tuple[int, ...], *, alpha: float = 0.05, sided: int = 2, **params: Any) -> float:
    r"""Return the power of ``test`` at the given sample size.

    Parameters
    ----------
    test : str
        A name in :data:`TESTS`: ``"t"`` (two-sample t-test), ``"ancova"`` (ANCOVA on a baseline).
    n_per_arm : int or tuple of int
        The control arm's size (each other arm is ``ceil(allocation * n)``), or one size per arm,
        control first (then ``allocation`` is not given); each >= 2.
    alpha : float
        Significance level in (0, 1); familywise over the arms when ``arms > 1``.
    sided : int
        1 (one-sided, in the direction of the effect) or 2.
    **params
        The test's parameters. ``"t"``: ``effect`` (mean difference, arm − control, in the unit of
        ``sd``; not 0), ``sd`` (> 0, default 1: then ``effect`` is Cohen's d), ``allocation``
        (n_arm / n_control > 0, default 1), ``arms`` (k >= 1 arms against control, default 1),
        ``multiplicity`` (``"bonferroni"`` or ``"dunnett"``; required when k > 1; Dunnett is
        two-sided). ``"ancova"``: the same and ``rho``, the baseline–outcome correlation in (−1, 1).

    Returns
    -------
    float
        The power in (0, 1); with k arms, the smallest power of the k comparisons with control.

    Raises
    ------
    TrialkitError
        An unknown test, a parameter the test does not take, or a value out of range (the message
        names the argument and the value).

    Notes
    -----
    Exact noncentral-t power: see :mod:`trialkit.power` and docs/power.md. Matches R
    ``power.t.test(strict = TRUE)``, ``pwr::pwr.t.test`` and ``pwr::pwr.t2n.test`` to 1e-6
    (tests/reference/power_t/); ANCOVA matches ``pt(q, N - 3, ncp)`` (tests/reference/power_ancova/).

    Examples
    --------
    >>> import trialkit as tk
    >>> round(tk.power.power("t", 64, effect=0.5), 4)
    0.8015
    >>> round(tk.power.power("ancova", 40, effect=5, sd=10, rho=0.6), 4)
    0.7882
    """
    family = _family(test)
    a, s = _common(alpha, sided)
    checked = _checked(family, params)
    return family.power(_n_per_arm(n_per_arm, checked, params), checked, a, s)


def sample_size(
    test: str, *, power: float = 0.8, alpha: float = 0.05, sided: int = 2, dropout: float = 0.0, **params: Any
) -> SampleSize:
    r"""Return the smallest sample size at which ``test`` reaches ``power``, inflated for dropout.

    Parameters
    ----------
    test : str
        A name in :data:`TESTS` (see :func:`power`).
    power : float
        Target power in (0, 1).
    alpha : float
        Significance level in (0, 1); familywise over the arms when ``arms > 1``.
    sided : int
        1 (one-sided, in the direction of the effect) or 2.
    dropout : float
        Expected fraction of enrolled subjects not analysed, in [0, 1): each arm enrols
        :math:`\lceil n_{analysed} / (1 - dropout) \rceil`.
    **params
        The test's parameters (see :func:`power`).

    Returns
    -------
    SampleSize
        ``n_analysed``: the smallest control size n (each arm ``ceil(allocation * n)``) whose power
        is at least ``power``; ``n_per_arm``: those inflated for dropout; ``power``: the power
        achieved at ``n_analysed``.

    Raises
    ------
    TrialkitError
        An unknown test, a parameter the test does not take, a value out of range, or a power no
        size up to 10 000 000 per arm reaches.

    Notes
    -----
    Smallest integer by doubling and bisection on the exact power (:mod:`trialkit.power._solve`),
    never by rounding a continuous solution. Equals ``ceiling(power.t.test(...)$n)`` in R
    (tests/reference/power_t/).

    Examples
    --------
    >>> import trialkit as tk
    >>> size = tk.power.sample_size("t", effect=0.5, power=0.8, dropout=0.1)
    >>> size.n_analysed, size.n_per_arm, round(size.power, 4)
    ((64, 64), (72, 72), 0.8015)
    """
    family = _family(test)
    a, s = _common(alpha, sided)
    target = check_interval(power, "power", "(0, 1)")
    lost = check_interval(dropout, "dropout", "[0, 1)", "a fraction")
    checked = _checked(family, params)
    n = smallest_n(lambda m: family.power(_sizes(m, checked), checked, a, s), target)
    analysed = _sizes(n, checked)
    enrolled = tuple(math.ceil(m / (1 - lost) - 1e-9) for m in analysed)
    return SampleSize(
        n_per_arm=enrolled,
        total=sum(enrolled),
        power=family.power(analysed, checked, a, s),
        n_analysed=analysed,
        test=family.name,
        params=checked,
        alpha=a,
        sided=s,
        dropout=lost,
    )


def effect(
    test: str,
    n_per_arm: int | tuple[int, ...],
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    sided: int = 2,
    **params: Any,
) -> float:
    r"""Return the smallest effect > 0 that ``test`` detects with ``power`` at the given sample size.

    Parameters
    ----------
    test : str
        ``"t"`` or ``"ancova"`` (tests whose effect is a mean difference with null value 0).
    n_per_arm : int or tuple of int
        As in :func:`power`.
    power : float
        Target power in (0, 1); above the size of the test.
    alpha : float
        Significance level in (0, 1).
    sided : int
        1 or 2.
    **params
        The test's parameters (see :func:`power`) without ``effect``.

    Returns
    -------
    float
        The mean difference, in the unit of ``sd``, at which the power equals ``power`` (Brent's
        method, to 1e-12 of ``sd``).

    Raises
    ------
    TrialkitError
        A test other than ``"t"`` or ``"ancova"``, ``effect`` given, a value out of range, or a
        power not above the size of the test.

    Examples
    --------
    >>> import trialkit as tk
    >>> round(tk.power.effect("t", 64, power=0.8), 4)
    0.4991
    """
    family = _family(test)
    if family.name not in _EFFECT_TESTS:
        allowed = ", ".join(repr(name) for name in _EFFECT_TESTS)
        raise TrialkitError(f"`test` must be one of {allowed} to solve for the effect; got {test!r}.")
    if "effect" in params:
        raise TrialkitError(f"`effect` must not be given when solving for it; got {params['effect']!r}.")
    a, s = _common(alpha, sided)
    target = check_interval(power, "power", "(0, 1)")
    checked = dict(_checked(family, {**params, "effect": 1.0}))
    sizes = _n_per_arm(n_per_arm, checked, params)

    def power_of(e: float) -> float:
        return family.power(sizes, {**checked, "effect": e}, a, s)

    size = power_of(0.0)
    if target <= size:
        raise TrialkitError(f"`power` must exceed the size of the test ({size:.6g}); got {target!r}.")
    return solve_effect(power_of, target, float(checked["sd"]))
