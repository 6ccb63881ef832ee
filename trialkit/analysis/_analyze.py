"""``analyze``: every pre-specified efficacy analysis of a trial, as one results table.

For every endpoint, every post-baseline visit and every arm against the control arm; the MMRM
(when the spec pre-specifies one) once per endpoint over every post-baseline visit. A failing
analysis is recorded in ``Results.failures`` and the others go on; so is a result that is only
partly defined (a rank test whose interval does not exist), beside its row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trialkit._checks import check_alpha, check_bool, check_in, check_instance
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._provenance import relative_inputs, versions
from trialkit._spec import MMRMOptions, Multiplicity, Population, PrimaryAnalysis, TwoValued
from trialkit._trial import Trial
from trialkit.analysis._ancova import AncovaFit, fit_arrays
from trialkit.analysis._cells import Cell, Floats, Ints, Subjects, cells, subject_arrays, value_grid
from trialkit.analysis._effect_size import hedges_g, pooled_sd
from trialkit.analysis._missing_rows import MI_KINDS, missing_data_rows, pattern_table
from trialkit.analysis._mmrm_rows import MMRM_KINDS, mmrm_input, mmrm_rows
from trialkit.analysis._multiplicity import adjust_p
from trialkit.analysis._rank_tests import RankTest, mann_whitney, signed_rank
from trialkit.analysis._responders import default_thresholds, mcid_sweep, responder_estimates, responder_rates
from trialkit.analysis._results import (
    COUNT_COLUMNS,
    FAILURE_COLUMNS,
    PATTERN_COLUMNS,
    RESULT_COLUMNS,
    TIPPING_COLUMNS,
    Analysis,
    Estimate,
    Results,
)
from trialkit.analysis._table1 import BASELINE_P_COLUMNS, baseline_p_values, baseline_summaries
from trialkit.analysis._ttests import TTest, paired_t, two_sample_t

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
}
_RESPONDER = frozenset(
    {
        Analysis.RESPONDER_RATE,
        Analysis.RESPONDER_RD,
        Analysis.RESPONDER_RR,
        Analysis.RESPONDER_OR,
        Analysis.RESPONDER_NNT,
    }
)
_ANCOVA_KINDS = (Analysis.ANCOVA, Analysis.ANCOVA_LSMEAN, Analysis.HEDGES_G_ANCOVA)
#: the analysis whose primary-visit rows are the primary result and the multiplicity family
_PRIMARY_KIND = {PrimaryAnalysis.ANCOVA: Analysis.ANCOVA, PrimaryAnalysis.MMRM: Analysis.MMRM}
Row = dict[str, Any]


class _Collector:
    """Rows, failures and counts as the cells are analysed."""

    def __init__(self, wanted: frozenset[Analysis]):
        self.wanted = wanted
        self.rows: list[Row] = []
        self.failures: list[Row] = []
        self.counts: list[Row] = []

    def run(
        self,
        cell: Cell,
        kinds: Sequence[Analysis],
        contrast: str,
        fn: Callable[[], Iterable[Estimate]],
        names: Mapping[str, str] | None = None,
    ) -> None:
        """Run ``fn`` when one of ``kinds`` is wanted; an AnalysisError becomes a failure row.

        ``names`` says what a function's array arguments hold in this cell ({"x": "changes in
        arm 'a'"}): an error about a too-small argument then names the arm, not just ``x``.
        """
        if not self.wanted.intersection(kinds):
            return
        try:
            estimates = list(fn())
        except AnalysisError as exc:
            message = _named(str(exc), names)
            term = "arm" if names and exc.term in names else exc.term
            for kind in kinds:
                if kind in self.wanted:
                    self.fail(cell, kind, contrast, term, message)
            return
        self.rows.extend(
            e.row(cell.endpoint.id, cell.visit, cell.population) for e in estimates if e.analysis in self.wanted
        )

    def fail(self, cell: Cell, kind: Analysis, contrast: str, term: str, message: str) -> None:
        """Record that ``kind`` could not run (or ran only in part) in ``cell``."""
        self.failures.append(
            {
                "endpoint": cell.endpoint.id,
                "visit": cell.visit,
                "analysis": kind.value,
                "contrast": contrast,
                "term": term,
                "message": message,
                "population": cell.population,
            }
        )


def _named(message: str, names: Mapping[str, str] | None) -> str:
    """Return ``message`` with each argument it names (`x`) followed by what it holds in the cell."""
    for name, what in (names or {}).items():
        message = message.replace(f"`{name}`", f"`{name}` ({what})")
    return message


def _t_estimate(t: TTest, kind: Analysis, contrast: str, n_t: int, n_c: int | None, log: bool) -> Estimate:
    """Return a t-based estimate; on the log scale estimate and CI back-transformed (SE stays on logs)."""
    back = np.exp if log else float
    return Estimate(
        kind,
        contrast,
        float(back(t.estimate)),
        t.std_error,
        float(back(t.ci_low)),
        float(back(t.ci_high)),
        t.df,
        t.statistic,
        t.p_value,
        n_t,
        n_c,
    )


def _rank_estimate(r: RankTest, kind: Analysis, contrast: str, n_t: int, n_c: int | None, log: bool) -> Estimate:
    """Return a rank-test estimate (no SE or df); on the log scale estimate and CI back-transformed."""
    back = np.exp if log else float
    return Estimate(
        kind,
        contrast,
        float(back(r.estimate)),
        ci_low=float(back(r.ci_low)),
        ci_high=float(back(r.ci_high)),
        statistic=r.statistic,
        p_value=r.p_value,
        n_treatment=n_t,
        n_control=n_c,
    )


def _rank_row(
    out: _Collector,
    cell: Cell,
    kind: Analysis,
    contrast: str,
    test: Callable[[], RankTest],
    n: tuple[int, int | None],
    names: Mapping[str, str],
) -> Callable[[], list[Estimate]]:
    """Return the row maker of a rank test; a note (interval undefined, level not reached) becomes a failure row."""

    def row() -> list[Estimate]:
        r = test()
        if r.note and kind in out.wanted:
            out.fail(cell, kind, contrast, "interval", _named(r.note, names))
        return [_rank_estimate(r, kind, contrast, n[0], n[1], cell.endpoint.scale == "log")]

    return row


@dataclass(frozen=True)
class _AncovaSet:
    """The ANCOVA set of a cell (subjects with follow-up, baseline and every covariate) and its fit."""

    arm: Ints
    y: Floats
    fit: AncovaFit


def _fit_ancova(subjects: Subjects, cell: Cell, alpha: float, two_valued: TwoValued) -> _AncovaSet:
    keep = ~np.isnan(cell.value) & ~np.isnan(cell.baseline) & subjects.has_covariates
    arm, y = subjects.arm[keep], cell.value[keep]
    fit = fit_arrays(
        arm,
        y,
        {"baseline": cell.baseline[keep], **{c: x[keep] for c, x in subjects.numeric.items()}},
        {c: x[keep] for c, x in subjects.factors.items()},
        arms=subjects.arms,
        levels=subjects.levels,
        alpha=alpha,
        log_scale=cell.endpoint.scale == "log",
        two_valued=two_valued,
    )
    return _AncovaSet(arm, y, fit)


def _analyse_cell(subjects: Subjects, cell: Cell, out: _Collector, alpha: float, two_valued: TwoValued) -> None:
    arms, control = subjects.arms, subjects.arms[0]
    log = cell.endpoint.scale == "log"
    fitted: list[_AncovaSet] = []

    def fit() -> list[Estimate]:
        fitted.append(_fit_ancova(subjects, cell, alpha, two_valued))
        return [*fitted[0].fit.lsmeans, *fitted[0].fit.differences]

    out.run(cell, _ANCOVA_KINDS, "all arms", fit)

    no_value, no_baseline = np.isnan(cell.value), np.isnan(cell.baseline)
    has_change = ~no_value & ~no_baseline
    for k, a in enumerate(arms):
        mine = subjects.in_arm[k]
        # fas: every randomised subject (an analysis keeps those with its values); completers: those with
        # the value (the others are not in it)
        in_pop = mine if cell.population == Population.FAS.value else mine & ~no_value
        out.counts.append(
            {
                "population": cell.population,
                "endpoint": cell.endpoint.id,
                "visit": cell.visit,
                "arm": a,
                "n_randomised": int(np.count_nonzero(mine)),
                "n_in_population": int(np.count_nonzero(in_pop)),
                "n_with_change": int(np.count_nonzero(mine & has_change)),
                "n_missing_followup": int(np.count_nonzero(in_pop & no_value)),
                "n_missing_baseline": int(np.count_nonzero(in_pop & ~no_value & no_baseline)),
            }
        )
    raw_change = cell.value - cell.baseline
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.log(cell.value) - np.log(cell.baseline)
    else:
        change = raw_change
    selected = [has_change & mine for mine in subjects.in_arm]
    by_arm = {a: change[selected[k]] for k, a in enumerate(arms)}
    raw_by_arm = by_arm if not log else {a: raw_change[selected[k]] for k, a in enumerate(arms)}
    threshold = cell.endpoint.responder_change

    for k, a in enumerate(arms[1:], start=1):
        _between(out, cell, (a, control), (by_arm[a], by_arm[control]), alpha)
        if fitted and Analysis.HEDGES_G_ANCOVA in out.wanted:
            _adjusted_g(out, cell, fitted[0], (k, 0), (a, control), alpha)
        if threshold is not None and out.wanted & _RESPONDER:
            _responders(out, cell, (a, control), (raw_by_arm[a], raw_by_arm[control]), threshold, alpha)

    for a in arms:
        _within(out, cell, a, (by_arm[a], raw_by_arm[a]), threshold, alpha)


def _within(
    out: _Collector, cell: Cell, arm: str, changes: tuple[Floats, Floats], threshold: float | None, alpha: float
) -> None:
    """Run the within-arm analyses of change: paired t, signed-rank test, responder rate."""
    d, raw = changes
    n = len(d)
    log = cell.endpoint.scale == "log"
    names = {"d": f"changes in arm {arm!r}", "change": f"changes in arm {arm!r}"}
    out.run(
        cell,
        (Analysis.PAIRED_WITHIN,),
        arm,
        lambda: [_t_estimate(paired_t(d, alpha=alpha), Analysis.PAIRED_WITHIN, arm, n, None, log)],
        names,
    )
    kind = Analysis.WILCOXON_WITHIN
    out.run(
        cell,
        (kind,),
        arm,
        _rank_row(out, cell, kind, arm, lambda: signed_rank(d, alpha=alpha), (n, None), names),
        names,
    )
    if threshold is not None:
        at = threshold
        out.run(
            cell,
            (Analysis.RESPONDER_RATE,),
            arm,
            lambda: [responder_rates(raw, at, arm=arm, alpha=alpha)],
            names,
        )


def _between(
    out: _Collector,
    cell: Cell,
    pair: tuple[str, str],
    changes: tuple[Floats, Floats],
    alpha: float,
) -> None:
    """Run the change analyses of one arm against control: t-tests, rank-sum test, Hedges' g."""
    a, control = pair
    contrast = f"{a} - {control}"
    x, y = changes
    n_t, n_c = len(x), len(y)
    log = cell.endpoint.scale == "log"
    names = {
        "x": f"changes in arm {a!r}",
        "y": f"changes in arm {control!r}",
        "n_treatment": f"subjects of arm {a!r}",
        "n_control": f"subjects of arm {control!r}",
    }

    def t_test(kind: Analysis, equal: bool) -> Callable[[], list[Estimate]]:
        return lambda: [_t_estimate(two_sample_t(x, y, equal_var=equal, alpha=alpha), kind, contrast, n_t, n_c, log)]

    for kind, equal in ((Analysis.WELCH_CHANGE, False), (Analysis.STUDENT_CHANGE, True)):
        out.run(cell, (kind,), contrast, t_test(kind, equal), names)
    kind = Analysis.MANN_WHITNEY_CHANGE
    out.run(
        cell,
        (kind,),
        contrast,
        _rank_row(out, cell, kind, contrast, lambda: mann_whitney(x, y, alpha=alpha), (n_t, n_c), names),
        names,
    )

    def g_change() -> list[Estimate]:
        sd = pooled_sd(x, y)
        g = hedges_g(float(x.mean() - y.mean()), sd, n_t, n_c, alpha=alpha)
        return [
            Estimate(
                Analysis.HEDGES_G,
                contrast,
                g.estimate,
                g.std_error,
                g.ci_low,
                g.ci_high,
                n_treatment=n_t,
                n_control=n_c,
            )
        ]

    out.run(cell, (Analysis.HEDGES_G,), contrast, g_change, names)


