"""Study spec: TOML in, frozen dataclasses out.

The keys and their rules are documented in ``docs/spec.md``. :func:`parse_spec` checks every
key and collects every problem (unknown keys with the closest valid name, wrong types, inconsistent
values) before raising one :class:`~trialkit.ValidationError`. Nothing downstream reads raw TOML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from trialkit._errors import Rule, did_you_mean
from trialkit._labels import default_label
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
    string_list,
)
from trialkit._texts import TextKinds, check_texts
from trialkit._toml import read_toml

__all__ = [
    "AnalysisOptions",
    "ArmsSpec",
    "COUNT_BASELINES",
    "Covariate",
    "DataSpec",
    "DataFormat",
    "ENDPOINT_TYPES",
    "Endpoint",
    "EndpointRules",
    "MARGINAL_VARIANCES",
    "MISSING_DATA_METHODS",
    "MI_IMPUTATION_METHODS",
    "MMRMOptions",
    "MissingDataOptions",
    "Multiplicity",
    "Population",
    "PrimaryAnalysis",
    "SUMMARIES",
    "StudyInfo",
    "StudySpec",
    "TwoValued",
    "VisitsSpec",
    "endpoint_rules",
    "parse_spec",
    "read_spec",
]


class DataFormat(StrEnum):
    """How records are laid out in the data file(s)."""

    WIDE = "wide"
    LONG = "long"
    ADAM = "adam"


class Population(StrEnum):
    """Analysis populations: every randomised subject, or those observed at every follow-up."""

    FAS = "fas"
    COMPLETERS = "completers"


class Multiplicity(StrEnum):
    """Multiplicity adjustments over secondary endpoints."""

    HOLM = "holm"
    HOCHBERG = "hochberg"
    BONFERRONI = "bonferroni"
    BH = "bh"
    FIXED_SEQUENCE = "fixed_sequence"
    NONE = "none"


class PrimaryAnalysis(StrEnum):
    """Which analysis is primary: its rows are the report's headline and the multiplicity family."""

    ANCOVA = "ancova"
    MMRM = "mmrm"


class TwoValued(StrEnum):
    """Where LS means hold a numeric covariate with two distinct values (docs/analyses.md)."""

    MEAN = "mean"  # at its mean, like every numeric covariate (SAS LSMEANS; emmeans cov.keep = 0)
    LEVELS = "levels"  # at both values, predictions averaged with equal weights (emmeans' default)


@dataclass(frozen=True)
class StudyInfo:
    """``[study]``: what the trial is, for the report's summary; ``synthetic`` marks generated data."""

    id: str
    title: str = ""
    alpha: float = 0.05
    registration: str = ""
    blinding: str = ""
    intervention: str = ""
    duration: str = ""
    synthetic: bool = False


@dataclass(frozen=True)
class ArmsSpec:
    """Arms of the trial. ``levels`` is the declared arm codes, control first when not given."""

    control: str
    levels: tuple[str, ...]
    column: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, arm: str) -> str:
        """Return the reader's name of an arm: its ``[arms] labels`` entry, else words made from the id."""
        return dict(self.labels).get(arm) or default_label(arm)


@dataclass(frozen=True)
class VisitsSpec:
    order: tuple[str, ...]
    primary: str
    baseline: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, visit: str) -> str:
        """Return the reader's name of a visit: its ``[visits] labels`` entry, else words made from the id."""
        return dict(self.labels).get(visit) or default_label(visit)

    @property
    def post_baseline(self) -> tuple[str, ...]:
        return tuple(v for v in self.order if v != self.baseline)


@dataclass(frozen=True)
class Endpoint:
    """One outcome variable and the rules its values obey.

    ``responder_change`` is the change-from-baseline threshold: a subject responds when change
    <= threshold for a negative threshold and >= threshold for a positive one;
    ``responder_percent`` the same on the percent change 100·(follow-up − baseline)/baseline.
    ``code`` is the value identifying the endpoint in long and ADaM files (default: ``id``).

    ``mcid`` is the minimal clinically important difference between arms, a positive size in
    ``unit`` (its direction is ``better``); ``summary`` how Table 1 shows the endpoint.

    ``type`` is one of :data:`ENDPOINT_TYPES`. A binary endpoint's values are 1 (event) and 0 after
    loading; ``success`` is the value in the file that counts as the event (None: 1). A count
    endpoint's ``exposure`` is the time at risk per visit (``exposure_unit``), or
    ``exposure_column`` the subject-level column holding it; ``count_baseline`` is how the
    baseline count enters its models (:data:`COUNT_BASELINES`).
    """

    id: str
    label: str
    unit: str = ""
    range: tuple[float, float] | None = None
    integer: bool = False
    better: str = "higher"
    scale: str = "linear"
    primary: bool = False
    responder_change: float | None = None
    code: str = ""
    type: str = "continuous"
    success: str | float | None = None
    exposure: tuple[tuple[str, float], ...] = ()
    exposure_unit: str = ""
    exposure_column: str | None = None
    count_baseline: str = "log"
    responder_percent: float | None = None
    summary: str = ""
    mcid: float | None = None

    @property
    def table1_summary(self) -> str:
        """Return how Table 1 summarises the endpoint (:data:`SUMMARIES`): the spec's, else by its scale."""
        return self.summary or ("geometric" if self.scale == "log" else "mean")

    @property
    def file_code(self) -> str:
        return self.code or self.id

    def exposure_column_at(self, visit: str, baseline: str | None) -> str | None:
        """Return the subject-level column holding the time at risk at ``visit``, or None when it is per visit.

        ``exposure_column`` gives the time at risk of every post-baseline visit; the baseline visit's is
        always ``exposure`` (:meth:`exposure_length`).
        """
        return self.exposure_column if self.exposure_column is not None and visit != baseline else None

    def exposure_length(self, visit: str) -> float:
        """Return the time at risk of ``visit`` every subject shares (``exposure``; 1 when the spec gives none)."""
        return dict(self.exposure).get(visit, 1.0)


#: how Table 1 summarises a variable: mean (SD), median [IQR], geometric mean (geometric SD)
SUMMARIES = ("mean", "median", "geometric")


@dataclass(frozen=True)
class Covariate:
    """``[covariates.NAME]``: how a baseline covariate is named and, when categorical, which values it takes.

    ``levels`` (categorical covariates only) are the allowed values in the order Table 1 lists them;
    None accepts any value. ``summary`` is one of :data:`SUMMARIES` (numeric covariates).
    """

    name: str
    label: str
    unit: str = ""
    levels: tuple[str, ...] | None = None
    level_labels: tuple[tuple[str, str], ...] = ()
    summary: str = "mean"

    def level_label(self, level: str) -> str:
        """Return the reader's name of a category level: its ``level_labels`` entry, else words from the value."""
        return dict(self.level_labels).get(level) or default_label(str(level))


#: ``[[endpoints]] type``: what kind of values an endpoint has
ENDPOINT_TYPES = ("continuous", "binary", "count")
#: ``[[endpoints]] count_baseline``: the baseline count as log(count), log(count + 1) or the count
COUNT_BASELINES = ("log", "log1p", "raw")
#: ``[analysis] marginal_variance``: the variance of a standardised (marginal) binary effect
MARGINAL_VARIANCES = ("ye", "ge")


@dataclass(frozen=True)
class MMRMOptions:
    """``[analysis] mmrm``: the pre-specified mixed model for repeated measures.

    ``covariance`` is the SAS ``TYPE=`` name (a long name of the spec is normalised to it),
    ``df`` the denominator degrees of freedom (SAS ``DDFM=``). ``baseline`` is ``"covariate"``
    (the baseline value adjusts the post-baseline visits) or ``"response"`` (the baseline visit is
    a response with no arm difference there, constrained longitudinal data analysis: every
    randomised subject with any value enters).
    """

    covariance: str = "us"
    df: str = "satterthwaite"
    group_by_arm: bool = False
    empirical: bool = False
    baseline: str = "covariate"


