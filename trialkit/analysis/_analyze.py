"""``analyze``: every pre-specified efficacy analysis of a trial, as one results table.

For every endpoint, every post-baseline visit and every arm against the control arm; the MMRM
(when the spec pre-specifies one) once per endpoint over every post-baseline visit. A failing
analysis is recorded in ``Results.failures`` and the others go on; so is a result that is only
partly defined (a rank test whose interval does not exist), beside its row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_in, check_instance
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._provenance import relative_inputs, versions
from trialkit._spec import Endpoint, MMRMOptions, Multiplicity, Population, PrimaryAnalysis, StudySpec, TwoValued
from trialkit._trial import Trial
from trialkit.analysis._binary_rows import binary_cell
from trialkit.analysis._cells import Floats, Subjects, cells, subject_arrays, value_grid
from trialkit.analysis._collector import Collector, Row
from trialkit.analysis._continuous_rows import RESPONDER_KINDS, continuous_cell, percent_change
from trialkit.analysis._count_rows import count_cell, exposure_of
from trialkit.analysis._magnitude import extreme_baseline, extreme_endpoints
from trialkit.analysis._missing_rows import MI_KINDS, missing_data_rows, pattern_table
from trialkit.analysis._mmrm_rows import MMRM_KINDS, mmrm_input, mmrm_rows
from trialkit.analysis._multiplicity import adjust_p
from trialkit.analysis._responders import default_thresholds, mcid_sweep
from trialkit.analysis._results import (
    COUNT_COLUMNS,
    FAILURE_COLUMNS,
    PATTERN_COLUMNS,
    RESULT_COLUMNS,
    TIPPING_COLUMNS,
    Analysis,
    Results,
)
from trialkit.analysis._table1 import BASELINE_P_COLUMNS, baseline_p_values, baseline_summaries
from trialkit.analysis._units import in_own_unit

__all__ = ["ALL_ANALYSES", "RESULT_DTYPES", "analyze"]

ALL_ANALYSES: tuple[Analysis, ...] = tuple(Analysis)
#: dtypes of ``Results.table``, column by column
RESULT_DTYPES: Mapping[str, str] = {
    **dict.fromkeys(("endpoint", "visit", "analysis", "contrast"), "str"),
    **dict.fromkeys(
        ("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value", "p_adjusted"), "float64"
    ),
    "n_treatment": "Int64",
    "n_control": "Int64",
    "population": "str",
    "method": "str",
}
#: the analysis whose primary-visit rows are the primary result and the multiplicity family
_PRIMARY_KIND = {PrimaryAnalysis.ANCOVA: Analysis.ANCOVA, PrimaryAnalysis.MMRM: Analysis.MMRM}
#: how a failure row names a primary analysis
_NAMES = {
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "standardised_rd": "the standardised risk difference",
    "negative_binomial": "the negative binomial model",
}


def _mmrm(
    trial: Trial,
    grid: Floats,
    subjects: Subjects,
    population: Population,
    options: MMRMOptions,
    alpha: float,
    out: Collector,
    stopped: Mapping[str, str],
) -> dict[str, dict[str, int]]:
    """Fit the MMRM of every endpoint in ``population``; rows and failures go to ``out``.

    The endpoints in ``stopped`` (values beyond the arithmetic's limits) are left out: their failure rows are written
    by :func:`_stop`.

    Returns the subjects analysed per endpoint and arm (at least one post-baseline response with
    baseline and covariates).
    """
    spec = trial.spec
    order = spec.visits.order
    b = order.index(str(spec.visits.baseline))
    post = spec.visits.post_baseline
    columns = [order.index(v) for v in post]
    ids = trial.subjects["subject"].astype(str).tolist()
    analysed: dict[str, dict[str, int]] = {}
    for k, ep in enumerate(spec.endpoints):
        if ep.type != "continuous" or ep.id in stopped:
            continue  # recorded as skipped (the MMRM models continuous endpoints) or stopped
        try:
            as_response = options.baseline == "response"
            data = mmrm_input(
                subjects,
                ids,
                grid[:, k, [b, *columns]] if as_response else grid[:, k, columns],
                grid[:, k, b],
                [str(spec.visits.baseline), *post] if as_response else post,
                log=ep.scale == "log",
                population=population,
                baseline_is_response=as_response,
            )
            fitted = mmrm_rows(data, options, alpha, log=ep.scale == "log")
        except AnalysisError as exc:
            out.failures.extend(
                {
                    "endpoint": ep.id,
                    "visit": "",
                    "analysis": kind.value,
                    "contrast": "all arms",
                    "term": exc.term,
                    "message": f"MMRM over {', '.join(post)}: {exc}",
                    "population": population.value,
                }
                for kind in MMRM_KINDS
                if kind in out.wanted
            )
            continue
        analysed[ep.id] = fitted.subjects
        out.rows.extend(e.row(ep.id, v, population.value) for v, e in fitted.rows if e.analysis in out.wanted)
    return analysed


def primary_analysis(endpoint: Endpoint, primary: PrimaryAnalysis) -> Analysis:
    """Return the analysis whose primary-visit rows are ``endpoint``'s primary result and multiplicity family member.

    Continuous endpoints: the spec's ``[analysis] primary`` (ANCOVA or MMRM); binary endpoints: the
    standardised risk difference (the marginal effect regulators ask for); count endpoints: the
    negative binomial rate ratio.
    """
    if endpoint.type == "binary":
        return Analysis.STANDARDISED_RD
    if endpoint.type == "count":
        return Analysis.NEGATIVE_BINOMIAL
    return _PRIMARY_KIND[primary]


def _adjust(
    table: pd.DataFrame,
    trial: Trial,
    method: Multiplicity,
    populations: Sequence[Population],
    many_to_one: Mapping[tuple[str, str, str, str], float],
) -> tuple[pd.DataFrame, list[Row]]:
    """Fill p_adjusted for each endpoint's primary analysis (:func:`primary_analysis`) at the primary visit.

    ``many_to_one`` holds the Dunnett-adjusted p-values by (endpoint, visit, population, contrast) when the spec
    asks for them: they replace the unadjusted p-values first. Then secondary endpoints are adjusted by
    ``method`` per contrast and population; the primary endpoint is left as it is.

    The family is the pre-specified one (every secondary endpoint of the spec), not the rows that
    happen to exist: a secondary whose primary analysis could not run counts as p = 1, which keeps
    the others' adjustment conservative, and a failure row says so.
    """
    table = table.copy()
    spec = trial.spec
    notes: list[Row] = []
    kind_of = {e.id: primary_analysis(e, spec.analysis.primary).value for e in spec.endpoints}
    at_primary = (table["visit"] == spec.visits.primary) & (table["analysis"] == table["endpoint"].map(kind_of))
    p = table["p_value"].copy()
    for (endpoint, visit, population, contrast), value in many_to_one.items():
        p[
            at_primary
            & (table["endpoint"] == endpoint)
            & (table["visit"] == visit)
            & (table["population"] == population)
            & (table["contrast"] == contrast)
        ] = value
    primary = at_primary & (table["endpoint"] == spec.primary_endpoint.id)
    table.loc[primary, "p_adjusted"] = p[primary]
    secondary = [e.id for e in spec.endpoints if not e.primary]
    if not secondary:
        return table, notes
    for population in populations:
        for arm in trial.arms[1:]:
            contrast = f"{arm} - {trial.control}"
            same_family = at_primary & (table["contrast"] == contrast) & (table["population"] == population.value)
            rows = p[same_family & ~primary].set_axis(table.loc[same_family & ~primary, "endpoint"])
            missing = [e for e in secondary if e not in rows.index]
            adjusted = adjust_p(np.array([rows.at[e] if e in rows.index else 1.0 for e in secondary]), method)
            for e, value in zip(secondary, adjusted, strict=True):
                table.loc[same_family & (table["endpoint"] == e), "p_adjusted"] = value
            notes.extend(
                {
                    "endpoint": e,
                    "visit": spec.visits.primary,
                    "analysis": "multiplicity",
                    "contrast": contrast,
                    "term": e,
                    "population": population.value,
                    "message": f"{_NAMES[kind_of[e]]} of {e!r} did not run: counted as p = 1 in the "
                    f"{method.value} adjustment of the other secondary endpoints.",
                }
                for e in missing
            )
    return table, notes


def _ids(values: object, name: str, registry: type[Analysis] | type[Population]) -> tuple[Any, ...]:
    """Return a non-empty collection of registry members, given as members or by value."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        allowed = ", ".join(repr(m.value) for m in registry)
        raise TrialkitError(f"`{name}` must be a collection of {allowed}; got {values!r}.")
    out = tuple(check_in(v, name, registry) for v in values)
    if not out:
        raise TrialkitError(
            f"`{name}` must name at least one of {', '.join(repr(m.value) for m in registry)}; got {values!r}."
        )
    return out


def analyze(
    trial: Trial,
    *,
    alpha: float | None = None,
    analyses: Iterable[Analysis | str] | None = None,
    multiplicity: Multiplicity | str | None = None,
    populations: Iterable[Population | str] | None = None,
    sweep: bool = True,
    table1_p_values: bool | None = None,
    two_valued_covariates: TwoValued | str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Results:
    """Run every pre-specified efficacy analysis of ``trial`` (docs/analyses.md).

    Parameters
    ----------
    trial : Trial
        A loaded trial (:func:`trialkit.load`).
    alpha : float, optional
        1 − confidence level of every interval, in (0, 1); default ``[study].alpha``.
    analyses : iterable of Analysis or str, optional
        The analysis ids to run (``Analysis`` values, e.g. ``["ancova", "welch_change"]``);
        default all (``mmrm`` and ``mmrm_lsmean`` when the spec has ``[analysis] mmrm``).
    multiplicity : Multiplicity or str, optional
        Adjustment over secondary endpoints; default ``[analysis].multiplicity``.
    populations : iterable of Population or str, optional
        ``fas`` (every randomised subject with the values an analysis needs) and/or
        ``completers`` (observed at every post-baseline visit of the endpoint); default
        ``[analysis].populations``. The ``population`` column says which.
    sweep : bool
        Also compute the responder MCID sweep (``Results.responder_sweep``).
    table1_p_values : bool, optional
        Also test baseline differences between arms (``Results.baseline_p``); default
        ``[analysis].table1_p_values`` (false: CONSORT advises against such tests).
    two_valued_covariates : TwoValued or str, optional
        Where the ANCOVA LS means hold a numeric covariate (or baseline) with exactly two
        distinct values: ``"mean"`` (SAS LSMEANS) or ``"levels"`` (emmeans' default); default
        ``[analysis].two_valued_covariates`` (``"mean"``). See :func:`trialkit.analysis.ancova`.
    progress : callable, optional
        Called with the name of each stage as it starts (``"MMRM"``, ``"Multiple imputation"``,
        ...), for a progress display; it does not change the results.

    Returns
    -------
    Results
        ``table`` (one row per estimate, columns ``RESULT_COLUMNS`` with dtypes
        ``RESULT_DTYPES``), ``failures`` (analyses that could not run, or ran only in part, and
        why), ``table1``, ``smd``, ``responder_sweep``, ``counts``, ``baseline_p``.

    Raises
    ------
    TrialkitError
        ``trial`` not a Trial; a bad option (unknown analysis id,
        multiplicity or population; alpha outside (0, 1); a non-bool flag); ``analyses`` naming
        the MMRM of a spec without ``[analysis] mmrm``. Data that cannot support an analysis
        never raise: they are rows of ``Results.failures``.

    Notes
    -----
    Every analysis, its estimate and the R function it matches are listed in
    docs/analyses.md. Each endpoint gets the analyses of its type: continuous (ANCOVA, change
    tests, responders, the MMRM and multiple imputation), binary (logistic model and its
    standardised effects, proportions, CMH with strata; docs/binary.md) or count (negative
    binomial, robust Poisson and quasi-Poisson rate ratios, rates; docs/counts.md). The MMRM
    (``[analysis] mmrm``) is fitted once per continuous endpoint and population to every
    post-baseline visit, with the baseline value and the spec's covariates as covariates
    (:func:`trialkit.analysis.mmrm`). Each endpoint's primary analysis (the multiplicity family;
    ``provenance["primary_analyses"]``) is the ANCOVA or, with ``[analysis] primary = "mmrm"``,
    the MMRM for continuous endpoints, the standardised risk difference for binary ones and the
    negative binomial rate ratio for counts; ``multiplicity = "dunnett"`` in the spec adjusts them
    across arms first. Without a baseline visit the between-arm analyses compare follow-up
    values and the analyses of change are skipped: ``Results.failures`` lists them with
    ``term = "skipped"``. The R reference cases are in tests/reference/analyses/ and
    tests/reference/end_to_end/. The input trial is not modified, and the same trial and options
    give byte-identical results.

    Examples
    --------
    >>> import trialkit as tk
    >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    >>> res = tk.analyze(trial)
    >>> t = res.table
    >>> isi = t[(t["analysis"] == "ancova") & (t["endpoint"] == "isi")].iloc[0]
    >>> isi["contrast"], round(float(isi["estimate"]), 2), round(float(isi["p_value"]), 4)
    ('magnesium - placebo', -3.7, 0.0059)
    """
    check_instance(trial, "trial", Trial, "a Trial (from trialkit.load)")
    spec = trial.spec
    level = check_alpha(spec.study.alpha if alpha is None else alpha)
    wanted = frozenset(ALL_ANALYSES if analyses is None else _ids(analyses, "analyses", Analysis))
    method = (
        spec.analysis.multiplicity if multiplicity is None else check_in(multiplicity, "multiplicity", Multiplicity)
    )
    chosen: tuple[Population, ...] = (
        spec.analysis.populations if populations is None else _ids(populations, "populations", Population)
    )
    do_sweep = check_bool(sweep, "sweep")
    p_at_baseline = (
        spec.analysis.table1_p_values if table1_p_values is None else check_bool(table1_p_values, "table1_p_values")
    )
    at = (
        spec.analysis.two_valued_covariates
        if two_valued_covariates is None
        else check_in(two_valued_covariates, "two_valued_covariates", TwoValued)
    )
    baseline = spec.visits.baseline
    stage: Callable[[str], None] = _silent
    if progress is not None:
        # Callable is a runtime ABC (isinstance works); mypy only knows it as a special form
        stage = check_instance(progress, "progress", Callable, "a function of a stage name")  # type: ignore[arg-type]

    asked_mmrm = analyses is not None and bool(wanted.intersection(MMRM_KINDS))
    if asked_mmrm and spec.analysis.mmrm is None:
        raise TrialkitError(
            "`analyses` asks for the MMRM, but the spec does not pre-specify one: add "
            '`[analysis] mmrm = { covariance = "us", df = "satterthwaite" }` (docs/spec.md).'
        )

    asked_mi = analyses is not None and bool(wanted.intersection(MI_KINDS))
    missing_options = spec.analysis.missing_data
    if asked_mi and missing_options is None:
        raise TrialkitError(
            "`analyses` asks for a multiple-imputation analysis, but the spec does not pre-specify one: add "
            '`[analysis.missing_data] methods = ["mi_mar"]` (docs/missing-data.md).'
        )
    if missing_options is not None and missing_options.reference not in (None, *trial.arms):
        raise TrialkitError(
            f"`analysis.missing_data.reference` must be one of the arms {', '.join(map(repr, trial.arms))}; "
            f"got {missing_options.reference!r}."
        )

    grid = value_grid(trial)
    subjects = subject_arrays(trial)
    # values the arithmetic cannot carry stop the analyses they would feed, before any runs
    ids = trial.subjects["subject"].astype(str).tolist()
    stopped = extreme_endpoints(spec, grid, subjects, ids)
    extreme_at_baseline = extreme_baseline(spec, grid, subjects, ids)
    # numeric covariates such as 1e15 + noise enter every model in their own unit (the same models: only the
    # intercept and the covariate's coefficient, which no row reports, change)
    subjects = replace(subjects, numeric={c: in_own_unit(x) for c, x in subjects.numeric.items()})
    out = Collector(wanted, dunnett=spec.analysis.dunnett)
    mmrm_subjects: dict[str, dict[str, dict[str, int]]] = {}
    for population in chosen:
        stage(_per_visit_stage(spec))
        for cell in cells(trial, grid, baseline, population):
            if cell.endpoint.id in stopped:
                out.count(subjects, cell)
            elif cell.endpoint.type == "binary":
                binary_cell(subjects, cell, out, level, spec.analysis.marginal_variance)
            elif cell.endpoint.type == "count":
                count_cell(subjects, cell, out, level, spec)
            else:
                continuous_cell(subjects, cell, out, level, at)
        _skipped(spec, out, population)
        _stop(spec, out, population, stopped)
        if spec.analysis.mmrm is not None and baseline is not None and wanted.intersection(MMRM_KINDS):
            stage("MMRM")
            mmrm_subjects[population.value] = _mmrm(
                trial, grid, subjects, population, spec.analysis.mmrm, level, out, stopped
            )
    missing = None
    if missing_options is not None and baseline is not None and wanted.intersection(MI_KINDS):
        stage("Multiple imputation")
        missing = missing_data_rows(spec, grid, subjects, missing_options, level, wanted, stopped)
        out.rows.extend(missing.rows)
        out.failures.extend(missing.failures)
    table = pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS))
    if wanted.intersection(primary_analysis(e, spec.analysis.primary) for e in spec.endpoints):
        table, multiplicity_notes = _adjust(table, trial, method, chosen, out.many_to_one)
        out.failures += multiplicity_notes
    table = table.astype(dict(RESULT_DTYPES))
    provenance = {
        "study": spec.study.id,
        "inputs": relative_inputs((i.path, i.sha256) for i in trial.inputs),
        "versions": versions(),
        "alpha": level,
        "multiplicity": method.value,
        "covariates": list(spec.analysis.covariates),
        "categorical": list(spec.analysis.categorical),
        "populations": [p.value for p in chosen],
        "two_valued_covariates": at.value,
        "primary_analysis": spec.analysis.primary.value,
        "primary_analyses": {e.id: primary_analysis(e, spec.analysis.primary).value for e in spec.endpoints},
        "endpoint_types": {e.id: e.type for e in spec.endpoints},
        "dunnett": spec.analysis.dunnett,
        "strata": list(spec.analysis.strata),
    }
    if any(e.type == "binary" for e in spec.endpoints):
        provenance["marginal_variance"] = spec.analysis.marginal_variance
    if spec.analysis.mmrm is not None:
        provenance["mmrm"] = {
            "covariance": spec.analysis.mmrm.covariance,
            "df": spec.analysis.mmrm.df,
            "reml": True,
            "group_by_arm": spec.analysis.mmrm.group_by_arm,
            "empirical": spec.analysis.mmrm.empirical,
            "baseline": spec.analysis.mmrm.baseline,
            "subjects": mmrm_subjects,
        }
    if missing is not None:
        provenance["missing_data"] = missing.provenance
    if do_sweep and wanted & RESPONDER_KINDS and baseline is not None:
        stage("Responder sweep")
        sweep_table = _sweep(trial, grid, baseline, subjects, level, out.failures, stopped)
    else:
        sweep_table = pd.DataFrame()
    stage("Table 1")
    table1, smd = baseline_summaries(trial)
    baseline_p = pd.DataFrame(columns=list(BASELINE_P_COLUMNS))
    if p_at_baseline:
        try:
            baseline_p = baseline_p_values(trial)
        except AnalysisError as exc:
            out.failures.append(
                {
                    "endpoint": exc.term,
                    "visit": baseline,
                    "analysis": "baseline_p",
                    "contrast": "",
                    "term": exc.term,
                    "message": str(exc),
                    "population": "fas",
                }
            )
    table1_failures = [
        {
            "endpoint": v,
            "visit": baseline,
            "analysis": "table1",
            "contrast": "",
            "term": "extreme_value",
            "message": f"{message} Table 1 shows no mean or SD of {v!r}.",
            "population": "fas",
        }
        for v, message in extreme_at_baseline.items()
    ]
    failures = pd.DataFrame(
        [*out.failures, *table1_failures, *_smd_failures(trial, smd, extreme_at_baseline)],
        columns=list(FAILURE_COLUMNS),
    )
    return Results(
        table=table,
        failures=failures.astype(dict.fromkeys(FAILURE_COLUMNS, "str")),
        table1=table1,
        smd=smd,
        responder_sweep=sweep_table,
        counts=pd.DataFrame(out.counts, columns=list(COUNT_COLUMNS)),
        baseline_p=baseline_p,
        tipping_point=pd.DataFrame(missing.tipping if missing else [], columns=list(TIPPING_COLUMNS)),
        missing_pattern=pd.DataFrame(pattern_table(spec, grid, subjects), columns=list(PATTERN_COLUMNS)),
        alpha=level,
        provenance=provenance,
    )


