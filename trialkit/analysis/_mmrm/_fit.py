"""``mmrm``: a mixed model for repeated measures on a plain data frame, as SAS PROC MIXED fits it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_in, check_instance, check_names
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._spec import MMRM_COVARIANCE_ALIASES as ALIASES
from trialkit.analysis._distributions import t_upper_quantile
from trialkit.analysis._mmrm._design import Design, build_design
from trialkit.analysis._mmrm._inference import Inference, inference
from trialkit.analysis._mmrm._likelihood import statistics
from trialkit.analysis._mmrm._optimise import Objective, Optimum, maximise
from trialkit.analysis._mmrm._structures import COVARIANCE_TYPES, Structure, structure

Array = npt.NDArray[np.float64]

CONTRAST_COLUMNS = (
    "arm",
    "control",
    "contrast",
    "visit",
    "estimate",
    "std_error",
    "df",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
)
LSMEAN_COLUMNS = ("arm", "visit", "n", "estimate", "std_error", "df", "ci_low", "ci_high")
FIXED_EFFECT_COLUMNS = ("term", "estimate", "std_error", "df", "statistic", "p_value")


class Covariance(StrEnum):
    """Residual covariance structures, by SAS ``TYPE=`` name."""

    US = "us"
    CS = "cs"
    CSH = "csh"
    AR1 = "ar1"
    ARH1 = "arh1"
    TOEP = "toep"
    TOEPH = "toeph"


class DfMethod(StrEnum):
    """Denominator degrees of freedom, as SAS ``DDFM=``."""

    SATTERTHWAITE = "satterthwaite"
    KENWARD_ROGER = "kenward_roger"
    RESIDUAL = "residual"
    BETWEEN_WITHIN = "between_within"


@dataclass(frozen=True)
class MMRMFit:
    """A fitted mixed model for repeated measures.

    Attributes
    ----------
    contrasts : DataFrame
        Each arm against control at each visit: ``arm, control, contrast, visit, estimate,
        std_error, df, ci_low, ci_high, statistic, p_value`` (difference of LS means, response units).
    lsmeans : DataFrame
        ``arm, visit, n, estimate, std_error, df, ci_low, ci_high``; ``n`` responses analysed.
    fixed_effects : DataFrame
        ``term, estimate, std_error, df, statistic, p_value`` (treatment coding; references: the
        control arm, the first visit, the first level of each categorical covariate).
    covariance : DataFrame
        Estimated residual covariance, visits x visits (rows ``(arm, visit)`` when separate per arm).
    covariance_parameters : DataFrame
        ``group, parameter, estimate, std_error``: SAS's covariance parameters (``UN(2,1)``, ...).
    log_likelihood : float
        REML (or ML) log-likelihood in SAS's convention (−2 × it is SAS's "−2 Res Log Likelihood").
    converged : bool
        Always True: a fit that does not converge raises :class:`~trialkit.AnalysisError`.
    iterations : int
        Optimiser iterations plus Newton steps.
    gradient_norm : float
        Largest absolute derivative of −2 log L over the covariance parameters at the optimum.
    """

    contrasts: pd.DataFrame
    lsmeans: pd.DataFrame
    fixed_effects: pd.DataFrame
    covariance: pd.DataFrame
    covariance_parameters: pd.DataFrame
    log_likelihood: float
    converged: bool
    iterations: int
    gradient_norm: float
    optimisers: tuple[str, ...]
    n_subjects: int
    n_observations: int
    excluded_rows: int
    visits: tuple[str, ...]
    arms: tuple[str, ...]
    control: str
    covariance_type: str
    df_method: str
    reml: bool
    empirical: bool
    alpha: float
    terms: tuple[str, ...]
    beta: Array
    beta_covariance: Array

    @property
    def aic(self) -> float:
        """Akaike's criterion as SAS prints it: −2 log L + 2 × covariance parameters."""
        return -2 * self.log_likelihood + 2 * len(self.covariance_parameters)


def _normalise_covariance(value: object) -> Covariance:
    if isinstance(value, str) and value.lower() in ALIASES:
        value = ALIASES[value.lower()]
    return check_in(value.lower() if isinstance(value, str) else value, "covariance", Covariance)