#: the imputation methods of ``[analysis.missing_data] methods`` (also their result ids)
MI_IMPUTATION_METHODS = ("mi_mar", "mi_j2r", "mi_cr")
#: every missing-data analysis of ``[analysis.missing_data] methods``, in the order results list them
MISSING_DATA_METHODS = (*MI_IMPUTATION_METHODS, "tipping_point")


@dataclass(frozen=True)
class MissingDataOptions:
    """``[analysis.missing_data]``: the pre-specified multiple-imputation analyses (docs/missing-data.md).

    ``methods`` are result ids (``mi_mar``, ``mi_j2r``, ``mi_cr``, ``tipping_point``);
    ``deltas`` the tipping-point shifts on the analysis scale for every endpoint (None: the
    default grid), ``deltas_by_endpoint`` the grids of the endpoints that have their own;
    ``reference`` the reference arm of J2R and CR (None: the control arm).
    """

    methods: tuple[str, ...] = MISSING_DATA_METHODS
    imputations: int = 100
    seed: int = 20121104
    burn_in: int = 200
    deltas: tuple[float, ...] | None = None
    reference: str | None = None
    deltas_by_endpoint: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def deltas_for(self, endpoint: str) -> tuple[float, ...] | None:
        """Return the tipping-point grid of ``endpoint``: its own, else the common one (None: the default)."""
        return dict(self.deltas_by_endpoint).get(endpoint, self.deltas)


@dataclass(frozen=True)
class AnalysisOptions:
    covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    multiplicity: Multiplicity = Multiplicity.HOLM
    mmrm: MMRMOptions | None = None
    missing_data: MissingDataOptions | None = None
    primary: PrimaryAnalysis = PrimaryAnalysis.ANCOVA
    populations: tuple[Population, ...] = (Population.FAS,)
    table1_p_values: bool = False
    two_valued_covariates: TwoValued = TwoValued.MEAN
    strata: tuple[str, ...] = ()
    dunnett: bool = False
    marginal_variance: str = "ye"
    prespecified: bool = False


@dataclass(frozen=True)
class DataSpec:
    """Where the data are and how they are laid out.

    Exactly one of ``path`` (one file, arm in ``[arms].column``) and ``files`` (one file per arm,
    keyed by arm code) is set. Paths are absolute (resolved against the spec's folder).
    """

    format: DataFormat
    subject: str
    path: Path | None = None
    files: tuple[tuple[str, Path], ...] = ()
    pattern: str | None = None
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    visit: str | None = None
    endpoint: str | None = None
    value: str | None = None
    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8-sig"
    sheet: str | int = 0
    missing: tuple[str, ...] = ("", "NA", ".")
    #: the column of each subject's reason for discontinuing (None: a column ``discontinuation_reason`` when present)
    discontinuation_reason: str | None = None

    @property
    def sources(self) -> tuple[tuple[str | None, Path], ...]:
        """(arm or None, path) for every data file."""
        if self.path is not None:
            return ((None, self.path),)
        return self.files


@dataclass(frozen=True)
class StudySpec:
    """A parsed, checked study spec (the TOML keys: ``docs/spec.md``).

    Attributes
    ----------
    study, arms, visits : StudyInfo, ArmsSpec, VisitsSpec
        ``[study]``, ``[arms]`` (control first in ``levels``) and ``[visits]``.
    endpoints : tuple of Endpoint
        ``[[endpoints]]`` in spec order; exactly one is primary.
    analysis : AnalysisOptions
        ``[analysis]``: covariates, multiplicity, populations, the MMRM and which analysis is primary.
    data : DataSpec
        ``[data]``, with paths resolved against the spec's folder.
    source : Path or None
        The file the spec was read from.
    """

    study: StudyInfo
    arms: ArmsSpec
    visits: VisitsSpec
    endpoints: tuple[Endpoint, ...]
    analysis: AnalysisOptions
    data: DataSpec
    source: Path | None = None
    covariates: tuple[Covariate, ...] = ()

    @property
    def primary_endpoint(self) -> Endpoint:
        return next(e for e in self.endpoints if e.primary)

    def covariate(self, name: str) -> Covariate:
        """Return the ``[covariates.NAME]`` entry of a covariate, or one with the default label when there is none."""
        for c in self.covariates:
            if c.name == name:
                return c
        return Covariate(name=name, label=default_label(name))

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for e in self.endpoints:
            if e.id == endpoint_id:
                return e
        raise KeyError(endpoint_id)


# ---------------------------------------------------------------------------------------------
# The schema, as data: section -> key -> (accepted types, required)

_SCHEMA: dict[str, Schema] = {
    "study": {
        "id": (STR, True),
        "title": (STR, False),
        "alpha": (NUM, False),
        "registration": (STR, False),
        "blinding": (STR, False),
        "intervention": (STR, False),
        "duration": (STR, False),
        "synthetic": (BOOL, False),
    },
    "arms": {"column": (STR, False), "control": (STR, True), "levels": (LIST, False), "labels": (TABLE, False)},
    "visits": {"baseline": (STR, False), "order": (LIST, True), "primary": (STR, False), "labels": (TABLE, False)},
    "endpoints": {
        "id": (STR, True),
        "label": (STR, False),
        "unit": (STR, False),
        "range": (LIST, False),
        "integer": (BOOL, False),
        "better": (STR, False),
        "scale": (STR, False),
        "primary": (BOOL, False),
        "responder": (TABLE, False),
        "code": (STR, False),
        "type": (STR, False),
        "success": ((str, int, float), False),
        "exposure": (TABLE, False),
        "exposure_unit": (STR, False),
        "exposure_column": (STR, False),
        "count_baseline": (STR, False),
        "summary": (STR, False),
        "mcid": (NUM, False),
    },
    # one table per covariate, checked by _COVARIATE_SCHEMA
    "covariates": {},
    "analysis": {
        "covariates": (LIST, False),
        "categorical": (LIST, False),
        "multiplicity": ((str, list), False),
        "mmrm": (TABLE, False),
        "missing_data": (TABLE, False),
        "primary": (STR, False),
        "populations": (LIST, False),
        "table1_p_values": (BOOL, False),
        "two_valued_covariates": (STR, False),
        "strata": (LIST, False),
        "marginal_variance": (STR, False),
        "prespecified": (BOOL, False),
    },
    "data": {
        "format": (STR, True),
        "subject": (STR, False),
        "path": (STR, False),
        "files": (TABLE, False),
        "pattern": (STR, False),
        "columns": (TABLE, False),
        "visit": (STR, False),
        "endpoint": (STR, False),
        "value": (STR, False),
        "delimiter": (STR, False),
        "decimal": (STR, False),
        "encoding": (STR, False),
        "sheet": ((str, int), False),
        "missing": (LIST, False),
        "discontinuation_reason": (STR, False),
    },
}
#: the keys of one ``[covariates.NAME]`` table
_COVARIATE_SCHEMA: Schema = {
    "label": (STR, False),
    "unit": (STR, False),
    "levels": (LIST, False),
    "level_labels": (TABLE, False),
    "summary": (STR, False),
}
_REQUIRED_SECTIONS = ("study", "arms", "visits", "endpoints", "data")
#: residual covariance structures of the MMRM by SAS ``TYPE=`` name, and the spec's long names for them
MMRM_COVARIANCES = ("us", "cs", "csh", "ar1", "arh1", "toep", "toeph")
MMRM_COVARIANCE_ALIASES = {"unstructured": "us", "un": "us", "compound_symmetry": "cs", "toeplitz": "toep"}
#: denominator degrees of freedom of the MMRM (SAS ``DDFM=``)
MMRM_DF = ("satterthwaite", "kenward_roger", "residual", "between_within")
_MMRM_SCHEMA: Schema = {
    "covariance": (STR, False),
    "df": (STR, False),
    "group_by_arm": (BOOL, False),
    "empirical": (BOOL, False),
    "baseline": (STR, False),
}
_MISSING_DATA_SCHEMA: Schema = {
    "methods": (LIST, False),
    "imputations": (INT, False),
    "seed": (INT, False),
    "burn_in": (INT, False),
    "deltas": ((list, dict), False),
    "reference": (STR, False),
}
#: how the MMRM uses the baseline value
MMRM_BASELINE = ("covariate", "response")
#: which texts of a spec are ids and which labels (docs/limits.md): every other text is free text
TEXT_KINDS = TextKinds(
    ids=re.compile(
        r"study\.id|arms\.(control|levels)|visits\.(order|baseline|primary)|endpoints\[\d+\]\.(id|code)"
        r"|analysis\.(covariates|categorical|strata)|analysis\.missing_data\.reference"
    ),
    labels=re.compile(
        r"(arms|visits)\.labels\..+|endpoints\[\d+\]\.(label|unit|exposure_unit|success)"
        r"|covariates\.[^.]+\.(label|unit|levels|level_labels\..+)"
    ),
    label_keys=re.compile(r"covariates\.[^.]+\.level_labels"),
    exempt=frozenset({"data.delimiter"}),
)


