"""Synthetic parallel-group trials: a design in, one wide frame per arm and its study spec out.

A *design* (TOML, read by :func:`read_design`, checked by :func:`parse_design`) states every number
the simulation needs — arms and their sizes, visits, per arm x visit means and SDs of each
endpoint, the correlation between a subject's visits, dropouts and subject-level covariates.
:func:`simulate` turns a design and a seed into a :class:`Simulation`; writing it to disk is the
job of :func:`trialkit._write.write_simulation`.

Design format::

    [study]
    id = "abbasi2012"                  # slug, required; title and alpha optional
    [arms]
    control = "placebo"                # required; every other key is an arm table
    [arms.magnesium]
    n = 23                             # randomised, >= 2
    dropout = 2                        # lost before the first post-baseline visit (default 0)
    prefix = "MG"                      # subject ids MG-001, MG-002, ... (default: arm id upper-cased)
    [visits]
    order = ["baseline", "week8"]      # baseline (first) and primary (default last) optional
    [data]
    subject = "subject_id"             # default "subject_id"
    [covariates.age]
    type = "numeric"                   # mean, sd; optional range (truncation), integer, decimals
    [covariates.sex]
    type = "categorical"               # levels, proportions (summing to 1), allocation
    [[endpoints]]                      # id, label, unit, range, integer, better, scale, primary,
    id = "isi"                         # responder as in the study spec, plus:
    decimals = 0                       # digits kept (default 0 for integer scores, else 2)
    correlation = 0.5                  # between visits: one number (compound symmetry) or a matrix
    baseline_range = [0, 28]           # optional eligibility window at baseline (truncation)
    mean = { magnesium = { baseline = 17, week8 = 12 }, placebo = { ... } }
    sd = { magnesium = { baseline = 3, week8 = 4 }, placebo = { ... } }
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from trialkit._errors import Rule, TrialkitError, did_you_mean
from trialkit._schema import (BOOL, INT, LIST, NUM, SLUG, STR, TABLE, ProblemCollector, Schema, check_table, choice,
                              interval, is_number)
from trialkit._toml import read_toml

__all__ = [
    "ArmDesign",
    "CovariateDesign",
    "Design",
    "EndpointDesign",
    "PATTERN",
    "Simulation",
    "exact_counts",
    "lognormal_params",
    "parse_design",
    "read_design",
    "simulate",
    "study_spec_toml",
]

#: wide column naming of the simulated files (``data.pattern`` of the generated spec)
PATTERN = "{endpoint}_{visit}"
#: a baseline eligibility window must keep at least this share of the baseline distribution
_MIN_TRUNCATED_MASS = 1e-3


@dataclass(frozen=True)
class ArmDesign:
    """One arm: ``n`` randomised, ``dropout`` of them lost after baseline, id ``prefix``."""

    id: str
    n: int
    dropout: int = 0
    prefix: str = ""


@dataclass(frozen=True)
class CovariateDesign:
    """A subject-level covariate: ``kind`` is ``"numeric"`` or ``"categorical"``.

    Numeric: normal(``mean``, ``sd``), truncated to ``range`` when given (see :func:`simulate`),
    rounded to whole numbers (``integer``) or ``decimals`` digits. Categorical: ``levels`` drawn
    with ``proportions``, independently per subject (``allocation = "random"``) or as exact
    per-arm counts in random order (``"exact"``: largest-remainder rounding of proportion x n).
    """

    id: str
    kind: str
    mean: float = 0.0
    sd: float = 0.0
    range: tuple[float, float] | None = None
    integer: bool = False
    decimals: int = 1
    levels: tuple[str, ...] = ()
    proportions: tuple[float, ...] = ()
    allocation: str = "random"


@dataclass(frozen=True)
class EndpointDesign:
    """One endpoint: its study-spec attributes plus the numbers its values are drawn from.

    ``mean`` and ``sd`` map each arm to one natural-scale value per visit (in ``visits.order``);
    ``correlation`` is the visit x visit correlation matrix (on the log scale for log endpoints).
    """

    id: str
    label: str
    mean: Mapping[str, tuple[float, ...]]
    sd: Mapping[str, tuple[float, ...]]
    correlation: tuple[tuple[float, ...], ...]
    unit: str = ""
    range: tuple[float, float] | None = None
    integer: bool = False
    better: str = "higher"
    scale: str = "linear"
    primary: bool = False
    responder_change: float | None = None
    decimals: int = 2
    baseline_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Design:
    """A checked design (see the module docstring for the TOML format)."""

    study_id: str
    title: str
    control: str
    arms: tuple[ArmDesign, ...]
    visits: tuple[str, ...]
    primary_visit: str
    endpoints: tuple[EndpointDesign, ...]
    baseline: str | None = None
    alpha: float = 0.05
    subject: str = "subject_id"
    covariates: tuple[CovariateDesign, ...] = ()
    source: str = "<design>"

    def columns(self) -> tuple[str, ...]:
        """Column order of every simulated file: subject, covariates, then endpoint x visit."""
        values = tuple(PATTERN.format(endpoint=e.id, visit=v) for e in self.endpoints for v in self.visits)
        return (self.subject, *(c.id for c in self.covariates), *values)


@dataclass(frozen=True, eq=False)
class Simulation:
    """Simulated trial data.

    Attributes
    ----------
    design : Design
    seed : int
    frames : mapping of str to DataFrame
        One wide frame per arm (design order), columns :meth:`Design.columns`; missing values NaN.
    files : mapping of str to str
        File name of each arm's frame, as named in ``spec_toml``'s ``[data.files]``.
    decimals : mapping of str to int
        Digits to print for each non-text, non-integer-typed column (the values are already rounded
        to them), so that written files are byte-identical for the same design and seed.
    spec_toml : str
        The study spec (``trialkit.load`` format) for the files, next to which it is written.
    """

    design: Design
    seed: int
    frames: Mapping[str, pd.DataFrame]
    files: Mapping[str, str]
    decimals: Mapping[str, int]
    spec_toml: str


# ---------------------------------------------------------------------------------------------
# Design checking: every problem collected, each naming its key path

_NUM_OR_LIST = (int, float, list)
_TOP: Schema = {"study": (TABLE, True), "arms": (TABLE, True), "visits": (TABLE, True),
                "data": (TABLE, False), "covariates": (TABLE, False), "endpoints": (LIST, True)}
_STUDY: Schema = {"id": (STR, True), "title": (STR, False), "alpha": (NUM, False)}
_ARM: Schema = {"n": (INT, True), "dropout": (INT, False), "prefix": (STR, False)}
_VISITS: Schema = {"order": (LIST, True), "baseline": (STR, False), "primary": (STR, False)}
_DATA: Schema = {"subject": (STR, False)}
_NUMERIC: Schema = {"type": (STR, True), "mean": (NUM, True), "sd": (NUM, True),
                    "range": (LIST, False), "integer": (BOOL, False), "decimals": (INT, False)}
_CATEGORICAL: Schema = {"type": (STR, True), "levels": (LIST, True), "proportions": (LIST, True),
                        "allocation": (STR, False)}
_ENDPOINT: Schema = {
    "id": (STR, True), "label": (STR, False), "unit": (STR, False), "range": (LIST, False),
    "integer": (BOOL, False), "better": (STR, False), "scale": (STR, False),
    "primary": (BOOL, False), "responder": (TABLE, False), "decimals": (INT, False),
    "correlation": (_NUM_OR_LIST, False), "baseline_range": (LIST, False),
    "mean": (TABLE, True), "sd": (TABLE, True),
}
#: how design messages name the types that the shared vocabulary does not
_PHRASES = {_NUM_OR_LIST: "a number or an array"}


def _table(raw: Any, path: str, schema: Schema, out: ProblemCollector) -> dict[str, Any]:
    """Type-check a table against ``schema`` (:func:`~trialkit._schema.check_table`, worded as for
    designs: valid keys in schema order, a non-table shown by value); returns its well-typed keys."""
    return check_table(raw, schema, path, out, phrases=_PHRASES, sort_keys=False, got_value=True)


def _interval(value: list, key: str, out: ProblemCollector) -> tuple[float, float] | None:
    """A finite ``[low, high]`` pair (:func:`~trialkit._schema.interval`, worded as for designs)."""
    return interval(value, key, out, what="[low, high] with low < high", finite=True)


def _strings(value: list, key: str, out: ProblemCollector) -> tuple[str, ...] | None:
    """A non-empty array of distinct strings as a tuple; None, with one problem, otherwise."""
    if not value or not all(isinstance(v, str) for v in value) or len(set(value)) < len(value):
        out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a non-empty array of distinct strings; "
                f"got {value!r}.", value)
        return None
    return tuple(value)


def read_design(path: str | Path) -> Design:
    """Read and check a design TOML file (see the module docstring for its keys).

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any design rule (all listed at once).
    """
    path = Path(path)
    raw = read_toml(path, "design file")
    return parse_design(raw, file=str(path))


def parse_design(raw: Mapping[str, Any], *, file: str) -> Design:
    """Check a decoded design mapping and build the :class:`Design`.

    Parameters
    ----------
    raw : mapping
        The decoded TOML document.
    file : str
        Name of the design in problem reports.

    Raises
    ------
    ValidationError
        Listing every problem (unknown keys with the closest valid name, wrong types, negative SDs,
        correlations outside (-1, 1) or not positive definite, missing means, dropout > n, ...),
        each with its key path in ``Problem.column``.
    """
    out = ProblemCollector(file)
    top = _table(dict(raw), "", _TOP, out)
    st = _table(top.get("study", {}), "study", _STUDY, out)
    if "id" in st and not SLUG.match(st["id"]):
        out.add(Rule.INVALID_VALUE, "study.id", f"`study.id` must be a slug; got {st['id']!r}.", st["id"])
    alpha = float(st.get("alpha", 0.05))
    if not 0 < alpha < 1:
        out.add(Rule.INVALID_VALUE, "study.alpha", f"`study.alpha` must be in (0, 1); got {alpha!r}.", alpha)
    arms, control = _parse_arms(top.get("arms", {}), out)
    visits, baseline, primary = _parse_visits(top.get("visits", {}), out)
    for arm in arms:
        if arm.dropout and len(visits) < 2:
            out.add(Rule.INVALID_VALUE, f"arms.{arm.id}.dropout",
                    "a dropout needs a visit after the first one to miss.", arm.dropout)
    subject = _table(top.get("data", {}), "data", _DATA, out).get("subject", "subject_id")
    covariates = tuple(c for name, c_raw in top.get("covariates", {}).items()
                       if (c := _parse_covariate(name, c_raw, out)) is not None)
    arm_ids = tuple(a.id for a in arms)
    endpoints = []
    for i, e_raw in enumerate(top.get("endpoints", [])):
        ep = _parse_endpoint(e_raw, f"endpoints[{i}]", arm_ids, visits, baseline, out)
        if ep is not None:
            endpoints.append(ep)
    if "endpoints" in top and not top["endpoints"]:
        out.add(Rule.INVALID_VALUE, "endpoints", "declare at least one [[endpoints]] table.")
    primaries = [e.id for e in endpoints if e.primary]
    if len(primaries) > 1:
        out.add(Rule.INVALID_VALUE, "endpoints", f"only one endpoint may be primary; got {', '.join(primaries)}.")
    columns = [subject, *(c.id for c in covariates)]
    columns += [PATTERN.format(endpoint=e.id, visit=v) for e in endpoints for v in visits]
    for dup in sorted({c for c in columns if columns.count(c) > 1}):
        out.add(Rule.INVALID_VALUE, "endpoints",
                f"column {dup!r} would be made twice (subject, covariate and endpoint_visit names "
                "must all differ).", dup)
    out.raise_if_any()
    return Design(study_id=st["id"], title=st.get("title", st["id"]), control=control, arms=arms,
                  visits=visits, primary_visit=primary, endpoints=tuple(endpoints), baseline=baseline,
                  alpha=alpha, subject=subject, covariates=covariates, source=file)


def _parse_arms(raw: Any, out: ProblemCollector) -> tuple[tuple[ArmDesign, ...], str]:
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, "arms", "`arms` must be a table.")
        return (), ""
    arms = []
    for key, value in raw.items():
        if key == "control":
            continue
        if not isinstance(value, dict):
            out.add(Rule.UNKNOWN_KEY, f"arms.{key}", f"unknown key `arms.{key}`"
                    f"{did_you_mean(key, ['control'])}; `[arms]` holds `control` and one table per arm.")
            continue
        path = f"arms.{key}"
        if not SLUG.match(key):
            out.add(Rule.INVALID_VALUE, path, f"arm id {key!r} must be a slug (it names a file).", key)
        t = _table(value, path, _ARM, out)
        n, dropout = t.get("n"), t.get("dropout", 0)
        if n is not None and n < 2:
            out.add(Rule.INVALID_VALUE, f"{path}.n", f"`{path}.n` must be at least 2; got {n}.", n)
        if dropout < 0 or (n is not None and dropout > n):
            out.add(Rule.INVALID_VALUE, f"{path}.dropout",
                    f"`{path}.dropout` must be between 0 and n = {n}; got {dropout}.", dropout)
        prefix = t.get("prefix", key.upper())
        if not prefix:
            out.add(Rule.INVALID_VALUE, f"{path}.prefix", f"`{path}.prefix` must not be empty.")
        arms.append(ArmDesign(key, n or 0, dropout, prefix))
    prefixes = [a.prefix for a in arms]
    for dup in sorted({p for p in prefixes if prefixes.count(p) > 1}):
        out.add(Rule.INVALID_VALUE, "arms", f"subject id prefix {dup!r} is used by two arms.", dup)
    control = raw.get("control")
    ids = [a.id for a in arms]
    if control is None:
        out.add(Rule.MISSING_KEY, "arms.control", "required key `arms.control` is missing.")
    elif not isinstance(control, str) or control not in ids:
        out.add(Rule.INVALID_VALUE, "arms.control", f"`arms.control` = {control!r} is not a declared "
                f"arm{did_you_mean(str(control), ids)}; arms: {', '.join(ids)}.", control)
    if len(arms) < 2:
        out.add(Rule.INVALID_VALUE, "arms", "a trial needs at least two arm tables, e.g. [arms.placebo].")
    return tuple(arms), control if isinstance(control, str) else ""


def _parse_visits(raw: Any, out: ProblemCollector) -> tuple[tuple[str, ...], str | None, str]:
    t = _table(raw, "visits", _VISITS, out)
    order = _strings(t["order"], "visits.order", out) if "order" in t else None
    if order is None:
        return (), None, ""
    baseline, primary = t.get("baseline"), t.get("primary", order[-1])
    for key, v in (("visits.baseline", baseline), ("visits.primary", primary)):
        if v is not None and v not in order:
            out.add(Rule.INVALID_VALUE, key, f"`{key}` = {v!r} is not in `visits.order`{did_you_mean(v, order)}.", v)
    if baseline is not None and order[0] != baseline:
        out.add(Rule.INVALID_VALUE, "visits.baseline", f"the baseline {baseline!r} must come first in `visits.order`.")
    if baseline is not None and primary == baseline:
        out.add(Rule.INVALID_VALUE, "visits.primary", "`visits.primary` must be a post-baseline visit.")
    return order, baseline, primary


def _parse_covariate(name: str, raw: Any, out: ProblemCollector) -> CovariateDesign | None:
    path = f"covariates.{name}"
    if not SLUG.match(name):
        out.add(Rule.INVALID_VALUE, path, f"covariate name {name!r} must be a slug.", name)
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in ("numeric", "categorical"):
        if kind is None:
            _table(raw, path, _NUMERIC, out)  # reports the missing `type` and any unknown key
            return None
        choice(str(kind), ("numeric", "categorical"), f"{path}.type", out)
        return None
    if kind == "categorical":
        t = _table(raw, path, _CATEGORICAL, out)
        levels = _strings(t["levels"], f"{path}.levels", out) if "levels" in t else None
        props = t.get("proportions")
        allocation = choice(t.get("allocation", "random"), ("random", "exact"), f"{path}.allocation", out)
        if levels is None or props is None or allocation is None:
            return None
        if (len(props) != len(levels) or not all(is_number(p) and p >= 0 for p in props)
                or abs(sum(props) - 1) > 1e-6):
            out.add(Rule.INVALID_VALUE, f"{path}.proportions", f"`{path}.proportions` must hold one "
                    f"non-negative number per level ({len(levels)}) summing to 1; got {props!r}.", props)
            return None
        total = float(sum(props))
        return CovariateDesign(name, kind, levels=levels, proportions=tuple(p / total for p in props),
                               allocation=allocation)
    t = _table(raw, path, _NUMERIC, out)
    if "mean" not in t or "sd" not in t:
        return None
    mean, sd = float(t["mean"]), float(t["sd"])
    rng = _interval(t["range"], f"{path}.range", out) if "range" in t else None
    if not math.isfinite(mean):
        out.add(Rule.INVALID_VALUE, f"{path}.mean", f"`{path}.mean` must be a finite number; got {mean!r}.", mean)
    elif not (math.isfinite(sd) and sd >= 0):
        out.add(Rule.INVALID_VALUE, f"{path}.sd", f"`{path}.sd` must be a finite number >= 0; got {sd!r}.", sd)
    elif rng is not None and _normal_mass(mean, sd, rng) < _MIN_TRUNCATED_MASS:
        out.add(Rule.INVALID_VALUE, f"{path}.range", f"`{path}.range` {list(rng)} keeps almost none of "
                f"normal({mean:g}, {sd:g}); move the mean or widen the range.", list(rng))
    decimals = t.get("decimals", 1)
    if not 0 <= decimals <= 12:
        out.add(Rule.INVALID_VALUE, f"{path}.decimals", f"`{path}.decimals` must be 0..12.", decimals)
    return CovariateDesign(name, kind, mean=mean, sd=sd, range=rng, integer=t.get("integer", False),
                           decimals=decimals)


def _parse_endpoint(raw: Any, path: str, arms: tuple[str, ...], visits: tuple[str, ...],
                    baseline: str | None, out: ProblemCollector) -> EndpointDesign | None:
    t = _table(raw, path, _ENDPOINT, out)
    eid = t.get("id", "")
    if eid and not SLUG.match(eid):
        out.add(Rule.INVALID_VALUE, f"{path}.id", f"`{path}.id` must be a slug; got {eid!r}.", eid)
    rng = _interval(t["range"], f"{path}.range", out) if "range" in t else None
    better = choice(t.get("better", "higher"), ("lower", "higher"), f"{path}.better", out)
    scale = choice(t.get("scale", "linear"), ("linear", "log"), f"{path}.scale", out)
    if scale == "log" and rng is not None and rng[0] < 0:
        out.add(Rule.INVALID_VALUE, f"{path}.range", f"`{path}.scale` is 'log' but the range admits "
                f"negative values {list(rng)}.")
    responder = None
    if "responder" in t:
        resp = _table(t["responder"], f"{path}.responder", {"change": (NUM, True)}, out)
        if "change" in resp and (resp["change"] == 0 or not math.isfinite(resp["change"])):
            out.add(Rule.INVALID_VALUE, f"{path}.responder.change",
                    f"`{path}.responder.change` must be a non-zero number.", resp["change"])
        responder = float(resp["change"]) if "change" in resp else None
    integer = t.get("integer", False)
    decimals = t.get("decimals", 0 if integer else 2)
    if not 0 <= decimals <= 12 or (integer and decimals != 0):
        out.add(Rule.INVALID_VALUE, f"{path}.decimals", f"`{path}.decimals` must be 0..12, and 0 for "
                f"an integer score; got {decimals}.", decimals)
    corr = _parse_correlation(t.get("correlation"), f"{path}.correlation", len(visits), out)
    mean = _arm_visit_numbers(t.get("mean"), f"{path}.mean", arms, visits, out)
    sd = _arm_visit_numbers(t.get("sd"), f"{path}.sd", arms, visits, out)
    for arm, values in (sd or {}).items():
        for v, s in zip(visits, values):
            if s < 0:
                out.add(Rule.INVALID_VALUE, f"{path}.sd.{arm}.{v}", f"`{path}.sd.{arm}.{v}` must be "
                        f">= 0 (a standard deviation); got {s:g}.", s)
    for arm, values in (mean or {}).items():
        for v, m in zip(visits, values):
            key = f"{path}.mean.{arm}.{v}"
            if scale == "log" and m <= 0:
                out.add(Rule.INVALID_VALUE, key, f"`{key}` must be > 0 on the log scale; got {m:g}.", m)
            elif rng is not None and not rng[0] <= m <= rng[1]:
                out.add(Rule.INVALID_VALUE, key, f"`{key}` = {m:g} is outside `{path}.range` {list(rng)}.", m)
    window = None
    if "baseline_range" in t:
        window = _interval(t["baseline_range"], f"{path}.baseline_range", out)
        if baseline is None:
            out.add(Rule.INVALID_VALUE, f"{path}.baseline_range", "`baseline_range` needs `visits.baseline`.")
        elif window is not None and mean and sd and scale == "log" and window[1] <= 0:
            out.add(Rule.INVALID_VALUE, f"{path}.baseline_range", "a log-scale window must reach above 0.")
        elif window is not None and mean and sd and all(s >= 0 for v in sd.values() for s in v):
            for arm in arms:
                loc, sc = _model_params(mean[arm][0], sd[arm][0], scale or "linear")
                a, b = _z_bounds(window, loc, sc, scale or "linear")
                if ndtr(b) - ndtr(a) < _MIN_TRUNCATED_MASS:
                    out.add(Rule.INVALID_VALUE, f"{path}.baseline_range",
                            f"`{path}.baseline_range` {list(window)} keeps almost none of the baseline "
                            f"distribution of arm {arm!r}; move the baseline mean or widen the window.")
    if not eid or corr is None or mean is None or sd is None or better is None or scale is None:
        return None
    return EndpointDesign(
        id=eid, label=t.get("label", eid), mean=mean, sd=sd, correlation=corr, unit=t.get("unit", ""),
        range=rng, integer=integer, better=better, scale=scale, primary=t.get("primary", False),
        responder_change=responder, decimals=decimals, baseline_range=window)


def _parse_correlation(raw: Any, key: str, k: int, out: ProblemCollector) -> tuple[tuple[float, ...], ...] | None:
    if k == 0:
        return None  # no usable `visits.order`: already reported
    if raw is None:
        if k > 1:
            out.add(Rule.MISSING_KEY, key, f"required key `{key}` is missing (the correlation between "
                    "a subject's visits: one number or a matrix).")
            return None
        return ((1.0,),)
    if is_number(raw):
        if not -1 < raw < 1:
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must be in (-1, 1); got {raw!r}.", raw)
            return None
        matrix = np.full((k, k), float(raw))
        np.fill_diagonal(matrix, 1.0)
    else:
        ok = (isinstance(raw, list) and len(raw) == k
              and all(isinstance(row, list) and len(row) == k and all(map(is_number, row)) for row in raw))
        if not ok:
            out.add(Rule.WRONG_TYPE, key, f"`{key}` must be a number or a {k} x {k} matrix "
                    f"(one row per visit); got {raw!r}.", raw)
            return None
        matrix = np.asarray(raw, dtype=float)
        off = matrix[~np.eye(k, dtype=bool)]
        if (not np.allclose(np.diag(matrix), 1.0) or not np.array_equal(matrix, matrix.T)
                or np.any(np.abs(off) >= 1)):
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must be symmetric with 1 on the diagonal and "
                    "entries in (-1, 1) elsewhere.", raw)
            return None
    smallest = float(np.linalg.eigvalsh(matrix).min())
    if smallest <= 1e-10:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` is not positive definite (smallest eigenvalue "
                f"{smallest:.3g}); no set of visits can have these correlations.", raw)
        return None
    return tuple(tuple(float(x) for x in row) for row in matrix)


def _arm_visit_numbers(raw: Any, key: str, arms: tuple[str, ...], visits: tuple[str, ...],
                       out: ProblemCollector) -> dict[str, tuple[float, ...]] | None:
    """``{arm: {visit: number}}`` -> ``{arm: (number per visit in order)}``; None when incomplete."""
    if raw is None or not visits:
        return None  # absent or wrongly typed table, or no usable visits: already reported
    complete, result = True, {}
    for arm in raw:
        if arm not in arms:
            out.add(Rule.UNKNOWN_KEY, f"{key}.{arm}", f"`{key}.{arm}` names no declared arm"
                    f"{did_you_mean(arm, arms)}; arms: {', '.join(arms)}.")
    for arm in arms:
        per = raw.get(arm)
        if not isinstance(per, dict):
            rule, what = (Rule.MISSING_KEY, "is missing") if per is None else (Rule.WRONG_TYPE, "is not a table")
            out.add(rule, f"{key}.{arm}", f"`{key}.{arm}` {what}: give one number per visit, "
                    f"{{ {', '.join(f'{v} = ...' for v in visits)} }}.")
            complete = False
            continue
        for v in per:
            if v not in visits:
                out.add(Rule.UNKNOWN_KEY, f"{key}.{arm}.{v}", f"`{key}.{arm}.{v}` names no visit in "
                        f"`visits.order`{did_you_mean(v, visits)}.")
        values = []
        for v in visits:
            x = per.get(v)
            if x is None:
                out.add(Rule.MISSING_KEY, f"{key}.{arm}.{v}", f"required key `{key}.{arm}.{v}` is missing.")
            elif not is_number(x):
                out.add(Rule.WRONG_TYPE, f"{key}.{arm}.{v}", f"`{key}.{arm}.{v}` must be a finite number; "
                        f"got {x!r}.", x)
            else:
                values.append(float(x))
        complete &= len(values) == len(visits)
        result[arm] = tuple(values)
    return result if complete and arms else None


# ---------------------------------------------------------------------------------------------
# Simulation

def lognormal_params(mean: np.ndarray | float, sd: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal parameters with natural-scale mean ``m`` and standard deviation ``s``.

    .. math:: \\sigma^2 = \\ln(1 + s^2/m^2), \\qquad \\mu = \\ln m - \\sigma^2/2,

    so that :math:`Y = e^{\\mu + \\sigma Z}` with :math:`Z \\sim N(0, 1)` has
    :math:`E[Y] = e^{\\mu + \\sigma^2/2} = m` and
    :math:`\\operatorname{Var}[Y] = (e^{\\sigma^2} - 1)\\, e^{2\\mu + \\sigma^2} = s^2`.
    The geometric mean is :math:`e^\\mu = m / \\sqrt{1 + s^2/m^2}`.
    """
    m, s = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    sigma2 = np.log1p((s / m) ** 2)
    return np.log(m) - sigma2 / 2, np.sqrt(sigma2)


