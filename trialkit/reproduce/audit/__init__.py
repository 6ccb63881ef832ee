"""Auditing published results: what a trial's printed numbers imply, and whether they hang together.

Abstract level (n, directions, p-values): :func:`audit_abstract`, built on p ↔ t ↔ d
(:func:`t_from_p`, :func:`d_from_t`, ...), exact CIs of d (:func:`d_interval`), the power and the
minimal detectable effect. Table level (n, means and SDs per arm): :func:`audit_tables` runs on a
published trial every check below and gives a verdict per outcome; the checks are public too:
GRIM and GRIMMER (:func:`grim`, :func:`grimmer`), SDs possible on a bounded scale
(:func:`sd_bounds`, :func:`check_sd`), t-tests from summary statistics (:func:`t_from_summary`,
:func:`paired_t_from_summary`), baseline imbalance, the change SD and the pre-post correlation
(:func:`p_change_over_r`, :func:`implied_r`), and the verdict on one printed p
(:func:`table_verdict`). Pure functions of numbers: no I/O, no state.
"""

from trialkit.reproduce.audit._abstract import (
    DEFAULT_EFFECTS,
    EFFECT_COLUMNS,
    OUTCOME_COLUMNS,
    AbstractAudit,
    AuditFlag,
    audit_abstract,
)
from trialkit.reproduce.audit._grim import GrimmerResult, GrimResult, grim, grimmer
from trialkit.reproduce.audit._implied import (
    AssumedTest,
    d_from_t,
    d_interval,
    hedges_correction,
    minimal_detectable_effect,
    p_from_t,
    power_two_sample,
    t_from_d,
    t_from_p,
)
from trialkit.reproduce.audit._p_over_r import P_OVER_R_COLUMNS, ImpliedR, implied_r, p_change_over_r
from trialkit.reproduce.audit._rounding import Rounding
from trialkit.reproduce.audit._sd_bounds import SdCheck, check_sd, sd_bounds
from trialkit.reproduce.audit._summary_tests import (
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
from trialkit.reproduce.audit._table_audit import (
    BASELINE_SMD_LIMIT,
    CHECK_COLUMNS,
    COMPARISON_COLUMNS,
    TABLE_COLUMNS,
    TableAudit,
    TableFlag,
    audit_tables,
)
from trialkit.reproduce.audit._table_verdict import TableVerdict, table_verdict

__all__ = [
    "BASELINE_SMD_LIMIT",
    "CHECK_COLUMNS",
    "COMPARISON_COLUMNS",
    "DEFAULT_EFFECTS",
    "EFFECT_COLUMNS",
    "OUTCOME_COLUMNS",
    "P_OVER_R_COLUMNS",
    "TABLE_COLUMNS",
    "AbstractAudit",
    "ArmSummary",
    "AssumedTest",
    "AuditFlag",
    "BaselineImbalance",
    "Comparison",
    "GrimResult",
    "GrimmerResult",
    "ImpliedR",
    "Rounding",
    "SdCheck",
    "SummaryTTest",
    "TTestMethod",
    "TableAudit",
    "TableFlag",
    "TableVerdict",
    "audit_abstract",
    "audit_tables",
    "baseline_imbalance",
    "change_score_sd",
    "check_sd",
    "correlation_from_change_sd",
    "d_from_t",
    "d_interval",
    "grim",
    "grimmer",
    "hedges_correction",
    "implied_r",
    "minimal_detectable_effect",
    "p_change_over_r",
    "p_from_t",
    "paired_t_from_summary",
    "power_two_sample",
    "sd_bounds",
    "t_from_d",
    "t_from_p",
    "t_from_summary",
    "table_verdict",
]