def _silent(stage: str) -> None:
    """Ignore a stage name: ``analyze`` without a progress display."""


#: the models of each endpoint type, named in the progress display
_MODELS = {"continuous": "ANCOVA", "binary": "logistic models", "count": "count models"}


def _per_visit_stage(spec: StudySpec) -> str:
    """Name the stage of the analyses per endpoint and visit by the models it fits: ``Analyses per visit (ANCOVA)``."""
    types = {e.type for e in spec.endpoints}
    return f"Analyses per visit ({', '.join(m for t, m in _MODELS.items() if t in types)})"


#: the continuous analyses that compare changes from baseline
_CHANGE_KINDS = (
    Analysis.WELCH_CHANGE,
    Analysis.STUDENT_CHANGE,
    Analysis.MANN_WHITNEY_CHANGE,
    Analysis.PAIRED_WITHIN,
    Analysis.WILCOXON_WITHIN,
    Analysis.HEDGES_G,
)


def _skipped(spec: StudySpec, out: Collector, population: Population) -> None:
    """Record the pre-specified analyses that do not apply to an endpoint: without a baseline, or not continuous."""
    responders = sorted(RESPONDER_KINDS)
    for ep in spec.endpoints:
        modelled: list[Analysis] = []
        if spec.analysis.mmrm is not None:
            modelled += MMRM_KINDS
        if spec.analysis.missing_data is not None:
            # the methods the spec names, not every MI analysis: the others would not have run anyway
            modelled += [Analysis(m) for m in spec.analysis.missing_data.methods]
        has_responder = ep.responder_change is not None or ep.responder_percent is not None
        if spec.visits.baseline is None:
            reason = "the spec has no baseline visit, and this analysis compares changes from baseline."
            kinds = [*(_CHANGE_KINDS if ep.type == "continuous" else ()), *(responders if has_responder else ())]
            out.skip(ep.id, kinds, population.value, reason)
            if ep.type == "continuous":
                out.skip(ep.id, modelled, population.value, "the spec has no baseline visit to adjust for.")
        if ep.type != "continuous":
            out.skip(
                ep.id,
                modelled,
                population.value,
                f"the MMRM and multiple imputation model continuous endpoints; {ep.id!r} is {ep.type}.",
            )


