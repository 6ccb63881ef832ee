"""Logistic regression of a binary outcome on arm and covariates: conditional and marginal effects.

The design matrix is the ANCOVA's (treatment coding, control and each factor's first level as
references; built column by column from validated names, no formula text). The fit follows R's
``glm(family = binomial)`` iteration for iteration (:mod:`._irls`); data the model cannot support —
a term collinear with others, separation, no convergence — are an AnalysisError naming the term,
never a huge estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_in, check_instance, check_names, check_sample
from trialkit._errors import AnalysisError, TrialkitError
from trialkit.analysis._ancova import _check_data, _Data, _design, _levels
from trialkit.analysis._arguments import sample
from trialkit.analysis._binary._inputs import (
    binary_outcome,
    codes_within,
    frame_codes,
    frame_numbers,
    require_columns,
    same_length,
)
from trialkit.analysis._binary._irls import fit_logistic, rank_check
from trialkit.analysis._binary._separation import constant_outcome_groups, separating_direction
from trialkit.analysis._binary._standardise import standardise
from trialkit.analysis._distributions import normal_two_sided_p, normal_upper_quantile
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["LogisticFit", "MarginalVariance", "logistic", "logistic_arrays"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: a last IRLS step that still moves some linear predictor by this much is the signature of
#: divergence (at a finite optimum the last step is orders of magnitude smaller), and sends the
#: fit to the separation programme
_DIVERGING_STEP = 0.05


class MarginalVariance(StrEnum):
    """The variance of the standardised (marginal) effects: Ye et al. (2023) or Ge et al. (2011)."""

    YE = "ye"
    GE = "ge"


@dataclass(frozen=True)
class LogisticFit:
    """A logistic regression and its standardised (marginal) effects.

    Attributes
    ----------
    conditional : tuple of Estimate
        ``logistic`` per non-control arm: conditional odds ratio exp(b_a), ``std_error`` = SE of
        b_a (log scale), Wald z interval and test.
    marginal : tuple of Estimate
        ``standardised_rd`` per non-control arm, then ``standardised_rr``, then
        ``standardised_or``: contrasts of the counterfactual risks against control, with the
        variance named by ``variance``; ratios with ``std_error`` on the log scale.
    risks : mapping of str to float
        Counterfactual (standardised) risk per arm, control first.
    variance : MarginalVariance
        Which covariance of the risks the ``marginal`` rows use.
    risk_covariance_ye, risk_covariance_ge : ndarray of float, shape (arms, arms)
        Covariance of the risks (arms in order) by Ye et al. (2023) and by Ge et al. (2011).
    names : tuple of str
        Column names of the design: ``(intercept)``, ``arm[<arm>]``, numeric covariates,
        ``<factor>[<level>]``.
    coefficients : ndarray of float
        Maximum-likelihood coefficients (log odds), in ``names`` order.
    covariance : ndarray of float
        Model-based covariance of the coefficients (inverse Fisher information, as ``vcov(glm)``).
    sandwich : ndarray of float
        HC0 sandwich covariance of the coefficients (``sandwich::vcovHC(type = "HC0")``).
    deviance : float
        Residual deviance −2 log L.
    iterations : int
        IRLS iterations (R's ``iter``).
    n_by_arm : mapping of str to int
        Subjects analysed per arm.
    """

    conditional: tuple[Estimate, ...]
    marginal: tuple[Estimate, ...]
    risks: Mapping[str, float]
    variance: MarginalVariance
    risk_covariance_ye: Floats
    risk_covariance_ge: Floats
    names: tuple[str, ...]
    coefficients: Floats
    covariance: Floats
    sandwich: Floats
    deviance: float
    iterations: int
    n_by_arm: Mapping[str, int]


def _refuse_separated_groups(data: _Data, arms: tuple[str, ...], levels: Mapping[str, tuple[str, ...]]) -> None:
    """Raise an AnalysisError for an arm or factor level whose subjects all share one outcome."""
    groups = [("arm", "arm", data.arm, arms)] + [
        (f"level of covariate {c!r}", c, data.factors[c], lv) for c, lv in levels.items()
    ]
    for what, term, codes, labels in groups:
        for label, which in constant_outcome_groups(codes, data.y, labels):
            raise AnalysisError(
                f"{what} {label!r}: {which} subject had the event, so the outcome is separated "
                f"(quasi-complete separation) and the odds ratio for {term!r} is not estimable "
                "(its maximum-likelihood estimate is infinite).",
                term=term,
            )


def _refuse_divergence(X: Floats, y: Floats, names: list[str], converged: bool, iterations: int) -> None:
    """Raise an AnalysisError naming the separating terms, or the non-convergence."""
    found = separating_direction(X, y)
    if found is not None:
        direction, strict = found
        terms = [names[j] for j in np.flatnonzero(direction) if j > 0] or [names[0]]
        raise AnalysisError(
            f"the outcome is separated by {', '.join(map(repr, terms))} (complete or quasi-complete "
            f"separation: {strict} subject(s) predicted perfectly); fitted probabilities collapse to 0 "
            "or 1, the coefficients diverge and their maximum-likelihood estimates do not exist.",
            term=terms[0],
        )
    if not converged:
        raise AnalysisError(
            f"the logistic regression did not converge in {iterations} iterations "
            "(relative deviance change < 1e-8, as glm.control()).",
            term="(model)",
        )


def _ratio_row(kind: Analysis, contrast: str, log_estimate: float, se: float, z: float, n_t: int, n_c: int) -> Estimate:
    statistic = log_estimate / se
    return Estimate(
        kind,
        contrast,
        math.exp(log_estimate),
        se,
        math.exp(log_estimate - z * se),
        math.exp(log_estimate + z * se),
        math.nan,
        statistic,
        normal_two_sided_p(statistic),
        n_t,
        n_c,
    )


def _marginal_rows(
    risks: Floats, covariance: Floats, arms: tuple[str, ...], counts: Mapping[str, int], z: float
) -> tuple[Estimate, ...]:
    """Return the RD rows per non-control arm, then the RR rows, then the OR rows (delta method)."""
    rows: dict[Analysis, list[Estimate]] = {
        Analysis.STANDARDISED_RD: [],
        Analysis.STANDARDISED_RR: [],
        Analysis.STANDARDISED_OR: [],
    }
    r0 = float(risks[0])
    n0 = counts[arms[0]]
    for a in range(1, len(arms)):
        contrast, r1, n1 = f"{arms[a]} - {arms[0]}", float(risks[a]), counts[arms[a]]
        pair = covariance[np.ix_([a, 0], [a, 0])]
        # gradients of RD, log RR and log OR in (r_a, r_0)
        for kind, gradient, log_estimate in (
            (Analysis.STANDARDISED_RD, np.array([1.0, -1.0]), None),
            (Analysis.STANDARDISED_RR, np.array([1.0 / r1, -1.0 / r0]), math.log(r1 / r0)),
            (
                Analysis.STANDARDISED_OR,
                np.array([1.0 / (r1 * (1.0 - r1)), -1.0 / (r0 * (1.0 - r0))]),
                math.log(r1 / (1.0 - r1)) - math.log(r0 / (1.0 - r0)),
            ),
        ):
            se = math.sqrt(float(gradient @ pair @ gradient))
            if log_estimate is None:
                d = r1 - r0
                t = d / se
                rows[kind].append(
                    Estimate(kind, contrast, d, se, d - z * se, d + z * se, math.nan, t, normal_two_sided_p(t), n1, n0)
                )
            else:
                rows[kind].append(_ratio_row(kind, contrast, log_estimate, se, z, n1, n0))
    return tuple(row for kind_rows in rows.values() for row in kind_rows)


def _fit(
    data: _Data,
    arms: tuple[str, ...],
    levels: dict[str, tuple[str, ...]],
    alpha: float,
    variance: MarginalVariance,
) -> LogisticFit:
    counts = _check_data(data, arms, levels)
    _refuse_separated_groups(data, arms, levels)
    X, names = _design(data, arms, levels)
    rank_check(X, names)
    fit = fit_logistic(X, data.y)
    if not fit.converged or fit.last_step > _DIVERGING_STEP:
        _refuse_divergence(X, data.y, names, fit.converged, fit.iterations)
    z = normal_upper_quantile(alpha / 2)
    k = len(arms)
    conditional = tuple(
        _ratio_row(
            Analysis.LOGISTIC,
            f"{arms[a]} - {arms[0]}",
            float(fit.coefficients[a]),
            math.sqrt(float(fit.covariance[a, a])),
            z,
            counts[arms[a]],
            counts[arms[0]],
        )
        for a in range(1, k)
    )
    std = standardise(X, data.y, data.arm, k, fit.coefficients, fit.covariance, fit.mu, fit.weights)
    chosen = std.covariance_ye if variance is MarginalVariance.YE else std.covariance_ge
    return LogisticFit(
        conditional=conditional,
        marginal=_marginal_rows(std.risks, chosen, arms, counts, z),
        risks={a: float(std.risks[j]) for j, a in enumerate(arms)},
        variance=variance,
        risk_covariance_ye=std.covariance_ye,
        risk_covariance_ge=std.covariance_ge,
        names=tuple(names),
        coefficients=fit.coefficients,
        covariance=fit.covariance,
        sandwich=std.beta_sandwich,
        deviance=fit.deviance,
        iterations=fit.iterations,
        n_by_arm=counts,
    )


def logistic_arrays(
    arm: Ints,
    y: Floats,
    numeric: Mapping[str, Floats],
    factors: Mapping[str, Ints],
    *,
    arms: tuple[str, ...],
    levels: Mapping[str, tuple[str, ...]],
    alpha: float,
    variance: MarginalVariance | str = MarginalVariance.YE,
) -> LogisticFit:
    """Fit :func:`logistic` on arrays: arm and factor levels as codes, numeric covariates as floats.

    :func:`~trialkit.analyze` calls this once per endpoint and visit with arrays built from the
    validated trial, which spares a frame per fit.

    Parameters
    ----------
    arm : ndarray of int
        Position of each subject's arm in ``arms`` (control = 0).
    y : ndarray of float
        Outcome per subject, 0.0 or 1.0 (1 = the event).
    numeric : mapping of str to ndarray of float
        Numeric covariates by name, baseline status first when there is one.
    factors : mapping of str to ndarray of int
        Factor covariates by name: position of each subject's level in ``levels[name]``.
    arms : tuple of str
        Arm codes, control first (at least 2).
    levels : mapping of str to tuple of str
        Levels of each factor, first = reference.
    alpha : float
        1 − confidence level of the intervals, in (0, 1).
    variance : {"ye", "ge"}
        Variance of the standardised effects in ``marginal`` (see :func:`logistic`).

    Returns
    -------
    LogisticFit
        As :func:`logistic`.

    Raises
    ------
    TrialkitError
        ``y`` not 0/1 or not finite; codes outside their labels; arrays of different lengths;
        ``numeric``, ``factors`` or ``levels`` not mappings; ``arms``, ``alpha`` or ``variance``
        invalid.
    AnalysisError
        As :func:`logistic`.

    Notes
    -----
    The model, the fit and the standardisation are those of :func:`logistic`.
    """
    outcome = sample(y, "y")
    outcome = binary_outcome(outcome, "y")
    arm_codes_ = check_names(arms, "arms", 2)
    arm_codes = codes_within(arm, "arm", arm_codes_)
    numbers = {c: check_sample(x, f"numeric[{c!r}]", minimum=0) for c, x in _mapping(numeric, "numeric").items()}
    factor_levels = {c: check_names(lv, f"levels[{c!r}]", 1) for c, lv in _mapping(levels, "levels").items()}
    given = _mapping(factors, "factors")
    if set(given) != set(factor_levels):
        raise TrialkitError(
            f"`levels` must name the levels of every factor ({', '.join(map(repr, given))}); got {levels!r}."
        )
    codes = {c: codes_within(x, f"factors[{c!r}]", factor_levels[c]) for c, x in given.items()}
    same_length(outcome.size, {"arm": arm_codes, **numbers, **{f"factors[{c!r}]": x for c, x in codes.items()}})
    alpha = check_alpha(alpha)
    chosen = check_in(variance, "variance", MarginalVariance)
    return _fit(_Data(arm_codes, outcome, numbers, codes), arm_codes_, factor_levels, alpha, chosen)


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    """Return ``value`` when it is a mapping with text keys (a TrialkitError otherwise)."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TrialkitError(f"`{name}` must be a mapping of covariate names to values; got {value!r}.")
    return value


def logistic(
    frame: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    arms: Sequence[str],
    numeric: Sequence[str] = (),
    categorical: Mapping[str, Sequence[str]] | None = None,
    alpha: float = 0.05,
    variance: MarginalVariance | str = MarginalVariance.YE,
) -> LogisticFit:
    """Fit a logistic regression of a binary outcome on arm and covariates, with standardised effects.

    Parameters
    ----------
    frame : DataFrame
        One row per subject with the columns named below and no missing values (the caller
        selects complete cases). Not modified.
    outcome : str
        Column of 0/1 outcomes (1 = the event).
    arm : str
        Column of arm codes.
    arms : sequence of str
        Arm codes, control first (at least 2); every ``arm`` value must be one of them.
    numeric : sequence of str
        Numeric covariates (baseline status first, when there is one), entered linearly.
    categorical : mapping of str to sequence of str, optional
        Factor covariates (strata among them): name to levels, first = reference.
    alpha : float
        1 − confidence level of the intervals, in (0, 1).
    variance : {"ye", "ge"}
        Variance of the standardised effects in ``marginal``: Ye et al. (2023), robust to a
        misspecified model (default), or Ge et al. (2011), delta method with the HC0 sandwich
        covariance of the coefficients. Both covariance matrices are on the result.

    Returns
    -------
    LogisticFit
        Conditional odds ratios (``logistic``), standardised risk difference, risk ratio and odds
        ratio (``standardised_rd``/``_rr``/``_or``), the counterfactual risks and both of their
        covariance matrices, and the model (coefficients, covariances, deviance, iterations).

    Raises
    ------
    TrialkitError
        ``frame`` not a DataFrame or without the named columns; an outcome other than 0/1; a
        missing or non-finite value; an arm or level not declared; ``alpha`` or ``variance``
        invalid.
    AnalysisError
        An arm with fewer than 2 subjects; an arm or factor level in which every subject, or
        none, had the event; separation by any combination of terms; a constant covariate, a
        level with no subject, or a term collinear with those before it (``term`` names it); no
        convergence in 25 iterations (``term`` = ``(model)``).

    Notes
    -----
    Model: logit P(y = 1) = b0 + Σ_a b_a [arm = a] + covariates, fitted by maximum likelihood
    with R's IRLS path (start mu = (y + 1/2)/2; stop when |D − D_old| / (|D| + 0.1) < 1e-8,
    at most 25 iterations; D the deviance). Conditional OR: exp(b_a), SE from the inverse Fisher
    information, CI exp(b_a ± z SE), z = b_a / SE. Standardisation (g-computation): risk of arm
    a r_a = mean over all analysed subjects of expit(x_i(a)'b), x_i(a) the subject's covariates
    with the arm set to a; RD = r_a − r_0, RR = r_a / r_0, OR = [r_a/(1 − r_a)] / [r_0/(1 − r_0)],
    variances by the delta method from the covariance of (r_a, r_0), ratios on the log scale
    (SE, CI and z of log RR and log OR). Covariance of the risks: Ge et al. (2011) with the HC0
    sandwich, or Ye et al. (2023) as beeca's default (docs/binary.md has both formulas).

    Matches R ``glm(family = binomial)`` (coefficients, SEs, z, p) and the standardisation
    formulas written in R to a relative 1e-12 (Ge covariances: 1e-10): tests/reference/binary/.

    References: Ge M, Durham LK, Meyer RD, Xie W, et al. (2011), Drug Inf J 45:481–493;
    Ye T, Shao J, Yi Y, Zhao Q (2023), J Am Stat Assoc 118:2370–2382, and Stat Theory Relat
    Fields 7:159–163; FDA (2023), Adjusting for Covariates in Randomized Clinical Trials for
    Drugs and Biological Products.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["c"] * 8 + ["t"] * 8,
    ...                       "y": [0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0],
    ...                       "baseline": [0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1]})
    >>> fit = logistic(frame, outcome="y", arm="arm", arms=["c", "t"], numeric=["baseline"])
    >>> row = fit.conditional[0]
    >>> row.contrast, round(row.estimate, 4), fit.iterations
    ('t - c', 1.5, 4)
    >>> [(r.analysis.value, round(r.estimate, 4)) for r in fit.marginal]
    [('standardised_rd', 0.0927), ('standardised_rr', 1.2373), ('standardised_or', 1.4594)]
    """
    check_instance(frame, "frame", pd.DataFrame, "a DataFrame")
    outcome_column = check_instance(outcome, "outcome", str, "text (a column name)")
    arm_column = check_instance(arm, "arm", str, "text (a column name)")
    arm_codes = check_names(arms, "arms", 2)
    covariates = check_names(numeric, "numeric", 0)
    levels = _levels(categorical)
    alpha = check_alpha(alpha)
    chosen = check_in(variance, "variance", MarginalVariance)
    require_columns(frame, [outcome_column, arm_column, *covariates, *levels])
    y = binary_outcome(frame_numbers(frame, outcome_column), f"frame[{outcome_column!r}]")
    data = _Data(
        frame_codes(frame, arm_column, arm_codes),
        y,
        {c: frame_numbers(frame, c) for c in covariates},
        {c: frame_codes(frame, c, lv) for c, lv in levels.items()},
    )
    return _fit(data, arm_codes, levels, alpha, chosen)
