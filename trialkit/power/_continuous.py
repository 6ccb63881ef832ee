r"""Power of the two-sample t-test and of ANCOVA on a baseline, k arms against one control.

Both families compare each of k arms with a shared control by a t statistic on ``df`` degrees of
freedom whose noncentrality is the effect over its standard error,

.. math:: \lambda_j = \frac{\delta}{\sigma_e \sqrt{1/n_0 + 1/n_j}},

with :math:`\sigma_e = \sigma` for the t-test (df = N − (k + 1)) and
:math:`\sigma_e = \sigma\sqrt{1 - \rho^2}` for ANCOVA on a baseline correlated ρ with the outcome
(df = N − (k + 1) − 1: one more for the baseline slope); N is the total sample size. The power is
exact under the noncentral t: two-sided, :math:`P(T'_\lambda > q) + P(T'_\lambda < -q)` (both
tails, R ``power.t.test(strict = TRUE)`` and ``pwr::pwr.t.test``); one-sided, in the direction of
the effect, :math:`P(T'_{|\lambda|} > q)`. The critical value q is the t quantile at α (one-sided),
α/2 (two-sided), divided by k under Bonferroni, or the Dunnett many-to-one critical value: the c
with :math:`P(\max_j |T_j| \ge c) = \alpha` (one-sided: :math:`P(\max_j T_j \ge c) = \alpha`, every arm
in the direction of the effect) for T multivariate t on df degrees of freedom with the
correlation :math:`\sqrt{n_i n_j / ((n_0 + n_i)(n_0 + n_j))}` of differences against a shared
control (Dunnett 1955).

The ANCOVA power treats the baseline slope as known (the residual variance is the only price of
adjustment): it leaves out the small variance inflation from estimating the slope in finite samples
(about 1 + 1/(N − 4) on the variance of the difference; Borm, Fransen & Lemmens 2007,
*J Clin Epidemiol* 60:1234–1238).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any

from scipy import stats

from trialkit._checks import check_in, check_integer, check_interval, check_number
from trialkit._errors import TrialkitError
from trialkit.analysis._dunnett import dunnett_quantile
from trialkit.power._family import Family

__all__ = ["ANCOVA", "T_TEST", "Multiplicity", "Sided", "critical_value", "power_t"]


class Sided(IntEnum):
    """Sides of the test: 1 (in the direction of the effect) or 2."""

    ONE = 1
    TWO = 2


class Multiplicity(StrEnum):
    """Adjustment of the critical value for k > 1 arms against one control."""

    BONFERRONI = "bonferroni"
    DUNNETT = "dunnett"


def power_t(effect: float, df: float, scale: float, alpha: float) -> float:
    """Return the power of the two-sided t-test at ``alpha`` for the standardised effect ``effect`` (both tails).

    ``scale`` is the standard error of the difference in units of the sd (sqrt(1/n1 + 1/n0) for two
    samples), so that the noncentrality is effect / scale.

    Examples
    --------
    >>> round(power_t(0.5, 126, (2 / 64) ** 0.5, 0.05), 4)
    0.8015
    """
    q = float(stats.t.isf(alpha / 2, df))
    return _noncentral_power(effect / scale, df, q, 2)


def _noncentral_power(ncp: float, df: float, q: float, sided: int) -> float:
    """Return P(T' > q) (+ P(T' < -q) when two-sided) for T' noncentral t on ``df`` with ``ncp``."""
    if sided == 1:
        return float(stats.nct.sf(q, df, abs(ncp)))
    # the lower tail as the upper tail of -T' (noncentrality -ncp): SciPy's nct.cdf far in the lower
    # tail returns NaN for some (df, ncp) (e.g. df 297, ncp 9.93), its sf never did on a grid of
    # df 2 to 1e5, |ncp| <= 38 and alpha 1e-4 to 0.5
    return float(stats.nct.sf(q, df, ncp) + stats.nct.sf(q, df, -ncp))