#: the analyses of each endpoint type, per visit (the MMRM and multiple imputation are added when the spec has them)
_TYPE_KINDS: Mapping[str, tuple[Analysis, ...]] = {
    "continuous": (
        Analysis.ANCOVA,
        Analysis.ANCOVA_LSMEAN,
        Analysis.WELCH_CHANGE,
        Analysis.STUDENT_CHANGE,
        Analysis.MANN_WHITNEY_CHANGE,
        Analysis.PAIRED_WITHIN,
        Analysis.WILCOXON_WITHIN,
        Analysis.HEDGES_G,
        Analysis.HEDGES_G_ANCOVA,
        *sorted(RESPONDER_KINDS),
        Analysis.WELCH_FOLLOWUP,
        Analysis.STUDENT_FOLLOWUP,
        Analysis.MANN_WHITNEY_FOLLOWUP,
        Analysis.VAN_ELTEREN,
    ),
    "binary": (
        Analysis.LOGISTIC,
        Analysis.STANDARDISED_RD,
        Analysis.STANDARDISED_RR,
        Analysis.STANDARDISED_OR,
        Analysis.PROPORTION,
        Analysis.RISK_DIFFERENCE,
        Analysis.RISK_RATIO,
        Analysis.ODDS_RATIO,
        Analysis.NNT,
        Analysis.CMH,
        Analysis.MH_RISK_DIFFERENCE,
    ),
    "count": (
        Analysis.NEGATIVE_BINOMIAL,
        Analysis.POISSON,
        Analysis.QUASIPOISSON,
        Analysis.RATE,
        Analysis.MANN_WHITNEY_FOLLOWUP,
        *sorted(RESPONDER_KINDS),
    ),
}