def _adjusted_g(
    out: _Collector, cell: Cell, fitted: _AncovaSet, codes: tuple[int, int], pair: tuple[str, str], alpha: float
) -> None:
    """Run the adjusted g: ANCOVA difference over the pooled SD of the unadjusted follow-up values."""
    a, control = pair
    contrast = f"{a} - {control}"
    log = cell.endpoint.scale == "log"

    def g_adjusted() -> list[Estimate]:
        diff = next(d for d in fitted.fit.differences if d.contrast == contrast)
        yv = np.log(fitted.y) if log else fitted.y
        yt, yc = yv[fitted.arm == codes[0]], yv[fitted.arm == codes[1]]
        estimate = float(np.log(diff.estimate)) if log else diff.estimate
        g = hedges_g(estimate, pooled_sd(yt, yc), len(yt), len(yc), alpha=alpha)
        return [
            Estimate(
                Analysis.HEDGES_G_ANCOVA,
                contrast,
                g.estimate,
                g.std_error,
                g.ci_low,
                g.ci_high,
                n_treatment=len(yt),
                n_control=len(yc),
            )
        ]

    out.run(cell, (Analysis.HEDGES_G_ANCOVA,), contrast, g_adjusted, {"x": f"arm {a!r}", "y": f"arm {control!r}"})


