"""``analyze``: every pre-specified efficacy analysis of a trial, as one results table.

For every endpoint, every post-baseline visit and every arm against the control arm. A
failing analysis is recorded in ``Results.failures`` and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit._errors import AnalysisError, TrialkitError
from trialkit._provenance import relative_inputs, versions
from trialkit._spec import Endpoint, Multiplicity, Population
from trialkit._trial import Trial
from trialkit.analysis._ancova import ancova
from trialkit.analysis._effect_size import hedges_g, pooled_sd
from trialkit.analysis._multiplicity import adjust_p
from trialkit.analysis._rank_tests import mann_whitney, signed_rank
from trialkit.analysis._responders import default_thresholds, mcid_sweep, responder_estimates, responder_rates
from trialkit.analysis._results import (
    COUNT_COLUMNS,
    FAILURE_COLUMNS,
    RESULT_COLUMNS,
    Analysis,
    Estimate,
    Results,
)
from trialkit.analysis._table1 import BASELINE_P_COLUMNS, baseline_p_values, baseline_table, standardised_differences
from trialkit.analysis._ttests import paired_t, two_sample_t

__all__ = ["analyze", "ALL_ANALYSES"]

ALL_ANALYSES: tuple[Analysis, ...] = tuple(Analysis)
_RESPONDER = {
    Analysis.RESPONDER_RATE,
    Analysis.RESPONDER_RD,
    Analysis.RESPONDER_RR,
    Analysis.RESPONDER_OR,
    Analysis.RESPONDER_NNT,
}


@dataclass(frozen=True)
class _Cell:
    """One endpoint at one visit in one population: per-subject arrays aligned with
    ``trial.subjects`` (subjects outside the population carry NaN).
    """

    endpoint: Endpoint
    visit: str
    arm: np.ndarray
    baseline: np.ndarray
    value: np.ndarray
    population: str


def _grid(trial: Trial) -> np.ndarray:
    """Values as a subject x endpoint x visit array, placed by category codes (any row order)."""
    d = trial.data
    n_s = len(d["subject"].cat.categories)
    endpoints = [e.id for e in trial.spec.endpoints]
    n_e, n_v = len(endpoints), len(trial.spec.visits.order)
    s = d["subject"].cat.codes.to_numpy(np.int64)
    e = pd.Categorical(d["endpoint"], categories=endpoints).codes.astype(np.int64)
    v = pd.Categorical(d["visit"], categories=list(trial.spec.visits.order)).codes.astype(np.int64)
    flat = (s * n_e + e) * n_v + v
    if (
        len(d) != n_s * n_e * n_v
        or (s < 0).any()
        or (e < 0).any()
        or (v < 0).any()
        or np.bincount(flat, minlength=n_s * n_e * n_v).max() != 1
    ):
        raise TrialkitError(
            "the trial's tidy frame is not the full subject x endpoint x visit grid "
            "(one row each, endpoints and visits of the spec)."
        )
    grid = np.empty(n_s * n_e * n_v)
    grid[flat] = d["value"].to_numpy(dtype="float64")
    return grid.reshape(n_s, n_e, n_v)


def _cells(trial: Trial, population: Population) -> Iterable[_Cell]:
    spec = trial.spec
    grid = _grid(trial)
    if list(trial.subjects["subject"].astype(str)) != list(trial.data["subject"].cat.categories):
        raise TrialkitError("trial.subjects is not in the tidy frame's subject order.")
    arm = trial.subjects["arm"].astype(str).to_numpy()
    b = spec.visits.order.index(spec.visits.baseline)
    post = [spec.visits.order.index(v) for v in spec.visits.post_baseline]
    for k, ep in enumerate(spec.endpoints):
        values = grid[:, k, :]
        if population is Population.COMPLETERS:
            # completers of this endpoint: observed at every post-baseline visit
            keep = ~np.isnan(values[:, post]).any(axis=1)
            values = np.where(keep[:, None], values, np.nan)
        for v, j in zip(spec.visits.post_baseline, post):
            yield _Cell(ep, v, arm, values[:, b], values[:, j], population.value)


class _Collector:
    def __init__(self, wanted: set[Analysis]):
        self.wanted = wanted
        self.rows: list[dict] = []
        self.failures: list[dict] = []
        self.counts: list[dict] = []

    def run(self, cell: _Cell, kinds: Sequence[Analysis], contrast: str, fn: Callable[[], Iterable[Estimate]]) -> None:
        if not self.wanted.intersection(kinds):
            return
        try:
            for est in fn():
                if est.analysis in self.wanted:
                    self.rows.append(est.row(cell.endpoint.id, cell.visit, cell.population))
        except AnalysisError as exc:
            for kind in kinds:
                if kind in self.wanted:
                    self.fail(cell, kind, contrast, exc.term, str(exc))

    def fail(self, cell: _Cell, kind: Analysis, contrast: str, term: str, message: str) -> None:
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


def _t_estimate(t, kind: Analysis, contrast: str, n_t: int, n_c: int | None, log: bool) -> Estimate:
    """A t-based estimate; on the log scale estimate and CI back-transformed (SE stays on logs)."""
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


def _rank_estimate(r, kind: Analysis, contrast: str, n_t: int, n_c: int | None, log: bool) -> Estimate:
    """A rank-test estimate (no SE or df); on the log scale estimate and CI back-transformed."""
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


def _analyse_cell(trial: Trial, cell: _Cell, out: _Collector, alpha: float) -> None:
    spec = trial.spec
    arms, control = list(trial.arms), trial.control
    log = cell.endpoint.scale == "log"
    covs = trial.subjects[list(spec.analysis.covariates)]
    numeric = [c for c in spec.analysis.covariates if c not in spec.analysis.categorical]
    categorical = {c: sorted(trial.subjects[c].dropna().astype(str).unique()) for c in spec.analysis.categorical}

    # ANCOVA set: follow-up, baseline and every covariate present
    frame = pd.DataFrame({"arm": cell.arm, "y": cell.value, "baseline": cell.baseline}).join(
        covs.reset_index(drop=True)
    )
    complete = frame.dropna()
    fit_holder: dict = {}

    def fit():
        fit_holder["fit"] = ancova(
            complete, arms=arms, numeric=numeric, categorical=categorical, alpha=alpha, log_scale=log
        )
        return fit_holder["fit"].lsmeans + fit_holder["fit"].differences

    out.run(cell, (Analysis.ANCOVA, Analysis.ANCOVA_LSMEAN, Analysis.HEDGES_G_ANCOVA), "all arms", fit)
    fitted = fit_holder.get("fit")

    has_change = ~np.isnan(cell.value) & ~np.isnan(cell.baseline)
    for a in arms:
        mine = cell.arm == a
        # FAS: every randomised subject; completers: those with the value (the others are not in it)
        in_pop = mine if cell.population == Population.FAS.value else mine & ~np.isnan(cell.value)
        out.counts.append(
            {
                "population": cell.population,
                "endpoint": cell.endpoint.id,
                "visit": cell.visit,
                "arm": a,
                "n_randomised": int(mine.sum()),
                "n_in_population": int(in_pop.sum()),
                "n_with_change": int((mine & has_change).sum()),
                "n_missing_followup": int((in_pop & np.isnan(cell.value)).sum()),
                "n_missing_baseline": int((in_pop & ~np.isnan(cell.value) & np.isnan(cell.baseline)).sum()),
            }
        )
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.log(cell.value) - np.log(cell.baseline)
    else:
        change = cell.value - cell.baseline
    raw_change = cell.value - cell.baseline
    by_arm = {a: change[has_change & (cell.arm == a)] for a in arms}
    raw_by_arm = {a: raw_change[has_change & (cell.arm == a)] for a in arms}
    threshold = cell.endpoint.responder_change

    for a in arms[1:]:
        contrast = f"{a} - {control}"
        x, y = by_arm[a], by_arm[control]
        n_t, n_c = len(x), len(y)
        for kind, equal in ((Analysis.WELCH_CHANGE, False), (Analysis.STUDENT_CHANGE, True)):
            out.run(
                cell,
                (kind,),
                contrast,
                lambda kind=kind, equal=equal: [
                    _t_estimate(two_sample_t(x, y, equal_var=equal, alpha=alpha), kind, contrast, n_t, n_c, log)
                ],
            )
        out.run(
            cell,
            (Analysis.MANN_WHITNEY_CHANGE,),
            contrast,
            lambda: [
                _rank_estimate(mann_whitney(x, y, alpha=alpha), Analysis.MANN_WHITNEY_CHANGE, contrast, n_t, n_c, log)
            ],
        )

        def g_change():
            g = hedges_g(
                float(x.mean() - y.mean()), pooled_sd(x, y) if min(n_t, n_c) >= 2 else np.nan, n_t, n_c, alpha=alpha
            )
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

        out.run(cell, (Analysis.HEDGES_G,), contrast, g_change)
        if fitted is not None and Analysis.HEDGES_G_ANCOVA in out.wanted:

            def g_adjusted(a=a, contrast=contrast):
                diff = next(d for d in fitted.differences if d.contrast == contrast)
                yv = np.log(complete["y"].to_numpy(float)) if log else complete["y"].to_numpy(float)
                arm_col = complete["arm"].to_numpy()
                yt, yc = yv[arm_col == a], yv[arm_col == control]
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

            out.run(cell, (Analysis.HEDGES_G_ANCOVA,), contrast, g_adjusted)
        if threshold is not None and out.wanted & _RESPONDER:

            def responders(a=a):
                res = responder_estimates(
                    raw_by_arm[a], raw_by_arm[control], threshold, arm=a, control=control, alpha=alpha
                )
                for kind, message in res.failures:
                    out.fail(cell, kind, f"{a} - {control}", "responder", message)
                return res.estimates

            out.run(
                cell,
                (Analysis.RESPONDER_RD, Analysis.RESPONDER_RR, Analysis.RESPONDER_OR, Analysis.RESPONDER_NNT),
                contrast,
                responders,
            )

    for a in arms:
        d, n_a = by_arm[a], len(by_arm[a])
        out.run(
            cell,
            (Analysis.PAIRED_WITHIN,),
            a,
            lambda d=d, a=a, n_a=n_a: [
                _t_estimate(paired_t(d, alpha=alpha), Analysis.PAIRED_WITHIN, a, n_a, None, log)
            ],
        )
        out.run(
            cell,
            (Analysis.WILCOXON_WITHIN,),
            a,
            lambda d=d, a=a, n_a=n_a: [
                _rank_estimate(signed_rank(d, alpha=alpha), Analysis.WILCOXON_WITHIN, a, n_a, None, log)
            ],
        )
        if threshold is not None:
            out.run(
                cell,
                (Analysis.RESPONDER_RATE,),
                a,
                lambda a=a: [responder_rates(raw_by_arm[a], threshold, arm=a, alpha=alpha)],
            )


def _adjust(
    table: pd.DataFrame, trial: Trial, method: Multiplicity, populations: Sequence[Population]
) -> tuple[pd.DataFrame, list[dict]]:
    """p_adjusted for ANCOVA at the primary visit: secondary endpoints adjusted per contrast and
    population, the primary endpoint left as it is.

    The family is the pre-specified one (every secondary endpoint of the spec), not the rows that
    happen to exist: a secondary whose ANCOVA could not run counts as p = 1, which keeps the
    others' adjustment conservative, and a failure row says so.
    """
    table = table.copy()
    spec = trial.spec
    notes: list[dict] = []
    at_primary = (table["analysis"] == Analysis.ANCOVA.value) & (table["visit"] == spec.visits.primary)
    primary = at_primary & (table["endpoint"] == spec.primary_endpoint.id)
    table.loc[primary, "p_adjusted"] = table.loc[primary, "p_value"]
    secondary = [e.id for e in spec.endpoints if not e.primary]
    if not secondary:
        return table, notes
    for population in populations:
        for arm in trial.arms[1:]:
            contrast = f"{arm} - {trial.control}"
            rows = table.loc[
                at_primary & ~primary & (table["contrast"] == contrast) & (table["population"] == population.value)
            ].set_index("endpoint")
            missing = [e for e in secondary if e not in rows.index]
            p = np.array([rows.at[e, "p_value"] if e in rows.index else 1.0 for e in secondary])
            adjusted = adjust_p(p, method)
            same_family = at_primary & (table["contrast"] == contrast) & (table["population"] == population.value)
            for e, value in zip(secondary, adjusted):
                table.loc[same_family & (table["endpoint"] == e), "p_adjusted"] = value
            for e in missing:
                notes.append(
                    {
                        "endpoint": e,
                        "visit": spec.visits.primary,
                        "analysis": "multiplicity",
                        "contrast": contrast,
                        "term": e,
                        "population": population.value,
                        "message": f"ANCOVA of {e!r} did not run: counted as p = 1 in the "
                        f"{method.value} adjustment of the other secondary endpoints.",
                    }
                )
    return table, notes


def analyze(
    trial: Trial,
    *,
    alpha: float | None = None,
    analyses: Iterable[Analysis | str] | None = None,
    multiplicity: Multiplicity | str | None = None,
    populations: Iterable[Population | str] | None = None,
    sweep: bool = True,
    table1_p_values: bool | None = None,
) -> Results:
    """Run every pre-specified efficacy analysis of ``trial`` (docs/analyses.md).

    Parameters
    ----------
    trial : Trial
        A loaded trial with a baseline visit.
    alpha : float, optional
        1 − confidence level; default ``[study].alpha``.
    analyses : iterable of Analysis or str, optional
        Subset of analysis ids to run; default all.
    multiplicity : Multiplicity or str, optional
        Adjustment over secondary endpoints; default ``[analysis].multiplicity``.
    populations : iterable of Population or str, optional
        ``fas`` (every randomised subject with the values an analysis needs) and/or
        ``completers`` (observed at every post-baseline visit of the endpoint); default
        ``[analysis].populations``. The ``population`` column says which.
    sweep : bool
        Also compute the responder MCID sweep.
    table1_p_values : bool, optional
        Also test baseline differences between arms (``Results.baseline_p``); default
        ``[analysis].table1_p_values`` (false: CONSORT advises against such tests).

    Returns
    -------
    Results
        ``table`` (one row per estimate), ``failures``, ``table1``, ``smd``, ``responder_sweep``.

    Raises
    ------
    TrialkitError
        Bad options (unknown analysis id, alpha outside (0, 1)), or a trial without a baseline.
    """
    spec = trial.spec
    alpha = spec.study.alpha if alpha is None else alpha
    if not isinstance(alpha, float | int) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise TrialkitError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    try:
        wanted = set(ALL_ANALYSES) if analyses is None else {Analysis(a) for a in analyses}
        method = Multiplicity(multiplicity) if multiplicity is not None else spec.analysis.multiplicity
        chosen = spec.analysis.populations if populations is None else tuple(Population(p) for p in populations)
    except ValueError as exc:
        raise TrialkitError(
            f"{exc}; analyses: {', '.join(a.value for a in Analysis)}; "
            f"multiplicity: {', '.join(m.value for m in Multiplicity)}; "
            f"populations: {', '.join(p.value for p in Population)}."
        ) from None
    if spec.visits.baseline is None:
        raise TrialkitError("the efficacy analyses need a baseline visit: set `visits.baseline`.")
    out = _Collector(wanted)
    for population in chosen:
        for cell in _cells(trial, population):
            _analyse_cell(trial, cell, out, float(alpha))
    table = pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS))
    if Analysis.ANCOVA in wanted:
        table, multiplicity_notes = _adjust(table, trial, method, chosen)
        out.failures += multiplicity_notes
    if spec.analysis.mmrm:
        out.failures.append(
            {
                "endpoint": "",
                "visit": "",
                "analysis": "mmrm",
                "contrast": "",
                "term": "analysis.mmrm",
                "population": "",
                "message": "the spec asks for an MMRM, which this version of "
                "trialkit does not fit; the ANCOVA at each visit was run instead.",
            }
        )
    table = table.astype({"n_treatment": "Int64", "n_control": "Int64"})
    failures = pd.DataFrame(out.failures, columns=list(FAILURE_COLUMNS))
    provenance = {
        "study": spec.study.id,
        "inputs": relative_inputs((i.path, i.sha256) for i in trial.inputs),
        "versions": versions(),
        "alpha": float(alpha),
        "multiplicity": method.value,
        "covariates": list(spec.analysis.covariates),
        "categorical": list(spec.analysis.categorical),
        "populations": [p.value for p in chosen],
    }
    late_failures: list[dict] = []
    sweep_table = _sweep(trial, float(alpha), late_failures) if sweep and wanted & _RESPONDER else pd.DataFrame()
    smd = standardised_differences(trial)
    baseline_p = pd.DataFrame(columns=list(BASELINE_P_COLUMNS))
    if spec.analysis.table1_p_values if table1_p_values is None else table1_p_values:
        try:
            baseline_p = baseline_p_values(trial)
        except AnalysisError as exc:
            late_failures.append(
                {
                    "endpoint": exc.term,
                    "visit": spec.visits.baseline,
                    "analysis": "baseline_p",
                    "contrast": "",
                    "term": exc.term,
                    "message": str(exc),
                    "population": "fas",
                }
            )
    failures = pd.concat(
        [failures, pd.DataFrame(late_failures, columns=list(FAILURE_COLUMNS)), _smd_failures(trial, smd)],
        ignore_index=True,
    )
    return Results(
        table=table,
        failures=failures,
        table1=baseline_table(trial),
        smd=smd,
        responder_sweep=sweep_table,
        counts=pd.DataFrame(out.counts, columns=list(COUNT_COLUMNS)),
        baseline_p=baseline_p,
        alpha=float(alpha),
        provenance=provenance,
    )


def _smd_failures(trial: Trial, smd: pd.DataFrame) -> pd.DataFrame:
    """A failure row for every baseline variable whose standardised difference is undefined."""
    spec = trial.spec
    variables = [*spec.analysis.covariates, *(e.id for e in spec.endpoints)]
    have = set(zip(smd["variable"], smd["contrast"])) if not smd.empty else set()
    rows = [
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
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))


def _sweep(trial: Trial, alpha: float, failures: list[dict]) -> pd.DataFrame:
    """MCID sweep at the primary visit; a sweep that cannot run is added to ``failures``."""
    frames = []
    spec = trial.spec
    ch = trial.changes()
    ch = ch.loc[(ch["visit"] == spec.visits.primary) & ch["change"].notna()]
    for ep in spec.endpoints:
        if ep.responder_change is None:
            continue
        part = ch.loc[ch["endpoint"] == ep.id]
        for a in trial.arms[1:]:
            t = part.loc[part["arm"] == a, "change"].to_numpy(float)
            c = part.loc[part["arm"] == trial.control, "change"].to_numpy(float)
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