@dataclass(frozen=True)
class EndpointRules:
    """What an endpoint declares about its values: the study spec's and the simulation design's alike.

    ``better`` and ``scale`` are None when the value given is not allowed (the problem is recorded).
    At most one of ``responder_change`` and ``responder_percent`` is set.
    """

    range: tuple[float, float] | None
    better: str | None
    scale: str | None
    responder_change: float | None
    responder_percent: float | None = None


#: the keys of an endpoint's ``responder`` table: a threshold on the change or on the percent change
RESPONDER_KEYS = ("change", "percent_change")


def endpoint_rules(
    t: Mapping[str, Any], path: str, out: ProblemCollector, *, finite: bool = False, percent: bool = False
) -> EndpointRules:
    """Read an endpoint's ``range``, ``better``, ``scale`` and ``responder``, with every problem recorded.

    A responder improves, so its threshold must point the way ``better`` says (and ``better`` must
    be given); a log-scale range admits no negative value. ``finite`` also refuses an infinite
    range bound (a simulation draws inside it). ``percent`` accepts ``responder.percent_change``
    (a threshold on 100·(follow-up − baseline)/baseline) as the alternative to ``change``;
    without it only ``change`` is a responder key.
    """
    rng = None
    if "range" in t:
        what = "[low, high] with low < high" if finite else "[low, high] numbers with low < high"
        rng = interval(t["range"], f"{path}.range", out, what=what, finite=finite)
    better = choice(t.get("better", "higher"), ("lower", "higher"), f"{path}.better", out)
    scale = choice(t.get("scale", "linear"), ("linear", "log"), f"{path}.scale", out)
    if scale == "log" and rng is not None and rng[0] < 0:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.range",
            f"`{path}.scale` is 'log' but the range admits negative values {rng!r}.",
        )
    thresholds: dict[str, float] = {}
    if "responder" in t:
        resp = t["responder"]
        keys = RESPONDER_KEYS if percent else RESPONDER_KEYS[:1]
        for k in sorted(set(resp) - set(keys)):
            out.add(
                Rule.UNKNOWN_KEY,
                f"{path}.responder.{k}",
                f"unknown key `{path}.responder.{k}`{did_you_mean(k, keys)}.",
            )
        given = [k for k in keys if k in resp]
        if len(given) > 1:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.responder",
                f"`{path}.responder` takes one threshold, `change` or `percent_change`; got both "
                f"(change = {resp['change']!r}, percent_change = {resp['percent_change']!r}).",
            )
        if not given and percent:
            out.add(
                Rule.MISSING_KEY,
                f"{path}.responder",
                f"`{path}.responder` needs a threshold: `change` or `percent_change`; got {resp!r}.",
            )
        for key in given or ((keys[0],) if not percent else ()):
            where = f"{path}.responder.{key}"
            c = resp.get(key)
            if not is_number(c, finite=True) or c == 0:
                out.add(Rule.INVALID_VALUE, where, f"`{where}` must be a non-zero number; got {c!r}.", c)
            elif "better" not in t:
                out.add(
                    Rule.MISSING_KEY,
                    f"{path}.better",
                    f'`{path}.responder` needs `{path}.better` ("lower" or "higher"): a responder '
                    "improves, and the spec must say which way improvement goes.",
                )
            elif better is not None and (c < 0) != (better == "lower"):
                out.add(
                    Rule.INVALID_VALUE,
                    where,
                    f"`{where}` = {c:g} counts subjects who get worse: with better = {better!r} a "
                    f"responder's {key.replace('_', ' ')} is {'negative' if better == 'lower' else 'positive'}.",
                    c,
                )
            elif len(given) == 1:
                thresholds[key] = float(c)
    return EndpointRules(rng, better, scale, thresholds.get("change"), thresholds.get("percent_change"))


#: how messages name the accepted types of ``success``
_SUCCESS_TYPES: dict[tuple[type, ...], str] = {(str, int, float): "a number or a string"}


def _parse_endpoint(raw: Any, index: int, out: ProblemCollector) -> Endpoint | None:
    path = f"endpoints[{index}]"
    t = check_table(raw, _SCHEMA["endpoints"], path, out, phrases=_SUCCESS_TYPES)
    if "id" not in t:
        return None
    eid = t["id"]
    if not SLUG.match(eid):
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.id",
            f"`{path}.id` must start with a letter and hold only letters, digits, _ or -; got {eid!r}.",
            eid,
        )
    kind = choice(t.get("type", "continuous"), ENDPOINT_TYPES, f"{path}.type", out)
    # a binary endpoint's responder is refused below, once: its threshold is not also judged
    rules = endpoint_rules(
        {k: v for k, v in t.items() if k != "responder" or kind != "binary"}, path, out, percent=True
    )
    _check_type_keys(t, kind, path, out)
    success = t.get("success")
    if kind == "binary" and success is not None:
        if isinstance(success, str) and (not success.strip() or success != success.strip()):
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.success",
                f"`{path}.success` must be the value as the data hold it, without leading or trailing "
                f"blanks (values are read stripped); got {success!r}.",
                success,
            )
        elif not isinstance(success, str) and not is_number(success):
            out.add(
                Rule.INVALID_VALUE, f"{path}.success", f"`{path}.success` must be finite; got {success!r}.", success
            )
    count_baseline = t.get("count_baseline", "log")
    if kind == "count":
        count_baseline = choice(count_baseline, COUNT_BASELINES, f"{path}.count_baseline", out) or "log"
    exposure_column = t.get("exposure_column")
    if exposure_column is not None and not exposure_column.strip():
        out.add(Rule.INVALID_VALUE, f"{path}.exposure_column", f"`{path}.exposure_column` must name a column; got ''.")
    return Endpoint(
        id=eid,
        label=t.get("label") or default_label(eid),
        unit=t.get("unit", ""),
        range=rules.range,
        integer=t.get("integer", kind == "count"),
        better=rules.better or "higher",
        scale=rules.scale or "linear",
        primary=t.get("primary", False),
        responder_change=rules.responder_change,
        code=t.get("code", ""),
        type=kind or "continuous",
        success=success if success is None or isinstance(success, str) else float(success),
        exposure=tuple((str(v), float(x)) for v, x in t.get("exposure", {}).items() if is_number(x)),
        exposure_unit=t.get("exposure_unit", ""),
        exposure_column=exposure_column,
        count_baseline=count_baseline,
        responder_percent=rules.responder_percent,
        summary=(choice(t["summary"], SUMMARIES, f"{path}.summary", out) or "") if "summary" in t else "",
        mcid=_mcid(t.get("mcid"), path, out),
    )