def critical_value(
    n_per_arm: tuple[int, ...], df: float, alpha: float, sided: int, multiplicity: Multiplicity | None
) -> float:
    """Return the critical |t| of each comparison against control (one- or two-sided, adjusted for k arms).

    Dunnett: :func:`~trialkit.analysis._dunnett.dunnett_quantile`, two-sided (max |T|) or one-sided
    (max T, every arm in the direction of the effect), to 1e-12.

    Examples
    --------
    >>> round(critical_value((20, 20, 20), 57, 0.05, 2, Multiplicity.DUNNETT), 4)
    2.2681
    >>> round(critical_value((20, 20, 20), 57, 0.05, 1, Multiplicity.DUNNETT), 4)
    1.954
    """
    k = len(n_per_arm) - 1
    per_test = alpha / k if k > 1 and multiplicity is Multiplicity.BONFERRONI else alpha
    if k == 1 or multiplicity is Multiplicity.BONFERRONI:
        return float(stats.t.isf(per_test / sided, df))
    return dunnett_quantile(alpha, n_per_arm, df, sided=sided)


def _comparison_power(
    n_per_arm: tuple[int, ...], params: Mapping[str, Any], alpha: float, sided: int, *, residual: float, extra: int
) -> float:
    """Return the smallest power over the comparisons of each arm with control."""
    df = sum(n_per_arm) - len(n_per_arm) - extra
    if df < 1:
        raise TrialkitError(f"`n_per_arm` must leave at least 1 residual degree of freedom; got {n_per_arm!r}.")
    q = critical_value(n_per_arm, df, alpha, sided, params["multiplicity"])
    sd_e = params["sd"] * residual
    n0 = n_per_arm[0]
    return min(
        _noncentral_power(params["effect"] / (sd_e * math.sqrt(1 / n0 + 1 / nj)), df, q, sided) for nj in n_per_arm[1:]
    )


def _check_common(params: Mapping[str, Any]) -> dict[str, Any]:
    effect = check_number(params.get("effect"), "effect")
    if effect == 0:
        raise TrialkitError("`effect` must be a number other than 0; got 0.")
    sd = check_interval(params.get("sd", 1.0), "sd", "(0, inf)", "a standard deviation")
    arms = check_integer(params.get("arms", 1), "arms", 1)
    multiplicity = params.get("multiplicity")
    if arms > 1 and multiplicity is None:
        raise TrialkitError("`multiplicity` must be one of 'bonferroni', 'dunnett' when arms > 1; got None.")
    return {
        "effect": effect,
        "sd": sd,
        "allocation": check_interval(params.get("allocation", 1.0), "allocation", "(0, inf)", "a ratio"),
        "arms": arms,
        "multiplicity": None if multiplicity is None else check_in(multiplicity, "multiplicity", Multiplicity),
    }


def _check_t(params: Mapping[str, Any]) -> Mapping[str, Any]:
    return _check_common(params)


def _check_ancova(params: Mapping[str, Any]) -> Mapping[str, Any]:
    out = _check_common(params)
    out["rho"] = check_interval(params.get("rho"), "rho", "(-1, 1)", "a correlation")
    return out


def _power_t(n_per_arm: tuple[int, ...], params: Mapping[str, Any], alpha: float, sided: int) -> float:
    return _comparison_power(n_per_arm, params, alpha, sided, residual=1.0, extra=0)


def _power_ancova(n_per_arm: tuple[int, ...], params: Mapping[str, Any], alpha: float, sided: int) -> float:
    return _comparison_power(n_per_arm, params, alpha, sided, residual=math.sqrt(1 - params["rho"] ** 2), extra=1)


_COMMON = ("effect", "sd", "allocation", "arms", "multiplicity")

#: two-sample t-test (Student, pooled variance) of each arm against control
T_TEST = Family(name="t", parameters=_COMMON, power=_power_t, check=_check_t)
#: ANCOVA on one baseline correlated ``rho`` with the outcome
ANCOVA = Family(name="ancova", parameters=(*_COMMON, "rho"), power=_power_ancova, check=_check_ancova)
