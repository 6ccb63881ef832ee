"""Table-level audit of published summary statistics (issue 4, part 3): the tools in one place.

What a published table (n, means and SDs per arm and visit) allows a reader to check without the
data. This module gathers the tools; each lives in the module that does its job:

* :mod:`~trialkit.reproduce.grim` - whether a mean is possible for integer data (:func:`grim`),
  whether a mean and SD are possible together (:func:`grimmer`);
* :mod:`~trialkit.reproduce.sd_bounds` - whether an SD fits the scale's range (:func:`sd_bounds`,
  :func:`check_sd`);
* :mod:`~trialkit.reproduce.summary_tests` - the between-group t-tests from summary statistics
  (:func:`t_from_summary`, :func:`paired_t_from_summary`), how different the arms were at
  baseline (:func:`baseline_imbalance`), the change-score SD (:func:`change_score_sd`,
  :func:`correlation_from_change_sd`) and the arm summaries they take (:class:`ArmSummary`);
* :mod:`~trialkit.reproduce.change_over_r` - the change comparison as a function of the pre-post
  correlation (:func:`p_change_over_r`, :func:`implied_r`);
* :mod:`~trialkit.reproduce.table_verdict` - a verdict per outcome on whether a published
  p-value is reproduced (:func:`verdict`; printed p-values read by :func:`parse_p`).

Pure functions of numbers: no I/O, no state. Granularity questions (GRIM, GRIMMER, SD bounds of
integer data) use exact rational arithmetic, so a verdict never depends on binary rounding.
The worked example (Student 1908, R ``datasets::sleep``) lives in tests/reference/table_audit/.
"""

from __future__ import annotations

from trialkit.reproduce._checks import TableAuditError
from trialkit.reproduce._rounding import ROUNDINGS, Reported, Rounding  # noqa: F401 (ROUNDINGS, Reported: as before)
from trialkit.reproduce.change_over_r import P_OVER_R_COLUMNS, ImpliedR, implied_r, p_change_over_r
from trialkit.reproduce.grim import GrimmerResult, GrimResult, grim, grimmer
from trialkit.reproduce.sd_bounds import SdCheck, check_sd, sd_bounds
from trialkit.reproduce.summary_tests import (
    ArmSummary,
    BaselineImbalance,
    Comparison,
    SummaryTTest,
    TTestMethod,
    baseline_imbalance,
    change_score_sd,
    correlation_from_change_sd,
    paired_t_from_summary,
    t_from_summary,
)
from trialkit.reproduce.table_verdict import PublishedP, Verdict, VerdictKind, parse_p, verdict

__all__ = [
    "ArmSummary",
    "BaselineImbalance",
    "Comparison",
    "GrimResult",
    "GrimmerResult",
    "ImpliedR",
    "PublishedP",
    "Rounding",
    "SdCheck",
    "SummaryTTest",
    "TTestMethod",
    "TableAuditError",
    "Verdict",
    "VerdictKind",
    "P_OVER_R_COLUMNS",
    "baseline_imbalance",
    "change_score_sd",
    "check_sd",
    "correlation_from_change_sd",
    "grim",
    "grimmer",
    "implied_r",
    "p_change_over_r",
    "paired_t_from_summary",
    "parse_p",
    "sd_bounds",
    "t_from_summary",
    "verdict",
]
