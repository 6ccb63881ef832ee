r"""Power of the comparison of two proportions: the ``"proportions"`` family.

A control arm with response probability :math:`p_0` is compared with one arm with :math:`p_1`,
given as the risk difference ``effect`` :math:`= p_1 - p_0` or as an ``odds_ratio``. Three
methods, chosen by the user (never by the data):

``"normal"`` (default)
    The pooled-variance z test (the chi-square test without continuity correction). With
    :math:`\bar p = (n_0 p_0 + n_1 p_1)/(n_0 + n_1)`, :math:`d = |p_1 - p_0|` and
    :math:`z = z_{1-\alpha/s}` (:math:`s` = ``sided``),

    .. math:: \text{power} = \Phi\left(\frac{d - z\sqrt{\bar p(1-\bar p)(1/n_0 + 1/n_1)}}
              {\sqrt{p_0(1-p_0)/n_0 + p_1(1-p_1)/n_1}}\right)

    (Fleiss, Levin & Paik 2003, *Statistical Methods for Rates and Proportions*, 3rd ed., ch. 4,
    with unequal group sizes). With :math:`n_0 = n_1` it is R's ``power.prop.test``; ``strict=True``
    adds the probability of rejecting in the wrong direction, as ``power.prop.test(strict = TRUE)``.
``"arcsine"``
    Cohen's effect size :math:`h = 2\arcsin\sqrt{p_1} - 2\arcsin\sqrt{p_0}` on the normal
    approximation of the arcsine-transformed proportions (Cohen 1988, *Statistical Power Analysis
    for the Behavioral Sciences*, ch. 6): with :math:`m = n_0 n_1/(n_0 + n_1)`, two-sided
    :math:`\Phi(|h|\sqrt m - z_{1-\alpha/2}) + \Phi(-|h|\sqrt m - z_{1-\alpha/2})`, one-sided
    :math:`\Phi(|h|\sqrt m - z_{1-\alpha})`. It is R's ``pwr::pwr.2p2n.test`` (and
    ``pwr::pwr.2p.test`` for equal groups).
``"exact"``
    The exact power of Fisher's exact test, by enumerating every outcome
    :math:`(x_0, x_1) \in \{0..n_0\} \times \{0..n_1\}` and summing the binomial probabilities
    :math:`b(x_0; n_0, p_0)\, b(x_1; n_1, p_1)` of those the test rejects at ``alpha`` (the power
    of the exact conditional test, as in Gail & Gart 1973, "The determination of sample sizes for
    use with the exact conditional test in 2 x 2 comparative trials", *Biometrics* 29). Fisher's
    conditional test is the test a small trial's responder analysis reports; the unconditional
    tests (Barnard, Boschloo) are more powerful but are not what
    :func:`trialkit.analysis.fisher_exact_p` computes. The two-sided p-value is R's
    ``fisher.test`` rule: the sum of the hypergeometric probabilities of the tables no more likely
    than the one observed, with a relative tolerance of :math:`10^{-7}` for ties; a p-value within
    the same relative distance of ``alpha`` counts as equal to it and rejects (p = 1/10 exactly at
    ``alpha = 0.1`` is reached by some tables). The work grows as
    :math:`(n_0 + n_1) \min(n_0, n_1)`, so the enumeration is limited to :data:`EXACT_LIMIT`
    subjects in all. The exact power is not monotone in :math:`n` (the saw-tooth of a discrete
    test): a larger trial can have a slightly smaller power.

A one-sided test (``sided=1``) is the test in the direction of the effect. Each method takes
``n_per_arm = (control, arm)``: two arms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, ndtr, ndtri

from trialkit._checks import check_bool, check_in, check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.power._family import CheckedParameters, Family

__all__ = ["EXACT_LIMIT", "PROPORTIONS", "Method", "check_proportions", "proportions_power"]

#: the largest total sample size (both arms) the exact method enumerates
EXACT_LIMIT = 5000

#: R's fisher.test: a table counts as "as extreme" when its probability is at most this factor
#: times the observed one, so that numerically tied tables are not split by rounding
_FISHER_RELATIVE_TOLERANCE = 1.0 + 1e-7


class Method(Enum):
    """The power approximations of the ``"proportions"`` family."""

    NORMAL = "normal"
    ARCSINE = "arcsine"
    EXACT = "exact"


_PARAMETERS = ("p_control", "effect", "odds_ratio", "method", "strict", "allocation")


def check_proportions(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the checked parameters of the ``"proportions"`` family, defaults filled in.

    ``p_control`` is required and exactly one of ``effect`` (the risk difference
    :math:`p_1 - p_0`) and ``odds_ratio`` (:math:`p_1(1-p_0)/(p_0(1-p_1))`); an odds ratio is
    turned into its risk difference, which is what the power functions read (``odds_ratio`` is
    kept as given). ``method`` defaults to ``"normal"``, ``strict`` (given only with
    ``"normal"``) to False, ``allocation``
    (n_arm / n_control, which the solver turns into sizes; the power reads ``n_per_arm``) to 1.
    Every problem is reported at once, in one :class:`~trialkit.TrialkitError`.

    Examples
    --------
    >>> checked = check_proportions({"p_control": 0.2, "odds_ratio": 2.25})
    >>> round(checked["effect"], 6), checked["method"]
    (0.16, <Method.NORMAL: 'normal'>)
    >>> check_proportions({"p_control": 1.2, "effect": 0.1, "sd": 1})
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `sd` is not a parameter of test 'proportions' (its parameters:
    p_control, effect, odds_ratio, method, strict, allocation); got 1.
    `p_control` must be a probability in (0, 1); got 1.2.
    """
    checked = CheckedParameters("proportions", params, _PARAMETERS)
    out, problems = checked.out, checked.problems

    def take(name: str, rule: Callable[[object], object], default: object = None) -> None:
        checked.take(name, rule, default, optional=True)

    take("p_control", lambda v: check_interval(v, "p_control", "(0, 1)", "a probability"))
    take("effect", lambda v: check_interval(v, "effect", "(-1, 1)", "a risk difference"))
    take("odds_ratio", lambda v: check_interval(v, "odds_ratio", "(0, inf)", "an odds ratio"))
    take("method", lambda v: check_in(v, "method", Method), Method.NORMAL.value)
    take("strict", lambda v: check_bool(v, "strict"), False)
    take("allocation", lambda v: check_interval(v, "allocation", "(0, inf)", "a ratio"), 1.0)
    if params.get("p_control") is None:
        problems.append("`p_control` must be a probability in (0, 1); got None.")
    given = [name for name in ("effect", "odds_ratio") if params.get(name) is not None]
    if len(given) != 1:
        shown = ", ".join(f"{name}={params[name]!r}" for name in given) or "neither"
        problems.append(f"`effect` (a risk difference) or `odds_ratio` must be given, exactly one; got {shown}.")
    if params.get("strict") is not None and out.get("method") not in (None, Method.NORMAL):
        # the arcsine and exact powers always count both tails; a strict=False there would be a lie
        problems.append(
            f"`strict` must be left out unless `method` is 'normal' (the other methods always count both "
            f"tails); got {params['strict']!r}."
        )
    out = checked.values()
    p0 = out["p_control"]
    if out["odds_ratio"] is not None:
        if out["odds_ratio"] == 1.0:
            raise TrialkitError(f"`odds_ratio` must be an odds ratio other than 1; got {params['odds_ratio']!r}.")
        odds = out["odds_ratio"] * p0 / (1.0 - p0)
        out["effect"] = odds / (1.0 + odds) - p0
    elif out["effect"] == 0.0:
        raise TrialkitError(f"`effect` must be a risk difference other than 0; got {params['effect']!r}.")
    _arm_probability(p0, out["effect"])
    return out