def _mcid(value: Any, path: str, out: ProblemCollector) -> float | None:
    """Read ``mcid``, the minimal clinically important difference: a positive size in the endpoint's unit."""
    if value is None:
        return None
    if not is_number(value) or not value > 0:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.mcid",
            f"`{path}.mcid` must be a positive number (a size in the endpoint's unit; `better` gives its "
            f"direction); got {value!r}.",
            value,
        )
        return None
    return float(value)


#: the keys that belong to one endpoint type only
_TYPE_KEYS = {
    "success": "binary",
    "exposure": "count",
    "exposure_unit": "count",
    "exposure_column": "count",
    "count_baseline": "count",
}


def _check_type_keys(t: Mapping[str, Any], kind: str | None, path: str, out: ProblemCollector) -> None:
    """Record every key that the endpoint's type has no use for, saying why."""
    if kind is None:  # an unknown type: the problem is recorded, its keys cannot be judged
        return
    for key, owner in _TYPE_KEYS.items():
        if key in t and kind != owner:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.{key}",
                f"`{path}.{key}` applies to {owner} endpoints; this one is {kind!r} "
                f'(set `{path}.type = "{owner}"` if it is one).',
                str(t[key]),
            )
    why: dict[str, str] = {}
    if kind == "binary":
        if "range" in t:
            why["range"] = "a binary endpoint's values are the success value and one other, not a range"
        if t.get("integer") is True:
            why["integer"] = "a binary endpoint's values are the success value and one other, not a scale"
        if t.get("scale") == "log":
            why["scale"] = "a binary endpoint is analysed as proportions and odds, not on the log scale"
        if "responder" in t:
            why["responder"] = "a binary endpoint is a response already (`success` says which value is one)"
    if kind == "count":
        if t.get("scale") == "log":
            why["scale"] = (
                "the count models (negative binomial, Poisson) are log-linear already and a count may be 0; "
                "rate ratios are reported"
            )
        if t.get("integer") is False:
            why["integer"] = "counts are whole numbers"
    for key, reason in why.items():
        out.add(
            Rule.INVALID_VALUE, f"{path}.{key}", f"`{path}.{key}` is not for a {kind} endpoint: {reason}.", str(t[key])
        )


def _check_exposure(raw: Any, index: int, visits: VisitsSpec, out: ProblemCollector) -> None:
    """Check a count endpoint's ``exposure`` table against the visits, and ``exposure_unit``.

    Without ``exposure_column`` every visit needs its length of time at risk; with it the column
    gives each subject's time at risk after baseline and only the baseline visit may be listed.
    """
    if not isinstance(raw, dict) or raw.get("type") != "count":
        return  # a wrong type or a non-count endpoint is reported already
    path = f"endpoints[{index}]"
    exposure, column = raw.get("exposure"), raw.get("exposure_column")
    if "exposure_unit" in raw and exposure is None and column is None:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.exposure_unit",
            f"`{path}.exposure_unit` is the unit of `{path}.exposure` or `{path}.exposure_column`, "
            "and neither is given.",
            str(raw["exposure_unit"]),
        )
    if not isinstance(exposure, dict):
        return
    for visit, length in exposure.items():
        key = f"{path}.exposure.{visit}"
        if visit not in visits.order:
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`{key}` names a visit not in `visits.order`{did_you_mean(visit, visits.order)}; "
                f"visits: {', '.join(visits.order)}.",
                visit,
            )
        elif isinstance(column, str) and visit != visits.baseline:
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`{key}`: with `{path}.exposure_column` = {column!r} the column holds each subject's time at "
                "risk after baseline; `exposure` may list only the baseline visit"
                + (f" ({visits.baseline!r})." if visits.baseline else ", and the spec has none."),
                visit,
            )
        if not is_number(length) or length <= 0:
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`{key}` must be a finite number > 0 (the time at risk); got {length!r}.",
                str(length),
            )
    if column is None:
        absent = [v for v in visits.order if v not in exposure]
        if absent:
            out.add(
                Rule.MISSING_KEY,
                f"{path}.exposure",
                f"`{path}.exposure` gives the time at risk of every visit; it lacks {', '.join(map(repr, absent))} "
                f"(or give `{path}.exposure_column`, a column of each subject's time at risk).",
            )


