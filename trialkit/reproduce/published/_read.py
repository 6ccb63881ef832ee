"""Published-results files: found by path or by bundled name, read, and checked into the data model.

The file format is documented in ``docs/published-results.md``. :func:`parse_published` checks
every key of a decoded TOML document and collects every problem (unknown keys with the closest
valid name, wrong types, impossible values such as a negative SD or a p-value of 1.3, arm and
time-point names that are not declared) before raising one :class:`~trialkit.ValidationError`
whose problems name the key path of the offending entry (``outcomes[2].table.rows[1].sd``).

Values the publication reports but that could not be obtained are written as the string
``"unavailable"`` (with an ``unavailable_reason`` in the same block); they parse to ``None`` and
their key names are listed in the block's ``unavailable`` field, so "not published" (key absent)
and "published but not available here" stay distinguishable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialkit import datasets
from trialkit._toml import read_toml
from trialkit.reproduce.published._model import PublishedTrial
from trialkit.reproduce.published._parse import parse_document


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


def find_published(source: str | Path) -> Path:
    """Return the path of a published-results file given by path or by the name of a bundled one.

    Parameters
    ----------
    source : str or Path
        A path (anything ending in ``.toml``, or a file that exists), or the name of a file bundled
        with trialkit (:func:`trialkit.datasets.published_names`, e.g. ``"abbasi2012"``).

    Returns
    -------
    Path

    Raises
    ------
    ValidationError
        ``file_not_found`` for a name that no bundled file has (the message lists them).

    Examples
    --------
    >>> find_published("abbasi2012").name
    'abbasi2012.toml'
    """
    path = Path(source)
    if path.suffix == ".toml" or path.exists():
        return path
    return datasets.published(str(source))


def read_published(source: str | Path) -> PublishedTrial:
    """Read and check a published-results TOML file (format: docs/published-results.md).

    Parameters
    ----------
    source : str or Path
        The file, or the name of one bundled with trialkit (see :func:`find_published`).

    Returns
    -------
    PublishedTrial

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any rule (all listed at once).

    Examples
    --------
    >>> trial = read_published("abbasi2012")
    >>> trial.id, len(trial.outcomes), trial.design.analysed
    ('abbasi2012', 10, 43)
    """
    path = find_published(source)
    return parse_published(read_toml(path, "published-results file"), file=str(path))
