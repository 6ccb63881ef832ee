"""Rate ratios from count models: negative binomial, Poisson with a sandwich covariance, quasi-Poisson.

One design matrix for every model (treatment coding, control and first levels as references: the
ANCOVA's), one IRLS (R's ``glm.fit``), and per family the covariance R reports:

- ``negative_binomial``: (X'WX)⁻¹ at the ML θ treated as known (``summary.negbin``), z tests;
- ``poisson``: the HC0 sandwich (X'WX)⁻¹ [Σ ψᵢψᵢ'] (X'WX)⁻¹, ψᵢ = W_i r_i x_i with r the working
  residual (``sandwich::sandwich``), z tests;
- ``quasipoisson``: φ (X'WX)⁻¹, φ = Σ W r² / (n − p) (the Pearson X² over the residual df, as
  ``summary.glm``), t tests on n − p df.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from trialkit._checks import check_in
from trialkit._errors import AnalysisError
from trialkit.analysis._ancova import _RANK_TOL, _check_data, _Data, _design
from trialkit.analysis._counts._irls import MAX_ITERATIONS, irls
from trialkit.analysis._counts._negbin import fit_negative_binomial, poisson_start
from trialkit.analysis._distributions import (
    normal_two_sided_p,
    normal_upper_quantile,
    t_two_sided_p,
    t_upper_quantile,
)
from trialkit.analysis._results import NAN, Analysis, Estimate

__all__ = ["CountFamily", "CountFit", "count_arrays"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: a Cholesky pivot of the scaled X'X above this proves full rank without the QR
_SURELY_FULL_RANK = 1e-6
#: a fitted rate below this is numerically 0 (R's glm.fit: 10 × the double epsilon)
_ZERO_RATE = 10 * float(np.finfo(np.float64).eps)


class CountFamily(StrEnum):
    """The count models: each is also the ``analysis`` id of its rate-ratio rows."""

    NEGATIVE_BINOMIAL = "negative_binomial"
    POISSON = "poisson"
    QUASIPOISSON = "quasipoisson"


@dataclass(frozen=True)
class CountFit:
    """A count model's fit and its rate ratios.

    Attributes
    ----------
    family : CountFamily
        ``negative_binomial``, ``poisson`` or ``quasipoisson``.
    ratios : tuple of Estimate
        One row per non-control arm (``analysis`` = the family): rate ratio to control in
        ``estimate``, ``ci_low`` and ``ci_high``; SE of the log rate ratio in ``std_error``;
        ``statistic`` z (t for quasi-Poisson, with ``df`` = n − p); two-sided ``p_value``.
    dispersion : float
        Negative binomial: θ in Var(Y) = μ + μ²/θ (``MASS::glm.nb``'s ``theta``); quasi-Poisson:
        φ in Var(Y) = φμ; Poisson: 1.
    dispersion_std_error : float
        SE of θ (``glm.nb``'s ``SE.theta``); NaN for the other families.
    names : tuple of str
        Model terms: ``(intercept)``, ``arm[<arm>]``, numeric covariates, ``<factor>[<level>]``.
    coefficients : ndarray
        Log-linear coefficients, in ``names`` order.
    covariance : ndarray
        Their covariance as used for inference (model-based, sandwich, or scaled by φ).
    ratio_covariance : ndarray, shape (arms − 1, arms − 1)
        Covariance of the log rate ratios, in ``ratios`` order (for many-to-one adjustments).
    log_likelihood : float
        At the fit (negative binomial at θ; Poisson); NaN for quasi-Poisson.
    deviance : float
        Residual deviance (negative binomial at the θ of the last IRLS fit, as ``glm.nb``).
    residual_df : int
        n − p.
    iterations : int
        IRLS steps of the fit (negative binomial: alternations between coefficients and θ).
    n_by_arm : mapping of str to int
        Subjects analysed per arm.
    """

    family: CountFamily
    ratios: tuple[Estimate, ...]
    dispersion: float
    dispersion_std_error: float
    names: tuple[str, ...]
    coefficients: Floats
    covariance: Floats
    ratio_covariance: Floats
    log_likelihood: float
    deviance: float
    residual_df: int
    iterations: int
    n_by_arm: Mapping[str, int]


def _check_events(data: _Data, arms: tuple[str, ...], levels: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse an arm or a factor level without any event: its log rate would be −∞."""
    events = np.bincount(data.arm, weights=data.y, minlength=len(arms))
    for k, a in enumerate(arms):
        if events[k] == 0:
            raise AnalysisError(
                f"arm {a!r} has no event in total: its rate ratio to control is 0 or infinite and "
                "the model has no maximum-likelihood estimate.",
                term="arm",
            )
    for c, codes in data.factors.items():
        per_level = np.bincount(codes, weights=data.y, minlength=len(levels[c]))
        for k, level in enumerate(levels[c]):
            if per_level[k] == 0:
                raise AnalysisError(
                    f"level {level!r} of covariate {c!r} has no event in total: the model has no "
                    "maximum-likelihood estimate.",
                    term=c,
                )


def _check_rank(X: Floats, names: list[str]) -> None:
    """Refuse a term collinear with the terms before it (R would drop it as aliased).

    The test is the ANCOVA's: |R_jj| of the QR of the column-scaled design. R'R is the scaled
    X'X, so its Cholesky factor has the same diagonal; when every pivot is far above the
    threshold (1e-6; the Cholesky pivots carry errors near 1e-8) the design has full rank and
    the tall QR, the slow part at many subjects, is skipped.
    """
    n, p = X.shape
    if n <= p:
        raise AnalysisError(f"{n} subjects for {p} model terms: no residual degrees of freedom.", term="(model)")
    gram = X.T @ X
    scale = np.sqrt(np.diag(gram))
    scale[scale == 0] = 1.0
    try:
        if np.diag(np.linalg.cholesky(gram / np.outer(scale, scale))).min() > _SURELY_FULL_RANK:
            return
    except np.linalg.LinAlgError:
        pass
    r = np.linalg.qr(X / scale, mode="r")
    for j in np.flatnonzero(np.abs(np.diag(r)) <= _RANK_TOL * math.sqrt(n))[:1]:
        raise AnalysisError(
            f"term {names[j]!r} is collinear with the terms before it "
            f"({', '.join(names[:j])}); its effect cannot be estimated.",
            term=names[j],
        )


def _check_fitted_rates(mu: Floats) -> None:
    """Refuse a fit with rates numerically 0 (where R's glm.fit warns): a coefficient has diverged."""
    zero = int(np.count_nonzero(mu < _ZERO_RATE))
    if zero:
        raise AnalysisError(
            f"the fitted rate is numerically 0 for {zero} subject(s): a covariate or level separates "
            "subjects without events from the others, and its coefficient diverges to minus infinity.",
            term="(model)",
        )


def count_arrays(
    arm: Ints,
    y: Floats,
    offset: Floats,
    numeric: Mapping[str, Floats],
    factors: Mapping[str, Ints],
    *,
    arms: tuple[str, ...],
    levels: Mapping[str, tuple[str, ...]],
    alpha: float,
    family: CountFamily | str,
) -> CountFit:
    """Fit a count model on arrays the caller has checked; rate ratio per non-control arm.

    ``arm`` and ``factors`` are codes (positions in ``arms`` and ``levels[name]``), ``y`` counts,
    ``offset`` log(exposure) per subject, ``numeric`` the numeric covariates (the baseline count's
    term first when there is one). :func:`negative_binomial`, :func:`poisson` and
    :func:`quasipoisson` check a frame and call this; :func:`~trialkit.analyze` calls it with
    arrays it built from the validated trial. An AnalysisError names what the data cannot support.
    """
    kind = check_in(family, "family", CountFamily)
    data = _Data(arm, y, dict(numeric), dict(factors))
    level_map = dict(levels)
    counts = _check_data(data, arms, level_map)
    _check_events(data, arms, level_map)
    X, names = _design(data, arms, level_map)
    _check_rank(X, names)
    n, p = X.shape
    residual_df = n - p
    theta_se = NAN
    if kind is CountFamily.NEGATIVE_BINOMIAL:
        nb = fit_negative_binomial(X, y, offset)
        fit, dispersion, theta_se = nb.fit, nb.theta, nb.theta_std_error
        covariance, loglik, iterations = fit.unscaled, nb.log_likelihood, nb.alternations
    else:
        fit = irls(X, y, offset, math.inf, poisson_start(y))
        if not fit.converged:
            raise AnalysisError(f"the Poisson fit did not converge in {MAX_ITERATIONS} iterations.", term="(model)")
        residual = (y - fit.mu) / fit.mu  # working residual of the log link
        iterations = fit.iterations
        if kind is CountFamily.POISSON:
            scores = X * (fit.weights * residual)[:, None]
            covariance = fit.unscaled @ (scores.T @ scores) @ fit.unscaled
            dispersion = 1.0
            loglik = float(y @ np.log(fit.mu) - fit.mu.sum() - gammaln(y + 1.0).sum())
        else:
            dispersion = float(np.sum(fit.weights * residual**2)) / residual_df
            covariance = dispersion * fit.unscaled
            loglik = NAN
    _check_fitted_rates(fit.mu)
    k = len(arms)
    if kind is CountFamily.QUASIPOISSON:
        df, quantile = float(residual_df), t_upper_quantile(alpha / 2, residual_df)
    else:
        df, quantile = NAN, normal_upper_quantile(alpha / 2)
    analysis = Analysis(kind.value)
    ratios = []
    for j, a in enumerate(arms[1:], start=1):
        b, se = float(fit.beta[j]), math.sqrt(float(covariance[j, j]))
        statistic = b / se
        p_value = t_two_sided_p(statistic, df) if kind is CountFamily.QUASIPOISSON else normal_two_sided_p(statistic)
        ratios.append(
            Estimate(
                analysis,
                f"{a} - {arms[0]}",
                math.exp(b),
                se,
                math.exp(b - quantile * se),
                math.exp(b + quantile * se),
                df,
                statistic,
                p_value,
                counts[a],
                counts[arms[0]],
            )
        )
    return CountFit(
        kind,
        tuple(ratios),
        dispersion,
        theta_se,
        tuple(names),
        fit.beta.copy(),
        covariance,
        covariance[1:k, 1:k].copy(),
        loglik,
        fit.deviance,
        residual_df,
        iterations,
        counts,
    )
