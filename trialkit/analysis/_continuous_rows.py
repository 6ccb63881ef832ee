"""The analyses of a continuous endpoint at one visit: ANCOVA, t-tests, rank tests, effect sizes, responders.

With a baseline visit the between-arm tests compare changes from baseline; without one they compare the
follow-up values and the ANCOVA adjusts for the spec's covariates only. The rank tests are stratified
(van Elteren) when the spec names randomisation strata.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trialkit._spec import TwoValued
from trialkit.analysis._ancova import AncovaFit, fit_arrays
from trialkit.analysis._cells import Cell, Floats, Ints, Subjects
from trialkit.analysis._collector import Collector, named
from trialkit.analysis._effect_size import hedges_g, pooled_sd
from trialkit.analysis._rank_tests import RankTest, mann_whitney, signed_rank
from trialkit.analysis._responders import responder_estimates, responder_rates
from trialkit.analysis._results import Analysis, Estimate
from trialkit.analysis._ttests import TTest, paired_t, two_sample_t
from trialkit.analysis._van_elteren import van_elteren_arrays

__all__ = [
    "ANCOVA_KINDS",
    "RESPONDER_KINDS",
    "continuous_cell",
    "percent_change",
    "rank_row",
    "responder_contrasts",
    "responder_scale",
]

RESPONDER_KINDS = frozenset(
    {
        Analysis.RESPONDER_RATE,
        Analysis.RESPONDER_RD,
        Analysis.RESPONDER_RR,
        Analysis.RESPONDER_OR,
        Analysis.RESPONDER_NNT,
    }
)
ANCOVA_KINDS = (Analysis.ANCOVA, Analysis.ANCOVA_LSMEAN, Analysis.HEDGES_G_ANCOVA)


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
        method=r.method,
    )


def rank_row(
    out: Collector,
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
            out.fail(cell, kind, contrast, "interval", named(r.note, names))
        return [_rank_estimate(r, kind, contrast, n[0], n[1], cell.endpoint.scale == "log")]

    return row


@dataclass(frozen=True)
class _AncovaSet:
    """The ANCOVA set of a cell (subjects with follow-up, baseline and every covariate) and its fit."""

    arm: Ints
    y: Floats
    fit: AncovaFit


def _fit_ancova(subjects: Subjects, cell: Cell, alpha: float, two_valued: TwoValued) -> _AncovaSet:
    keep = ~np.isnan(cell.value) & subjects.has_covariates
    numeric = {c: x for c, x in subjects.numeric.items()}
    if cell.baseline is not None:
        keep &= ~np.isnan(cell.baseline)
        numeric = {"baseline": cell.baseline, **numeric}
    arm, y = subjects.arm[keep], cell.value[keep]
    fit = fit_arrays(
        arm,
        y,
        {c: x[keep] for c, x in numeric.items()},
        {c: x[keep] for c, x in subjects.factors.items()},
        arms=subjects.arms,
        levels=subjects.levels,
        alpha=alpha,
        log_scale=cell.endpoint.scale == "log",
        two_valued=two_valued,
    )
    return _AncovaSet(arm, y, fit)


def percent_change(value: Floats, baseline: Floats) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Return 100·(value − baseline)/baseline, and where it is undefined (a baseline ≤ 0 with a value).

    A negative baseline would turn the sign of the change around, so it is undefined like a zero one.
    """
    zero = (baseline <= 0) & ~np.isnan(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(zero, np.nan, 100.0 * (value - baseline) / baseline)
    return pct, zero


def responder_scale(cell: Cell, out: Collector, value: Floats, baseline: Floats) -> tuple[Floats, float] | None:
    """Return what a responder threshold applies to (change or percent change, NaN where undefined) and it.

    ``value`` and ``baseline`` are on the unit scale (rates for count endpoints). A baseline ≤ 0 makes the
    percent change undefined: those subjects are left out and a failure row says how many.
    """
    ep = cell.endpoint
    if ep.responder_change is not None:
        return value - baseline, ep.responder_change
    if ep.responder_percent is None:
        return None
    pct, zero = percent_change(value, baseline)
    if zero.any() and out.wanted & RESPONDER_KINDS:
        # one row for every responder analysis, filed under the rate (the first a reader looks for)
        kind = Analysis.RESPONDER_RATE if Analysis.RESPONDER_RATE in out.wanted else min(out.wanted & RESPONDER_KINDS)
        n = int(np.count_nonzero(zero))
        out.fail(
            cell,
            kind,
            "all arms",
            "baseline",
            f"{n} subject{'s' if n != 1 else ''} with a baseline of 0 or less: percent change undefined, "
            "left out of the responder analyses.",
        )
    return pct, ep.responder_percent


def continuous_cell(subjects: Subjects, cell: Cell, out: Collector, alpha: float, two_valued: TwoValued) -> None:
    """Run every analysis of a continuous endpoint in one cell; rows, failures and counts go to ``out``."""
    arms, control = subjects.arms, subjects.arms[0]
    log = cell.endpoint.scale == "log"
    fitted: list[_AncovaSet] = []

    def fit() -> list[Estimate]:
        fitted.append(_fit_ancova(subjects, cell, alpha, two_valued))
        ancova = fitted[0].fit
        out.many_to_one_p(cell, ancova.differences, ancova.difference_covariance, float(ancova.residual_df))
        return [*ancova.lsmeans, *ancova.differences]

    out.run(cell, ANCOVA_KINDS, "all arms", fit)
    out.count(subjects, cell)
    if cell.baseline is None:
        _followup(out, subjects, cell, fitted, alpha)
        return

    has_change = ~np.isnan(cell.value) & ~np.isnan(cell.baseline)
    raw_change = cell.value - cell.baseline
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.log(cell.value) - np.log(cell.baseline)
    else:
        change = raw_change
    selected = [has_change & mine for mine in subjects.in_arm]
    by_arm = {a: change[selected[k]] for k, a in enumerate(arms)}
    scale = responder_scale(cell, out, cell.value, cell.baseline)
    responding = None
    if scale is not None:
        responding = {a: scale[0][selected[k] & ~np.isnan(scale[0])] for k, a in enumerate(arms)}

    for k, a in enumerate(arms[1:], start=1):
        _between(out, cell, (a, control), (by_arm[a], by_arm[control]), alpha)
        if fitted and Analysis.HEDGES_G_ANCOVA in out.wanted:
            _adjusted_g(out, cell, fitted[0], (k, 0), (a, control), alpha)
        if responding is not None and scale is not None and out.wanted & RESPONDER_KINDS:
            responder_contrasts(out, cell, (a, control), (responding[a], responding[control]), scale[1], alpha)
        if subjects.stratum is not None:
            stratified_rank_row(out, subjects, cell, change, (k, 0), Analysis.VAN_ELTEREN, alpha)

    for a in arms:
        threshold = None if scale is None else scale[1]
        values = None if responding is None else responding[a]
        _within(out, cell, a, by_arm[a], values, threshold, alpha)


def _followup(out: Collector, subjects: Subjects, cell: Cell, fitted: list[_AncovaSet], alpha: float) -> None:
    """Run the between-arm tests of follow-up values (no baseline visit); on the log scale of logs."""
    arms, control = subjects.arms, subjects.arms[0]
    log = cell.endpoint.scale == "log"
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(cell.value) if log else cell.value
    by_arm = {a: y[subjects.in_arm[k] & ~np.isnan(y)] for k, a in enumerate(arms)}
    for k, a in enumerate(arms[1:], start=1):
        _between(out, cell, (a, control), (by_arm[a], by_arm[control]), alpha, followup=True)
        if fitted and Analysis.HEDGES_G_ANCOVA in out.wanted:
            _adjusted_g(out, cell, fitted[0], (k, 0), (a, control), alpha)
        if subjects.stratum is not None:
            stratified_rank_row(out, subjects, cell, y, (k, 0), Analysis.VAN_ELTEREN, alpha)


def stratified_rank_row(
    out: Collector, subjects: Subjects, cell: Cell, values: Floats, codes: tuple[int, int], kind: Analysis, alpha: float
) -> None:
    """Run the van Elteren test of ``values`` (change, or follow-up without a baseline) of one arm against control."""
    a, control = subjects.arms[codes[0]], subjects.arms[codes[1]]
    contrast = f"{a} - {control}"
    stratum = subjects.stratum
    assert stratum is not None  # the caller runs it in stratified trials only
    ok = ~np.isnan(values) & (stratum >= 0)
    x_at, y_at = ok & subjects.in_arm[codes[0]], ok & subjects.in_arm[codes[1]]
    names = {"x": f"values in arm {a!r}", "y": f"values in arm {control!r}"}
    out.run(
        cell,
        (kind,),
        contrast,
        rank_row(
            out,
            cell,
            kind,
            contrast,
            lambda: van_elteren_arrays(
                values[x_at], values[y_at], stratum[x_at], stratum[y_at], alpha=alpha, strata=subjects.strata
            ),
            (int(x_at.sum()), int(y_at.sum())),
            names,
        ),
        names,
    )


def _within(
    out: Collector,
    cell: Cell,
    arm: str,
    d: Floats,
    responding: Floats | None,
    threshold: float | None,
    alpha: float,
) -> None:
    """Run the within-arm analyses of change: paired t, signed-rank test, responder rate.

    ``responding`` is what the responder ``threshold`` applies to (change or percent change).
    """
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
        rank_row(out, cell, kind, arm, lambda: signed_rank(d, alpha=alpha), (n, None), names),
        names,
    )
    if threshold is not None and responding is not None:
        at, raw = threshold, responding
        out.run(
            cell,
            (Analysis.RESPONDER_RATE,),
            arm,
            lambda: [responder_rates(raw, at, arm=arm, alpha=alpha)],
            names,
        )


