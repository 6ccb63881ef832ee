"""Published results as data: what a trial's publication reports, checked into frozen dataclasses.

The file format is documented in ``docs/published-results.md``. :func:`parse_published` checks
every key of a decoded TOML document and collects every problem (unknown keys with the closest
valid name, wrong types, impossible values such as a negative SD or a p-value of 1.3, arm and
time-point names that are not declared) before raising one :class:`~trialkit.ValidationError`
whose problems name the key path of the offending entry (``outcomes[2].table.rows[1].sd``).

Values the publication reports but that could not be obtained are written as the string
``"unavailable"`` (with an ``unavailable_reason`` in the same block); they parse to ``None`` and
their key names are listed in the block's ``unavailable`` field, so "not published" (key absent)
and "published but not available here" stay distinguishable.

The dataclasses are defined in ``_published_model``, the schema and its checks in
``_published_schema`` and ``_published_parse``; import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialkit._toml import read_toml
from trialkit.reproduce._published_model import (
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
from trialkit.reproduce._published_parse import parse_document
from trialkit.reproduce.pvalues import PValue

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
    "parse_published",
    "read_published",
]

#: Former names of :class:`PublishedSummary` and :class:`PublishedComparison`, kept for existing
#: code (the table-level tools have their own ``ArmSummary`` and ``Comparison``).
ArmSummary = PublishedSummary
Comparison = PublishedComparison


def parse_published(raw: Mapping[str, Any], *, file: str = "<published>") -> PublishedTrial:
    """Check a decoded published-results document and build the :class:`PublishedTrial`.

    Parameters
    ----------
    raw : mapping
        The decoded TOML document (format: docs/published-results.md).
    file : str
        Name used for the file in problem reports.

    Returns
    -------
    PublishedTrial

    Raises
    ------
    ValidationError
        Listing every problem found at once, each with its key path (``Problem.column``), e.g.
        ``outcomes[0].table.rows[1].n`` for a missing n, ``...sd`` for a negative SD,
        ``outcomes[3].p`` for a p-value outside [0, 1], ``...arm`` for an arm that is not
        declared (with the closest declared name), and the path of every unknown key.

    Examples
    --------
    >>> raw = {
    ...     "trial": {"id": "demo"},
    ...     "citation": {"authors": ["Doe J"], "title": "A trial", "year": 2020, "source": "title page"},
    ...     "design": {"type": "parallel", "control": "placebo", "visits": ["week8"], "source": "abstract"},
    ...     "arms": {"active": {"source": "abstract"}, "placebo": {"source": "abstract"}},
    ...     "outcomes": [{"id": "pain", "direction": "decrease", "p": "< 0.001", "source": "abstract"}],
    ... }
    >>> trial = parse_published(raw)
    >>> trial.outcome("pain").p
    PValue(value=0.001, bound='<', as_written='< 0.001')
    """
    return parse_document(raw, file)


def read_published(path: str | Path) -> PublishedTrial:
    """Read and check a published-results TOML file (format: docs/published-results.md).

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any rule (all listed at once).
    """
    path = Path(path)
    return parse_published(read_toml(path, "published-results file"), file=str(path))
