"""ANCOVA with least-squares means, as SAS LSMEANS and R emmeans compute them.

The design matrix is built column by column from validated names and values: there is no
formula string, so no user text is ever parsed as code. The least-squares fit is a QR
decomposition of the column-scaled design (as R's ``lm``); its R factor also says which term,
if any, is collinear with the terms before it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_in, check_instance, check_names, check_sample
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._spec import TwoValued
from trialkit.analysis._distributions import t_two_sided_p, t_upper_quantile
from trialkit.analysis._positions import positions
from trialkit.analysis._results import NAN, Analysis, Estimate

__all__ = ["AncovaFit", "ancova", "fit_arrays"]

#: |R_jj| of a unit-length column (times √n) below which the column adds nothing new to the design
_RANK_TOL = 1e-10

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


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
        Root mean squared error (on the analysis scale: logs for ``log_scale``).
    n_by_arm : mapping of str to int
        Subjects analysed per arm.
    covariate_values : mapping of str to float
        The value at which the LS means hold ``baseline`` and each numeric covariate (on the
        analysis scale): its mean, or the midpoint of its two values under
        ``two_valued="levels"``.
    difference_covariance : ndarray of float, shape (arms − 1, arms − 1)
        Covariance of the ``differences`` on the analysis scale (logs for ``log_scale``), in their
        order: the correlations many-to-one (Dunnett) adjustments need.
    """

    lsmeans: tuple[Estimate, ...]
    differences: tuple[Estimate, ...]
    residual_df: int
    sigma: float
    n_by_arm: Mapping[str, int]
    covariate_values: Mapping[str, float]
    difference_covariance: Floats


def _levels(categorical: object) -> dict[str, tuple[str, ...]]:
    if categorical is None:
        return {}
    if not isinstance(categorical, Mapping) or not all(isinstance(k, str) for k in categorical):
        raise TrialkitError(f"`categorical` must be a mapping of covariate names to their levels; got {categorical!r}.")
    return {c: check_names(levels, f"categorical[{c!r}]", 1) for c, levels in categorical.items()}


@dataclass(frozen=True)
class _Data:
    """The model's variables as arrays: arm and factor levels as codes (positions in their lists)."""

    arm: Ints
    y: Floats
    numeric: dict[str, Floats]  # baseline first, then the numeric covariates
    factors: dict[str, Ints]


def _codes(column: pd.Series, name: str, allowed: tuple[str, ...]) -> Ints:
    """Return the positions in ``allowed`` of a text column's values."""
    if column.isna().any():
        raise TrialkitError(f"`{name}` must hold no missing values (select complete cases first).")
    codes = positions(column, pd.Index(allowed))
    if (codes < 0).any():
        unknown = sorted(set(column.astype(str).to_numpy(dtype=object)[codes < 0]))
        raise TrialkitError(
            f"`{name}` must hold only {', '.join(map(repr, allowed))}; got {', '.join(map(repr, unknown))}."
        )
    return codes


def _data(
    frame: pd.DataFrame, arms: tuple[str, ...], numeric: tuple[str, ...], categorical: dict[str, tuple[str, ...]]
) -> _Data:
    """Return the frame's columns as arrays; bad columns or values are a TrialkitError naming them."""
    needed = ["arm", "y", "baseline", *numeric, *categorical]
    missing = [c for c in needed if c not in frame.columns]
    if missing or len(set(needed)) != len(needed):
        raise TrialkitError(
            f"`frame` must have the distinct columns {', '.join(map(repr, needed))}; "
            f"got {', '.join(map(repr, map(str, frame.columns)))}."
        )
    columns: dict[str, Floats] = {}
    for c in ("y", "baseline", *numeric):
        try:
            values = frame[c].to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise TrialkitError(f"`frame[{c!r}]` must hold numbers; got dtype {frame[c].dtype}.") from None
        columns[c] = check_sample(values, f"frame[{c!r}]", minimum=0)
    factors = {c: _codes(frame[c], f"frame[{c!r}]", levels) for c, levels in categorical.items()}
    y = columns.pop("y")
    return _Data(_codes(frame["arm"], "frame['arm']", arms), y, columns, factors)