def _stop(spec: StudySpec, out: Collector, population: Population, stopped: Mapping[str, str]) -> None:
    """Record a failure row for every wanted analysis of an endpoint in ``stopped``, naming the value that stops it.

    An analysis already recorded as skipped for the endpoint (it does not apply) gets no second row.
    """
    for ep in spec.endpoints:
        if ep.id not in stopped:
            continue
        kinds = list(_TYPE_KINDS[ep.type])
        if ep.type == "continuous" and spec.analysis.mmrm is not None:
            kinds += MMRM_KINDS
        if ep.type == "continuous" and spec.analysis.missing_data is not None and population is Population.FAS:
            kinds += [Analysis(m) for m in spec.analysis.missing_data.methods]  # imputation runs in the FAS only
        done = {f["analysis"] for f in out.failures if f["endpoint"] == ep.id and f["population"] == population.value}
        out.failures.extend(
            {
                "endpoint": ep.id,
                "visit": "",
                "analysis": kind.value,
                "contrast": "all arms",
                "term": "extreme_value",
                "message": stopped[ep.id],
                "population": population.value,
            }
            for kind in dict.fromkeys(kinds)
            if kind in out.wanted and kind.value not in done
        )


def _smd_failures(trial: Trial, smd: pd.DataFrame, extreme: Mapping[str, str]) -> list[Row]:
    """Return a failure row for every baseline variable whose standardised difference is undefined.

    ``extreme`` holds the message of each variable with a value beyond the arithmetic's limits.
    """
    spec = trial.spec
    endpoints = [e.id for e in spec.endpoints] if spec.visits.baseline is not None else []
    variables = [*spec.analysis.covariates, *endpoints]
    have = set(zip(smd["variable"], smd["contrast"], strict=True)) if not smd.empty else set()
    return [
        {
            "endpoint": v,
            "visit": spec.visits.baseline,
            "analysis": "smd",
            "contrast": f"{a} - {trial.control}",
            "term": "extreme_value" if v in extreme else v,
            "message": extreme[v]
            if v in extreme
            else "standardised difference undefined: fewer than 2 values in an arm, zero SD "
            "in both arms, or categories the arms do not share.",
            "population": "fas",
        }
        for a in trial.arms[1:]
        for v in variables
        if (v, f"{a} - {trial.control}") not in have
    ]