def parse_spec(raw: Mapping[str, Any], *, base: Path, file: str = "<spec>") -> StudySpec:
    """Check a decoded TOML mapping and build the :class:`StudySpec`.

    Parameters
    ----------
    raw : mapping
        The decoded TOML document.
    base : Path
        Folder that relative data paths are resolved against (the spec's folder).
    file : str
        Name used for the spec in problem reports.

    Raises
    ------
    ValidationError
        Listing every problem found, each with its key path.
    """
    out = ProblemCollector(file)
    check_texts(raw, TEXT_KINDS, out)
    for key in raw:
        if key not in _SCHEMA:
            out.add(
                Rule.UNKNOWN_KEY,
                key,
                f"unknown section `[{key}]`{did_you_mean(key, _SCHEMA)}; valid sections: {', '.join(_SCHEMA)}.",
            )
    for key in _REQUIRED_SECTIONS:
        if key not in raw:
            out.add(Rule.MISSING_KEY, key, f"required section `[{key}]` is missing.")

    st = check_table(raw.get("study", {}), _SCHEMA["study"], "study", out)
    study_id = st.get("id", "")
    if study_id and not SLUG.match(study_id):
        out.add(
            Rule.INVALID_VALUE,
            "study.id",
            f"`study.id` must be a slug (letters, digits, _ or -); got {study_id!r}.",
            study_id,
        )
    alpha = float(st.get("alpha", 0.05))
    if not 0 < alpha < 1:
        out.add(Rule.INVALID_VALUE, "study.alpha", f"`study.alpha` must be a number in (0, 1); got {alpha!r}.", alpha)

    raw_eps = raw.get("endpoints", [])
    endpoints: list[Endpoint] = []
    if not isinstance(raw_eps, list) or not raw_eps:
        if "endpoints" in raw:
            out.add(Rule.WRONG_TYPE, "endpoints", "`endpoints` must be one or more [[endpoints]] tables.")
    else:
        for i, e in enumerate(raw_eps):
            ep = _parse_endpoint(e, i, out)
            if ep is not None:
                endpoints.append(ep)
    ids = [e.id for e in endpoints]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        out.add(Rule.INVALID_VALUE, "endpoints", f"endpoint id {dup!r} is declared twice.", dup)
    codes = [e.file_code for e in endpoints]
    for dup in sorted({c for c in codes if codes.count(c) > 1} - {i for i in ids if ids.count(i) > 1}):
        out.add(Rule.INVALID_VALUE, "endpoints", f"endpoint code {dup!r} is used twice.", dup)
    primaries = [e.id for e in endpoints if e.primary]
    if endpoints and len(primaries) > 1:
        out.add(Rule.INVALID_VALUE, "endpoints", f"only one endpoint may be primary; got {', '.join(primaries)}.")
    if endpoints and not primaries:
        # the first endpoint is primary by default, as in a protocol's endpoint list
        endpoints[0] = _replace_primary(endpoints[0])

    vi = check_table(raw.get("visits", {}), _SCHEMA["visits"], "visits", out)
    order = string_list(vi["order"], "visits.order", out) if "order" in vi else None
    visits = None
    if order is not None:
        if not order:
            out.add(Rule.INVALID_VALUE, "visits.order", "`visits.order` must list at least one visit.")
        baseline = vi.get("baseline")
        primary_visit = vi.get("primary", order[-1] if order else "")
        for key, v in (("visits.baseline", baseline), ("visits.primary", primary_visit)):
            if v is not None and order and v not in order:
                out.add(
                    Rule.INVALID_VALUE, key, f"`{key}` = {v!r} is not in `visits.order`{did_you_mean(v, order)}.", v
                )
        if baseline is not None and primary_visit == baseline:
            out.add(
                Rule.INVALID_VALUE,
                "visits.primary",
                "`visits.primary` must be a post-baseline visit, not the baseline.",
            )
        if baseline is not None and order and order[0] != baseline:
            out.add(
                Rule.INVALID_VALUE,
                "visits.baseline",
                f"the baseline visit {baseline!r} must come first in `visits.order`.",
            )
        visits = VisitsSpec(
            order=order,
            primary=primary_visit,
            baseline=baseline,
            labels=_label_table(vi.get("labels"), "visits.labels", order, "visit in `visits.order`", out),
        )
        for i, e in enumerate(raw_eps if isinstance(raw_eps, list) else []):
            _check_exposure(e, i, visits, out)

    ar = check_table(raw.get("arms", {}), _SCHEMA["arms"], "arms", out)
    da = check_table(raw.get("data", {}), _SCHEMA["data"], "data", out)
    fmt = None
    if "format" in da:
        fmt_s = choice(da["format"], tuple(f.value for f in DataFormat), "data.format", out)
        fmt = DataFormat(fmt_s) if fmt_s else None
    files: tuple[tuple[str, Path], ...] = ()
    if "files" in da:
        bad = {k: v for k, v in da["files"].items() if not isinstance(v, str)}
        for k, v in bad.items():
            out.add(Rule.WRONG_TYPE, f"data.files.{k}", f"`data.files.{k}` must be a path string.", v)
        files = tuple((k, _resolved(base, v)) for k, v in da["files"].items() if k not in bad)
    path = _resolved(base, da["path"]) if "path" in da else None
    if path is not None and files:
        out.add(Rule.INVALID_VALUE, "data", "give either `data.path` or `[data.files]`, not both.")
    if path is None and not files and "data" in raw:
        out.add(
            Rule.MISSING_KEY,
            "data.path",
            "set `data.path` (one file with an arm column) or `[data.files]` (one file per arm).",
        )

    levels: tuple[str, ...] | None = None
    if "levels" in ar:
        levels = string_list(ar["levels"], "arms.levels", out)
    control = ar.get("control")
    arm_column = ar.get("column")
    if files:
        file_arms = tuple(k for k, _ in files)
        if levels is not None and set(levels) != set(file_arms):
            out.add(
                Rule.INVALID_VALUE,
                "arms.levels",
                f"`arms.levels` {list(levels)} differs from the arms of `[data.files]` {list(file_arms)}.",
            )
        levels = levels or file_arms
        if len(files) < 2:
            out.add(Rule.INVALID_VALUE, "data.files", "`[data.files]` needs one file per arm, at least two arms.")
    elif path is not None and fmt is not None and fmt is not DataFormat.ADAM and arm_column is None:
        out.add(
            Rule.MISSING_KEY, "arms.column", "one data file needs `arms.column`, the column holding each subject's arm."
        )
    if levels is not None and control is not None and control not in levels:
        out.add(
            Rule.INVALID_VALUE,
            "arms.control",
            f"`arms.control` = {control!r} is not a declared arm{did_you_mean(control, levels)}; "
            f"arms: {', '.join(levels)}.",
            control,
        )
    if levels is not None and len(levels) < 2:
        out.add(Rule.INVALID_VALUE, "arms.levels", "a trial needs at least two arms.")
    if levels is not None and control is not None and control in levels:
        levels = (control,) + tuple(a for a in levels if a != control)
    arm_labels = _label_table(ar.get("labels"), "arms.labels", levels, "declared arm", out)

    subject = da.get("subject", "USUBJID" if fmt is DataFormat.ADAM else None)
    if subject is None and "data" in raw:
        out.add(Rule.MISSING_KEY, "data.subject", "required key `data.subject` (the subject id column) is missing.")
    columns: dict[str, dict[str, str]] = {}
    if fmt is DataFormat.WIDE:
        if "pattern" in da and "columns" in da:
            out.add(Rule.INVALID_VALUE, "data", "give either `data.pattern` or `[data.columns]`, not both.")
        if "pattern" not in da and "columns" not in da:
            out.add(
                Rule.MISSING_KEY,
                "data.pattern",
                'wide data need `data.pattern` (e.g. "{endpoint}_{visit}") or `[data.columns]`.',
            )
        if "pattern" in da and not _valid_pattern(da["pattern"]):
            out.add(
                Rule.INVALID_VALUE,
                "data.pattern",
                f"`data.pattern` must contain {{endpoint}} and {{visit}} and no other placeholder; "
                f"got {da['pattern']!r}.",
                da["pattern"],
            )
        for ep_id, mapping in da.get("columns", {}).items():
            key = f"data.columns.{ep_id}"
            if ids and ep_id not in ids:
                out.add(
                    Rule.INVALID_VALUE, key, f"`{key}` names no declared endpoint{did_you_mean(ep_id, ids)}.", ep_id
                )
            if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
                out.add(Rule.WRONG_TYPE, key, f'`{key}` must be a table of visit = "column".')
                continue
            for visit in mapping:
                if order is not None and visit not in order:
                    out.add(
                        Rule.INVALID_VALUE,
                        f"{key}.{visit}",
                        f"`{key}.{visit}` names a visit not in `visits.order`{did_you_mean(visit, order)}.",
                        visit,
                    )
            columns[ep_id] = dict(mapping)
        if "columns" in da and isinstance(da["columns"], dict):
            _check_column_map(columns, endpoints, visits, out)
    value_columns = _value_columns(fmt, da, endpoints, order, columns)
    if "pattern" in da and isinstance(da["pattern"], str) and _valid_pattern(da["pattern"]):
        _check_pattern_columns(value_columns, da["pattern"], out)
    if fmt is DataFormat.LONG:
        for key in ("visit", "value"):
            if key not in da:
                out.add(Rule.MISSING_KEY, f"data.{key}", f"long data need `data.{key}`, the {key} column.")
        if "endpoint" not in da and len(endpoints) > 1:
            out.add(
                Rule.MISSING_KEY,
                "data.endpoint",
                "long data with more than one endpoint need `data.endpoint`, the endpoint column.",
            )
    if fmt is not DataFormat.WIDE:
        for key in ("pattern", "columns"):
            if key in da:
                out.add(Rule.INVALID_VALUE, f"data.{key}", f"`data.{key}` applies to wide data only.")
    delimiter = da.get("delimiter", ",")
    if len(delimiter) != 1:
        out.add(
            Rule.INVALID_VALUE,
            "data.delimiter",
            f"`data.delimiter` must be one character; got {delimiter!r}.",
            delimiter,
        )
    decimal = choice(da.get("decimal", "."), (".", ","), "data.decimal", out) or "."
    if decimal == delimiter:
        out.add(Rule.INVALID_VALUE, "data.decimal", "`data.decimal` must differ from `data.delimiter`.")
    missing: tuple[str, ...] = ("", "NA", ".")
    if "missing" in da:
        missing = string_list(da["missing"], "data.missing", out) or missing

    an = check_table(raw.get("analysis", {}), _SCHEMA["analysis"], "analysis", out)
    covariates = string_list(an.get("covariates", []), "analysis.covariates", out) or ()
    categorical = string_list(an.get("categorical", []), "analysis.categorical", out) or ()
    for c in categorical:
        if c not in covariates:
            out.add(
                Rule.INVALID_VALUE,
                "analysis.categorical",
                f"`analysis.categorical` names {c!r}, which is not in `analysis.covariates`.",
                c,
            )
    strata = string_list(an.get("strata", []), "analysis.strata", out) or ()
    reason = da.get("discontinuation_reason")
    if reason is not None and (not reason.strip() or reason in (subject, arm_column, *covariates, *strata)):
        out.add(
            Rule.INVALID_VALUE,
            "data.discontinuation_reason",
            "`data.discontinuation_reason` must name the column of each subject's reason for discontinuing, "
            f"not the subject, arm or a covariate column; got {reason!r}.",
            reason,
        )
    for c in strata:
        if c in (subject, arm_column):
            what = "subject id" if c == subject else "arm"
            out.add(
                Rule.INVALID_VALUE,
                "analysis.strata",
                f"`analysis.strata` names {c!r}, the {what} column; a stratum is a subject-level column "
                "such as the centre.",
                c,
            )
    _check_covariate_columns(covariates, strata, _data_columns(da, subject, arm_column, value_columns), out)
    # a randomisation stratum is a categorical covariate of every model and a row of Table 1
    covariates = (*covariates, *(c for c in strata if c not in covariates))
    categorical = (*categorical, *(c for c in strata if c not in categorical))
    covariate_specs = _parse_covariates(raw.get("covariates", {}), covariates, categorical, out)
    mult, dunnett = _parse_multiplicity(an.get("multiplicity", "holm"), out)
    marginal_variance = choice(an.get("marginal_variance", "ye"), MARGINAL_VARIANCES, "analysis.marginal_variance", out)
    for i, e in enumerate(endpoints):
        _check_endpoint_columns(e, i, subject, arm_column, missing, categorical, out)
    populations: list[Population] = []
    for value in string_list(an.get("populations", ["fas"]), "analysis.populations", out) or ("fas",):
        chosen = choice(value, tuple(p.value for p in Population), "analysis.populations", out)
        if chosen:
            populations.append(Population(chosen))
    at = an.get("two_valued_covariates", "mean")
    two_valued = choice(at, tuple(t.value for t in TwoValued), "analysis.two_valued_covariates", out)
    mmrm = _parse_mmrm(an, out)
    missing_data = _parse_missing_data(an, levels, [e.id for e in endpoints], out)
    primary_analysis = choice(
        an.get("primary", "ancova"), tuple(p.value for p in PrimaryAnalysis), "analysis.primary", out
    )
    if primary_analysis == PrimaryAnalysis.MMRM and "mmrm" not in an:
        out.add(
            Rule.MISSING_KEY,
            "analysis.mmrm",
            '`analysis.primary` = "mmrm" needs the model pre-specified in `analysis.mmrm` '
            '(e.g. mmrm = { covariance = "us", df = "satterthwaite" }).',
        )

    out.raise_if_any()
    # invariants: a missing format, visits, control, subject column or multiplicity was a problem above
    assert fmt is not None and visits is not None and control is not None
    assert subject is not None
    return StudySpec(
        study=StudyInfo(
            id=study_id,
            title=st.get("title", study_id),
            alpha=alpha,
            registration=st.get("registration", ""),
            blinding=st.get("blinding", ""),
            intervention=st.get("intervention", ""),
            duration=st.get("duration", ""),
            synthetic=st.get("synthetic", False),
        ),
        arms=ArmsSpec(control=control, levels=levels or (), column=arm_column, labels=arm_labels),
        visits=visits,
        endpoints=tuple(endpoints),
        analysis=AnalysisOptions(
            covariates=covariates,
            categorical=categorical,
            multiplicity=Multiplicity(mult),
            mmrm=mmrm,
            missing_data=missing_data,
            primary=PrimaryAnalysis(primary_analysis or "ancova"),
            populations=tuple(populations),
            table1_p_values=an.get("table1_p_values", False),
            two_valued_covariates=TwoValued(two_valued or "mean"),
            strata=strata,
            dunnett=dunnett,
            marginal_variance=marginal_variance or "ye",
            prespecified=an.get("prespecified", False),
        ),
        covariates=covariate_specs,
        data=DataSpec(
            format=fmt,
            subject=subject,
            path=path,
            files=files,
            pattern=da.get("pattern"),
            columns=columns,
            visit=da.get("visit"),
            endpoint=da.get("endpoint"),
            value=da.get("value"),
            delimiter=delimiter,
            decimal=decimal,
            encoding=da.get("encoding", "utf-8-sig"),
            sheet=da.get("sheet", 0),
            missing=missing,
            discontinuation_reason=reason,
        ),
    )