def _responders(
    out: _Collector, cell: Cell, pair: tuple[str, str], raw: tuple[Floats, Floats], threshold: float, alpha: float
) -> None:
    """Run the responder contrasts of one arm against control: RD, RR, OR and NNT."""
    a, control = pair
    contrast = f"{a} - {control}"

    def responders() -> tuple[Estimate, ...]:
        res = responder_estimates(raw[0], raw[1], threshold, arm=a, control=control, alpha=alpha)
        for kind, message in res.failures:
            if kind in out.wanted:
                out.fail(cell, kind, contrast, "responder", message)
        return res.estimates

    out.run(
        cell,
        (Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR, Analysis.RESPONDER_NNT),
        contrast,
        responders,
        {"change_treatment": f"changes in arm {a!r}", "change_control": f"changes in arm {control!r}"},
    )


def _mmrm(
    trial: Trial,
    grid: Floats,
    subjects: Subjects,
    population: Population,
    options: MMRMOptions,
    alpha: float,
    out: _Collector,
) -> dict[str, dict[str, int]]:
    """Fit the MMRM of every endpoint in ``population``; rows and failures go to ``out``.

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


def _adjust(
    table: pd.DataFrame, trial: Trial, method: Multiplicity, populations: Sequence[Population], kind: Analysis
) -> tuple[pd.DataFrame, list[Row]]:
    """Fill p_adjusted for the primary analysis (``kind``: ANCOVA or MMRM) at the primary visit.

    Secondary endpoints are adjusted per contrast and population, the primary endpoint is left as it is.

    The family is the pre-specified one (every secondary endpoint of the spec), not the rows that
    happen to exist: a secondary whose primary analysis could not run counts as p = 1, which keeps
    the others' adjustment conservative, and a failure row says so.
    """
    table = table.copy()
    spec = trial.spec
    notes: list[Row] = []
    name = "ANCOVA" if kind is Analysis.ANCOVA else "MMRM"
    at_primary = (table["analysis"] == kind.value) & (table["visit"] == spec.visits.primary)
    primary = at_primary & (table["endpoint"] == spec.primary_endpoint.id)
    table.loc[primary, "p_adjusted"] = table.loc[primary, "p_value"]
    secondary = [e.id for e in spec.endpoints if not e.primary]
    if not secondary:
        return table, notes
    for population in populations:
        for arm in trial.arms[1:]:
            contrast = f"{arm} - {trial.control}"
            same_family = at_primary & (table["contrast"] == contrast) & (table["population"] == population.value)
            rows = table.loc[same_family & ~primary].set_index("endpoint")
            missing = [e for e in secondary if e not in rows.index]
            p = np.array([rows.at[e, "p_value"] if e in rows.index else 1.0 for e in secondary])
            adjusted = adjust_p(p, method)
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
                    "message": f"{name} of {e!r} did not run: counted as p = 1 in the "
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
) -> Results:
    """Run every pre-specified efficacy analysis of ``trial`` (docs/analyses.md).

    Parameters
    ----------
    trial : Trial
        A loaded trial (:func:`trialkit.load`) with a baseline visit.
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

    Returns
    -------
    Results
        ``table`` (one row per estimate, columns ``RESULT_COLUMNS`` with dtypes
        ``RESULT_DTYPES``), ``failures`` (analyses that could not run, or ran only in part, and
        why), ``table1``, ``smd``, ``responder_sweep``, ``counts``, ``baseline_p``.

    Raises
    ------
    TrialkitError
        ``trial`` not a Trial or without a baseline visit; a bad option (unknown analysis id,
        multiplicity or population; alpha outside (0, 1); a non-bool flag); ``analyses`` naming
        the MMRM of a spec without ``[analysis] mmrm``. Data that cannot support an analysis
        never raise: they are rows of ``Results.failures``.

    Notes
    -----
    Every analysis, its estimate and the R function it matches are listed in
    docs/analyses.md. The MMRM (``[analysis] mmrm``) is fitted once per endpoint and population
    to every post-baseline visit, with the baseline value and the spec's covariates as
    covariates (:func:`trialkit.analysis.mmrm`); ``[analysis] primary`` says whether it or the
    ANCOVA is the primary analysis (the multiplicity family). The R reference cases are in
    tests/reference/analyses/ (every estimate of three trials to 1e-8 relative). The input
    trial is not modified, and the same trial and options give byte-identical results.

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
    if baseline is None:
        raise TrialkitError("the efficacy analyses need a baseline visit: set `visits.baseline`.")

    asked_mmrm = analyses is not None and bool(wanted.intersection(MMRM_KINDS))
    if asked_mmrm and spec.analysis.mmrm is None:
        raise TrialkitError(
            "`analyses` asks for the MMRM, but the spec does not pre-specify one: add "
            '`[analysis] mmrm = { covariance = "us", df = "satterthwaite" }` (docs/study-spec.md).'
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
    out = _Collector(wanted)
    mmrm_subjects: dict[str, dict[str, dict[str, int]]] = {}
    for population in chosen:
        for cell in cells(trial, grid, baseline, population):
            _analyse_cell(subjects, cell, out, level, at)
        if spec.analysis.mmrm is not None and wanted.intersection(MMRM_KINDS):
            mmrm_subjects[population.value] = _mmrm(trial, grid, subjects, population, spec.analysis.mmrm, level, out)
    missing = None
    if missing_options is not None and wanted.intersection(MI_KINDS):
        missing = missing_data_rows(spec, grid, subjects, missing_options, level, wanted)
        out.rows.extend(missing.rows)
        out.failures.extend(missing.failures)
    table = pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS))
    primary_kind = _PRIMARY_KIND[spec.analysis.primary]
    if primary_kind in wanted:
        table, multiplicity_notes = _adjust(table, trial, method, chosen, primary_kind)
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
    }
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
    if do_sweep and wanted & _RESPONDER:
        sweep_table = _sweep(trial, grid, baseline, subjects, level, out.failures)
    else:
        sweep_table = pd.DataFrame()
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
    failures = pd.DataFrame([*out.failures, *_smd_failures(trial, smd)], columns=list(FAILURE_COLUMNS))
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


