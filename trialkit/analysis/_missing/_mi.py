"""Multiple imputation with an ANCOVA at the primary visit, pooled by Rubin's rules; the tipping-point grid.

One posterior sample of the imputation model serves every method: the M chains' parameter draws
and one set of standard-normal deviates are shared, so MAR, J2R, CR and every δ of the tipping
grid differ only by what the methods assume, not by Monte Carlo noise. The ANCOVA of the M
completed data sets is one least-squares solve: its design (arm, baseline, covariates) is the
same in every data set, only the primary-visit responses differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_instance, check_integer, check_names, check_sample
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._spec import MISSING_DATA_METHODS
from trialkit.analysis._ancova import _check_data, _Data, _design, _levels
from trialkit.analysis._missing._impute import METHODS, complete, joint_mean
from trialkit.analysis._missing._posterior import posterior_draws
from trialkit.analysis._missing._rubin import PooledArrays, pool_arrays
from trialkit.analysis._positions import positions
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["MI_METHODS", "TIPPING", "MIFit", "impute_arrays", "multiple_imputation"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: the method ids of the spec's ``[analysis.missing_data] methods``
TIPPING = Analysis.TIPPING_POINT.value
MI_METHODS = MISSING_DATA_METHODS
#: |R_jj| of a unit-length column (times √n) below which a design column adds nothing (as the ANCOVA)
_RANK_TOL = 1e-10
#: about this many steps from δ = 0 to the δ at which significance is lost, in the default grid
_GRID_STEPS = 10


@dataclass(frozen=True)
class TippingPoint:
    """The δ-adjusted MAR analysis of one contrast over a grid of δ (analysis scale).

    ``estimate``, ``ci_low`` and ``ci_high`` are ratios on the log scale, as in every row;
    ``tipping_delta`` is the δ of smallest |δ| in the grid with p ≥ alpha (NaN when none).
    """

    contrast: str
    delta: Floats
    estimate: Floats
    std_error: Floats
    ci_low: Floats
    ci_high: Floats
    df: Floats
    p_value: Floats
    tipping_delta: float
    slope: float  # d estimate / d δ on the analysis scale: the share of the arm imputed, as the ANCOVA weighs it


@dataclass(frozen=True)
class MIFit:
    """Multiple-imputation analyses of one endpoint at its primary visit.

    Attributes
    ----------
    estimates : tuple of Estimate
        Per method and non-control arm: the pooled difference to control (``mi_mar``, ``mi_j2r``,
        ``mi_cr``; ratios on the log scale), Barnard–Rubin df.
    tipping : tuple of TippingPoint
        Per non-control arm, when asked for.
    subjects : mapping of str to int
        Subjects per arm in the imputation (baseline and covariates observed).
    imputed : mapping of str to int
        Of those, subjects whose primary-visit value was imputed.
    imputations : int
        M.
    """

    estimates: tuple[Estimate, ...]
    tipping: tuple[TippingPoint, ...]
    subjects: Mapping[str, int]
    imputed: Mapping[str, int]
    imputations: int


def _check_rank(x: Floats, names: Sequence[str], where: str = "") -> None:
    """Raise an AnalysisError naming the first design column collinear with those before it (in rows ``where``)."""
    n = x.shape[0]
    scale = np.linalg.norm(x, axis=0)
    _, r = np.linalg.qr(x / np.where(scale > 0, scale, 1.0))
    diag = np.abs(np.diag(r)) if r.shape[0] >= r.shape[1] else np.zeros(x.shape[1])
    for j in np.flatnonzero(diag <= _RANK_TOL * math.sqrt(n))[:1]:
        raise AnalysisError(
            f"term {names[j]!r} is collinear with the terms before it ({', '.join(names[:j])}){where}; "
            "the imputation model cannot be estimated.",
            term=names[j],
        )


def _check_visits(
    x: Floats, y: Floats, names: Sequence[str], arm: Ints, arms: tuple[str, ...], visits: tuple[str, ...]
) -> None:
    """Raise an AnalysisError when the data cannot identify the imputation model at a visit or pair of visits.

    Every arm must be observed at every visit and the model's terms estimable from the subjects
    observed there; every two visits must be observed together in some subject, or their
    covariance rests on the (improper) prior alone.
    """
    seen = ~np.isnan(y)
    for j, v in enumerate(visits):
        observed_in = np.bincount(arm[seen[:, j]], minlength=len(arms))
        for k in np.flatnonzero(observed_in == 0)[:1]:
            raise AnalysisError(
                f"no subject of arm {arms[k]!r} is observed at visit {v!r}: the imputation model cannot "
                "estimate that arm's mean there.",
                term=v,
            )
        if seen[:, j].sum() <= x.shape[1]:
            raise AnalysisError(
                f"{int(seen[:, j].sum())} subjects observed at visit {v!r} for {x.shape[1]} model terms: "
                "the imputation model cannot be estimated there.",
                term=v,
            )
        _check_rank(x[seen[:, j]], names, f" among the subjects observed at visit {v!r}")
    together = seen.T.astype(np.int64) @ seen.astype(np.int64)
    for j, k in zip(*np.nonzero(np.triu(together == 0, 1)), strict=True):
        raise AnalysisError(
            f"no subject is observed at both {visits[j]!r} and {visits[k]!r}: the imputation model cannot "
            "estimate their correlation.",
            term=visits[k],
        )


def _nice_step(span: float) -> float:
    """Return the step of the form 1, 2, 2.5 or 5 x 10^k nearest (in ratio) to ``span`` / 10."""
    raw = span / _GRID_STEPS
    power = 10.0 ** math.floor(math.log10(raw))
    return min((m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0)), key=lambda s: abs(math.log(raw / s)))


def _ancova_batch(x: Floats, y: Floats) -> tuple[Floats, Floats, Floats, Floats, int]:
    """Fit y (M, n) on x (n, p) for every row: coefficients (M, p), residuals (M, n), (X'X)⁻¹, X-projection, df."""
    n, p = x.shape
    gram_inv: Floats = np.asarray(np.linalg.inv(x.T @ x), dtype=np.float64)
    proj: Floats = gram_inv @ x.T  # (p, n)
    beta: Floats
    resid: Floats
    if y.strides[0] == 0:  # one data set repeated M times
        beta = np.broadcast_to(y[0] @ proj.T, (y.shape[0], p))
        resid = np.broadcast_to(y[0] - x @ beta[0], y.shape)
    else:
        beta = y @ proj.T
        resid = y - beta @ x.T
    return beta, resid, gram_inv, proj, n - p


def _pooled_rows(
    kind: Analysis,
    pooled: PooledArrays,
    contrasts: Sequence[str],
    counts: Sequence[tuple[int, int]],
    log: bool,
    scale: float,
) -> list[Estimate]:
    """Return the pooled rows on the responses' scale (pooled on the standardised one: p and df do not change)."""
    rows = []
    for i, c in enumerate(contrasts):
        est, low, high = (scale * float(v[i]) for v in (pooled.estimate, pooled.ci_low, pooled.ci_high))
        if log:
            est, low, high = math.exp(est), math.exp(low), math.exp(high)
        rows.append(
            Estimate(
                kind,
                c,
                est,
                scale * float(pooled.std_error[i]),
                low,
                high,
                float(pooled.df[i]),
                float(pooled.statistic[i]),
                float(pooled.p_value[i]),
                counts[i][0],
                counts[i][1],
            )
        )
    return rows


def _pool_grid(
    grid: Floats,
    q0: Floats,
    rss0: Floats,
    cross: Floats,
    hh: float,
    slope: float,
    unscaled: float,
    df: int,
    alpha: float,
) -> PooledArrays:
    """Pool the M analyses at every δ of ``grid``: estimates q0 + δ·slope, RSS quadratic in δ."""
    q = q0[None, :] + grid[:, None] * slope
    rss = rss0[None, :] + 2.0 * grid[:, None] * cross[None, :] + grid[:, None] ** 2 * hh
    return pool_arrays(q, rss / df * unscaled, float(df), alpha)


def _tipping(
    delta_grid: Floats | None,
    beta: Floats,
    resid: Floats,
    proj: Floats,
    gram_inv: Floats,
    x: Floats,
    shifted: npt.NDArray[np.bool_],
    column: int,
    df: int,
    alpha: float,
    contrast: str,
    log: bool,
    scale: float,
) -> TippingPoint:
    """Analyse the MAR-imputed data sets with δ added to the imputed primary values in ``shifted``.

    The ANCOVA is linear in the responses: with d the indicator of the shifted values, the
    coefficient moves by δ (X'X)⁻¹X'd and the residuals by δ (I − H) d, so the whole grid is
    closed-form in δ.
    """
    d = shifted.astype(np.float64)
    g = proj @ d  # (p,)
    h = d - x @ g  # (n,)
    slope = float(g[column])
    q0 = beta[:, column]
    rss0 = np.einsum("mn,mn->m", resid, resid)
    cross = resid @ h
    hh = float(h @ h)
    # the grid is in the responses' unit; the fit is on the standardised scale (δ / scale there)
    shown: Floats
    if delta_grid is not None:
        shown = delta_grid
    elif slope == 0.0:
        shown = np.zeros(1)
    else:
        # where p first reaches alpha on a fine grid up to the δ that cancels the estimate (p = 1
        # there), then a round grid of about 10 steps to it and two beyond
        null = -float(q0.mean()) / slope
        fine = np.linspace(0.0, null, 401)
        p_fine = _pool_grid(fine, q0, rss0, cross, hh, slope, gram_inv[column, column], df, alpha).p_value
        first = float(fine[int(np.argmax(p_fine >= alpha))]) if (p_fine >= alpha).any() else null
        span = scale * (abs(first) if first != 0 else abs(null))
        step = _nice_step(span) if span > 0 else 1.0
        # + 0.0 turns the first δ's -0.0 into 0.0
        shown = math.copysign(step, null) * np.arange(math.ceil(span / step) + 3, dtype=np.float64) + 0.0
    grid = shown / scale
    pooled = _pool_grid(grid, q0, rss0, cross, hh, slope, gram_inv[column, column], df, alpha)
    est, low, high = scale * pooled.estimate, scale * pooled.ci_low, scale * pooled.ci_high
    if log:
        est, low, high = np.exp(est), np.exp(low), np.exp(high)
    lost = np.flatnonzero(pooled.p_value >= alpha)
    tipping = float(shown[lost[np.argmin(np.abs(shown[lost]))]]) if lost.size and slope != 0.0 else math.nan
    return TippingPoint(
        contrast, shown, est, scale * pooled.std_error, low, high, pooled.df, pooled.p_value, tipping, slope
    )


def impute_arrays(
    arm: Ints,
    y: Floats,
    numeric: Mapping[str, Floats],
    factors: Mapping[str, Ints],
    *,
    arms: tuple[str, ...],
    levels: Mapping[str, tuple[str, ...]],
    visits: tuple[str, ...],
    primary: int,
    methods: Sequence[str],
    reference: int,
    imputations: int,
    burn_in: int,
    seed: np.random.SeedSequence,
    deltas: Floats | None,
    alpha: float,
    log_scale: bool,
) -> MIFit:
    """Run the multiple-imputation analyses on arrays the caller has checked.

    ``y`` (n, T) holds the post-baseline visits (NaN = missing), ``numeric`` baseline first; every
    subject has baseline and covariates. :func:`~trialkit.analyze` calls this once per endpoint.
    """
    if log_scale:
        for name, values in (("y", y), ("baseline", numeric["baseline"])):
            if (values[~np.isnan(values)] <= 0).any():
                raise AnalysisError(f"log-scale analysis needs positive values of {name!r}.", term=name)
        y = np.log(y)
        numeric = {**numeric, "baseline": np.log(numeric["baseline"])}
    data = _Data(arm, y[:, primary], dict(numeric), dict(factors))
    counts = _check_data(data, arms, dict(levels))
    x, names = _design(data, arms, dict(levels))
    x, y, scale = _standardised(x, y, len(arms), len(numeric))
    _check_rank(x, names)
    _check_visits(x, y, names, arm, arms, visits)
    missing = np.isnan(y)
    imputed_primary = missing[:, primary]
    imputed = {a: int(imputed_primary[arm == k].sum()) for k, a in enumerate(arms)}
    rng = np.random.Generator(np.random.PCG64(seed))
    m = imputations
    n, t = y.shape
    try:
        if missing.any():
            b, sigma = posterior_draws(x, y, draws=m, burn_in=burn_in, rng=rng, visits=visits)
            z = rng.standard_normal((m, n, t))
        else:  # nothing to impute: every completed data set is the observed one
            b, sigma, z = np.zeros((m, x.shape[1], t)), np.broadcast_to(np.eye(t), (m, t, t)), np.zeros((m, n, t))
        return _analyse(
            x, y, b, sigma, z, arm, arms, counts, imputed, primary, methods, reference, deltas, alpha, log_scale, scale
        )
    except np.linalg.LinAlgError:
        raise AnalysisError(
            "the imputation model's covariance across visits is singular (two visits identical, or one a "
            "linear function of others): it cannot be estimated.",
            term="(model)",
        ) from None


def _standardised(x: Floats, y: Floats, n_arms: int, n_numeric: int) -> tuple[Floats, Floats, float]:
    """Return the design with numeric columns centred and scaled, the responses centred per visit and scaled.

    Arm contrasts do not change but for the responses' scale, which the caller multiplies back;
    this keeps X'X and the residual cross-products well conditioned whatever the unit or offset of
    the data (values near 1e6, 1e150 or 1e-150 give the numbers values near 1 give).
    """
    x = x.copy()
    numeric = slice(n_arms, n_arms + n_numeric)
    centre = x[:, numeric].mean(axis=0)
    spread = x[:, numeric].std(axis=0)
    x[:, numeric] = (x[:, numeric] - centre) / np.where(spread > 0, spread, 1.0)
    seen = ~np.isnan(y)
    counts = seen.sum(axis=0)
    level = np.where(counts > 0, np.where(seen, y, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0)
    centred = y - level
    scale = float(np.sqrt(np.nanmean(centred**2))) if seen.any() else 0.0
    if not (scale > 0 and math.isfinite(scale)):
        raise AnalysisError("the values do not vary (or are not finite): nothing to analyse.", term="y")
    return x, centred / scale, scale


def _analyse(
    x: Floats,
    y: Floats,
    b: Floats,
    sigma: Floats,
    z: Floats,
    arm: Ints,
    arms: tuple[str, ...],
    counts: Mapping[str, int],
    imputed: dict[str, int],
    primary: int,
    methods: Sequence[str],
    reference: int,
    deltas: Floats | None,
    alpha: float,
    log_scale: bool,
    scale: float,
) -> MIFit:
    """Impute under each method from the posterior draws, fit the ANCOVA per imputation, pool; the tipping grids."""
    arm_columns = list(range(1, len(arms)))
    imputed_primary = np.isnan(y[:, primary])
    m = b.shape[0]

    contrasts = [f"{a} - {arms[0]}" for a in arms[1:]]
    pairs = [(counts[a], counts[arms[0]]) for a in arms[1:]]
    columns = arm_columns
    estimates: list[Estimate] = []
    tipping: list[TippingPoint] = []
    wanted = [mth for mth in METHODS if mth in methods]
    if TIPPING in methods and "mi_mar" not in wanted:
        wanted.insert(0, "mi_mar")
    for method in wanted:
        mu = joint_mean(x, y, b, method=method, arm=arm, reference=reference, arm_columns=arm_columns)
        done = complete(y, mu, sigma, z)[:, :, primary]
        if not imputed_primary.any():
            # every completed data set holds the observed values at the primary visit: fit one, so that
            # the M estimates are equal to the bit and pool to the complete-data analysis
            done = np.broadcast_to(done[:1], done.shape)
        beta, resid, gram_inv, proj, df = _ancova_batch(x, done)
        s2 = np.einsum("mn,mn->m", resid, resid) / df
        if method in methods:
            est = beta[:, columns].T  # (contrasts, M)
            var = s2[None, :] * np.diag(gram_inv)[columns][:, None]
            pooled = pool_arrays(est, var, float(df), alpha)
            estimates.extend(_pooled_rows(Analysis(method), pooled, contrasts, pairs, log_scale, scale))
        if method == "mi_mar" and TIPPING in methods:
            for k, (c, column) in enumerate(zip(contrasts, columns, strict=True), start=1):
                shifted = imputed_primary & (arm == k)
                tipping.append(
                    _tipping(deltas, beta, resid, proj, gram_inv, x, shifted, column, df, alpha, c, log_scale, scale)
                )
    subjects = {a: counts[a] for a in arms}
    return MIFit(tuple(estimates), tuple(tipping), subjects, imputed, m)


def multiple_imputation(
    frame: pd.DataFrame,
    *,
    arms: Sequence[str],
    visits: Sequence[str],
    primary: str | None = None,
    numeric: Sequence[str] = (),
    categorical: Mapping[str, Sequence[str]] | None = None,
    methods: Sequence[str] = MI_METHODS,
    reference: str | None = None,
    imputations: int = 100,
    seed: int = 20121104,
    burn_in: int = 200,
    deltas: Sequence[float] | None = None,
    alpha: float = 0.05,
    log_scale: bool = False,
) -> MIFit:
    """Estimate the treatment effect at the primary visit by multiple imputation: MAR, J2R, CR and a tipping point.

    Parameters
    ----------
    frame : DataFrame
        One row per subject: ``arm``, ``baseline``, the covariates named in ``numeric`` and
        ``categorical`` (no missing values: the caller selects subjects with them), and one
        column per post-baseline visit named in ``visits`` (NaN where missing; a subject may
        have none). The frame is not modified.
    arms : sequence of str
        Arm codes, control first (at least 2).
    visits : sequence of str
        The post-baseline visit columns, in time order (at least 1).
    primary : str, optional
        The visit analysed; default the last of ``visits``.
    numeric, categorical
        Covariates, as in :func:`trialkit.analysis.ancova`.
    methods : sequence of str
        Any of ``"mi_mar"``, ``"mi_j2r"``, ``"mi_cr"``, ``"tipping_point"``; default all.
    reference : str, optional
        The reference arm of J2R and CR; default the control arm (``arms[0]``).
    imputations : int
        M ≥ 2, the number of imputed data sets.
    seed : int
        Seed (≥ 0) of every random draw: the same seed and data give the same result, bit for bit.
    burn_in : int
        Data-augmentation iterations (≥ 1) of each chain before its imputation.
    deltas : sequence of float, optional
        The tipping-point grid: shifts added to the imputed primary-visit values of the arm in
        each contrast, in the unit of the values (natural logs under ``log_scale``); default a
        grid from 0 towards the null in about 10 steps of 1, 2, 2.5 or 5 x 10^k to where p first
        reaches ``alpha``, and two steps beyond.
    alpha : float
        1 − confidence level, in (0, 1); the tipping point is where p ≥ ``alpha``.
    log_scale : bool
        Impute and analyse natural logs (values must be positive); estimates and limits are
        back-transformed to ratios.

    Returns
    -------
    MIFit
        Pooled estimates per method and arm, the tipping grids, subjects and imputed subjects
        per arm.

    Raises
    ------
    TrialkitError
        ``frame`` not a DataFrame or without the columns named; a missing baseline or
        covariate; an unknown method, arm, reference or visit; ``imputations`` < 2; a ``seed``
        or ``burn_in`` that is not an integer in range; ``deltas`` that are not finite numbers.
    AnalysisError
        Data that cannot support the model: an arm with fewer than 2 subjects, a collinear
        term, a visit observed in no more subjects than model terms, n − p < T, a non-positive
        value on the log scale.

    Notes
    -----
    Imputation model: the post-baseline values of subject i are N(x_i' B, Σ) with x_i the
    ANCOVA's columns (intercept, arm, baseline, covariates), visit-specific coefficients B and an
    unstructured Σ common to the arms; Jeffreys prior p(B, Σ) ∝ |Σ|^{-(T+1)/2}. Each of the M
    imputations rests on its own posterior draw of (B, Σ), the last of a data-augmentation chain
    (Tanner & Wong 1987; Schafer 1997, ch. 5) of ``burn_in`` iterations. Missing values are then
    drawn from their normal distribution given the subject's observed values, around the mean of
    the method (Carpenter, Roger & Kenward 2013): own arm (MAR); own arm to the last observed
    visit, reference arm after (J2R); reference arm throughout (CR). Each completed data set is
    analysed by the ANCOVA at ``primary`` (arm + baseline + covariates; complete-data df n − p)
    and the results pooled by Rubin's rules with Barnard–Rubin df (:func:`trialkit.analysis.pool`).
    Rubin's variance is known to overstate the sampling variance of reference-based estimators
    (Seaman, White & Leacy 2014; Bartlett 2023): the J2R and CR intervals are conservative.
    With no missing value every method returns the complete-data ANCOVA.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 60
    >>> arm = np.repeat(["placebo", "active"], n // 2)
    >>> base = rng.normal(20, 4, n)
    >>> w4 = base - 2 * (arm == "active") + rng.normal(0, 3, n)
    >>> w8 = w4 - 2 * (arm == "active") + rng.normal(0, 3, n)
    >>> w8[::7] = np.nan
    >>> frame = pd.DataFrame({"arm": arm, "baseline": base, "week4": w4, "week8": w8})
    >>> fit = multiple_imputation(frame, arms=["placebo", "active"], visits=["week4", "week8"],
    ...                           methods=["mi_mar", "mi_j2r"], imputations=20, seed=7)
    >>> [(e.analysis.value, round(e.estimate, 1)) for e in fit.estimates]
    [('mi_mar', -2.8), ('mi_j2r', -2.4)]
    """
    check_instance(frame, "frame", pd.DataFrame, "a DataFrame")
    arm_codes = check_names(arms, "arms", 2)
    visit_names = check_names(visits, "visits", 1)
    covariates = check_names(numeric, "numeric", 0)
    levels = _levels(categorical)
    chosen = check_names(methods, "methods", 1)
    for mth in chosen:
        if mth not in MI_METHODS:
            raise TrialkitError(f"`methods` must hold only {', '.join(map(repr, MI_METHODS))}; got {mth!r}.")
    ref = arm_codes[0] if reference is None else reference
    if not isinstance(ref, str) or ref not in arm_codes:
        raise TrialkitError(
            f"`reference` must be text naming one of the arms {', '.join(map(repr, arm_codes))}; got {ref!r}."
        )
    main = visit_names[-1] if primary is None else primary
    if not isinstance(main, str) or main not in visit_names:
        raise TrialkitError(
            f"`primary` must be text naming one of the visits {', '.join(map(repr, visit_names))}; got {main!r}."
        )
    m = check_integer(imputations, "imputations", 2)
    entropy = check_integer(seed, "seed", 0)
    iterations = check_integer(burn_in, "burn_in", 1)
    grid = None
    if deltas is not None:
        grid = check_sample(deltas, "deltas", minimum=1)
    level = check_alpha(alpha)
    log = check_bool(log_scale, "log_scale")

    needed = ["arm", "baseline", *covariates, *levels, *visit_names]
    absent = [c for c in needed if c not in frame.columns]
    if absent or len(set(needed)) != len(needed):
        raise TrialkitError(
            f"`frame` must have the distinct columns {', '.join(map(repr, needed))}; "
            f"got {', '.join(map(repr, map(str, frame.columns)))}."
        )
    columns: dict[str, Floats] = {}
    for c in ("baseline", *covariates, *visit_names):
        try:
            columns[c] = frame[c].to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise TrialkitError(f"`frame[{c!r}]` must hold numbers; got dtype {frame[c].dtype}.") from None
        values = columns[c]
        bad = ~np.isfinite(values) if c not in visit_names else np.isinf(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise TrialkitError(
                f"`frame[{c!r}]` must hold finite numbers"
                f"{'' if c in visit_names else ' (select subjects with baseline and covariates first)'}; "
                f"got {float(values[i])!r} at position {i}."
            )
    arm_code = positions(frame["arm"], pd.Index(arm_codes))
    if (arm_code < 0).any():
        unknown = sorted(set(frame["arm"].astype(str).to_numpy(dtype=object)[arm_code < 0]))
        raise TrialkitError(f"`frame['arm']` must hold only {', '.join(map(repr, arm_codes))}; got {unknown!r}.")
    factors: dict[str, Ints] = {}
    for c, lv in levels.items():
        codes = positions(frame[c], pd.Index(lv))
        if (codes < 0).any():
            raise TrialkitError(f"`frame[{c!r}]` must hold only the levels {', '.join(map(repr, lv))}.")
        factors[c] = codes
    y = np.column_stack([columns[v] for v in visit_names])
    return impute_arrays(
        arm_code,
        y,
        {"baseline": columns["baseline"], **{c: columns[c] for c in covariates}},
        factors,
        arms=arm_codes,
        levels=levels,
        visits=visit_names,
        primary=visit_names.index(main),
        methods=chosen,
        reference=arm_codes.index(ref),
        imputations=m,
        burn_in=iterations,
        seed=np.random.SeedSequence(entropy),
        deltas=grid,
        alpha=level,
        log_scale=log,
    )
