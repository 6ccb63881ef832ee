"""ANCOVA with least-squares means, as SAS LSMEANS and R emmeans compute them.

The design matrix is built column by column from validated names and values: there is no
formula string, so no user text is ever parsed as code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS

from trialkit._errors import AnalysisError
from trialkit.analysis._results import NAN, Analysis, Estimate

__all__ = ["AncovaFit", "ancova"]

#: relative size below which a column adds nothing new to the design (rank test)
_RANK_TOL = 1e-10


@dataclass(frozen=True)
class AncovaFit:
    """An ANCOVA fit and its LS means.

    Attributes
    ----------
    lsmeans : tuple of Estimate
        ``ancova_lsmean`` per arm (control first).
    differences : tuple of Estimate
        ``ancova`` per non-control arm: LS-mean difference (ratio on the log scale).
    residual_df : int
        n - rank of the design.
    sigma : float
        Root mean squared error.
    n_by_arm : mapping
        Subjects analysed per arm.
    """

    lsmeans: tuple[Estimate, ...]
    differences: tuple[Estimate, ...]
    residual_df: int
    sigma: float
    n_by_arm: Mapping[str, int]


def _columns(
    frame: pd.DataFrame, arms: Sequence[str], numeric: Sequence[str], categorical: Mapping[str, Sequence[str]]
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Design matrix (treatment coding, control and first category level as references).

    Returns the matrix, a term name per column and the LS-mean weights of the covariate columns
    (numeric columns at their mean; a factor's dummies at 1/k each: levels weighted equally).
    """
    n = len(frame)
    cols, names, weights = [np.ones(n)], ["(intercept)"], [1.0]
    arm = frame["arm"].astype(str).to_numpy()
    for a in arms[1:]:
        cols.append((arm == a).astype(float))
        names.append(f"arm[{a}]")
        weights.append(0.0)  # set per arm when building L
    for c in ("baseline", *numeric):
        x = frame[c].to_numpy(dtype=float)
        cols.append(x)
        names.append(c)
        weights.append(float(x.mean()))
    for c, levels in categorical.items():
        x = frame[c].astype(str).to_numpy()
        for level in levels[1:]:
            cols.append((x == level).astype(float))
            names.append(f"{c}[{level}]")
            weights.append(1.0 / len(levels))
    return np.column_stack(cols), names, np.array(weights)


def _check_design(
    frame: pd.DataFrame,
    X: np.ndarray,
    names: list[str],
    arms: Sequence[str],
    numeric: Sequence[str],
    categorical: Mapping[str, Sequence[str]],
) -> None:
    counts = frame["arm"].astype(str).value_counts()
    for a in arms:
        if counts.get(a, 0) < 2:
            raise AnalysisError(
                f"arm {a!r} has {counts.get(a, 0)} analysable subject(s); at least 2 are needed.", term="arm"
            )
    for c in ("baseline", *numeric):
        if np.ptp(frame[c].to_numpy(dtype=float)) == 0:
            raise AnalysisError(f"covariate {c!r} is constant in the analysed subjects.", term=c)
    for c, levels in categorical.items():
        present = set(frame[c].astype(str))
        for level in levels:
            if level not in present:
                raise AnalysisError(f"level {level!r} of covariate {c!r} has no subject in the analysed set.", term=c)
        if len(levels) < 2:
            raise AnalysisError(f"covariate {c!r} has a single level.", term=c)
    # add columns one at a time: the first that adds no rank is collinear with those before it
    scale = np.linalg.norm(X, axis=0)
    Xs = X / np.where(scale > 0, scale, 1.0)
    rank = 0
    for j in range(X.shape[1]):
        r = np.linalg.matrix_rank(Xs[:, : j + 1], tol=_RANK_TOL * np.sqrt(X.shape[0]))
        if r == rank:
            raise AnalysisError(
                f"term {names[j]!r} is collinear with the terms before it "
                f"({', '.join(names[:j])}); its effect cannot be estimated.",
                term=names[j],
            )
        rank = r
    if X.shape[0] <= X.shape[1]:
        raise AnalysisError(
            f"{X.shape[0]} subjects for {X.shape[1]} model terms: no residual degrees of freedom.", term="(model)"
        )