def _smd_failures(trial: Trial, smd: pd.DataFrame) -> list[Row]:
    """Return a failure row for every baseline variable whose standardised difference is undefined."""
    spec = trial.spec
    variables = [*spec.analysis.covariates, *(e.id for e in spec.endpoints)]
    have = set(zip(smd["variable"], smd["contrast"], strict=True)) if not smd.empty else set()
    return [
        {
            "endpoint": v,
            "visit": spec.visits.baseline,
            "analysis": "smd",
            "contrast": f"{a} - {trial.control}",
            "term": v,
            "message": "standardised difference undefined: fewer than 2 values in an arm, zero SD "
            "in both arms, or categories the arms do not share.",
            "population": "fas",
        }
        for a in trial.arms[1:]
        for v in variables
        if (v, f"{a} - {trial.control}") not in have
    ]


def _sweep(
    trial: Trial, grid: Floats, baseline: str, subjects: Subjects, alpha: float, failures: list[Row]
) -> pd.DataFrame:
    """Return the MCID sweep at the primary visit (every subject with a change).

    A sweep that cannot run is added to ``failures``.
    """
    spec = trial.spec
    b, j = spec.visits.order.index(baseline), spec.visits.order.index(spec.visits.primary)
    frames = []
    for k, ep in enumerate(spec.endpoints):
        if ep.responder_change is None:
            continue
        change = grid[:, k, j] - grid[:, k, b]
        has = ~np.isnan(change)
        c = change[has & subjects.in_arm[0]]
        for code, a in enumerate(trial.arms[1:], start=1):
            t = change[has & subjects.in_arm[code]]
            try:
                sw = mcid_sweep(
                    t,
                    c,
                    default_thresholds(ep.responder_change, integer=ep.integer),
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
