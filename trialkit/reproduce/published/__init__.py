"""Published results as data: what a trial's publication reports, read and checked into frozen dataclasses.

:func:`read_published` reads a published-results file (``docs/published-results.md``) into a
:class:`PublishedTrial`; every p-value in it is a :class:`PValue`, the number or bound as printed.
"""

from trialkit.reproduce.published._model import (
    UNAVAILABLE,
    Citation,
    ContextResult,
    DesignType,
    Direction,
    Dispersion,
    PairedSummary,
    PublishedArm,
    PublishedComparison,
    PublishedDesign,
    PublishedFlag,
    PublishedOutcome,
    PublishedSummary,
    PublishedTable,
    PublishedTrial,
    Scale,
)
from trialkit.reproduce.published._pvalue import PValue
from trialkit.reproduce.published._read import find_published, parse_published, read_published

__all__ = [
    "UNAVAILABLE",
    "Citation",
    "ContextResult",
    "DesignType",
    "Direction",
    "Dispersion",
    "PValue",
    "PairedSummary",
    "PublishedArm",
    "PublishedComparison",
    "PublishedDesign",
    "PublishedFlag",
    "PublishedOutcome",
    "PublishedSummary",
    "PublishedTable",
    "PublishedTrial",
    "Scale",
    "find_published",
    "parse_published",
    "read_published",
]