def _design(data: _Data, arms: tuple[str, ...], categorical: dict[str, tuple[str, ...]]) -> tuple[Floats, list[str]]:
    """Return the design matrix (treatment coding: control and first level as references) and column names."""
    n = data.y.size
    cols, names = [np.ones(n)], ["(intercept)"]
    for k, a in enumerate(arms[1:], start=1):
        cols.append((data.arm == k).astype(float))
        names.append(f"arm[{a}]")
    for c, x in data.numeric.items():
        cols.append(x)
        names.append(c)
    for c, levels in categorical.items():
        for k, level in enumerate(levels[1:], start=1):
            cols.append((data.factors[c] == k).astype(float))
            names.append(f"{c}[{level}]")
    return np.column_stack(cols), names


def _check_data(data: _Data, arms: tuple[str, ...], categorical: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Return the subjects per arm; an AnalysisError names the term the data cannot support."""
    per_arm = np.bincount(data.arm, minlength=len(arms))
    counts = {a: int(per_arm[k]) for k, a in enumerate(arms)}
    for a, k in counts.items():
        if k < 2:
            raise AnalysisError(f"arm {a!r} has {k} analysable subject(s); at least 2 are needed.", term="arm")
    for c, x in data.numeric.items():
        if np.ptp(x) == 0:
            raise AnalysisError(f"covariate {c!r} is constant in the analysed subjects.", term=c)
    for c, levels in categorical.items():
        per_level = np.bincount(data.factors[c], minlength=len(levels))
        for k, level in enumerate(levels):
            if per_level[k] == 0:
                raise AnalysisError(f"level {level!r} of covariate {c!r} has no subject in the analysed set.", term=c)
        if len(levels) < 2:
            raise AnalysisError(f"covariate {c!r} has a single level.", term=c)
    return counts


def _least_squares(X: Floats, y: Floats, names: list[str]) -> tuple[Floats, Floats, float, int]:
    """OLS by QR of the column-scaled design: coefficients, their covariance, s², residual df.

    A column whose component orthogonal to the columns before it is (relatively) zero adds no
    rank: the AnalysisError names it and the terms it is collinear with.
    """
    n, p = X.shape
    scale = np.linalg.norm(X, axis=0)
    Q, R = np.linalg.qr(X / np.where(scale > 0, scale, 1.0))
    for j in np.flatnonzero(np.abs(np.diag(R)) <= _RANK_TOL * math.sqrt(n))[:1]:
        raise AnalysisError(
            f"term {names[j]!r} is collinear with the terms before it "
            f"({', '.join(names[:j])}); its effect cannot be estimated.",
            term=names[j],
        )
    if n <= p:
        raise AnalysisError(f"{n} subjects for {p} model terms: no residual degrees of freedom.", term="(model)")
    beta = np.linalg.solve(R, Q.T @ y) / scale
    residual = y - X @ beta
    df = n - p
    s2 = float(residual @ residual) / df
    if not (s2 > 0 and math.isfinite(s2)):
        raise AnalysisError("the follow-up values are fitted exactly (zero residual variance).", term="y")
    r_inv = np.linalg.inv(R) / scale[:, None]
    return beta, s2 * (r_inv @ r_inv.T), s2, df


def _held_at(x: Floats, at: TwoValued) -> float:
    """Return where the LS means hold a numeric covariate: its mean, or the midpoint of its two values."""
    if at is TwoValued.LEVELS:
        low, high = float(x.min()), float(x.max())
        if bool(np.all((x == low) | (x == high))):  # two distinct values (one is a constant, refused before)
            return (low + high) / 2
    return float(x.mean())


def ancova(
    frame: pd.DataFrame,
    *,
    arms: Sequence[str],
    numeric: Sequence[str] = (),
    categorical: Mapping[str, Sequence[str]] | None = None,
    alpha: float = 0.05,
    log_scale: bool = False,
    two_valued: TwoValued | str = TwoValued.MEAN,
) -> AncovaFit:
    """Fit an analysis of covariance of follow-up on arm and baseline, with LS means.

    Parameters
    ----------
    frame : DataFrame
        One row per subject: ``arm``, ``y`` (follow-up), ``baseline``, and the covariates named
        in ``numeric`` and ``categorical``; no missing values (the caller selects complete
        cases). The frame is not modified.
    arms : sequence of str
        Arm codes, control first (at least 2); every ``arm`` value must be one of them.
    numeric : sequence of str
        Numeric covariates (columns of ``frame``), entered linearly.
    categorical : mapping of str to sequence of str, optional
        Factor covariates: name to levels (first = reference); every value must be a level.
    alpha : float
        1 - confidence level of the intervals, in (0, 1).
    log_scale : bool
        Analyse natural logs of ``y`` and ``baseline`` (values must be positive) and
        back-transform estimates and limits.
    two_valued : TwoValued or str
        Where the LS means hold ``baseline`` or a numeric covariate that takes exactly two
        distinct values in the analysed subjects: ``"mean"`` (default) at its mean, as every
        other numeric covariate (SAS LSMEANS; emmeans with ``cov.keep = 0``); ``"levels"`` at
        both values, the predictions averaged with equal weights (emmeans' default,
        ``cov.keep = "2"``, which treats such a covariate as a factor). The differences between
        arms do not depend on it.

    Returns
    -------
    AncovaFit
        LS means per arm (``ancova_lsmean``; ``statistic`` and ``p_value`` empty), differences
        against control (``ancova``), residual df, sigma, subjects per arm, and where each
        numeric covariate is held.

    Raises
    ------
    TrialkitError
        ``frame`` not a DataFrame or without the columns named; a missing or non-finite value;
        an arm or level value not declared; ``alpha``, ``log_scale`` or ``two_valued`` invalid.
    AnalysisError
        An arm with fewer than 2 subjects (``term`` = ``arm``), a constant covariate, a level
        with no subject, a term collinear with those before it (``term`` = the term), no
        residual df, an exact fit, or a non-positive value on the log scale.

    Notes
    -----
    Model: y = b0 + Σ_a b_a [arm = a] + b_base·baseline + covariates + e, e ~ N(0, s²), fitted
    by ordinary least squares (QR). LS mean of arm a: L_a b with baseline and numeric
    covariates at their mean over the analysed subjects (or at the midpoint of their two values,
    ``two_valued="levels"``) and each factor's levels weighted equally (SAS LSMEANS; emmeans'
    reference grid). Difference to control: b_a, SE from s²(X'X)⁻¹, t on n − p df. On the log
    scale LS means are geometric means and differences ratios of geometric means
    (``std_error`` stays on the log scale).

    Matches R ``lm`` + ``emmeans(fit, "arm")`` + ``contrast(..., "trt.vs.ctrl")`` to a relative
    error of 1e-8 or better: tests/reference/analyses/<case>/expected.csv, and, for the two
    settings of ``two_valued``, tests/reference/analyses/two_valued/ (``cov.keep = "2"`` and
    ``cov.keep = 0``). Checked against statsmodels OLS in tests/analysis/test_ancova.py.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["c", "c", "c", "t", "t", "t"],
    ...                       "y": [5.0, 6.0, 8.0, 3.0, 4.0, 4.5],
    ...                       "baseline": [6.0, 6.5, 8.0, 5.0, 6.5, 6.0]})
    >>> fit = ancova(frame, arms=["c", "t"])
    >>> d = fit.differences[0]
    >>> d.contrast, round(d.estimate, 4), d.df
    ('t - c', -1.275, 3.0)
    """
    check_instance(frame, "frame", pd.DataFrame, "a DataFrame")
    arm_codes = check_names(arms, "arms", 2)
    covariates = check_names(numeric, "numeric", 0)
    levels = _levels(categorical)
    alpha = check_alpha(alpha)
    log = check_bool(log_scale, "log_scale")
    at = check_in(two_valued, "two_valued", TwoValued)
    return _fit(_data(frame, arm_codes, covariates, levels), arm_codes, levels, alpha, log, at)


def fit_arrays(
    arm: Ints,
    y: Floats,
    numeric: Mapping[str, Floats],
    factors: Mapping[str, Ints],
    *,
    arms: tuple[str, ...],
    levels: Mapping[str, tuple[str, ...]],
    alpha: float,
    log_scale: bool,
    two_valued: TwoValued,
) -> AncovaFit:
    """Fit :func:`ancova` on arrays the caller has checked (arm and factors as codes, ``numeric`` baseline first).

    :func:`~trialkit.analyze` calls this once per endpoint and visit with arrays it built from
    the validated trial, which spares a frame per fit.
    """
    return _fit(_Data(arm, y, dict(numeric), dict(factors)), arms, dict(levels), alpha, log_scale, two_valued)


def _fit(
    data: _Data, arm_codes: tuple[str, ...], levels: dict[str, tuple[str, ...]], alpha: float, log: bool, at: TwoValued
) -> AncovaFit:
    if log:
        # the baseline (when there is one) is on the endpoint's scale too; covariates are not
        logged = {"y": data.y, **{c: x for c, x in data.numeric.items() if c == "baseline"}}
        for c, x in logged.items():
            if (x <= 0).any():
                raise AnalysisError(f"log-scale analysis needs positive values of {c!r}.", term=c)
        numeric = {c: np.log(x) if c in logged else x for c, x in data.numeric.items()}
        data = _Data(data.arm, np.log(data.y), numeric, data.factors)
    counts = _check_data(data, arm_codes, levels)
    held = {c: _held_at(x, at) for c, x in data.numeric.items()}
    # each numeric column enters the design centred where the LS means hold it: the same model (the
    # intercept absorbs the shift), but a column such as 1e15 + noise is then not mistaken for the
    # intercept by the rank check, and the LS-mean weight of every covariate is 0
    centred = _Data(data.arm, data.y, {c: x - held[c] for c, x in data.numeric.items()}, data.factors)
    X, names = _design(centred, arm_codes, levels)
    # the response centred too (its mean is added back to the LS means): 1e15 + noise keeps its noise
    # through the QR, where the uncentred values would round it away
    y_shift = float(data.y.mean())
    beta, cov, s2, df = _least_squares(X, data.y - y_shift, names)

    k = len(arm_codes)
    # LS-mean weights: intercept 1, arm dummies 0 (set per arm), covariates 0 (centred where held), each
    # factor's dummies 1/levels (levels weighted equally)
    weights = np.array(
        [1.0, *([0.0] * (k - 1)), *([0.0] * len(held)), *(1.0 / len(lv) for lv in levels.values() for _ in lv[1:])]
    )
    tq = t_upper_quantile(alpha / 2, df)

    def t_row(kind: Analysis, contrast: str, L: Floats, n_t: int, n_c: int | None) -> Estimate:
        est = float(L @ beta + L[0] * y_shift)  # the intercept's weight: 1 for an LS mean, 0 for a difference
        se = math.sqrt(float(L @ cov @ L))
        t = est / se
        low, high = est - tq * se, est + tq * se
        if log:
            est, low, high = math.exp(est), math.exp(low), math.exp(high)
        return Estimate(kind, contrast, est, se, low, high, float(df), t, t_two_sided_p(t, df), n_t, n_c)

    lsmeans, diffs = [], []
    for j, a in enumerate(arm_codes):
        L = weights.copy()
        if j > 0:
            L[j] = 1.0
        row = t_row(Analysis.ANCOVA_LSMEAN, a, L, counts[a], None)
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
    for j, a in enumerate(arm_codes[1:], start=1):
        L = np.zeros(X.shape[1])
        L[j] = 1.0
        diffs.append(t_row(Analysis.ANCOVA, f"{a} - {arm_codes[0]}", L, counts[a], counts[arm_codes[0]]))
    # the arm dummies are columns 1..k-1: their block of cov is the differences' covariance
    return AncovaFit(tuple(lsmeans), tuple(diffs), df, math.sqrt(s2), counts, held, cov[1:k, 1:k].copy())
