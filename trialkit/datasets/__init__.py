"""The data bundled with trialkit, reached as files of the installed package.

``study_spec("abbasi2012")`` is the study spec of the synthetic 2012 magnesium-insomnia trial (its
data files lie beside it; how they were made is in its ``README.md`` and ``MANIFEST.json``);
``published("abbasi2012")`` is the published-results file of the 2012 publication
(``docs/published-results.md``). In a source checkout the same folders are ``data/synthetic/`` and
``data/published/``. ``longitudinal("fev_data")`` is a long-format repeated-measures data set for
:func:`trialkit.mmrm` (its source and licence are in ``datasets/longitudinal/README.md``).

Examples
--------
>>> import trialkit as tk
>>> tk.datasets.studies()
('abbasi2012',)
>>> tk.load(tk.datasets.study_spec("abbasi2012")).spec.study.id
'abbasi2012'
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from trialkit._errors import Problem, Rule, ValidationError, did_you_mean

__all__ = ["longitudinal", "longitudinal_names", "published", "published_names", "studies", "study_spec"]


def _root() -> Path:
    # an installed package is a folder on disk (trialkit is never imported from a zip), so the
    # resources are real paths that loaders and reports can hash and name
    return Path(str(files("trialkit.datasets")))


def studies() -> tuple[str, ...]:
    """Names of the bundled synthetic trials, sorted."""
    return tuple(sorted(p.parent.name for p in _root().glob("*/study.toml")))


def published_names() -> tuple[str, ...]:
    """Names of the bundled published-results files, sorted."""
    return tuple(sorted(p.stem for p in (_root() / "published").glob("*.toml")))


def _unknown(name: str, names: tuple[str, ...], what: str, path: Path) -> ValidationError:
    message = f"no bundled {what} named {name!r}{did_you_mean(name, names)}; bundled: {', '.join(names) or 'none'}."
    return ValidationError([Problem(Rule.FILE_NOT_FOUND, str(path), message)])


def study_spec(name: str = "abbasi2012") -> Path:
    """Path of the study spec of a bundled synthetic trial.

    Parameters
    ----------
    name : str
        One of :func:`studies`.

    Returns
    -------
    Path
        ``<package>/datasets/<name>/study.toml``; its data files lie beside it.

    Raises
    ------
    ValidationError
        ``file_not_found`` when no bundled trial has that name (the message lists them).
    """
    path = _root() / name / "study.toml"
    if not path.is_file():
        raise _unknown(name, studies(), "synthetic trial", path)
    return path


def published(name: str = "abbasi2012") -> Path:
    """Path of a bundled published-results file (format: ``docs/published-results.md``).

    Parameters
    ----------
    name : str
        One of :func:`published_names`.

    Returns
    -------
    Path
        ``<package>/datasets/published/<name>.toml``.

    Raises
    ------
    ValidationError
        ``file_not_found`` when no bundled file has that name (the message lists them).
    """
    path = _root() / "published" / f"{name}.toml"
    if not path.is_file():
        raise _unknown(name, published_names(), "published-results file", path)
    return path


def longitudinal_names() -> tuple[str, ...]:
    """Names of the bundled long-format repeated-measures data sets, sorted."""
    return tuple(sorted(p.stem for p in (_root() / "longitudinal").glob("*.csv")))


def longitudinal(name: str = "fev_data") -> Path:
    """Path of a bundled long-format repeated-measures data set (CSV, one row per subject and visit).

    Parameters
    ----------
    name : str
        One of :func:`longitudinal_names`.

    Returns
    -------
    Path
        ``<package>/datasets/longitudinal/<name>.csv``.

    Raises
    ------
    ValidationError
        ``file_not_found`` when no bundled data set has that name (the message lists them).

    Examples
    --------
    >>> import pandas as pd
    >>> import trialkit as tk
    >>> pd.read_csv(tk.datasets.longitudinal("fev_data")).shape
    (800, 10)
    """
    path = _root() / "longitudinal" / f"{name}.csv"
    if not path.is_file():
        raise _unknown(name, longitudinal_names(), "longitudinal data set", path)
    return path