def _arm_probability(p_control: float, effect: float) -> float:
    """Return ``p_control + effect`` when it is a probability in (0, 1); raise otherwise."""
    p_arm = p_control + effect
    if not 0.0 < p_arm < 1.0:
        raise TrialkitError(
            f"`effect` must keep p_control + effect in (0, 1) (p_control = {p_control!r}); got {effect!r}."
        )
    return p_arm


def _two_arms(n_per_arm: tuple[int, ...]) -> tuple[int, int]:
    """Return ``(n_control, n_arm)``, checked: two sizes, each an integer >= 2."""
    if len(n_per_arm) != 2:
        raise TrialkitError(f"`n_per_arm` must be two sizes (control, arm) for test 'proportions'; got {n_per_arm!r}.")
    n0, n1 = (check_integer(n, "n_per_arm", 2) for n in n_per_arm)
    return n0, n1


def _normal_power(n0: int, n1: int, p0: float, p1: float, alpha: float, sided: int, *, strict: bool) -> float:
    """Return the power of the pooled-variance z test (``power.prop.test`` for n0 = n1)."""
    pooled = (n0 * p0 + n1 * p1) / (n0 + n1)
    null_sd = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1))
    true_sd = math.sqrt(p0 * (1.0 - p0) / n0 + p1 * (1.0 - p1) / n1)
    z = -float(ndtri(alpha / sided))
    d = abs(p1 - p0)
    power = float(ndtr((d - z * null_sd) / true_sd))
    if strict and sided == 2:
        power += float(ndtr((-d - z * null_sd) / true_sd))
    return power


def _arcsine_power(n0: int, n1: int, p0: float, p1: float, alpha: float, sided: int) -> float:
    """Return the power on Cohen's h (``pwr::pwr.2p2n.test``; both tails when two-sided)."""
    h = abs(2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0)))
    shift = h * math.sqrt(n0 * n1 / (n0 + n1))
    z = -float(ndtri(alpha / sided))
    power = float(ndtr(shift - z))
    if sided == 2:
        power += float(ndtr(-shift - z))
    return power


def _log_binomial(n: int, p: float) -> npt.NDArray[np.float64]:
    """Return log P(X = x) for x = 0..n, X ~ Binomial(n, p)."""
    x = np.arange(n + 1, dtype=np.float64)
    log_choose = gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
    return np.asarray(log_choose + x * math.log(p) + (n - x) * math.log1p(-p), dtype=np.float64)


