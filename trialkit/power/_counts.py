r"""Power of the comparison of two negative binomial event rates: the ``"negative_binomial"`` family.

Each subject is followed for ``exposure`` :math:`t` time units and has a negative binomial number
of events with mean :math:`\mu_i t` and variance :math:`\mu_i t + k(\mu_i t)^2` (:math:`k` the
``dispersion``; :math:`k = 0` is Poisson). The control rate is :math:`\mu_0` (``rate_control``,
events per unit time), the arm's :math:`\mu_1 = \theta\mu_0` with :math:`\theta` the rate ratio
(``effect``). The test is the Wald test of :math:`\log\theta = 0` from the negative binomial
regression on arm. Zhu & Lakkis (2014, *Statistics in Medicine* 33:376–387, "Sample size
calculation for comparing two negative binomial rates") give, for :math:`n_0` control subjects
and :math:`n_1 = R n_0` in the arm,

.. math:: \text{power} = \Phi\left(\frac{\sqrt{n_0}\,|\log\theta| - z_{1-\alpha/s}\sqrt{V_0}}{\sqrt{V_1}}\right),
          \qquad V_1 = \frac1t\left(\frac1{\mu_0} + \frac1{R\mu_1}\right) + \frac{(1+R)k}{R},

with :math:`s` = ``sided`` (the opposite tail is not counted, as in their formula), where
:math:`V_1/n_0` is the variance of :math:`\log\hat\theta` under the alternative and
:math:`V_0/n_0` its variance under the null hypothesis, which their three methods estimate
differently (``variance_method``):

1. at the control rate for both arms: :math:`V_0 = \frac{1+R}{tR\mu_0} + \frac{(1+R)k}{R}`;
2. at the true rates: :math:`V_0 = V_1`;
3. (default) at the rate the maximum-likelihood fit under the null hypothesis gives both arms,
   the subject-weighted mean :math:`\tilde\mu = (\mu_0 + R\mu_1)/(1+R)`:
   :math:`V_0 = \frac{(1+R)^2}{tR(\mu_0 + R\mu_1)} + \frac{(1+R)k}{R}`.

Method 3 is the default because it is the null variance the test's own null model implies; the
three agree as :math:`\theta \to 1`. Solving the power formula for :math:`n_0` gives their
sample-size formula :math:`n_0 = (z_{1-\alpha/s}\sqrt{V_0} + z_{1-\beta}\sqrt{V_1})^2/(\log\theta)^2`.
The family takes ``n_per_arm = (control, arm)``: two arms, :math:`R = n_1/n_0`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from scipy.special import ndtr, ndtri

from trialkit._checks import check_in, check_integer, check_interval
from trialkit._errors import TrialkitError
from trialkit.power._family import CheckedParameters, Family

__all__ = ["NEGATIVE_BINOMIAL", "VarianceMethod", "check_negative_binomial", "negative_binomial_power"]


class VarianceMethod(IntEnum):
    """Zhu & Lakkis's estimates of the variance of the log rate ratio under the null hypothesis."""

    CONTROL_RATE = 1
    TRUE_RATES = 2
    NULL_MLE = 3


_PARAMETERS = ("rate_control", "effect", "dispersion", "exposure", "variance_method", "allocation")


def check_negative_binomial(params: Mapping[str, Any]) -> dict[str, Any]:
    r"""Return the checked parameters of the ``"negative_binomial"`` family, defaults filled in.

    ``rate_control`` (events per unit time, > 0), ``effect`` (the rate ratio arm/control, > 0
    and not 1) and ``dispersion`` (:math:`k \ge 0`, variance :math:`\mu + k\mu^2`) are
    required; ``exposure`` (time each subject is followed, > 0) defaults to 1 and
    ``variance_method`` (1, 2 or 3, see the module) to 3 and ``allocation`` (n_arm / n_control,
    which the solver turns into sizes; the power reads ``n_per_arm``) to 1. Every problem is
    reported at once, in one :class:`~trialkit.TrialkitError`.

    Examples
    --------
    >>> check_negative_binomial({"rate_control": 0.8, "effect": 0.85, "dispersion": 0.4})["variance_method"]
    <VarianceMethod.NULL_MLE: 3>
    >>> check_negative_binomial({"rate_control": 0.8, "effect": 1, "dispersion": -1})
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `effect` must be a rate ratio other than 1; got 1.
    `dispersion` must be a dispersion >= 0; got -1.
    """
    checked = CheckedParameters("negative_binomial", params, _PARAMETERS)
    take = checked.take
    take("rate_control", lambda v: check_interval(v, "rate_control", "(0, inf)", "an event rate"))
    take("effect", _check_rate_ratio)
    take("dispersion", lambda v: check_interval(v, "dispersion", "[0, inf)", "a dispersion"))
    take("exposure", lambda v: check_interval(v, "exposure", "(0, inf)", "an exposure time"), 1.0)
    take(
        "variance_method",
        lambda v: check_in(check_integer(v, "variance_method", 1), "variance_method", VarianceMethod),
        VarianceMethod.NULL_MLE.value,
    )
    take("allocation", lambda v: check_interval(v, "allocation", "(0, inf)", "a ratio"), 1.0)
    return checked.values()


