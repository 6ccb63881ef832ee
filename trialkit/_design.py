"""The simulation design: its model (:class:`Design` and parts) and the checks that build it.

Private: its public names are public as ``trialkit.simulate.<name>``, whose docstring gives the format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr

from trialkit._errors import Rule, did_you_mean
from trialkit._limits import SIMULATE_SUBJECTS_PER_ARM
from trialkit._moments import model_params, normal_mass, z_bounds
from trialkit._schema import (
    BOOL,
    INT,
    LIST,
    NUM,
    SLUG,
    STR,
    TABLE,
    ProblemCollector,
    Schema,
    check_table,
    choice,
    interval,
    is_number,
)
from trialkit._spec import COUNT_BASELINES, ENDPOINT_TYPES, DataSpec, endpoint_rules
from trialkit._texts import TextKinds, check_texts
from trialkit._toml import read_toml

__all__ = ["PATTERN", "ArmDesign", "CovariateDesign", "Design", "EndpointDesign", "parse_design", "read_design"]

#: wide column naming of the simulated files (``data.pattern`` of the generated spec)
PATTERN = "{endpoint}_{visit}"
#: a baseline eligibility window must keep at least this share of the baseline distribution
_MIN_TRUNCATED_MASS = 1e-3


@dataclass(frozen=True)
class ArmDesign:
    """One arm: ``n`` randomised, ``dropout`` of them lost after baseline, id ``prefix``.

    ``dropout_by_visit`` (empty unless the design gives it, instead of ``dropout``) holds, for each
    visit of ``visits.order``, the probability that a subject has left the trial by that visit
    (cumulative, non-decreasing, 0 at the first visit): each subject's last visit is then drawn.
    """

    id: str
    n: int
    dropout: int = 0
    prefix: str = ""
    label: str = ""
    dropout_by_visit: tuple[float, ...] = ()


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
    label: str = ""
    unit: str = ""
    level_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EndpointDesign:
    """One endpoint: its study-spec attributes plus the numbers its values are drawn from.

    ``type`` is ``"continuous"``, ``"binary"`` or ``"count"`` (the study spec's endpoint types).
    Continuous: ``mean`` and ``sd`` map each arm to one natural-scale value per visit (in
    ``visits.order``); ``correlation`` is the visit x visit correlation matrix (on the log scale for
    log endpoints). Binary: ``probability`` maps each arm to the event probability per visit; the
    files hold ``success`` for an event and ``failure`` otherwise. Count: ``rate`` maps each arm to
    the expected events per unit of exposure per visit, ``exposure`` is the time at risk of each
    visit in ``exposure_unit`` (empty: 1 per visit), ``dispersion`` the NB2 ``1/theta`` (0:
    Poisson) and ``count_baseline`` the study spec's key of that name (None: not written). For
    binary and count endpoints ``mean`` and ``sd`` are empty and ``correlation`` is that of the
    latent normal variables of a Gaussian copula (see :func:`trialkit.simulate`).
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
    type: str = "continuous"
    probability: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    success: str | int | None = None
    failure: str | int | None = None
    rate: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    dispersion: float = 0.0
    exposure: tuple[tuple[str, float], ...] = ()
    exposure_unit: str = ""
    count_baseline: str | None = None


@dataclass(frozen=True)
class Design:
    """A checked simulation design (the TOML keys: ``docs/design-file.md``)."""

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
    #: ``[study]`` text the generated spec carries over: registration, blinding, intervention, duration
    study_text: tuple[tuple[str, str], ...] = ()
    visit_labels: tuple[tuple[str, str], ...] = ()

    def columns(self) -> tuple[str, ...]:
        """Column order of every simulated file: subject, covariates, then endpoint x visit."""
        values = tuple(PATTERN.format(endpoint=e.id, visit=v) for e in self.endpoints for v in self.visits)
        return (self.subject, *(c.id for c in self.covariates), *values)


# ---------------------------------------------------------------------------------------------
# Design checking: every problem collected, each naming its key path

_NUM_OR_LIST = (int, float, list)
_TOP: Schema = {
    "study": (TABLE, True),
    "arms": (TABLE, True),
    "visits": (TABLE, True),
    "data": (TABLE, False),
    "covariates": (TABLE, False),
    "endpoints": (LIST, True),
}
#: ``[study]`` keys copied as text into the generated spec's ``[study]``
STUDY_TEXT_KEYS = ("registration", "blinding", "intervention", "duration")
_STUDY: Schema = {
    "id": (STR, True),
    "title": (STR, False),
    "alpha": (NUM, False),
    **{k: (STR, False) for k in STUDY_TEXT_KEYS},
}
_ARM: Schema = {
    "n": (INT, True),
    "dropout": (INT, False),
    "dropout_by_visit": (TABLE, False),
    "prefix": (STR, False),
    "label": (STR, False),
}
_VISITS: Schema = {"order": (LIST, True), "baseline": (STR, False), "primary": (STR, False), "labels": (TABLE, False)}
_DATA: Schema = {"subject": (STR, False)}
_NUMERIC: Schema = {
    "type": (STR, True),
    "mean": (NUM, True),
    "sd": (NUM, True),
    "range": (LIST, False),
    "integer": (BOOL, False),
    "decimals": (INT, False),
    "label": (STR, False),
    "unit": (STR, False),
}
_CATEGORICAL: Schema = {
    "type": (STR, True),
    "levels": (LIST, True),
    "proportions": (LIST, True),
    "allocation": (STR, False),
    "label": (STR, False),
    "level_labels": (TABLE, False),
}
_ENDPOINT: Schema = {
    "id": (STR, True),
    "label": (STR, False),
    "unit": (STR, False),
    "range": (LIST, False),
    "integer": (BOOL, False),
    "better": (STR, False),
    "scale": (STR, False),
    "primary": (BOOL, False),
    "responder": (TABLE, False),
    "decimals": (INT, False),
    "correlation": (_NUM_OR_LIST, False),
    "baseline_range": (LIST, False),
    "mean": (TABLE, True),
    "sd": (TABLE, True),
    "type": (STR, False),
}
_LABEL = (str, int, float)
#: the keys every binary and count endpoint shares
_DISCRETE: Schema = {
    "id": (STR, True),
    "type": (STR, True),
    "label": (STR, False),
    "unit": (STR, False),
    "better": (STR, False),
    "primary": (BOOL, False),
    "correlation": (_NUM_OR_LIST, False),
}
_BINARY: Schema = {
    **_DISCRETE,
    "probability": (TABLE, True),
    "success": (_LABEL, False),
    "failure": (_LABEL, False),
}
_COUNT: Schema = {
    **_DISCRETE,
    "responder": (TABLE, False),
    "rate": (TABLE, True),
    "dispersion": (NUM, False),
    "exposure": (TABLE, False),
    "exposure_unit": (STR, False),
    "count_baseline": (STR, False),
}
#: keys of a continuous endpoint that a binary or count endpoint refuses, and why
_NOT_FOR: dict[str, dict[str, str]] = {
    "binary": {
        "mean": "its values are drawn with the event probabilities of `probability`",
        "sd": "its values are drawn with the event probabilities of `probability`",
        "range": "its values are the two labels `success` and `failure`",
        "integer": "its values are the two labels `success` and `failure`",
        "decimals": "its values are the two labels `success` and `failure`",
        "scale": "its values are the two labels `success` and `failure`",
        "baseline_range": "there is no eligibility window on an event",
        "responder": "the event itself is the response",
    },
    "count": {
        "mean": "its values are drawn with the event rates of `rate` (and `dispersion`)",
        "sd": "its values are drawn with the event rates of `rate` (and `dispersion`)",
        "range": "counts are whole numbers >= 0 drawn without bounds",
        "integer": "counts are always whole numbers",
        "decimals": "counts are always whole numbers",
        "scale": "the count models are log-linear already",
        "baseline_range": "there is no eligibility window on a count",
    },
}
#: which texts of a design are ids and which labels (docs/limits.md): every other text is free text
TEXT_KINDS = TextKinds(
    ids=re.compile(
        r"study\.id|arms\.control|arms\.[^.]+\.prefix|visits\.(order|baseline|primary)|endpoints\[\d+\]\.id"
    ),
    labels=re.compile(
        r"arms\.[^.]+\.label|visits\.labels\..+|endpoints\[\d+\]\.(label|unit|exposure_unit|success|failure)"
        r"|covariates\.[^.]+\.(label|unit|levels|level_labels\..+)"
    ),
    label_keys=re.compile(r"covariates\.[^.]+\.level_labels"),
)
#: the texts a generated spec reads as missing (its ``data.missing`` is the default): never a label
_MISSING_TOKENS: tuple[str, ...] = DataSpec.missing  # the class attribute is the field default
#: how design messages name the types that the shared vocabulary does not
_PHRASES: dict[tuple[type, ...], str] = {_NUM_OR_LIST: "a number or an array", _LABEL: "text or a whole number"}


def _table(raw: Any, path: str, schema: Schema, out: ProblemCollector) -> dict[str, Any]:
    """Type-check a table against ``schema`` and return its well-typed keys.

    As :func:`~trialkit._schema.check_table`, worded as for designs: valid keys in schema order, a
    non-table shown by value.
    """
    return check_table(raw, schema, path, out, phrases=_PHRASES, sort_keys=False, got_value=True)


def _interval(value: list[Any], key: str, out: ProblemCollector) -> tuple[float, float] | None:
    """Read a finite ``[low, high]`` pair (:func:`~trialkit._schema.interval`, worded as for designs)."""
    return interval(value, key, out, what="[low, high] with low < high", finite=True)


def _strings(value: list[Any], key: str, out: ProblemCollector) -> tuple[str, ...] | None:
    """Read a non-empty array of distinct strings as a tuple; None, with one problem, otherwise."""
    if not value or not all(isinstance(v, str) for v in value) or len(set(value)) < len(value):
        out.add(
            Rule.INVALID_VALUE, key, f"`{key}` must be a non-empty array of distinct strings; got {value!r}.", value
        )
        return None
    return tuple(value)


def read_design(path: str | Path) -> Design:
    """Read and check a simulation design TOML file (keys and rules: ``docs/design-file.md``).

    Parameters
    ----------
    path : str or Path
        The design file.

    Returns
    -------
    Design
        The checked design, frozen; :func:`trialkit.simulate` draws a trial from it.

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any design rule: every problem at once,
        each with its key path (``endpoints[0].sd.active.week4``).

    Examples
    --------
    >>> import trialkit as tk
    >>> design = tk.read_design(tk.datasets.study_spec("abbasi2012").with_name("design.toml"))
    >>> [(arm.id, arm.n) for arm in design.arms]
    [('magnesium', 23), ('placebo', 23)]
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
        correlations outside (-1, 1) or not positive definite, missing means, dropout > n, a
        ``dropout_by_visit`` outside [0, 1) or decreasing,
        probabilities outside (0, 1), rates <= 0, a negative dispersion, continuous keys on a
        binary or count endpoint, ...), each with its key path in ``Problem.column``.
    """
    out = ProblemCollector(file)
    check_texts(raw, TEXT_KINDS, out)
    top = _table(dict(raw), "", _TOP, out)
    st = _table(top.get("study", {}), "study", _STUDY, out)
    if "id" in st and not SLUG.match(st["id"]):
        out.add(Rule.INVALID_VALUE, "study.id", f"`study.id` must be a slug; got {st['id']!r}.", st["id"])
    alpha = float(st.get("alpha", 0.05))
    if not 0 < alpha < 1:
        out.add(Rule.INVALID_VALUE, "study.alpha", f"`study.alpha` must be in (0, 1); got {alpha!r}.", alpha)
    arms, control = _parse_arms(top.get("arms", {}), out)
    visits, baseline, primary = _parse_visits(top.get("visits", {}), out)
    visit_labels = _text_table(top.get("visits", {}).get("labels", {}), "visits.labels", visits, out)
    for arm in arms:
        if arm.dropout and len(visits) < 2:
            out.add(
                Rule.INVALID_VALUE,
                f"arms.{arm.id}.dropout",
                "a dropout needs a visit after the first one to miss.",
                arm.dropout,
            )
    arms = tuple(_with_dropout_by_visit(arm, top["arms"][arm.id], visits, out) for arm in arms)
    subject = _table(top.get("data", {}), "data", _DATA, out).get("subject", "subject_id")
    covariates = tuple(
        c for name, c_raw in top.get("covariates", {}).items() if (c := _parse_covariate(name, c_raw, out)) is not None
    )
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
        out.add(
            Rule.INVALID_VALUE,
            "endpoints",
            f"column {dup!r} would be made twice (subject, covariate and endpoint_visit names must all differ).",
            dup,
        )
    out.raise_if_any()
    return Design(
        study_id=st["id"],
        title=st.get("title", st["id"]),
        control=control,
        arms=arms,
        visits=visits,
        primary_visit=primary,
        endpoints=tuple(endpoints),
        baseline=baseline,
        alpha=alpha,
        subject=subject,
        covariates=covariates,
        source=file,
        study_text=tuple((k, st[k]) for k in STUDY_TEXT_KEYS if k in st),
        visit_labels=visit_labels,
    )


def _text_table(raw: Any, key: str, allowed: tuple[str, ...], out: ProblemCollector) -> tuple[tuple[str, str], ...]:
    """Read a table of id = "label" whose ids must be ``allowed``."""
    if not isinstance(raw, dict):
        return ()  # the schema check has named the wrong type
    pairs = []
    for name, label in raw.items():
        if not isinstance(label, str) or not label.strip():
            out.add(
                Rule.INVALID_VALUE, f"{key}.{name}", f"`{key}.{name}` must be non-blank text; got {label!r}.", label
            )
        elif name not in allowed:
            out.add(Rule.INVALID_VALUE, f"{key}.{name}", f"`{key}` labels {name!r}, which is not declared.", name)
        else:
            pairs.append((str(name), label.strip()))
    return tuple(pairs)


def _parse_arms(raw: Any, out: ProblemCollector) -> tuple[tuple[ArmDesign, ...], str]:
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, "arms", "`arms` must be a table.")
        return (), ""
    arms = []
    for key, value in raw.items():
        if key == "control":
            continue
        if not isinstance(value, dict):
            out.add(
                Rule.UNKNOWN_KEY,
                f"arms.{key}",
                f"unknown key `arms.{key}`"
                f"{did_you_mean(key, ['control'])}; `[arms]` holds `control` and one table per arm.",
            )
            continue
        path = f"arms.{key}"
        if not SLUG.match(key):
            out.add(Rule.INVALID_VALUE, path, f"arm id {key!r} must be a slug (it names a file).", key)
        t = _table(value, path, _ARM, out)
        n, dropout = t.get("n"), t.get("dropout", 0)
        if n is not None and n < 2:
            out.add(Rule.INVALID_VALUE, f"{path}.n", f"`{path}.n` must be at least 2; got {n}.", n)
        elif n is not None and n > SIMULATE_SUBJECTS_PER_ARM:
            out.add(
                Rule.TOO_LARGE,
                f"{path}.n",
                f"`{path}.n` must be at most {SIMULATE_SUBJECTS_PER_ARM:,} subjects per arm "
                f"(SIMULATE_SUBJECTS_PER_ARM, docs/limits.md); got {n:,}.",
                n,
            )
            n = None  # nothing is ever drawn for it
        if dropout < 0 or (n is not None and dropout > n):
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.dropout",
                f"`{path}.dropout` must be between 0 and n = {n}; got {dropout}.",
                dropout,
            )
        prefix = t.get("prefix", key.upper())
        if not prefix:
            out.add(Rule.INVALID_VALUE, f"{path}.prefix", f"`{path}.prefix` must not be empty.")
        arms.append(ArmDesign(key, n or 0, dropout, prefix, label=t.get("label", "").strip()))
    prefixes = [a.prefix for a in arms]
    for dup in sorted({p for p in prefixes if prefixes.count(p) > 1}):
        out.add(Rule.INVALID_VALUE, "arms", f"subject id prefix {dup!r} is used by two arms.", dup)
    control = raw.get("control")
    ids = [a.id for a in arms]
    if control is None:
        out.add(Rule.MISSING_KEY, "arms.control", "required key `arms.control` is missing.")
    elif not isinstance(control, str) or control not in ids:
        out.add(
            Rule.INVALID_VALUE,
            "arms.control",
            f"`arms.control` = {control!r} is not a declared "
            f"arm{did_you_mean(str(control), ids)}; arms: {', '.join(ids)}.",
            control,
        )
    if len(arms) < 2:
        out.add(Rule.INVALID_VALUE, "arms", "a trial needs at least two arm tables, e.g. [arms.placebo].")
    return tuple(arms), control if isinstance(control, str) else ""