def ancova(
    frame: pd.DataFrame,
    *,
    arms: Sequence[str],
    numeric: Sequence[str] = (),
    categorical: Mapping[str, Sequence[str]] | None = None,
    alpha: float = 0.05,
    log_scale: bool = False,
) -> AncovaFit:
    """Analysis of covariance of follow-up on arm and baseline, with LS means.

    Model: ``y = b0 + sum_a b_a [arm = a] + b_base * baseline + covariates + e``, e ~ N(0, s^2),
    fitted by ordinary least squares on complete cases. On the log scale, ``y`` and ``baseline``
    are natural logs and estimates are back-transformed: LS means become geometric means and the
    difference a ratio of geometric means (``std_error`` stays on the log scale).

    LS mean of arm a: ``L_a b`` with baseline and numeric covariates at their mean over the
    analysed subjects and each factor's levels weighted equally (SAS LSMEANS; emmeans' default
    reference grid). Difference to control: ``b_a``, SE from ``s^2 (X'X)^-1``, t on n - p df.

    Parameters
    ----------
    frame : DataFrame
        One row per subject: ``arm``, ``y`` (follow-up), ``baseline``, and the covariates; no
        missing values (the caller selects complete cases).
    arms : sequence of str
        Arm codes, control first.
    numeric, categorical : covariates; ``categorical`` maps a name to its levels (first = reference).
    alpha : float
        Confidence intervals are at level 1 - alpha.
    log_scale : bool
        Analyse logs (values must be positive).

    Raises
    ------
    AnalysisError
        An arm with fewer than 2 subjects, a constant or collinear covariate, an empty level.

    Notes
    -----
    Matches R ``lm`` + ``emmeans(fit, "arm")`` + ``contrast(..., "trt.vs.ctrl")`` (reference
    cases in ``tests/reference/analyses``) to a relative error of 1e-8 or better.
    """
    categorical = dict(categorical or {})
    data = frame.copy()
    if log_scale:
        if (data["y"] <= 0).any() or (data["baseline"] <= 0).any():
            raise AnalysisError("log-scale analysis needs positive values.", term="y")
        data["y"] = np.log(data["y"].to_numpy(dtype=float))
        data["baseline"] = np.log(data["baseline"].to_numpy(dtype=float))
    X, names, weights = _columns(data, arms, numeric, categorical)
    _check_design(data, X, names, arms, numeric, categorical)
    y = data["y"].to_numpy(dtype=float)
    n, p = X.shape
    # QR rather than the pseudo-inverse: the rank is checked above, and QR is stable for
    # covariates on very different scales
    fit = OLS(y, X).fit(method="qr")
    beta = fit.params
    df = n - p
    s2 = float(fit.ssr) / df
    if s2 <= 0 or not np.isfinite(s2):
        raise AnalysisError("the follow-up values are fitted exactly (zero residual variance).", term="y")
    cov = fit.cov_params()
    tq = stats.t.ppf(1 - alpha / 2, df)
    counts = data["arm"].astype(str).value_counts()
    back = np.exp if log_scale else float

    def t_row(kind: Analysis, contrast: str, L: np.ndarray, n_t: int, n_c: int | None) -> Estimate:
        est = float(L @ beta)
        se = float(np.sqrt(L @ cov @ L))
        t = est / se
        p_value = float(2 * stats.t.sf(abs(t), df))
        return Estimate(
            kind,
            contrast,
            float(back(est)),
            se,
            float(back(est - tq * se)),
            float(back(est + tq * se)),
            float(df),
            t,
            p_value,
            n_t,
            n_c,
        )

    lsmeans, diffs = [], []
    for k, a in enumerate(arms):
        L = weights.copy()
        if k > 0:
            L[k] = 1.0
        row = t_row(Analysis.ANCOVA_LSMEAN, a, L, int(counts[a]), None)
        # an LS mean's t and p test "mean = 0", which nobody asks of a trial arm
        lsmeans.append(
            Estimate(
                row.analysis,
                row.contrast,
                row.estimate,
                row.std_error,
                row.ci_low,
                row.ci_high,
                row.df,
                NAN,
                NAN,
                row.n_treatment,
                None,
            )
        )
    for k, a in enumerate(arms[1:], start=1):
        L = np.zeros(p)
        L[k] = 1.0
        diffs.append(t_row(Analysis.ANCOVA, f"{a} - {arms[0]}", L, int(counts[a]), int(counts[arms[0]])))
    return AncovaFit(tuple(lsmeans), tuple(diffs), df, float(np.sqrt(s2)), {a: int(counts[a]) for a in arms})
