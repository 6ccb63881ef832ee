"""Efficacy analyses: pure functions of numbers or of a Trial, with results as frozen dataclasses.

:func:`trialkit.analyze` runs every pre-specified analysis of a trial into one
:class:`trialkit.Results`; the functions it is built from work on plain arrays and frames and are
public here. What each computes, and which R function it matches, is in ``docs/analyses.md``.
"""

from trialkit._spec import Multiplicity, Population, TwoValued
from trialkit.analysis._analyze import ALL_ANALYSES, RESULT_DTYPES
from trialkit.analysis._ancova import AncovaFit, ancova
from trialkit.analysis._binary import LogisticFit, MarginalVariance, cmh, cmh_arrays, logistic, logistic_arrays
from trialkit.analysis._counts import CountFamily, CountFit, event_rate, negative_binomial, poisson, quasipoisson
from trialkit.analysis._dunnett import dunnett, dunnett_p
from trialkit.analysis._effect_size import HedgesG, hedges_correction, hedges_g, pooled_sd
from trialkit.analysis._missing._mi import MIFit, TippingPoint, multiple_imputation
from trialkit.analysis._missing._rubin import Pooled, pool
from trialkit.analysis._mmrm import MMRMFit, mmrm
from trialkit.analysis._multiplicity import adjust_p
from trialkit.analysis._rank_tests import RANK_METHODS, RankTest, mann_whitney, signed_rank
from trialkit.analysis._responders import (
    SWEEP_COLUMNS,
    ResponderResult,
    default_thresholds,
    fisher_exact_p,
    mcid_sweep,
    newcombe_difference_interval,
    responder_estimates,
    responder_rates,
    wilson_interval,
)
from trialkit.analysis._results import (
    COUNT_COLUMNS,
    FAILURE_COLUMNS,
    PATTERN_COLUMNS,
    RESULT_COLUMNS,
    RESULT_FILES,
    TIPPING_COLUMNS,
    Analysis,
    Estimate,
)
from trialkit.analysis._table1 import (
    BASELINE_P_COLUMNS,
    SMD_COLUMNS,
    TABLE1_COLUMNS,
    baseline_p_values,
    baseline_table,
    standardised_differences,
)
from trialkit.analysis._ttests import TTest, paired_t, t_inference, two_sample_t
from trialkit.analysis._van_elteren import van_elteren, van_elteren_arrays

__all__ = [
    "ALL_ANALYSES",
    "BASELINE_P_COLUMNS",
    "COUNT_COLUMNS",
    "FAILURE_COLUMNS",
    "PATTERN_COLUMNS",
    "RANK_METHODS",
    "RESULT_COLUMNS",
    "RESULT_DTYPES",
    "RESULT_FILES",
    "SMD_COLUMNS",
    "SWEEP_COLUMNS",
    "TABLE1_COLUMNS",
    "TIPPING_COLUMNS",
    "Analysis",
    "AncovaFit",
    "CountFamily",
    "CountFit",
    "Estimate",
    "HedgesG",
    "LogisticFit",
    "MIFit",
    "MMRMFit",
    "MarginalVariance",
    "Multiplicity",
    "Pooled",
    "Population",
    "RankTest",
    "ResponderResult",
    "TTest",
    "TippingPoint",
    "TwoValued",
    "adjust_p",
    "ancova",
    "baseline_p_values",
    "baseline_table",
    "cmh",
    "cmh_arrays",
    "default_thresholds",
    "event_rate",
    "dunnett",
    "dunnett_p",
    "fisher_exact_p",
    "hedges_correction",
    "hedges_g",
    "logistic",
    "logistic_arrays",
    "mann_whitney",
    "mcid_sweep",
    "mmrm",
    "multiple_imputation",
    "negative_binomial",
    "newcombe_difference_interval",
    "paired_t",
    "poisson",
    "pool",
    "pooled_sd",
    "quasipoisson",
    "responder_estimates",
    "responder_rates",
    "signed_rank",
    "standardised_differences",
    "t_inference",
    "two_sample_t",
    "van_elteren",
    "van_elteren_arrays",
    "wilson_interval",
]
