"""Mixed models for repeated measures: likelihood, optimisation, inference, tables."""

from trialkit.analysis._mmrm._fit import (
    CONTRAST_COLUMNS,
    FIXED_EFFECT_COLUMNS,
    LSMEAN_COLUMNS,
    Covariance,
    DfMethod,
    MMRMFit,
    mmrm,
)

__all__ = ["CONTRAST_COLUMNS", "FIXED_EFFECT_COLUMNS", "LSMEAN_COLUMNS", "Covariance", "DfMethod", "MMRMFit", "mmrm"]