def _model_params(mean, sd, scale: str):
    return lognormal_params(mean, sd) if scale == "log" else (np.asarray(mean, float), np.asarray(sd, float))


def _z_bounds(window: tuple[float, float], loc: float, scale: float, kind: str) -> tuple[float, float]:
    """Standard-normal bounds of a natural-scale window (log-transformed for log endpoints)."""
    if scale == 0:
        return -math.inf, math.inf
    lo, hi = window
    if kind == "log":
        lo, hi = (math.log(lo) if lo > 0 else -math.inf), math.log(hi)
    return (lo - loc) / scale, (hi - loc) / scale


def _normal_mass(mean: float, sd: float, window: tuple[float, float]) -> float:
    if sd == 0:
        return float(window[0] <= mean <= window[1])
    a, b = _z_bounds(window, mean, sd, "linear")
    return float(ndtr(b) - ndtr(a))


def _truncate(e: np.ndarray, a: float, b: float) -> np.ndarray:
    """Map standard-normal draws onto N(0, 1) truncated to [a, b] by the inverse CDF (one draw each)."""
    pa, pb = ndtr(a), ndtr(b)
    return ndtri(pa + ndtr(e) * (pb - pa))


def _grid(x: np.ndarray, decimals: int, bounds: tuple[float, float] | None) -> np.ndarray:
    """Round to ``decimals`` digits, then clip to the representable values inside ``bounds``."""
    x = np.round(x, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0 so files never show "-0"
    if bounds is not None:
        step = 10.0 ** decimals
        lo = math.ceil(round(bounds[0] * step, 6)) / step
        hi = math.floor(round(bounds[1] * step, 6)) / step
        x = np.clip(x, lo, hi)
    return x


def exact_counts(proportions: tuple[float, ...], n: int) -> np.ndarray:
    """Counts summing to ``n`` closest to ``proportions x n`` (largest remainder; ties to the first)."""
    share = np.asarray(proportions, dtype=float) * n
    counts = np.floor(share + 1e-9).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return counts


def _draw_covariate(cov: CovariateDesign, n: int, rng: np.random.Generator) -> np.ndarray:
    if cov.kind == "categorical" and cov.allocation == "exact":
        return rng.permutation(np.repeat(np.asarray(cov.levels, dtype=object),
                                         exact_counts(cov.proportions, n)))
    if cov.kind == "categorical":
        idx = np.searchsorted(np.cumsum(cov.proportions), rng.random(n), side="right")
        return np.asarray(cov.levels, dtype=object)[np.minimum(idx, len(cov.levels) - 1)]
    e = rng.standard_normal(n)
    if cov.range is not None and cov.sd > 0:
        e = _truncate(e, *_z_bounds(cov.range, cov.mean, cov.sd, "linear"))
    x = _grid(cov.mean + cov.sd * e, 0 if cov.integer else cov.decimals, cov.range)
    return x.astype(np.int64) if cov.integer else x


def _draw_endpoint(ep: EndpointDesign, arm: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n x visits values of one endpoint in one arm (see :func:`simulate` for the model)."""
    loc, scale = _model_params(ep.mean[arm], ep.sd[arm], ep.scale)
    e = rng.standard_normal((n, len(loc)))
    if ep.baseline_range is not None:
        e[:, 0] = _truncate(e[:, 0], *_z_bounds(ep.baseline_range, loc[0], scale[0], ep.scale))
    z = e @ np.linalg.cholesky(np.asarray(ep.correlation)).T  # first column unchanged: L[0, 0] = 1
    x = loc + scale * z
    if ep.scale == "log":
        x = np.exp(x)
    x = _grid(x, ep.decimals, ep.range)
    if ep.scale == "log":
        x = np.maximum(x, 10.0 ** -ep.decimals)  # rounding must not make a log-scale value 0
    return x


def simulate(design: Design, seed: int) -> Simulation:
    """Simulate a parallel-group trial from its design.

    Parameters
    ----------
    design : Design
        From :func:`read_design` or :func:`parse_design`.
    seed : int
        Non-negative seed of ``np.random.default_rng``; the same design and seed give the same
        values (and, written by ``write_simulation``, the same bytes).

    Returns
    -------
    Simulation

    Notes
    -----
    For subject *i* of arm *a* and endpoint *e* with visits :math:`1..V`, draw
    :math:`Z_i \\sim N_V(0, R_e)` (as :math:`L\\varepsilon_i`, :math:`R_e = LL^T` Cholesky,
    :math:`\\varepsilon_i` iid standard normal) and set

    * linear scale: :math:`Y_{iv} = m_{av} + s_{av} Z_{iv}`;
    * log scale: :math:`Y_{iv} = \\exp(\\mu_{av} + \\sigma_{av} Z_{iv})` with :math:`\\mu, \\sigma`
      from the natural-scale mean and SD by :func:`lognormal_params`; :math:`R_e` then holds the
      correlations of :math:`\\ln Y` (natural-scale correlation
      :math:`(e^{\\rho\\sigma_1\\sigma_2}-1)/\\sqrt{(e^{\\sigma_1^2}-1)(e^{\\sigma_2^2}-1)}`).

    With ``baseline_range`` (an eligibility rule), :math:`\\varepsilon_{i1}` is mapped onto the
    normal truncated to the window, :math:`\\Phi^{-1}(\\Phi(\\alpha) + \\Phi(\\varepsilon)
    (\\Phi(\\beta) - \\Phi(\\alpha)))`; since :math:`Z_{i1} = \\varepsilon_{i1}`, later visits keep
    their correct conditional distribution given baseline. The baseline mean then shifts by
    :math:`s\\,(\\varphi(\\alpha) - \\varphi(\\beta))/(\\Phi(\\beta) - \\Phi(\\alpha))`.

    Values are rounded to ``decimals`` digits (whole numbers for integer scores) and then clipped
    into ``range``. Both shift the moments slightly: rounding to step *h* adds about
    :math:`h^2/12` to the variance (Sheppard), and clipping moves the mass beyond a bound onto it,
    pulling the mean inward and shrinking the SD; keep means several SDs inside the range.
    Numeric covariates are normal, truncated to their ``range`` (so their realised mean differs
    from ``mean`` by the truncation shift above), then rounded; categorical ones are drawn with
    their proportions (or in exact per-arm counts, ``allocation = "exact"``). Endpoints are independent of each other and of the covariates.

    ``dropout`` subjects per arm, chosen uniformly at random (missing completely at random), have
    every value after the first visit (the baseline) set to NaN. Subject ids are
    ``<prefix>-<number>``, zero-padded to at least 3 digits. Random numbers are drawn from one
    generator in a fixed order: per arm (design order), each covariate, the dropouts, then each
    endpoint. Means and SDs enter only after drawing, so changing them never changes the draws.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TrialkitError(f"`seed` must be a non-negative integer; got {seed!r}.")
    rng = np.random.default_rng(int(seed))
    frames = {arm.id: _simulate_arm(design, arm, rng) for arm in design.arms}
    decimals = {c.id: c.decimals for c in design.covariates if c.kind == "numeric" and not c.integer}
    decimals |= {PATTERN.format(endpoint=e.id, visit=v): e.decimals
                 for e in design.endpoints for v in design.visits}
    return Simulation(design=design, seed=int(seed), frames=frames,
                      files={arm.id: f"{arm.id}.csv" for arm in design.arms}, decimals=decimals,
                      spec_toml=study_spec_toml(design, seed=int(seed)))


def _simulate_arm(design: Design, arm: ArmDesign, rng: np.random.Generator) -> pd.DataFrame:
    n = arm.n
    width = max(3, len(str(n)))
    cols: dict[str, Any] = {design.subject: [f"{arm.prefix}-{i:0{width}d}" for i in range(1, n + 1)]}
    for cov in design.covariates:
        cols[cov.id] = _draw_covariate(cov, n, rng)
    lost = np.zeros(n, dtype=bool)
    lost[rng.choice(n, size=arm.dropout, replace=False)] = True
    for ep in design.endpoints:
        x = _draw_endpoint(ep, arm.id, n, rng)
        x[lost, 1:] = np.nan
        for j, visit in enumerate(design.visits):
            cols[PATTERN.format(endpoint=ep.id, visit=visit)] = x[:, j]
    return pd.DataFrame(cols, columns=list(design.columns()))


# ---------------------------------------------------------------------------------------------
# The study spec of the simulated files

def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    escaped = "".join(
        {'"': '\\"', "\\": "\\\\"}.get(ch) or (f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
        for ch in str(value))
    return f'"{escaped}"'


def study_spec_toml(design: Design, *, seed: int) -> str:
    """The study spec (DESIGN.md format) for the files :func:`simulate` makes from ``design``."""
    lines = [
        f"# Study spec of SYNTHETIC data simulated by trialkit.simulate from design {design.study_id!r}",
        f"# with seed {seed}. The values are not the trial's records: see the design file.",
        "", "[study]", f"id = {_toml(design.study_id)}", f"title = {_toml(design.title)}",
        f"alpha = {_toml(design.alpha)}",
        "", "[arms]", f"control = {_toml(design.control)}", f"levels = {_toml([a.id for a in design.arms])}",
        "", "[visits]",
    ]
    if design.baseline is not None:
        lines.append(f"baseline = {_toml(design.baseline)}")
    lines += [f"order = {_toml(design.visits)}", f"primary = {_toml(design.primary_visit)}"]
    for e in design.endpoints:
        lines += ["", "[[endpoints]]", f"id = {_toml(e.id)}", f"label = {_toml(e.label)}",
                  f"unit = {_toml(e.unit)}"]
        if e.range is not None:
            lines.append(f"range = {_toml(e.range)}")
        lines += [f"integer = {_toml(e.integer)}", f"better = {_toml(e.better)}",
                  f"scale = {_toml(e.scale)}", f"primary = {_toml(e.primary)}"]
        if e.responder_change is not None:
            lines.append(f"responder = {{ change = {_toml(e.responder_change)} }}")
    covariates = [c.id for c in design.covariates]
    categorical = [c.id for c in design.covariates if c.kind == "categorical"]
    lines += ["", "[analysis]", f"covariates = {_toml(covariates)}", f"categorical = {_toml(categorical)}",
              "", "[data]", 'format = "wide"', f"subject = {_toml(design.subject)}",
              f"pattern = {_toml(PATTERN)}", "", "[data.files]"]
    lines += [f"{a.id} = {_toml(a.id + '.csv')}" for a in design.arms]
    return "\n".join(lines) + "\n"