def _sweep(
    trial: Trial,
    grid: Floats,
    baseline: str,
    subjects: Subjects,
    alpha: float,
    failures: list[Row],
    stopped: Mapping[str, str],
) -> pd.DataFrame:
    """Return the MCID sweep at the primary visit (every subject with a change).

    A sweep that cannot run is added to ``failures``; so is the sweep of an endpoint in ``stopped``.
    """
    spec = trial.spec
    b, j = spec.visits.order.index(baseline), spec.visits.order.index(spec.visits.primary)
    frames = []
    for k, ep in enumerate(spec.endpoints):
        threshold = ep.responder_change if ep.responder_change is not None else ep.responder_percent
        if threshold is None or ep.type == "binary":
            continue
        if ep.id in stopped:
            failures.append(
                {
                    "endpoint": ep.id,
                    "visit": spec.visits.primary,
                    "analysis": "responder_sweep",
                    "contrast": "all arms",
                    "term": "extreme_value",
                    "message": stopped[ep.id],
                    "population": "fas",
                }
            )
            continue
        value, base = grid[:, k, j], grid[:, k, b]
        if ep.type == "count":
            value = value / exposure_of(ep, spec.visits.primary, spec, subjects)
            base = base / exposure_of(ep, baseline, spec, subjects)
        change = value - base if ep.responder_change is not None else percent_change(value, base)[0]
        has = ~np.isnan(change)
        c = change[has & subjects.in_arm[0]]
        for code, a in enumerate(trial.arms[1:], start=1):
            t = change[has & subjects.in_arm[code]]
            try:
                sw = mcid_sweep(
                    t,
                    c,
                    default_thresholds(threshold, integer=ep.integer and ep.responder_change is not None),
                    arm=a,
                    control=trial.control,
                    alpha=alpha,
                )
            except AnalysisError as exc:
                failures.append(
                    {
                        "endpoint": ep.id,
                        "visit": spec.visits.primary,
                        "analysis": "responder_sweep",
                        "contrast": f"{a} - {trial.control}",
                        "term": "responder",
                        "message": str(exc),
                        "population": "fas",
                    }
                )
                continue
            frames.append(sw.assign(endpoint=ep.id, visit=spec.visits.primary))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out[["endpoint", "visit", *[c for c in out.columns if c not in ("endpoint", "visit")]]]