def _check_rate_ratio(value: object) -> float:
    """Return a rate ratio: a finite number > 0 other than 1."""
    ratio = check_interval(value, "effect", "(0, inf)", "a rate ratio")
    if ratio == 1.0:
        raise TrialkitError(f"`effect` must be a rate ratio other than 1; got {value!r}.")
    return ratio


def negative_binomial_power(n_per_arm: tuple[int, ...], params: Mapping[str, Any], alpha: float, sided: int) -> float:
    r"""Return the power of the Wald test of a negative binomial rate ratio (Zhu & Lakkis 2014).

    Parameters
    ----------
    n_per_arm : tuple of int
        ``(n_control, n_arm)``, subjects analysed per arm (each >= 2).
    params : mapping
        The output of :func:`check_negative_binomial`: ``rate_control`` (events per unit time),
        ``effect`` (rate ratio arm/control), ``dispersion`` k, ``exposure`` t (time units per
        subject) and ``variance_method`` (1, 2 or 3).
    alpha : float
        Significance level, in (0, 1).
    sided : int
        1 (one-sided, in the direction of the effect) or 2.

    Returns
    -------
    float
        :math:`\Phi((\sqrt{n_0}|\log\theta| - z_{1-\alpha/s}\sqrt{V_0})/\sqrt{V_1})`, with
        :math:`V_0, V_1` as in the module's docstring.

    Raises
    ------
    TrialkitError
        ``n_per_arm`` not two sizes, each an integer >= 2.

    Examples
    --------
    >>> params = check_negative_binomial({"rate_control": 0.8, "effect": 0.85, "dispersion": 0.4, "exposure": 0.75})
    >>> round(negative_binomial_power((1500, 1500), params, 0.05, 2), 4)
    0.8501
    """
    if len(n_per_arm) != 2:
        raise TrialkitError(
            f"`n_per_arm` must be two sizes (control, arm) for test 'negative_binomial'; got {n_per_arm!r}."
        )
    n0, n1 = (check_integer(n, "n_per_arm", 2) for n in n_per_arm)
    ratio = n1 / n0
    mu0 = float(params["rate_control"])
    theta = float(params["effect"])
    mu1 = theta * mu0
    k = float(params["dispersion"])
    t = float(params["exposure"])
    extra = (1.0 + ratio) * k / ratio
    v1 = (1.0 / mu0 + 1.0 / (ratio * mu1)) / t + extra
    method = VarianceMethod(params["variance_method"])
    if method is VarianceMethod.CONTROL_RATE:
        v0 = (1.0 + ratio) / (t * ratio * mu0) + extra
    elif method is VarianceMethod.TRUE_RATES:
        v0 = v1
    else:
        v0 = (1.0 + ratio) ** 2 / (t * ratio * (mu0 + ratio * mu1)) + extra
    z = -float(ndtri(alpha / sided))
    return float(ndtr((math.sqrt(n0) * abs(math.log(theta)) - z * math.sqrt(v0)) / math.sqrt(v1)))


#: the ``"negative_binomial"`` family: the rate ratio of two negative binomial arms (Zhu & Lakkis 2014)
NEGATIVE_BINOMIAL = Family(
    name="negative_binomial", parameters=_PARAMETERS, power=negative_binomial_power, check=check_negative_binomial
)