def _between(
    out: Collector,
    cell: Cell,
    pair: tuple[str, str],
    changes: tuple[Floats, Floats],
    alpha: float,
    *,
    followup: bool = False,
) -> None:
    """Run the change analyses of one arm against control: t-tests, rank-sum test, Hedges' g.

    ``followup``: the values are follow-up values (no baseline visit), the ``*_followup`` analyses.
    """
    a, control = pair
    contrast = f"{a} - {control}"
    x, y = changes
    n_t, n_c = len(x), len(y)
    log = cell.endpoint.scale == "log"
    what = "values" if followup else "changes"
    names = {
        "x": f"{what} in arm {a!r}",
        "y": f"{what} in arm {control!r}",
        "n_treatment": f"subjects of arm {a!r}",
        "n_control": f"subjects of arm {control!r}",
    }

    def t_test(kind: Analysis, equal: bool) -> Callable[[], list[Estimate]]:
        return lambda: [_t_estimate(two_sample_t(x, y, equal_var=equal, alpha=alpha), kind, contrast, n_t, n_c, log)]

    welch, student, rank = (
        (Analysis.WELCH_FOLLOWUP, Analysis.STUDENT_FOLLOWUP, Analysis.MANN_WHITNEY_FOLLOWUP)
        if followup
        else (Analysis.WELCH_CHANGE, Analysis.STUDENT_CHANGE, Analysis.MANN_WHITNEY_CHANGE)
    )
    for kind, equal in ((welch, False), (student, True)):
        out.run(cell, (kind,), contrast, t_test(kind, equal), names)
    out.run(
        cell,
        (rank,),
        contrast,
        rank_row(out, cell, rank, contrast, lambda: mann_whitney(x, y, alpha=alpha), (n_t, n_c), names),
        names,
    )
    if followup:
        return

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
    out: Collector, cell: Cell, fitted: _AncovaSet, codes: tuple[int, int], pair: tuple[str, str], alpha: float
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


def responder_contrasts(
    out: Collector, cell: Cell, pair: tuple[str, str], raw: tuple[Floats, Floats], threshold: float, alpha: float
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
