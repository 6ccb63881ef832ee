"""The analyses of a count endpoint at one visit: rate-ratio models, rates per arm, rank test, responders.

Counts are compared as rates: every model has the offset log(exposure), the time at risk of the visit
(``[[endpoints]] exposure``, or the subject's ``exposure_column``). With a baseline visit the baseline
count enters as the spec's ``count_baseline`` says (log, log1p or raw, of the baseline rate), and
responders are defined on the rates' change or percent change.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from trialkit._errors import AnalysisError
from trialkit._spec import Endpoint, StudySpec
from trialkit.analysis._cells import Cell, Floats, Subjects
from trialkit.analysis._collector import Collector
from trialkit.analysis._continuous_rows import RESPONDER_KINDS, rank_row, responder_contrasts, responder_scale
from trialkit.analysis._counts import count_arrays, rate_arrays
from trialkit.analysis._rank_tests import mann_whitney
from trialkit.analysis._responders import responder_rates
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["COUNT_MODELS", "count_cell", "exposure_of"]

#: the rate-ratio models, by analysis id (the ``family`` of :func:`count_arrays`)
COUNT_MODELS = (Analysis.NEGATIVE_BINOMIAL, Analysis.POISSON, Analysis.QUASIPOISSON)


def exposure_of(endpoint: Endpoint, visit: str, spec: StudySpec, subjects: Subjects) -> Floats:
    """Return every subject's time at risk for ``endpoint`` at ``visit`` (1 when the spec gives none)."""
    column = endpoint.exposure_column_at(visit, spec.visits.baseline)
    if column is not None:
        return subjects.exposure[column]
    return np.full(len(subjects.arm), endpoint.exposure_length(visit))


def _baseline_term(endpoint: Endpoint, rate: Floats) -> Floats:
    """Return the baseline covariate: log, log(count + 1) or raw baseline count, per unit of baseline exposure."""
    if endpoint.count_baseline == "raw":
        return rate
    if endpoint.count_baseline == "log1p":
        return np.log1p(rate)
    if (rate[~np.isnan(rate)] <= 0).any():
        raise AnalysisError(
            'a baseline count of 0 has no log: set `count_baseline = "log1p"` or `"raw"` for this endpoint.',
            term="baseline",
        )
    return np.log(rate)


def count_cell(subjects: Subjects, cell: Cell, out: Collector, alpha: float, spec: StudySpec) -> None:
    """Run every analysis of a count endpoint in one cell; rows, failures and counts go to ``out``."""
    ep = cell.endpoint
    arms, control = subjects.arms, subjects.arms[0]
    out.count(subjects, cell)
    exposure = exposure_of(ep, cell.visit, spec, subjects)
    keep = ~np.isnan(cell.value) & ~np.isnan(exposure) & subjects.has_covariates
    base_rate = None
    if cell.baseline is not None:
        assert spec.visits.baseline is not None  # a cell has a baseline only when the spec has one
        base_rate = cell.baseline / exposure_of(ep, spec.visits.baseline, spec, subjects)
        keep &= ~np.isnan(base_rate)

    def model(kind: Analysis) -> list[Estimate]:
        numeric = {c: x[keep] for c, x in subjects.numeric.items()}
        if base_rate is not None:
            numeric = {"baseline": _baseline_term(ep, base_rate[keep]), **numeric}
        fitted = count_arrays(
            subjects.arm[keep],
            cell.value[keep],
            np.log(exposure[keep]),
            numeric,
            {c: x[keep] for c, x in subjects.factors.items()},
            arms=arms,
            levels=subjects.levels,
            alpha=alpha,
            family=kind.value,
        )
        if kind is Analysis.NEGATIVE_BINOMIAL:
            out.many_to_one_p(cell, fitted.ratios, fitted.ratio_covariance, math.inf)
        return list(fitted.ratios)

    for kind in COUNT_MODELS:
        out.run(cell, (kind,), "all arms", partial(model, kind))

    observed = ~np.isnan(cell.value) & ~np.isnan(exposure)
    for k, a in enumerate(arms):
        at = observed & subjects.in_arm[k]
        out.run(
            cell,
            (Analysis.RATE,),
            a,
            partial(_rate, cell.value[at], exposure[at], a, alpha),
            {"y": f"counts in arm {a!r}"},
        )
    rate = cell.value / exposure
    for k, a in enumerate(arms[1:], start=1):
        contrast = f"{a} - {control}"
        x, y = rate[observed & subjects.in_arm[k]], rate[observed & subjects.in_arm[0]]
        names = {"x": f"rates in arm {a!r}", "y": f"rates in arm {control!r}"}
        kind = Analysis.MANN_WHITNEY_FOLLOWUP
        out.run(
            cell,
            (kind,),
            contrast,
            rank_row(out, cell, kind, contrast, partial(mann_whitney, x, y, alpha=alpha), (len(x), len(y)), names),
            names,
        )

    if base_rate is None or not out.wanted & RESPONDER_KINDS:
        return
    scale = responder_scale(cell, out, rate, base_rate)
    if scale is None:
        return
    values, threshold = scale
    usable = ~np.isnan(values)
    by_arm = {a: values[usable & subjects.in_arm[k]] for k, a in enumerate(arms)}
    for a in arms[1:]:
        responder_contrasts(out, cell, (a, control), (by_arm[a], by_arm[control]), threshold, alpha)
    for a in arms:
        out.run(
            cell,
            (Analysis.RESPONDER_RATE,),
            a,
            partial(_responder_rate, by_arm[a], threshold, a, alpha),
            {"change": f"changes in arm {a!r}"},
        )


def _rate(y: Floats, exposure: Floats, arm: str, alpha: float) -> list[Estimate]:
    """Return an arm's event rate with its exact Poisson interval."""
    return [rate_arrays(y, exposure, arm=arm, alpha=alpha)]


def _responder_rate(values: Floats, threshold: float, arm: str, alpha: float) -> list[Estimate]:
    """Return an arm's responder rate with its Wilson interval."""
    return [responder_rates(values, threshold, arm=arm, alpha=alpha)]
