"""The analyses of a binary endpoint at one visit: logistic model, standardised effects, proportions, CMH.

Values are 1 (the event the spec names with ``success``) and 0. The logistic model adjusts for the
baseline status (when the spec has a baseline visit) and the spec's covariates and strata; the
standardised effects average its predictions over every analysed subject. The unadjusted contrasts
and the proportions per arm use every subject with the value; CMH runs in stratified trials.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from trialkit._errors import AnalysisError
from trialkit.analysis._binary import cmh_arrays, logistic_arrays
from trialkit.analysis._cells import Cell, Subjects
from trialkit.analysis._collector import Collector
from trialkit.analysis._responders import EVENTS, proportion_contrasts, wilson_interval
from trialkit.analysis._results import Analysis, Estimate

__all__ = ["LOGISTIC_KINDS", "binary_cell"]

LOGISTIC_KINDS = (
    Analysis.LOGISTIC,
    Analysis.STANDARDISED_RD,
    Analysis.STANDARDISED_RR,
    Analysis.STANDARDISED_OR,
)
_UNADJUSTED = (EVENTS.rd, EVENTS.rr, EVENTS.odds, EVENTS.nnt)


def binary_cell(subjects: Subjects, cell: Cell, out: Collector, alpha: float, variance: str) -> None:
    """Run every analysis of a binary endpoint in one cell; rows, failures and counts go to ``out``."""
    arms, control = subjects.arms, subjects.arms[0]
    out.count(subjects, cell)
    keep = ~np.isnan(cell.value) & subjects.has_covariates
    numeric = dict(subjects.numeric)
    if cell.baseline is not None:
        keep &= ~np.isnan(cell.baseline)
        numeric = {"baseline": cell.baseline, **numeric}

    def fit() -> list[Estimate]:
        fitted = logistic_arrays(
            subjects.arm[keep],
            cell.value[keep],
            {c: x[keep] for c, x in numeric.items()},
            {c: x[keep] for c, x in subjects.factors.items()},
            arms=arms,
            levels=subjects.levels,
            alpha=alpha,
            variance=variance,
        )
        if out.dunnett:
            risks = fitted.risk_covariance_ye if variance == "ye" else fitted.risk_covariance_ge
            # each difference is risk_a − risk_control: C = [−1 | I]
            c = np.hstack([-np.ones((len(arms) - 1, 1)), np.eye(len(arms) - 1)])
            rd = [e for e in fitted.marginal if e.analysis is Analysis.STANDARDISED_RD]
            out.many_to_one_p(cell, rd, c @ risks @ c.T, math.inf)
        return [*fitted.conditional, *fitted.marginal]

    out.run(cell, LOGISTIC_KINDS, "all arms", fit)

    observed = ~np.isnan(cell.value)
    events = [int(np.count_nonzero(cell.value[observed & mine] == 1)) for mine in subjects.in_arm]
    totals = [int(np.count_nonzero(observed & mine)) for mine in subjects.in_arm]
    for k, a in enumerate(arms):
        out.run(cell, (Analysis.PROPORTION,), a, partial(_proportion, a, events[k], totals[k], alpha))
    for k, a in enumerate(arms[1:], start=1):
        contrast = f"{a} - {control}"

        def unadjusted(k: int = k, contrast: str = contrast) -> tuple[Estimate, ...]:
            if totals[k] == 0 or totals[0] == 0:
                empty = arms[k] if totals[k] == 0 else control
                raise AnalysisError(f"arm {empty!r} has no value at {cell.visit!r}.", term="arm")
            res = proportion_contrasts(
                events[k], totals[k], events[0], totals[0], contrast=contrast, alpha=alpha, kinds=EVENTS
            )
            for kind, message in res.failures:
                if kind in out.wanted:
                    out.fail(cell, kind, contrast, "event", message)
            return res.estimates

        out.run(cell, _UNADJUSTED, contrast, unadjusted)
        if subjects.stratum is not None:
            stratum = subjects.stratum
            ok = observed & (stratum >= 0) & (subjects.in_arm[k] | subjects.in_arm[0])
            out.run(
                cell, (Analysis.CMH, Analysis.MH_RISK_DIFFERENCE), contrast, partial(_cmh, subjects, cell, ok, k, alpha)
            )


def _cmh(subjects: Subjects, cell: Cell, ok: np.ndarray, k: int, alpha: float) -> tuple[Estimate, ...]:
    """Return the CMH rows of arm ``k`` against control (codes 0 and 1 for the two arms compared)."""
    stratum = subjects.stratum
    assert stratum is not None  # the caller runs it in stratified trials only
    arm = np.where(subjects.arm[ok] == k, 1, 0)
    estimates: tuple[Estimate, ...] = cmh_arrays(
        arm,
        cell.value[ok],
        stratum[ok],
        arms=(subjects.arms[0], subjects.arms[k]),
        strata=subjects.strata,
        alpha=alpha,
    )
    return estimates


def _proportion(arm: str, x: int, n: int, alpha: float) -> list[Estimate]:
    """Return an arm's proportion of events with its Wilson score interval."""
    if n == 0:
        raise AnalysisError(f"arm {arm!r} has no value at this visit.", term="arm")
    low, high = wilson_interval(x, n, alpha)
    return [Estimate(Analysis.PROPORTION, arm, x / n, ci_low=low, ci_high=high, n_treatment=n)]
