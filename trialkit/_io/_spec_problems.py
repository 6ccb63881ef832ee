"""Read a study spec for its data: a spec whose problems do not touch the data still lets them be checked.

A problem in a key that says nothing about reading or checking the data (a label, a description,
an analysis option) does not block reading it: the data are read and checked with the spec as if
those keys were absent, and the spec's problems and the data's are reported together. Any other
spec problem blocks reading; :data:`DESCRIPTIVE_KEYS` is the exact list, documented in
``docs/study-spec.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trialkit._errors import Problem, ValidationError
from trialkit._spec import StudySpec, parse_spec, read_spec
from trialkit._toml import read_toml

__all__ = ["DESCRIPTIVE_KEYS", "blocks_reading", "read_spec_for_data"]

#: the spec's keys that say nothing about reading or checking the data (``column`` of a spec problem)
DESCRIPTIVE_KEYS = re.compile(
    r"""^(
        study(\..+)?
      | arms\.labels(\..+)?
      | visits\.(labels(\..+)?|primary)
      | endpoints\[\d+\]\.(label|unit|better|primary|responder|summary|mcid|exposure_unit)(\..+)?
      | covariates\.[^.\[\]]+\.(label|unit|level_labels|summary)(\..+)?
      | analysis\.(multiplicity|mmrm|missing_data|primary|populations|table1_p_values|two_valued_covariates
                   |marginal_variance|prespecified)(\..+)?
    )$""",
    re.VERBOSE,
)
_ENDPOINT_DESCRIPTIONS = ("label", "unit", "better", "primary", "responder", "summary", "mcid", "exposure_unit")
_COVARIATE_DESCRIPTIONS = ("label", "unit", "level_labels", "summary")
_DATA_ANALYSIS_KEYS = ("covariates", "categorical", "strata")


def blocks_reading(problem: Problem) -> bool:
    """Return whether a spec problem stops the data from being read: any problem outside :data:`DESCRIPTIVE_KEYS`.

    Examples
    --------
    >>> from trialkit._errors import Problem, Rule
    >>> blocks_reading(Problem(Rule.INVALID_VALUE, "study.toml", "...", column="arms.labels.placebo"))
    False
    >>> blocks_reading(Problem(Rule.UNKNOWN_KEY, "study.toml", "...", column="data.delimeter"))
    True
    """
    return problem.column is None or DESCRIPTIVE_KEYS.match(problem.column) is None


def read_spec_for_data(path: Path) -> tuple[StudySpec | None, tuple[Problem, ...]]:
    """Read a spec, and a spec to read its data with when its problems do not touch the data.

    Parameters
    ----------
    path : Path
        The study spec file.

    Returns
    -------
    spec : StudySpec or None
        The spec; when it has problems, the spec without its descriptive keys (labels,
        descriptions and analysis options), to read and check the data with; None when a problem
        blocks reading (:func:`blocks_reading`).
    problems : tuple of Problem
        The spec's problems, as :func:`~trialkit.read_spec` reports them (empty when it has none).
    """
    try:
        return read_spec(path), ()
    except ValidationError as exc:
        problems = exc.problems
    if any(blocks_reading(p) for p in problems):
        return None, problems
    raw = read_toml(path, "study spec")
    try:
        spec = parse_spec(_without_descriptions(raw), base=path.resolve().parent, file=str(path))
    except ValidationError:  # the keys that remain do not make a spec on their own: only the spec is reported
        return None, problems
    return spec, problems


def _without_descriptions(raw: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a decoded spec without its descriptive keys (``[study]`` reduced to a placeholder id)."""
    out: dict[str, Any] = {key: value for key, value in raw.items() if key not in ("study", "analysis")}
    out["study"] = {"id": "unnamed"}
    for section, keys in (("arms", ("labels",)), ("visits", ("labels", "primary"))):
        if isinstance(raw.get(section), dict):
            out[section] = {k: v for k, v in raw[section].items() if k not in keys}
    if isinstance(raw.get("endpoints"), list):
        out["endpoints"] = [
            {k: v for k, v in e.items() if k not in _ENDPOINT_DESCRIPTIONS} if isinstance(e, dict) else e
            for e in raw["endpoints"]
        ]
    if isinstance(raw.get("covariates"), dict):
        out["covariates"] = {
            name: {k: v for k, v in t.items() if k not in _COVARIATE_DESCRIPTIONS} if isinstance(t, dict) else t
            for name, t in raw["covariates"].items()
        }
    if "analysis" in raw:
        analysis = raw["analysis"]
        out["analysis"] = (
            {k: v for k, v in analysis.items() if k in _DATA_ANALYSIS_KEYS} if isinstance(analysis, dict) else analysis
        )
    return out