def _log_choose(n: int, k: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0), dtype=np.float64)


def _fisher_rejects(null: npt.NDArray[np.float64], alpha: float, sided: int, higher: bool) -> npt.NDArray[np.bool_]:
    """Return, for each table of one margin total, whether Fisher's test rejects at ``alpha``.

    ``null`` holds the hypergeometric probabilities of the arm's successes over the support,
    in increasing order. Two-sided: R's rule, the sum of the probabilities at most
    ``1 + 1e-7`` times the observed one. One-sided: the tail in the direction of the effect.
    A p-value within the same relative tolerance of ``alpha`` rejects: a p-value that equals
    ``alpha`` as a fraction (1/10 at n = 8 + 8) must not be decided by the last bit of rounding.
    """
    level = alpha * _FISHER_RELATIVE_TOLERANCE
    if sided == 1:
        tail = np.cumsum(null[::-1])[::-1] if higher else np.cumsum(null)
        return np.asarray(tail <= level)
    order = np.sort(null)
    cumulative = np.cumsum(order)
    count = np.searchsorted(order, null * _FISHER_RELATIVE_TOLERANCE, side="right")
    p_value = np.where(count > 0, cumulative[np.maximum(count - 1, 0)], 0.0)
    return np.asarray(p_value <= level)


def _exact_power(n0: int, n1: int, p0: float, p1: float, alpha: float, sided: int) -> float:
    """Return the exact power of Fisher's exact test by enumerating all outcomes."""
    if n0 + n1 > EXACT_LIMIT:
        raise TrialkitError(
            f"`n_per_arm` must total at most {EXACT_LIMIT} for method 'exact' (the enumeration grows as "
            f"n^2; use method 'normal' for larger trials); got {(n0, n1)!r}."
        )
    log_b0 = _log_binomial(n0, p0)
    log_b1 = _log_binomial(n1, p1)
    log_total = gammaln(n0 + n1 + 1.0)
    higher = p1 > p0
    power = 0.0
    for total in range(n0 + n1 + 1):
        x1 = np.arange(max(0, total - n0), min(total, n1) + 1)
        k = x1.astype(np.float64)
        log_null = (
            _log_choose(n1, k)
            + _log_choose(n0, total - k)
            - (log_total - gammaln(total + 1.0) - gammaln(n0 + n1 - total + 1.0))
        )
        # scaled by the largest before normalising, as R's fisher.test does, so ties compare alike
        null = np.exp(log_null - log_null.max())
        null /= null.sum()
        rejects = _fisher_rejects(null, alpha, sided, higher)
        if rejects.any():
            power += float(np.exp(log_b1[x1[rejects]] + log_b0[total - x1[rejects]]).sum())
    return min(power, 1.0)


def proportions_power(n_per_arm: tuple[int, ...], params: Mapping[str, Any], alpha: float, sided: int) -> float:
    """Return the power of the comparison of two proportions.

    Parameters
    ----------
    n_per_arm : tuple of int
        ``(n_control, n_arm)``, subjects analysed per arm (each >= 2).
    params : mapping
        The output of :func:`check_proportions`: ``p_control``, ``effect`` (risk difference),
        ``method`` and ``strict``.
    alpha : float
        Significance level, in (0, 1).
    sided : int
        1 (one-sided, in the direction of the effect) or 2.

    Returns
    -------
    float
        The power, in (0, 1]; the formula of each method is in the module's docstring.

    Raises
    ------
    TrialkitError
        ``n_per_arm`` not two sizes >= 2, an ``effect`` taking ``p_control + effect`` out of
        (0, 1), or more than :data:`EXACT_LIMIT` subjects for the exact method.

    Examples
    --------
    >>> params = check_proportions({"p_control": 0.5, "effect": 0.25})
    >>> round(proportions_power((50, 50), params, 0.05, 2), 4)  # power.prop.test(50, .5, .75)
    0.7401
    >>> params = check_proportions({"p_control": 0.5, "effect": 0.25, "method": "arcsine"})
    >>> round(proportions_power((50, 50), params, 0.05, 2), 4)  # pwr.2p.test(ES.h(.75, .5), 50)
    0.7447
    """
    n0, n1 = _two_arms(n_per_arm)
    p0 = float(params["p_control"])
    p1 = _arm_probability(p0, float(params["effect"]))
    method = Method(params["method"])
    if method is Method.NORMAL:
        return _normal_power(n0, n1, p0, p1, alpha, sided, strict=bool(params["strict"]))
    if method is Method.ARCSINE:
        return _arcsine_power(n0, n1, p0, p1, alpha, sided)
    return _exact_power(n0, n1, p0, p1, alpha, sided)


#: the ``"proportions"`` family: two proportions, normal (pooled z), arcsine (Cohen's h) or exact (Fisher)
PROPORTIONS = Family(name="proportions", parameters=_PARAMETERS, power=proportions_power, check=check_proportions)
