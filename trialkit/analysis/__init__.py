"""Efficacy analyses: pure functions of a Trial, results as frozen dataclasses (docs/analyses.md)."""

from trialkit.analysis._results import FAILURE_COLUMNS, RESULT_COLUMNS, Analysis, AnalysisError, Estimate, Results
from trialkit.analysis.analyze import ALL_ANALYSES, analyze

__all__ = [
    "ALL_ANALYSES",
    "Analysis",
    "AnalysisError",
    "Estimate",
    "FAILURE_COLUMNS",
    "RESULT_COLUMNS",
    "Results",
    "analyze",
]