def _label_table(
    raw: Any, key: str, allowed: tuple[str, ...] | None, what: str, out: ProblemCollector
) -> tuple[tuple[str, str], ...]:
    """Read a table of id = "label" (``arms.labels``, ``visits.labels``, ``level_labels``).

    Every label must be non-blank text, and every id one of ``allowed`` (when known): a label for an
    id the spec does not declare is a typo that would silently leave the real id unlabelled.
    """
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, key, f'`{key}` must be a table of id = "label".', raw)
        return ()
    pairs: list[tuple[str, str]] = []
    for name, label in raw.items():
        if not isinstance(label, str) or not label.strip():
            out.add(
                Rule.INVALID_VALUE, f"{key}.{name}", f"`{key}.{name}` must be non-blank text; got {label!r}.", label
            )
        elif allowed is not None and name not in allowed:
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.{name}",
                f"`{key}` labels {name!r}, which is not a {what}{did_you_mean(name, allowed)}.",
                name,
            )
        else:
            pairs.append((str(name), label.strip()))
    return tuple(pairs)


def _parse_covariates(
    raw: Any, covariates: tuple[str, ...], categorical: tuple[str, ...], out: ProblemCollector
) -> tuple[Covariate, ...]:
    """Read the ``[covariates.NAME]`` tables: labels, units, declared levels and Table 1 summaries."""
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, "covariates", "`covariates` must hold one [covariates.NAME] table per covariate.")
        return ()
    specs: list[Covariate] = []
    for name, table in raw.items():
        key = f"covariates.{name}"
        if name not in covariates:
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`[{key}]` describes {name!r}, which is not in `analysis.covariates` or `analysis.strata`"
                f"{did_you_mean(name, covariates)}.",
                name,
            )
        if not isinstance(table, dict):
            out.add(Rule.WRONG_TYPE, key, f"`{key}` must be a table (label, unit, levels, level_labels, summary).")
            continue
        t = check_table(table, _COVARIATE_SCHEMA, key, out)
        levels = string_list(t["levels"], f"{key}.levels", out) if "levels" in t else None
        if levels is not None:
            if name not in categorical:
                out.add(
                    Rule.INVALID_VALUE,
                    f"{key}.levels",
                    f"`{key}.levels` applies to categorical covariates; add {name!r} to `analysis.categorical`.",
                    name,
                )
            if not levels:
                out.add(Rule.INVALID_VALUE, f"{key}.levels", f"`{key}.levels` must list at least one value; got [].")
            for dup in sorted({v for v in levels if levels.count(v) > 1}):
                out.add(Rule.INVALID_VALUE, f"{key}.levels", f"`{key}.levels` lists {dup!r} twice.", dup)
            for padded in (v for v in levels if v != v.strip()):
                # data values are read without surrounding blanks: such a level could never match one
                out.add(
                    Rule.INVALID_VALUE,
                    f"{key}.levels",
                    f"`{key}.levels` holds {padded!r}; write it without leading or trailing blanks.",
                    padded,
                )
        summary = choice(t.get("summary", "mean"), SUMMARIES, f"{key}.summary", out) or "mean"
        if "summary" in t and name in categorical:
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.summary",
                f"`{key}.summary` applies to numeric covariates; {name!r} is categorical (shown as n (%)).",
                summary,
            )
        specs.append(
            Covariate(
                name=str(name),
                label=(t.get("label") or "").strip() or default_label(str(name)),
                unit=t.get("unit", ""),
                levels=levels,
                level_labels=_label_table(t.get("level_labels"), f"{key}.level_labels", levels, "declared level", out),
                summary=summary,
            )
        )
    return tuple(specs)