def _with_dropout_by_visit(
    arm: ArmDesign, raw: Mapping[str, Any], visits: tuple[str, ...], out: ProblemCollector
) -> ArmDesign:
    """Return ``arm`` with its ``dropout_by_visit`` read from its raw table (``arm`` itself without the key).

    The table maps visits after the first to the cumulative probability of having left by then,
    each in [0, 1) and non-decreasing along ``visits.order``; a visit it does not name keeps the
    value of the visit before it (0 before the first one named).
    """
    table = raw.get("dropout_by_visit")
    if not isinstance(table, dict):
        return arm  # absent, or a wrong type the schema check has named
    key = f"arms.{arm.id}.dropout_by_visit"
    ok = "dropout" not in raw
    if not ok:
        out.add(
            Rule.INVALID_VALUE,
            key,
            f"`arms.{arm.id}.dropout` and `{key}` cannot both be given: give the subjects lost after the "
            "first visit (`dropout`) or the probability of having left by each visit (`dropout_by_visit`).",
        )
    if not visits:
        return arm  # no usable `visits.order`: already reported
    if len(visits) < 2:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` needs a visit after the first one to miss.")
        return arm
    if not table:
        out.add(
            Rule.INVALID_VALUE,
            key,
            f"`{key}` must name at least one visit after the first: {{ {visits[1]} = <probability>, ... }}.",
        )
        return arm
    for v, p in table.items():
        path = f"{key}.{v}"
        if v == visits[0]:
            out.add(
                Rule.INVALID_VALUE,
                path,
                f"`{path}`: every subject is seen at the first visit {v!r}; name only later visits.",
                p if is_number(p) else None,
            )
        elif v not in visits:
            out.add(Rule.UNKNOWN_KEY, path, f"`{path}` names no visit in `visits.order`{did_you_mean(v, visits)}.")
        elif not (is_number(p) and 0 <= p < 1):
            out.add(
                Rule.INVALID_VALUE,
                path,
                f"`{path}` must be a probability in [0, 1) (of having left the trial by that visit; "
                f"1 would lose every subject); got {p!r}.",
                p if is_number(p) else None,
            )
    if any(v not in visits[1:] or not (is_number(p) and 0 <= p < 1) for v, p in table.items()):
        return arm
    cumulative, previous, previous_visit = [0.0], 0.0, None
    for v in visits[1:]:
        p = float(table.get(v, previous))
        if p < previous:
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.{v}",
                f"`{key}.{v}` = {p:g} is below `{key}.{previous_visit}` = {previous:g}: the probability of "
                "having left by a visit cannot decrease along `visits.order`.",
                p,
            )
            ok = False
        if v in table:
            previous, previous_visit = p, v
        cumulative.append(p)
    return replace(arm, dropout_by_visit=tuple(cumulative)) if ok else arm


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
        if len(props) != len(levels) or not all(is_number(p) and p >= 0 for p in props) or abs(sum(props) - 1) > 1e-6:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.proportions",
                f"`{path}.proportions` must hold one "
                f"non-negative number per level ({len(levels)}) summing to 1; got {props!r}.",
                props,
            )
            return None
        total = float(sum(props))
        return CovariateDesign(
            name,
            kind,
            levels=levels,
            proportions=tuple(p / total for p in props),
            allocation=allocation,
            label=t.get("label", "").strip(),
            level_labels=_text_table(t.get("level_labels", {}), f"{path}.level_labels", levels, out),
        )
    t = _table(raw, path, _NUMERIC, out)
    if "mean" not in t or "sd" not in t:
        return None
    mean, sd = float(t["mean"]), float(t["sd"])
    rng = _interval(t["range"], f"{path}.range", out) if "range" in t else None
    if not math.isfinite(mean):
        out.add(Rule.INVALID_VALUE, f"{path}.mean", f"`{path}.mean` must be a finite number; got {mean!r}.", mean)
    elif not (math.isfinite(sd) and sd >= 0):
        out.add(Rule.INVALID_VALUE, f"{path}.sd", f"`{path}.sd` must be a finite number >= 0; got {sd!r}.", sd)
    elif rng is not None and normal_mass(mean, sd, rng) < _MIN_TRUNCATED_MASS:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.range",
            f"`{path}.range` {list(rng)} keeps almost none of "
            f"normal({mean:g}, {sd:g}); move the mean or widen the range.",
            list(rng),
        )
    decimals = t.get("decimals", 1)
    if not 0 <= decimals <= 12:
        out.add(Rule.INVALID_VALUE, f"{path}.decimals", f"`{path}.decimals` must be 0..12.", decimals)
    return CovariateDesign(
        name,
        kind,
        mean=mean,
        sd=sd,
        range=rng,
        integer=t.get("integer", False),
        decimals=decimals,
        label=t.get("label", "").strip(),
        unit=t.get("unit", ""),
    )


def _parse_endpoint(
    raw: Any, path: str, arms: tuple[str, ...], visits: tuple[str, ...], baseline: str | None, out: ProblemCollector
) -> EndpointDesign | None:
    kind = raw.get("type", "continuous") if isinstance(raw, dict) else "continuous"
    if kind == "continuous" or not isinstance(kind, str):
        return _parse_continuous(raw, path, arms, visits, baseline, out)
    if choice(kind, ENDPOINT_TYPES, f"{path}.type", out) is None:
        return None  # the keys to expect depend on the type: nothing more to check
    kept = {}
    for key, value in raw.items():
        why = _NOT_FOR[kind].get(key)
        if why is None:
            kept[key] = value
        else:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.{key}",
                f"`{path}.{key}` is not for a {kind} endpoint: {why}.",
                value if isinstance(value, (int, float, str)) else None,
            )
    if kind == "binary":
        return _parse_binary(kept, path, arms, visits, out)
    return _parse_count(kept, path, arms, visits, baseline, out)


def _parse_binary(
    raw: dict[str, Any], path: str, arms: tuple[str, ...], visits: tuple[str, ...], out: ProblemCollector
) -> EndpointDesign | None:
    t = _table(raw, path, _BINARY, out)
    eid = _endpoint_id(t, path, out)
    rules = endpoint_rules(t, path, out, finite=True)
    corr = _parse_correlation(t.get("correlation"), f"{path}.correlation", len(visits), out)
    probability = _arm_visit_numbers(t.get("probability"), f"{path}.probability", arms, visits, out)
    for arm, values in (probability or {}).items():
        for v, p in zip(visits, values, strict=True):
            if not 0 < p < 1:
                key = f"{path}.probability.{arm}.{v}"
                out.add(Rule.INVALID_VALUE, key, f"`{key}` must be in (0, 1) (an event probability); got {p:g}.", p)
    success, failure = _binary_labels(t, path, out)
    if not eid or corr is None or probability is None or rules.better is None or success is None or failure is None:
        return None
    return EndpointDesign(
        id=eid,
        label=t.get("label", eid),
        mean={},
        sd={},
        correlation=corr,
        unit=t.get("unit", ""),
        better=rules.better,
        primary=t.get("primary", False),
        decimals=0,
        type="binary",
        probability=probability,
        success=success,
        failure=failure,
    )


def _binary_labels(t: Mapping[str, Any], path: str, out: ProblemCollector) -> tuple[str | int | None, str | int | None]:
    """Read ``success`` and ``failure`` (default 1 and 0): two different texts, or two whole numbers."""
    labels: list[str | int | None] = []
    for key, default in (("success", 1), ("failure", 0)):
        value = t.get(key, default)
        key_path = f"{path}.{key}"
        if isinstance(value, str):
            if value in _MISSING_TOKENS or value != value.strip() or _as_number(value) is not None:
                out.add(
                    Rule.INVALID_VALUE,
                    key_path,
                    f"`{key_path}` must be text that a data file does not read as a number or as missing "
                    f"({', '.join(map(repr, _MISSING_TOKENS))}), without surrounding spaces (write a number "
                    f"as a number); got {value!r}.",
                    value,
                )
                value = None
        elif not (is_number(value) and float(value).is_integer()):
            out.add(Rule.INVALID_VALUE, key_path, f"`{key_path}` must be text or a whole number; got {value!r}.", value)
            value = None
        else:
            value = int(value)
        labels.append(value)
    success, failure = labels
    if success is None or failure is None:
        return None, None
    if isinstance(success, str) != isinstance(failure, str):
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.failure" if "failure" in t else f"{path}.success",
            f"`{path}.success` = {success!r} and `{path}.failure` = {failure!r} must both be text or both "
            f"be numbers{'' if 'failure' in t else ' (give `failure` with a text `success`)'}.",
        )
        return None, None
    if success == failure:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.failure",
            f"`{path}.success` and `{path}.failure` must differ; both are {success!r}.",
            success,
        )
        return None, None
    return success, failure


def _as_number(text: str) -> float | None:
    """``text`` read as a number, as a CSV reader would; None when it is not one."""
    try:
        return float(text)
    except ValueError:
        return None


def _parse_count(
    raw: dict[str, Any],
    path: str,
    arms: tuple[str, ...],
    visits: tuple[str, ...],
    baseline: str | None,
    out: ProblemCollector,
) -> EndpointDesign | None:
    t = _table(raw, path, _COUNT, out)
    eid = _endpoint_id(t, path, out)
    rules = endpoint_rules(t, path, out, finite=True)
    corr = _parse_correlation(t.get("correlation"), f"{path}.correlation", len(visits), out)
    rate = _arm_visit_numbers(t.get("rate"), f"{path}.rate", arms, visits, out)
    for arm, values in (rate or {}).items():
        for v, r in zip(visits, values, strict=True):
            if not r > 0:
                key = f"{path}.rate.{arm}.{v}"
                out.add(Rule.INVALID_VALUE, key, f"`{key}` must be > 0 (events per unit of exposure); got {r:g}.", r)
    dispersion = t.get("dispersion", 0.0)
    if not (is_number(dispersion) and dispersion >= 0):
        key = f"{path}.dispersion"
        out.add(
            Rule.INVALID_VALUE,
            key,
            f"`{key}` must be a finite number >= 0 (the negative binomial 1/theta; 0 for Poisson); got {dispersion!r}.",
            dispersion,
        )
        dispersion = None
    exposure = _exposure(t["exposure"], f"{path}.exposure", visits, out) if "exposure" in t else ()
    if "exposure_unit" in t and "exposure" not in t:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.exposure_unit",
            f"`{path}.exposure_unit` needs `{path}.exposure` (the time at risk of each visit in that unit).",
            t["exposure_unit"],
        )
    count_baseline = None
    if "count_baseline" in t:
        key = f"{path}.count_baseline"
        count_baseline = choice(t["count_baseline"], COUNT_BASELINES, key, out)
        if baseline is None:
            out.add(
                Rule.INVALID_VALUE, key, f"`{key}` needs `visits.baseline` (it says how the baseline count enters)."
            )
    if not eid or corr is None or rate is None or rules.better is None or dispersion is None or exposure is None:
        return None
    return EndpointDesign(
        id=eid,
        label=t.get("label", eid),
        mean={},
        sd={},
        correlation=corr,
        unit=t.get("unit", ""),
        integer=True,
        better=rules.better,
        primary=t.get("primary", False),
        responder_change=rules.responder_change,
        decimals=0,
        type="count",
        rate=rate,
        dispersion=float(dispersion),
        exposure=exposure,
        exposure_unit=t.get("exposure_unit", ""),
        count_baseline=count_baseline,
    )


def _exposure(
    raw: Mapping[str, Any], key: str, visits: tuple[str, ...], out: ProblemCollector
) -> tuple[tuple[str, float], ...] | None:
    """``{visit: length}`` for every visit -> ``((visit, length), ...)`` in visit order; None when wrong."""
    if not visits:
        return None  # no usable `visits.order`: already reported
    ok = True
    for v in raw:
        if v not in visits:
            out.add(
                Rule.UNKNOWN_KEY,
                f"{key}.{v}",
                f"`{key}.{v}` names no visit in `visits.order`{did_you_mean(v, visits)}.",
            )
            ok = False
    result = []
    for v in visits:
        length = raw.get(v)
        if length is None:
            out.add(
                Rule.MISSING_KEY,
                f"{key}.{v}",
                f"required key `{key}.{v}` is missing (`{key}` gives the time at risk of every visit).",
            )
            ok = False
        elif not (is_number(length) and length > 0):
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.{v}",
                f"`{key}.{v}` must be a finite number > 0 (the time at risk of that visit); got {length!r}.",
                length,
            )
            ok = False
        else:
            result.append((v, float(length)))
    return tuple(result) if ok else None


def _endpoint_id(t: Mapping[str, Any], path: str, out: ProblemCollector) -> str:
    eid: str = t.get("id", "")
    if eid and not SLUG.match(eid):
        out.add(Rule.INVALID_VALUE, f"{path}.id", f"`{path}.id` must be a slug; got {eid!r}.", eid)
    return eid


def _parse_continuous(
    raw: Any, path: str, arms: tuple[str, ...], visits: tuple[str, ...], baseline: str | None, out: ProblemCollector
) -> EndpointDesign | None:
    t = _table(raw, path, _ENDPOINT, out)
    eid = _endpoint_id(t, path, out)
    rules = endpoint_rules(t, path, out, finite=True)
    rng, better, scale, responder = rules.range, rules.better, rules.scale, rules.responder_change
    integer = t.get("integer", False)
    decimals = t.get("decimals", 0 if integer else 2)
    if not 0 <= decimals <= 12 or (integer and decimals != 0):
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.decimals",
            f"`{path}.decimals` must be 0..12, and 0 for an integer score; got {decimals}.",
            decimals,
        )
    corr = _parse_correlation(t.get("correlation"), f"{path}.correlation", len(visits), out)
    mean = _arm_visit_numbers(t.get("mean"), f"{path}.mean", arms, visits, out)
    sd = _arm_visit_numbers(t.get("sd"), f"{path}.sd", arms, visits, out)
    for arm, values in (sd or {}).items():
        for v, s in zip(visits, values, strict=True):
            if s < 0:
                out.add(
                    Rule.INVALID_VALUE,
                    f"{path}.sd.{arm}.{v}",
                    f"`{path}.sd.{arm}.{v}` must be >= 0 (a standard deviation); got {s:g}.",
                    s,
                )
    for arm, values in (mean or {}).items():
        for v, m in zip(visits, values, strict=True):
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
                loc, sc = model_params(mean[arm][0], sd[arm][0], scale or "linear")
                a, b = z_bounds(window, float(loc), float(sc), scale or "linear")
                if ndtr(b) - ndtr(a) < _MIN_TRUNCATED_MASS:
                    out.add(
                        Rule.INVALID_VALUE,
                        f"{path}.baseline_range",
                        f"`{path}.baseline_range` {list(window)} keeps almost none of the baseline "
                        f"distribution of arm {arm!r}; move the baseline mean or widen the window.",
                    )
    if not eid or corr is None or mean is None or sd is None or better is None or scale is None:
        return None
    return EndpointDesign(
        id=eid,
        label=t.get("label", eid),
        mean=mean,
        sd=sd,
        correlation=corr,
        unit=t.get("unit", ""),
        range=rng,
        integer=integer,
        better=better,
        scale=scale,
        primary=t.get("primary", False),
        responder_change=responder,
        decimals=decimals,
        baseline_range=window,
    )


def _parse_correlation(raw: Any, key: str, k: int, out: ProblemCollector) -> tuple[tuple[float, ...], ...] | None:
    if k == 0:
        return None  # no usable `visits.order`: already reported
    if raw is None:
        if k > 1:
            out.add(
                Rule.MISSING_KEY,
                key,
                f"required key `{key}` is missing (the correlation between "
                "a subject's visits: one number or a matrix).",
            )
            return None
        return ((1.0,),)
    if is_number(raw):
        if not -1 < raw < 1:
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must be in (-1, 1); got {raw!r}.", raw)
            return None
        matrix = np.full((k, k), float(raw))
        np.fill_diagonal(matrix, 1.0)
    else:
        ok = (
            isinstance(raw, list)
            and len(raw) == k
            and all(isinstance(row, list) and len(row) == k and all(map(is_number, row)) for row in raw)
        )
        if not ok:
            out.add(
                Rule.WRONG_TYPE,
                key,
                f"`{key}` must be a number or a {k} x {k} matrix (one row per visit); got {raw!r}.",
                raw,
            )
            return None
        matrix = np.asarray(raw, dtype=float)
        off = matrix[~np.eye(k, dtype=bool)]
        if not np.allclose(np.diag(matrix), 1.0) or not np.array_equal(matrix, matrix.T) or np.any(np.abs(off) >= 1):
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`{key}` must be symmetric with 1 on the diagonal and entries in (-1, 1) elsewhere.",
                raw,
            )
            return None
    smallest = float(np.linalg.eigvalsh(matrix).min())
    if smallest <= 1e-10:
        out.add(
            Rule.INVALID_VALUE,
            key,
            f"`{key}` is not positive definite (smallest eigenvalue "
            f"{smallest:.3g}); no set of visits can have these correlations.",
            raw,
        )
        return None
    return tuple(tuple(float(x) for x in row) for row in matrix)


def _arm_visit_numbers(
    raw: Any, key: str, arms: tuple[str, ...], visits: tuple[str, ...], out: ProblemCollector
) -> dict[str, tuple[float, ...]] | None:
    """``{arm: {visit: number}}`` -> ``{arm: (number per visit in order)}``; None when incomplete."""
    if raw is None or not visits:
        return None  # absent or wrongly typed table, or no usable visits: already reported
    complete, result = True, {}
    for arm in raw:
        if arm not in arms:
            out.add(
                Rule.UNKNOWN_KEY,
                f"{key}.{arm}",
                f"`{key}.{arm}` names no declared arm{did_you_mean(arm, arms)}; arms: {', '.join(arms)}.",
            )
    for arm in arms:
        per = raw.get(arm)
        if not isinstance(per, dict):
            rule, what = (Rule.MISSING_KEY, "is missing") if per is None else (Rule.WRONG_TYPE, "is not a table")
            out.add(
                rule,
                f"{key}.{arm}",
                f"`{key}.{arm}` {what}: give one number per visit, {{ {', '.join(f'{v} = ...' for v in visits)} }}.",
            )
            complete = False
            continue
        for v in per:
            if v not in visits:
                out.add(
                    Rule.UNKNOWN_KEY,
                    f"{key}.{arm}.{v}",
                    f"`{key}.{arm}.{v}` names no visit in `visits.order`{did_you_mean(v, visits)}.",
                )
        values = []
        for v in visits:
            x = per.get(v)
            if x is None:
                out.add(Rule.MISSING_KEY, f"{key}.{arm}.{v}", f"required key `{key}.{arm}.{v}` is missing.")
            elif not is_number(x):
                out.add(
                    Rule.WRONG_TYPE, f"{key}.{arm}.{v}", f"`{key}.{arm}.{v}` must be a finite number; got {x!r}.", x
                )
            else:
                values.append(float(x))
        complete &= len(values) == len(visits)
        result[arm] = tuple(values)
    return result if complete and arms else None