def _start(design: Design, structures: list[Structure]) -> npt.NDArray[np.float64]:
    """Return starting θ: each group's covariance of ordinary least squares residuals, made positive definite."""
    beta, *_ = np.linalg.lstsq(design.x, design.y, rcond=None)
    resid = design.y - design.x @ beta
    k = len(design.visits)
    thetas = []
    groups = design.arm_codes if len(structures) > 1 else np.zeros(len(resid), dtype=np.intp)
    for g, s in enumerate(structures):
        grid = np.full((design.n_subjects, k), np.nan)
        mine = groups == g
        grid[design.subject_codes[mine], design.visit_codes[mine]] = resid[mine]
        cov = pd.DataFrame(grid).cov(min_periods=1).to_numpy()
        var = np.nan_to_num(np.diag(cov), nan=float(np.nanmean(resid**2)))
        var = np.where(var > 0, var, float(np.mean(resid**2)))
        cov = np.where(np.isnan(cov), 0.0, cov)
        np.fill_diagonal(cov, var)
        vals, vecs = np.linalg.eigh(cov)
        floor = 1e-3 * vals.max()
        cov = (vecs * np.maximum(vals, floor)) @ vecs.T
        thetas.append(s.start(cov))
    return np.concatenate(thetas)


def mmrm(
    data: pd.DataFrame,
    *,
    response: str,
    subject: str,
    visit: str,
    arm: str,
    control: str,
    covariates: Sequence[str] = (),
    categorical: Sequence[str] | None = None,
    baseline: str | None = None,
    baseline_by_visit: bool = False,
    baseline_visit: str | None = None,
    covariance: str = "us",
    group_by_arm: bool = False,
    reml: bool = True,
    df_method: str = "satterthwaite",
    empirical: bool = False,
    visit_order: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> MMRMFit:
    """Fit a mixed model for repeated measures (SAS PROC MIXED with a REPEATED statement).

    Mean model: ``response ~ arm + visit + arm:visit + covariates [+ baseline [+ baseline:visit]]``
    with treatment coding; residuals of a subject across visits are correlated with the
    covariance structure ``covariance``, independent between subjects. Rows with a missing
    response (or a missing model variable) are left out, as SAS does: a subject with at least
    one response contributes, and the model is valid when data are missing at random.

    Parameters
    ----------
    data : DataFrame
        One row per subject and visit (long format). Never modified.
    response, subject, visit, arm : str
        Column names.
    control : str
        The control arm (reference of every contrast).
    covariates : sequence of str
        Further adjustment columns.
    categorical : sequence of str, optional
        Which covariates are factors; default those whose dtype is not numeric.
    baseline : str, optional
        A baseline column entered as a numeric covariate.
    baseline_by_visit : bool
        Add baseline x visit (a baseline slope per visit).
    baseline_visit : str, optional
        A visit whose responses are baseline measurements: they stay in the model as responses
        with no arm difference at that visit (constrained longitudinal data analysis, Liang &
        Zeger 2000), so subjects without a later value still inform the baseline mean and the
        covariance. Excludes ``baseline``.
    covariance : str
        ``us`` (unstructured), ``cs``, ``csh``, ``ar1``, ``arh1``, ``toep``, ``toeph`` (SAS
        ``TYPE=``); ``unstructured``, ``compound_symmetry`` and ``toeplitz`` also accepted.
    group_by_arm : bool
        A separate covariance per arm (SAS ``GROUP=arm``).
    reml : bool
        Restricted maximum likelihood (default) or maximum likelihood.
    df_method : str
        ``satterthwaite`` (default), ``kenward_roger`` (with KR's adjusted covariance of β̂),
        ``residual`` or ``between_within``.
    empirical : bool
        Sandwich covariance of β̂ (SAS ``EMPIRICAL``); with ``residual`` or ``between_within`` df.
    visit_order : sequence of str, optional
        Visit levels in order; default the sorted values of the visit column.
    reference : mapping of str to str, optional
        Reference level of a categorical covariate (default its first sorted level).
    alpha : float
        1 − confidence level of the intervals.

    Returns
    -------
    MMRMFit
        LS means and contrasts in response units, fixed effects, the estimated covariance.

    Raises
    ------
    TrialkitError
        A bad argument or a column that does not exist or does not hold numbers.
    AnalysisError
        Data the model cannot be fitted to, named: a visit column with one level, a subject
        measured twice at a visit, a constant covariate, an empty arm x visit cell, a fit that
        does not converge.

    Notes
    -----
    REML −2 log L is SAS's ``−2 Res Log Likelihood`` (and R ``nlme::gls``'s). Satterthwaite df
    use the observed information of the covariance parameters, as SAS and R ``mmrm``;
    Kenward–Roger's adjusted covariance is computed in SAS's covariance parameters. Agreement
    with SAS PROC MIXED and R is tested and stated in ``docs/mmrm.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> import trialkit as tk
    >>> frame = pd.read_csv(tk.datasets.longitudinal("fev_data"))
    >>> fit = tk.mmrm(frame, response="FEV1", subject="USUBJID", visit="AVISIT", arm="ARMCD",
    ...               control="PBO", covariates=["RACE", "SEX"])
    >>> round(-2 * fit.log_likelihood, 4)
    3386.4499
    >>> print(fit.contrasts[["visit", "estimate", "df"]].round(2).to_string(index=False))
    visit  estimate     df
     VIS1      3.77 145.55
     VIS2      3.73 145.28
     VIS3      3.08 130.93
     VIS4      4.40 133.39
    """
    check_instance(data, "data", pd.DataFrame, "a DataFrame")
    for name, value in (("response", response), ("subject", subject), ("visit", visit), ("arm", arm)):
        check_instance(value, name, str, "a column name (text)")
    check_instance(control, "control", str, "an arm (text)")
    for optional, given in (("baseline", baseline), ("baseline_visit", baseline_visit)):
        if given is not None:
            check_instance(given, optional, str, "text or None")
    covariates = check_names(covariates, "covariates")
    categorical = None if categorical is None else check_names(categorical, "categorical")
    visit_order = None if visit_order is None else check_names(visit_order, "visit_order", 2)
    if reference is not None and not (
        isinstance(reference, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in reference.items())
    ):
        raise TrialkitError(f"`reference` must be a mapping of covariate names to levels; got {reference!r}.")
    kind = _normalise_covariance(covariance)
    method = check_in(df_method, "df_method", DfMethod)
    for name, flag in (
        ("baseline_by_visit", baseline_by_visit),
        ("group_by_arm", group_by_arm),
        ("reml", reml),
        ("empirical", empirical),
    ):
        check_bool(flag, name)
    level = check_alpha(alpha)
    if empirical and method in (DfMethod.SATTERTHWAITE, DfMethod.KENWARD_ROGER):
        raise TrialkitError(
            f"`empirical=True` goes with df_method 'residual' or 'between_within'; got {method.value!r}."
        )

    design = build_design(
        data,
        response=response,
        subject=subject,
        visit=visit,
        arm=arm,
        control=control,
        covariates=list(covariates),
        categorical=None if categorical is None else list(categorical),
        baseline=baseline,
        baseline_by_visit=baseline_by_visit,
        baseline_visit=baseline_visit,
        group_by_arm=group_by_arm,
        visit_order=None if visit_order is None else list(visit_order),
        reference=dict(reference or {}),
    )
    k = len(design.visits)
    structures = [structure(kind.value, k) for _ in design.groups]
    _check_identifiable(design, structures)
    stats = statistics(design)
    objective = Objective(stats, structures, reml=reml)
    optimum = maximise(objective, _start(design, structures))
    inf = inference(design, objective, optimum, stats, df_method=method.value, empirical=empirical)
    return _tables(design, objective, inf, optimum, kind, method, reml, empirical, level, control)


def _check_identifiable(design: Design, structures: list[Structure]) -> None:
    """Name the visits (and visit pairs) with too few responses for the covariance parameters."""
    k = len(design.visits)
    groups = design.arm_codes if len(structures) > 1 else np.zeros(design.n_observations, dtype=np.intp)
    problems = []
    for g, s in enumerate(structures):
        mine = groups == g
        grid = np.zeros((design.n_subjects, k), dtype=bool)
        grid[design.subject_codes[mine], design.visit_codes[mine]] = True
        together = grid.T.astype(np.int64) @ grid.astype(np.int64)
        where = f" in arm {design.arms[g]!r}" if len(structures) > 1 else ""
        for v in range(k):
            if together[v, v] < 2:
                problems.append(f"visit {design.visits[v]!r} has {int(together[v, v])} response(s){where}")
        if s.name == "us":
            for a in range(k):
                for c in range(a):
                    if together[a, c] == 0 and together[a, a] >= 2 and together[c, c] >= 2:
                        problems.append(
                            f"no subject{where} has responses at both {design.visits[c]!r} and {design.visits[a]!r}"
                        )
    if problems:
        raise AnalysisError(
            "; ".join(problems) + f": too few to estimate the {COVARIANCE_TYPES[structures[0].name]} covariance.",
            term="covariance",
        )


def _t_table(estimate: Array, se: Array, df: Array, alpha: float) -> tuple[Array, Array, Array, Array]:
    from scipy.special import stdtr

    q = np.array([t_upper_quantile(alpha / 2, d) if np.isfinite(d) else np.nan for d in df])
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / se
    p = 2 * stdtr(df, -np.abs(stat))
    return estimate - q * se, estimate + q * se, stat, p


def _tables(
    design: Design,
    objective: Objective,
    inf: Inference,
    optimum: Optimum,
    kind: Covariance,
    method: DfMethod,
    reml: bool,
    empirical: bool,
    alpha: float,
    control: str,
) -> MMRMFit:
    beta, cov = inf.beta, inf.covariance
    p = len(beta)

    # fixed effects
    eye = np.eye(p)
    fe_df = inf.df(eye)
    fe_se = np.sqrt(np.diag(cov))
    _, _, fe_stat, fe_p = _t_table(beta, fe_se, fe_df, alpha)
    fixed = pd.DataFrame(
        {
            "term": list(design.terms),
            "estimate": beta,
            "std_error": fe_se,
            "df": fe_df,
            "statistic": fe_stat,
            "p_value": fe_p,
        }
    )

    # LS means
    rows = design.lsmean_rows
    counts = np.zeros((len(design.arms), len(design.visits)), dtype=np.int64)
    np.add.at(counts, (design.arm_codes, design.visit_codes), 1)
    est = rows @ beta
    se = np.sqrt(np.einsum("np,pq,nq->n", rows, cov, rows))
    df = inf.df(rows)
    low, high, _, _ = _t_table(est, se, df, alpha)
    keys = design.lsmean_keys
    lsmeans = pd.DataFrame(
        {
            "arm": [a for a, _ in keys],
            "visit": [v for _, v in keys],
            "n": [int(counts[design.arms.index(a), design.visits.index(v)]) for a, v in keys],
            "estimate": est,
            "std_error": se,
            "df": df,
            "ci_low": low,
            "ci_high": high,
        }
    )

    # contrasts: each arm minus control at each visit (not at a constrained baseline visit)
    index = {key: i for i, key in enumerate(keys)}
    c_rows, c_keys = [], []
    for v in design.visits:
        for a in design.arms[1:]:
            diff = rows[index[(a, v)]] - rows[index[(control, v)]]
            if np.any(np.abs(diff) > 1e-12):
                c_rows.append(diff)
                c_keys.append((a, v))
    contrasts_frame = pd.DataFrame(columns=list(CONTRAST_COLUMNS))
    if c_rows:
        cm = np.array(c_rows)
        c_est = cm @ beta
        c_se = np.sqrt(np.einsum("np,pq,nq->n", cm, cov, cm))
        c_df = inf.df(cm)
        c_low, c_high, c_stat, c_p = _t_table(c_est, c_se, c_df, alpha)
        contrasts_frame = pd.DataFrame(
            {
                "arm": [a for a, _ in c_keys],
                "control": control,
                "contrast": [f"{a} - {control}" for a, _ in c_keys],
                "visit": [v for _, v in c_keys],
                "estimate": c_est,
                "std_error": c_se,
                "df": c_df,
                "ci_low": c_low,
                "ci_high": c_high,
                "statistic": c_stat,
                "p_value": c_p,
            }
        )

    # covariance
    sigmas = objective.sigmas(optimum.theta)
    if len(sigmas) == 1:
        covariance = pd.DataFrame(sigmas[0], index=list(design.visits), columns=list(design.visits))
    else:
        index_rows = pd.MultiIndex.from_product([list(design.groups), list(design.visits)], names=["arm", "visit"])
        covariance = pd.DataFrame(np.vstack(sigmas), index=index_rows, columns=list(design.visits))
    params = []
    offset = 0
    phi_se = np.sqrt(np.clip(np.diag(inf.phi_covariance), 0, None))
    for g, s in enumerate(objective.structures):
        for name in s.names:
            params.append((design.groups[g], name, float(inf.phi[offset]), float(phi_se[offset])))
            offset += 1
    parameters = pd.DataFrame(params, columns=["group", "parameter", "estimate", "std_error"])

    return MMRMFit(
        contrasts=contrasts_frame,
        lsmeans=lsmeans,
        fixed_effects=fixed,
        covariance=covariance,
        covariance_parameters=parameters,
        log_likelihood=-0.5 * optimum.evaluation.value,
        converged=True,
        iterations=optimum.iterations,
        gradient_norm=float(np.max(np.abs(optimum.gradient))) if optimum.gradient.size else 0.0,
        optimisers=optimum.optimisers,
        n_subjects=design.n_subjects,
        n_observations=design.n_observations,
        excluded_rows=design.excluded_rows,
        visits=design.visits,
        arms=design.arms,
        control=control,
        covariance_type=kind.value,
        df_method=method.value,
        reml=reml,
        empirical=empirical,
        alpha=alpha,
        terms=design.terms,
        beta=beta,
        beta_covariance=cov,
    )