def _parse_multiplicity(value: str | list[Any], out: ProblemCollector) -> tuple[str, bool]:
    """Read ``analysis.multiplicity``: the across-endpoint method and whether Dunnett adjusts within an endpoint.

    A string or an array of strings; ``"dunnett"`` (many arms against one control) combines with at
    most one across-endpoint method, which is ``"none"`` when ``"dunnett"`` comes alone.
    """
    key = "analysis.multiplicity"
    allowed = (*(m.value for m in Multiplicity), "dunnett")
    if isinstance(value, str):
        listed: tuple[str, ...] | None = (value,)
    else:
        listed = string_list(value, key, out)
        if listed is not None and not listed:
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must name at least one method; got [].", "[]")
            return Multiplicity.NONE.value, False
    if listed is None:
        return Multiplicity.HOLM.value, False
    chosen = [choice(m, allowed, key, out) for m in listed]
    across = [m for m in chosen if m is not None and m != "dunnett"]
    if len(across) > 1:
        out.add(
            Rule.INVALID_VALUE,
            key,
            f'`{key}` takes one method across endpoints (and optionally "dunnett" within each); '
            f"got {', '.join(map(repr, across))}.",
            ", ".join(across),
        )
    if None in chosen or len(across) > 1:
        return Multiplicity.HOLM.value, "dunnett" in listed
    return (across[0] if across else Multiplicity.NONE.value), "dunnett" in listed


def _check_endpoint_columns(
    e: Endpoint,
    index: int,
    subject: str | None,
    arm_column: str | None,
    missing: tuple[str, ...],
    categorical: tuple[str, ...],
    out: ProblemCollector,
) -> None:
    """Check what an endpoint names in the data: its success value and its exposure column."""
    path = f"endpoints[{index}]"
    if isinstance(e.success, str) and e.success in missing:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.success",
            f"`{path}.success` = {e.success!r} is a missing-value code of `data.missing`; "
            "the success value must be a value the data hold.",
            e.success,
        )
    if e.exposure_column is not None and e.exposure_column in (subject, arm_column):
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.exposure_column",
            f"`{path}.exposure_column` = {e.exposure_column!r} is the "
            f"{'subject id' if e.exposure_column == subject else 'arm'} column, not a time at risk.",
            e.exposure_column,
        )
    if e.exposure_column is not None and e.exposure_column in categorical:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.exposure_column",
            f"`{path}.exposure_column` = {e.exposure_column!r} is a categorical covariate "
            "(`analysis.categorical`); a time at risk is a number.",
            e.exposure_column,
        )


def _resolved(base: Path, path: str) -> Path:
    """Return a data path resolved against the spec's folder; as written (absolute) when it cannot be resolved.

    A loop of symbolic links, a NUL or an overlong name cannot be resolved; the data file is then
    refused by the input gate when it is read, with the path named as written.
    """
    try:
        return (base / path).resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: Python 3.11 reports a link loop so
        return base / path


def _value_columns(
    fmt: DataFormat | None,
    da: Mapping[str, Any],
    endpoints: list[Endpoint],
    order: tuple[str, ...] | None,
    columns: Mapping[str, Mapping[str, str]],
) -> dict[tuple[str, str], str]:
    """Return the value column of each (endpoint, visit) of wide data, by the pattern or the map (else empty)."""
    if fmt is not DataFormat.WIDE:
        return {}
    pattern = da.get("pattern")
    if isinstance(pattern, str) and "columns" not in da:
        return {(e.id, v): wide_column(pattern, e.id, v) for e in endpoints for v in order or ()}
    return {(e, v): c for e, mapping in columns.items() for v, c in mapping.items()}


def _check_column_map(
    columns: Mapping[str, Mapping[str, str]],
    endpoints: list[Endpoint],
    visits: VisitsSpec | None,
    out: ProblemCollector,
) -> None:
    """Check ``[data.columns]``: every endpoint mapped, with its primary visit, and no column mapped twice."""
    for e in endpoints:
        key = f"data.columns.{e.id}"
        if e.id not in columns:
            out.add(
                Rule.MISSING_KEY,
                key,
                f"endpoint {e.id!r} has no columns in `[data.columns]`; map each of its visits to the column "
                f'holding it (`{key} = {{ visit = "column", ... }}`).',
                e.id,
            )
        elif visits is not None and visits.primary not in columns[e.id]:
            out.add(
                Rule.MISSING_KEY,
                f"{key}.{visits.primary}",
                f"`{key}` maps no column for the primary visit {visits.primary!r}; the endpoint's analyses "
                "need its values there.",
                e.id,
            )
    by_column: dict[str, list[str]] = {}
    for ep_id, mapping in columns.items():
        for visit, column in mapping.items():
            by_column.setdefault(column, []).append(f"`data.columns.{ep_id}.{visit}`")
    for column, keys in by_column.items():
        if len(keys) > 1:
            out.add(
                Rule.INVALID_VALUE,
                "data.columns",
                f"{' and '.join(keys)} map to the same column {column!r}; each endpoint and visit needs a "
                "column of its own.",
                column,
            )


def _check_pattern_columns(value_columns: Mapping[tuple[str, str], str], pattern: str, out: ProblemCollector) -> None:
    """Record every column that ``data.pattern`` gives to two endpoint x visit pairs."""
    by_column: dict[str, list[tuple[str, str]]] = {}
    for pair, column in value_columns.items():
        by_column.setdefault(column, []).append(pair)
    for column, pairs in by_column.items():
        if len(pairs) > 1:
            named = " and ".join(f"endpoint {e!r} at visit {v!r}" for e, v in pairs)
            out.add(
                Rule.INVALID_VALUE,
                "data.pattern",
                f"`data.pattern` {pattern!r} gives {named} the same column {column!r}; each endpoint and visit "
                "needs a column of its own (rename an endpoint or a visit, or map them in `[data.columns]`).",
                column,
            )


def _data_columns(
    da: Mapping[str, Any], subject: str | None, arm_column: str | None, value_columns: Mapping[tuple[str, str], str]
) -> dict[str, str]:
    """Return the columns the spec names for ids and values, each with the words a message uses for it."""
    named: dict[str, str] = {}
    for column, what in (
        (subject, "the subject id column (`data.subject`)"),
        (arm_column, "the arm column (`arms.column`)"),
        (da.get("visit"), "the visit column (`data.visit`)"),
        (da.get("endpoint"), "the endpoint column (`data.endpoint`)"),
        (da.get("value"), "the value column (`data.value`)"),
    ):
        if isinstance(column, str):
            named.setdefault(column, what)
    for (endpoint, visit), column in value_columns.items():
        named.setdefault(column, f"the column of endpoint {endpoint!r} at visit {visit!r}")
    return named


