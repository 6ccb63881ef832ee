"""Reproducing published trials: published results as data, the audits that check them, reconstructed data.

:func:`reproduce` gives one verdict per published outcome (a :class:`Verdict`), from the published
per-arm tables when there are any and from individual-level data when given. Its parts, one job
each, are three subpackages:

``trialkit.reproduce.published``
    reading published results (:func:`~trialkit.reproduce.published.read_published`, ``PValue``);
``trialkit.reproduce.audit``
    auditing them: the abstract level (n and p-values) and the table level (GRIM, GRIMMER, SD
    bounds, t-tests from summaries, the pre-post correlation, :func:`~trialkit.reproduce.audit.audit_tables`);
``trialkit.reproduce.reconstruct``
    reconstructing individual-level data that reproduce the published p-values.

Importing this package loads only the verdict vocabulary; :func:`reproduce` and what it needs
(pandas, scipy, the analyses) load on first use.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from trialkit.reproduce._codes import Verdict

if TYPE_CHECKING:
    from trialkit.reproduce._reproduction import (
        BY_CONSTRUCTION,
        DATA_KINDS,
        REPRODUCTION_COLUMNS,
        Reproduction,
        bundled_study,
        reproduce,
    )

_LAZY = ("BY_CONSTRUCTION", "DATA_KINDS", "REPRODUCTION_COLUMNS", "Reproduction", "bundled_study", "reproduce")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module("trialkit.reproduce._reproduction"), name)
    raise AttributeError(f"module 'trialkit.reproduce' has no attribute {name!r}")


__all__ = [
    "BY_CONSTRUCTION",
    "DATA_KINDS",
    "REPRODUCTION_COLUMNS",
    "Reproduction",
    "Verdict",
    "bundled_study",
    "reproduce",
]