def _check_covariate_columns(
    covariates: tuple[str, ...], strata: tuple[str, ...], data_columns: Mapping[str, str], out: ProblemCollector
) -> None:
    """Record every covariate or stratum that names a column the spec uses already for ids or values."""
    for key, names in (("analysis.covariates", covariates), ("analysis.strata", strata)):
        for c in names:
            what = data_columns.get(c)
            # a stratum that is the subject or arm column is reported with the strata's own words
            if what is None or (key == "analysis.strata" and what.startswith(("the subject", "the arm"))):
                continue
            out.add(
                Rule.INVALID_VALUE,
                key,
                f"`{key}` names {c!r}, which is {what}; a covariate is a subject-level column of its own.",
                c,
            )


def _parse_mmrm(analysis: Mapping[str, Any], out: ProblemCollector) -> MMRMOptions | None:
    """Read ``analysis.mmrm``: covariance (SAS name or long name), df, group_by_arm, empirical, baseline."""
    if "mmrm" not in analysis:
        return None
    t = check_table(analysis["mmrm"], _MMRM_SCHEMA, "analysis.mmrm", out)
    covariance = t.get("covariance", "us")
    covariance = MMRM_COVARIANCE_ALIASES.get(covariance, covariance)
    if covariance not in MMRM_COVARIANCES:
        allowed = (*MMRM_COVARIANCES, *MMRM_COVARIANCE_ALIASES)
        choice(t["covariance"], allowed, "analysis.mmrm.covariance", out)
    df = choice(t.get("df", "satterthwaite"), MMRM_DF, "analysis.mmrm.df", out)
    baseline = choice(t.get("baseline", "covariate"), MMRM_BASELINE, "analysis.mmrm.baseline", out)
    empirical = bool(t.get("empirical", False))
    if empirical and df in ("satterthwaite", "kenward_roger"):
        given = "df" in t
        out.add(
            Rule.INVALID_VALUE,
            "analysis.mmrm.empirical",
            "`analysis.mmrm.empirical` = true (sandwich covariance) goes with df = 'residual' or "
            f"'between_within'; got df = {df!r}{'' if given else ' (the default)'}.",
            df,
        )
    return MMRMOptions(
        covariance=covariance,
        df=df or "satterthwaite",
        group_by_arm=bool(t.get("group_by_arm", False)),
        empirical=empirical,
        baseline=baseline or "covariate",
    )


def _parse_missing_data(
    analysis: Mapping[str, Any], levels: tuple[str, ...] | None, endpoint_ids: list[str], out: ProblemCollector
) -> MissingDataOptions | None:
    """Read ``analysis.missing_data``: methods, imputations, seed, burn_in, deltas, reference."""
    if "missing_data" not in analysis:
        return None
    key = "analysis.missing_data"
    t = check_table(analysis["missing_data"], _MISSING_DATA_SCHEMA, key, out)
    methods: tuple[str, ...] = MISSING_DATA_METHODS
    if "methods" in t:
        listed = string_list(t["methods"], f"{key}.methods", out)
        if listed is not None and not listed:
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.methods",
                f"`{key}.methods` must name at least one of {', '.join(map(repr, MISSING_DATA_METHODS))}; got [].",
                "[]",
            )
        elif listed is not None:
            for m in listed:
                choice(m, MISSING_DATA_METHODS, f"{key}.methods", out)
            methods = tuple(m for m in MISSING_DATA_METHODS if m in listed)
    defaults = MissingDataOptions()
    numbers: dict[str, int] = {}
    for name, minimum in (("imputations", 2), ("seed", 0), ("burn_in", 1)):
        value = t.get(name, getattr(defaults, name))
        if value < minimum:
            out.add(
                Rule.INVALID_VALUE,
                f"{key}.{name}",
                f"`{key}.{name}` must be an integer >= {minimum}; got {value!r}.",
                value,
            )
        numbers[name] = value
    deltas: tuple[float, ...] | None = None
    by_endpoint: dict[str, tuple[float, ...]] = {}
    if "deltas" in t:
        raw = t["deltas"]
        # one grid for every endpoint, or a table of grids by endpoint id (units differ between endpoints)
        grids = raw if isinstance(raw, dict) else {"": raw}
        for endpoint, grid in grids.items():
            where = f"{key}.deltas" + (f".{endpoint}" if endpoint else "")
            if endpoint and endpoint not in endpoint_ids:
                out.add(
                    Rule.INVALID_VALUE,
                    where,
                    f"`{key}.deltas` names endpoint {endpoint!r}, which the spec does not have; "
                    f"endpoints: {', '.join(map(repr, endpoint_ids))}.",
                    endpoint,
                )
                continue
            bad = [v for v in grid if not is_number(v)] if isinstance(grid, list) else [grid]
            if bad or not grid:
                out.add(
                    Rule.INVALID_VALUE,
                    where,
                    f"`{where}` must be a non-empty array of finite numbers (shifts in the endpoint's unit); "
                    f"got {', '.join(map(repr, bad)) if bad else '[]'}.",
                    bad[0] if bad else "[]",
                )
            elif endpoint:
                by_endpoint[endpoint] = tuple(float(v) for v in grid)
            else:
                deltas = tuple(float(v) for v in grid)
    if (deltas is not None or by_endpoint) and "tipping_point" not in methods:
        given = list(deltas) if deltas is not None else {e: list(g) for e, g in by_endpoint.items()}
        out.add(
            Rule.INVALID_VALUE,
            f"{key}.deltas",
            f"`{key}.deltas` shifts the imputed values of the tipping-point analysis, which `{key}.methods` "
            f"does not name; got deltas = {given!r} with methods = {list(methods)!r}.",
            str(given),
        )
    reference = t.get("reference")
    # arms read from the data (no `arms.levels`) are checked when the trial is analysed
    if reference is not None and levels is not None and reference not in levels:
        out.add(
            Rule.INVALID_VALUE,
            f"{key}.reference",
            f"`{key}.reference` must be one of the arms {', '.join(map(repr, levels))}; got {reference!r}.",
            reference,
        )
    return MissingDataOptions(
        methods=methods,
        imputations=numbers["imputations"],
        seed=numbers["seed"],
        burn_in=numbers["burn_in"],
        deltas=deltas,
        reference=reference,
        deltas_by_endpoint=tuple(by_endpoint.items()),
    )


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _valid_pattern(pattern: str) -> bool:
    """Exactly the placeholders {endpoint} and {visit}, each at least once, and no other braces."""
    found = _PLACEHOLDER.findall(pattern)
    rest = _PLACEHOLDER.sub("", pattern)
    return set(found) == {"{endpoint}", "{visit}"} and "{" not in rest and "}" not in rest


def wide_column(pattern: str, endpoint: str, visit: str) -> str:
    """Return the column name ``pattern`` gives an endpoint at a visit (plain substitution, never ``format``)."""
    return pattern.replace("{endpoint}", endpoint).replace("{visit}", visit)


def _replace_primary(endpoint: Endpoint) -> Endpoint:
    return replace(endpoint, primary=True)


def read_spec(path: str | Path) -> StudySpec:
    """Read and check a study spec TOML file (keys and rules: ``docs/spec.md``).

    Only the spec is read: its data files are read and checked by :func:`trialkit.load`.

    Parameters
    ----------
    path : str or Path
        The spec file (UTF-8, a byte-order mark allowed). Relative data paths in it are resolved
        against its folder.

    Returns
    -------
    StudySpec
        The checked spec, frozen.

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any spec rule: every problem at once, each
        with its key path (``endpoints[2].range``) and rule (``trialkit.Rule``).

    Examples
    --------
    >>> import trialkit as tk
    >>> spec = tk.read_spec(tk.datasets.study_spec("abbasi2012"))
    >>> spec.primary_endpoint.label, spec.visits.primary, spec.arms.control
    ('Insomnia Severity Index', 'week8', 'placebo')
    >>> len(spec.endpoints)
    10
    """
    path = Path(path)
    raw = read_toml(path, "study spec")
    return parse_spec(raw, base=path.resolve().parent, file=str(path))
