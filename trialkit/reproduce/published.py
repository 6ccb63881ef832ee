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
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

from trialkit._errors import Problem, Rule, ValidationError, did_you_mean

__all__ = [
    "UNAVAILABLE",
    "ArmSummary",
    "Citation",
    "Comparison",
    "ContextResult",
    "DesignType",
    "Direction",
    "Dispersion",
    "PValue",
    "PairedSummary",
    "PublishedArm",
    "PublishedDesign",
    "PublishedFlag",
    "PublishedOutcome",
    "PublishedTable",
    "PublishedTrial",
    "Scale",
    "parse_published",
    "read_published",
]

#: The value that marks a number as published but not available to the person encoding the file.
UNAVAILABLE = "unavailable"


class Direction(str, Enum):
    """Direction of the published between-group result in the intervention arm."""

    INCREASE = "increase"
    DECREASE = "decrease"
    NONE = "none"


class DesignType(str, Enum):
    """Trial design: ``parallel`` (each subject in one arm) or ``crossover`` (every subject in every arm)."""

    PARALLEL = "parallel"
    CROSSOVER = "crossover"


class Dispersion(str, Enum):
    """What the "±" column of a published table holds."""

    SD = "sd"
    SE = "se"


class PublishedFlag(str, Enum):
    """Registry of statements a publication makes about a result (``outcomes[].flags``)."""

    MARGINAL = "marginal"
    NOT_SIGNIFICANT = "not_significant"
    PRIMARY = "primary"

    @property
    def meaning(self) -> str:
        return _FLAG_MEANINGS[self]


_FLAG_MEANINGS = {
    PublishedFlag.MARGINAL: "the publication calls the result marginal (a trend) yet describes it as an effect",
    PublishedFlag.NOT_SIGNIFICANT: "the publication reports no significant difference",
    PublishedFlag.PRIMARY: "the publication names this outcome its primary outcome",
}

_BOUNDS = {"=": "=", "<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">="}
_P_PATTERN = re.compile(r"^\s*(?:p\s*)?(<=|>=|≤|≥|<|>|=)?\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s*$", re.IGNORECASE)
_SLUG = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


# ---------------------------------------------------------------------------------------------
# Data model


@dataclass(frozen=True)
class PValue:
    """A p-value as published: a number, or a bound on it, and the text it was written as.

    Attributes
    ----------
    value : float
        The number written (for a bound, the bound: 0.001 in ``"< 0.001"``).
    bound : str
        ``"="`` for a reported value, else ``"<"``, ``"<="``, ``">"`` or ``">="``: the true p
        stands in that relation to ``value``.
    as_written : str
        The text as published (``"< 0.001"``), kept for reports.
    """

    value: float
    bound: str = "="
    as_written: str = ""

    @property
    def is_bound(self) -> bool:
        """True when the publication gives only a bound (``"< 0.001"``), not a value."""
        return self.bound != "="

    def _written(self) -> Decimal | None:
        number = _P_PATTERN.match(self.as_written)
        if number is None:
            return None
        try:
            return Decimal(number.group(2))
        except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
            return None

    @property
    def half_unit(self) -> float | None:
        """Half a unit of the last written digit (0.0005 for ``"0.002"``); None when unknown."""
        written = self._written()
        if written is None:
            return None
        return float(Decimal(5).scaleb(int(written.as_tuple().exponent) - 1))

    @property
    def interval(self) -> tuple[float, float]:
        """Smallest and largest values the true p can take, given rounding and bounds.

        ``"0.002"`` → (0.0015, 0.0025) (rounded to the written digits; the upper end is not
        attained); ``"< 0.001"`` → (0, 0.001); ``"> 0.05"`` → (0.05, 1). Clipped to [0, 1];
        computed in decimal arithmetic so that the ends are the nearest doubles to the decimals.
        """
        if self.bound in ("<", "<="):
            return (0.0, self.value)
        if self.bound in (">", ">="):
            return (self.value, 1.0)
        written = self._written()
        if written is None:  # pragma: no cover - parse() always stores a readable text
            return (self.value, self.value)
        half = Decimal(5).scaleb(int(written.as_tuple().exponent) - 1)
        return (max(0.0, float(written - half)), min(1.0, float(written + half)))

    @classmethod
    def parse(cls, written: str | int | float) -> PValue:
        """Read a p-value as published: ``"0.002"``, ``"< 0.001"``, ``"P = 0.06"``, ``0.37``.

        Raises
        ------
        ValueError
            When the text is not a p-value or not in [0, 1] (the message says what to write).
        """
        if isinstance(written, bool) or not isinstance(written, (str, int, float)):
            raise ValueError(f"must be a p-value as published, e.g. \"0.002\" or \"< 0.001\"; got {written!r}")
        text = written if isinstance(written, str) else repr(written)
        match = _P_PATTERN.match(text)
        if match is None:
            raise ValueError(f"cannot read {text!r} as a p-value; write it as published, e.g. \"0.002\", "
                             "\"< 0.001\" or \"> 0.05\" (a bound, not words such as 'NS')")
        try:
            value = float(match.group(2))
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a p-value; write a number such as \"0.002\"") from None
        bound = _BOUNDS[match.group(1) or "="]
        if not (0.0 <= value <= 1.0) or not math.isfinite(value):
            raise ValueError(f"a p-value must be in [0, 1]; got {text!r}")
        if bound == "=" and value == 0.0:
            raise ValueError(f"a p-value cannot be exactly 0 (got {text!r}); software that prints "
                             "\"0.000\" means p < 0.0005: write \"< 0.0005\"")
        if bound in ("<", "<=") and value == 0.0:
            raise ValueError(f"a p-value cannot be below 0 (got {text!r})")
        if bound in (">", ">=") and value == 1.0:
            raise ValueError(f"a p-value cannot be above 1 (got {text!r})")
        return cls(value=value, bound=bound, as_written=text.strip())


@dataclass(frozen=True)
class Citation:
    """Bibliographic record of the publication (``[citation]``)."""

    authors: tuple[str, ...]
    title: str
    year: int
    source: str
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    pmid: str = ""
    pmcid: str = ""
    doi: str = ""
    registry: str = ""
    license: str = ""
    url: str = ""


@dataclass(frozen=True)
class PublishedArm:
    """One arm as published (``[arms.<id>]``). ``None`` n: not published or unavailable."""

    id: str
    label: str
    source: str
    description: str = ""
    n_randomised: int | None = None
    n_analysed: int | None = None
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class PublishedDesign:
    """Design facts as published (``[design]``)."""

    type: DesignType
    control: str
    visits: tuple[str, ...]
    source: str
    randomised: int | None = None
    analysed: int | None = None
    baseline: str | None = None
    duration_weeks: float | None = None
    alpha: float | None = None
    software: str = ""
    tests: str = ""
    blinding: str = ""
    setting: str = ""
    population: str = ""
    intervention: str = ""
    note: str = ""
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class Scale:
    """Measurement scale of an outcome, for GRIM and range checks (``outcomes[].scale``).

    ``integer``: each item is an integer; ``items``: how many integer items are summed or
    averaged into the reported value (GRIM granularity 1/(n·items)); ``range``: possible values.
    """

    integer: bool = False
    range: tuple[float, float] | None = None
    items: int = 1
    unit: str = ""


@dataclass(frozen=True)
class ArmSummary:
    """Summary statistics of one arm at one time point (or of its change to that time point).

    Attributes
    ----------
    arm, time : str
        Arm id and visit (for a change row, the visit the change runs to, from the baseline).
    n : int
        Number of subjects summarised.
    mean : float
    sd, se : float or None
        Exactly one is set: what the table reports.
    sd_divisor : str
        ``"n-1"`` (sample SD, the default) or ``"n"`` (the divisor some older tables used).
    mean_decimals, dispersion_decimals : int or None
        Decimals as printed (from a value written as a string such as ``"5.20"`` or from the
        table's ``decimals``); None when unknown. GRIM needs them.
    """

    arm: str
    time: str
    n: int
    mean: float
    sd: float | None = None
    se: float | None = None
    sd_divisor: str = "n-1"
    mean_decimals: int | None = None
    dispersion_decimals: int | None = None

    @property
    def sample_sd(self) -> float:
        """SD with divisor n − 1: sd; or se·√n; or (divisor-n sd)·√(n/(n − 1))."""
        return _sample_sd(self.sd, self.se, self.n, self.sd_divisor)


@dataclass(frozen=True)
class PairedSummary:
    """Within-subject difference ``arm − reference`` at one time point (crossover tables)."""

    arm: str
    reference: str
    time: str
    n: int
    mean: float
    sd: float | None = None
    se: float | None = None
    sd_divisor: str = "n-1"
    mean_decimals: int | None = None
    dispersion_decimals: int | None = None

    @property
    def sample_sd(self) -> float:
        """SD of the differences with divisor n − 1 (see :attr:`ArmSummary.sample_sd`)."""
        return _sample_sd(self.sd, self.se, self.n, self.sd_divisor)


@dataclass(frozen=True)
class Comparison:
    """A between-group p-value as published in a table (``outcomes[].table.comparisons``).

    ``on``: ``"end"`` (values at ``time``), ``"change"`` (change to ``time``) or ``"paired"``
    (within-subject difference, crossover); ``test``: the test as the publication names it.
    """

    time: str
    p: PValue
    on: str = "end"
    arm: str = ""
    test: str = ""
    source: str = ""


@dataclass(frozen=True)
class PublishedTable:
    """Table-level numbers of one outcome (``[outcomes.table]``)."""

    source: str
    rows: tuple[ArmSummary, ...] = ()
    change: tuple[ArmSummary, ...] = ()
    paired: tuple[PairedSummary, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    dispersion: Dispersion | None = None
    sd_divisor: str = "n-1"

    def row(self, arm: str, time: str) -> ArmSummary:
        """The end-value summary of ``arm`` at ``time``; KeyError when the table has none."""
        for r in self.rows:
            if r.arm == arm and r.time == time:
                return r
        raise KeyError((arm, time))


@dataclass(frozen=True)
class PublishedOutcome:
    """One outcome as published (``[[outcomes]]``).

    ``direction`` and ``p`` describe the between-group result (intervention vs control);
    ``expected`` is an a priori expectation recorded by whoever encoded the file (not a published
    fact), with its rationale in ``expected_source``; ``table`` is None when the table-level
    numbers are not published or unavailable (then ``"table"`` is in ``unavailable``).
    """

    id: str
    label: str
    direction: Direction
    source: str
    p: PValue | None = None
    flags: tuple[PublishedFlag, ...] = ()
    description: str = ""
    expected: Direction | None = None
    expected_source: str = ""
    scale: Scale | None = None
    table: PublishedTable | None = None
    note: str = ""
    unavailable: tuple[str, ...] = ()
    unavailable_reason: str = ""


@dataclass(frozen=True)
class ContextResult:
    """A result from another source that puts the trial in context (``[[context]]``), e.g. a
    meta-analysis pooling it. Never used as a published result of the trial itself."""

    kind: str
    citation: str
    label: str
    source: str
    relates_to: tuple[str, ...] = ()
    measure: str = ""
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    p: PValue | None = None
    unit: str = ""
    n_participants: int | None = None
    n_trials: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PublishedTrial:
    """Everything a trial's publication reports, as encoded in a published-results file."""

    id: str
    title: str
    citation: Citation
    design: PublishedDesign
    arms: tuple[PublishedArm, ...]
    outcomes: tuple[PublishedOutcome, ...]
    context: tuple[ContextResult, ...] = ()
    note: str = ""
    file: str = ""

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.arms)

    @property
    def intervention_arms(self) -> tuple[PublishedArm, ...]:
        return tuple(a for a in self.arms if a.id != self.design.control)

    def arm(self, arm_id: str) -> PublishedArm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)

    def outcome(self, outcome_id: str) -> PublishedOutcome:
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise KeyError(outcome_id)


def _sample_sd(sd: float | None, se: float | None, n: int, divisor: str) -> float:
    if se is not None:
        return se * math.sqrt(n)
    assert sd is not None  # guaranteed by the parser: exactly one of sd, se
    if divisor == "n":
        return sd * math.sqrt(n / (n - 1)) if n > 1 else math.nan
    return sd


# ---------------------------------------------------------------------------------------------
# The schema, as data: block -> key -> (accepted types, required)

_STR = (str,)
_NUM = (int, float)
_INT = (int,)
_LIST = (list,)
_TABLE = (dict,)
_BOOL = (bool,)
_NUM_OR_STR = (int, float, str)
_INT_OR_STR = (int, str)

_SCHEMAS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "top": {"trial": (_TABLE, True), "citation": (_TABLE, True), "design": (_TABLE, True),
            "arms": (_TABLE, True), "outcomes": (_LIST, True), "context": (_LIST, False)},
    "trial": {"id": (_STR, True), "title": (_STR, False), "note": (_STR, False)},
    "citation": {
        "authors": (_LIST, True), "title": (_STR, True), "year": (_INT, True), "source": (_STR, True),
        "journal": (_STR, False), "volume": (_INT_OR_STR, False), "issue": (_INT_OR_STR, False),
        "pages": (_STR, False), "pmid": (_STR, False), "pmcid": (_STR, False), "doi": (_STR, False),
        "registry": (_STR, False), "license": (_STR, False), "url": (_STR, False),
    },
    "design": {
        "type": (_STR, True), "control": (_STR, True), "visits": (_LIST, True), "source": (_STR, True),
        "randomised": (_INT_OR_STR, False), "analysed": (_INT_OR_STR, False), "baseline": (_STR, False),
        "duration_weeks": (_NUM_OR_STR, False), "alpha": (_NUM_OR_STR, False), "software": (_STR, False),
        "tests": (_STR, False), "blinding": (_STR, False), "setting": (_STR, False),
        "population": (_STR, False), "intervention": (_STR, False), "note": (_STR, False),
        "unavailable_reason": (_STR, False),
    },
    "arm": {
        "label": (_STR, False), "source": (_STR, True), "description": (_STR, False),
        "n_randomised": (_INT_OR_STR, False), "n_analysed": (_INT_OR_STR, False),
        "unavailable_reason": (_STR, False),
    },
    "outcome": {
        "id": (_STR, True), "label": (_STR, False), "direction": (_STR, True), "source": (_STR, True),
        "p": (_NUM_OR_STR, False), "flags": (_LIST, False), "description": (_STR, False),
        "expected": (_STR, False), "expected_source": (_STR, False), "scale": (_TABLE, False),
        "table": ((dict, str), False), "note": (_STR, False), "unavailable_reason": (_STR, False),
    },
    "scale": {"integer": (_BOOL, False), "range": (_LIST, False), "items": (_INT, False),
              "unit": (_STR, False)},
    "table": {
        "source": (_STR, True), "dispersion": (_STR, False), "sd_divisor": (_STR, False),
        "decimals": (_INT, False), "rows": (_LIST, False), "change": (_LIST, False),
        "paired": (_LIST, False), "comparisons": (_LIST, False), "note": (_STR, False),
    },
    "summary": {"arm": (_STR, True), "time": (_STR, True), "n": (_INT, True), "mean": (_NUM_OR_STR, True),
                "sd": (_NUM_OR_STR, False), "se": (_NUM_OR_STR, False)},
    "paired": {"arm": (_STR, True), "reference": (_STR, True), "time": (_STR, True), "n": (_INT, True),
               "mean": (_NUM_OR_STR, True), "sd": (_NUM_OR_STR, False), "se": (_NUM_OR_STR, False)},
    "comparison": {"time": (_STR, True), "p": (_NUM_OR_STR, True), "on": (_STR, False),
                   "arm": (_STR, False), "test": (_STR, False), "source": (_STR, False)},
    "context": {
        "kind": (_STR, True), "citation": (_STR, True), "label": (_STR, True), "source": (_STR, True),
        "relates_to": (_LIST, False), "measure": (_STR, False), "estimate": (_NUM, False),
        "ci_low": (_NUM, False), "ci_high": (_NUM, False), "ci_level": (_NUM, False),
        "p": (_NUM_OR_STR, False), "unit": (_STR, False), "n_participants": (_INT, False),
        "n_trials": (_INT, False), "note": (_STR, False),
    },
}

#: keys whose value may be the string "unavailable", per block
_MAY_BE_UNAVAILABLE = {
    "design": ("randomised", "analysed", "duration_weeks", "alpha"),
    "arm": ("n_randomised", "n_analysed"),
    "outcome": ("p", "table"),
}
_COMPARISON_ON = ("end", "change", "paired")
_SD_DIVISORS = ("n-1", "n")


class _Collector:
    """Accumulates problems so that all of them are reported at once."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, rule: Rule, key: str, message: str, value: Any = None) -> None:
        shown = None if value is None else str(value)
        self.problems.append(Problem(rule, self.file, message, column=key, value=shown))


def _type_name(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             list: "an array", dict: "a table"}
    if types == _NUM:
        return "a number"
    if types == _NUM_OR_STR:
        return "a number (or a number written as a string)"
    return " or ".join(names[t] for t in types)


def _check_block(raw: Any, block: str, path: str, out: _Collector) -> dict[str, Any]:
    """Type-check one table against its schema; returns only the known, well-typed keys."""
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, path, f"`{path}` must be a table; got {type(raw).__name__}.")
        return {}
    schema = _SCHEMAS[block]
    good: dict[str, Any] = {}
    for key, value in raw.items():
        key_path = f"{path}.{key}" if path else key
        if key not in schema:
            out.add(Rule.UNKNOWN_KEY, key_path,
                    f"unknown key `{key_path}`{did_you_mean(key, schema)}; "
                    f"valid keys: {', '.join(sorted(schema))}.")
            continue
        types, _ = schema[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            out.add(Rule.WRONG_TYPE, key_path, f"`{key_path}` must be {_type_name(types)}; got {value!r}.", value)
            continue
        good[key] = value
    for key, (_, required) in schema.items():
        if required and key not in raw:
            key_path = f"{path}.{key}" if path else key
            out.add(Rule.MISSING_KEY, key_path, f"required key `{key_path}` is missing.")
    return good


def _unavailable(t: dict[str, Any], block: str, path: str, out: _Collector) -> tuple[str, ...]:
    """Keys of ``t`` written as "unavailable" (removed from ``t``); checks the reason is given."""
    marked = []
    for key, value in list(t.items()):
        if not isinstance(value, str) or key not in _MAY_BE_UNAVAILABLE.get(block, ()):
            continue
        if key == "p" and block == "outcome" and value != UNAVAILABLE:
            continue  # a p-value written as text, parsed later
        if value != UNAVAILABLE:
            out.add(Rule.INVALID_VALUE, f"{path}.{key}",
                    f"`{path}.{key}` must be a number or {UNAVAILABLE!r}; got {value!r}.", value)
        else:
            marked.append(key)
        del t[key]
    if marked and not t.get("unavailable_reason"):
        out.add(Rule.MISSING_KEY, f"{path}.unavailable_reason",
                f"`{path}` marks {', '.join(marked)} as {UNAVAILABLE!r}: say why in "
                f"`{path}.unavailable_reason`.")
    return tuple(marked)


def _choice(value: str, allowed: tuple[str, ...], key: str, out: _Collector) -> str | None:
    if value in allowed:
        return value
    out.add(Rule.INVALID_VALUE, key, f"`{key}` must be one of {', '.join(map(repr, allowed))}; "
            f"got {value!r}{did_you_mean(value, allowed)}.", value)
    return None


def _strings(value: list[Any], key: str, out: _Collector) -> tuple[str, ...] | None:
    if not all(isinstance(v, str) for v in value):
        out.add(Rule.WRONG_TYPE, key, f"`{key}` must be an array of strings; got {value!r}.")
        return None
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` lists {', '.join(map(repr, dupes))} twice.")
        return None
    return tuple(value)


def _number(value: Any, key: str, out: _Collector) -> tuple[float | None, int | None]:
    """A number written as a number or as a string; returns (value, decimals written or None)."""
    if isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a number; got {value!r}.", value)
            return None, None
        if not dec.is_finite():
            out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a finite number; got {value!r}.", value)
            return None, None
        exponent = int(dec.as_tuple().exponent)
        return float(dec), max(0, -exponent)
    number = float(value)
    if not math.isfinite(number):
        out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a finite number; got {value!r}.", value)
        return None, None
    return number, None


def _p_value(value: Any, key: str, out: _Collector) -> PValue | None:
    try:
        return PValue.parse(value)
    except ValueError as exc:
        out.add(Rule.INVALID_VALUE, key, f"`{key}`: {exc}.", value)
        return None


def _known_name(value: str, allowed: tuple[str, ...], key: str, what: str, rule: Rule,
                out: _Collector) -> bool:
    if value in allowed:
        return True
    out.add(rule, key, f"`{key}` = {value!r} is not a declared {what}{did_you_mean(value, allowed)}; "
            f"declared: {', '.join(allowed)}.", value)
    return False


# ---------------------------------------------------------------------------------------------
# Blocks


def _parse_citation(raw: Any, out: _Collector) -> Citation | None:
    c = _check_block(raw, "citation", "citation", out)
    authors = _strings(c["authors"], "citation.authors", out) if "authors" in c else None
    if authors is not None and not authors:
        out.add(Rule.INVALID_VALUE, "citation.authors", "`citation.authors` must name at least one author.")
    if not {"authors", "title", "year", "source"} <= set(c) or not authors:
        return None
    return Citation(
        authors=authors, title=c["title"], year=c["year"], source=c["source"],
        journal=c.get("journal", ""), volume=str(c.get("volume", "")), issue=str(c.get("issue", "")),
        pages=c.get("pages", ""), pmid=c.get("pmid", ""), pmcid=c.get("pmcid", ""), doi=c.get("doi", ""),
        registry=c.get("registry", ""), license=c.get("license", ""), url=c.get("url", ""),
    )


def _positive_int(value: Any, key: str, out: _Collector) -> int | None:
    if value is None:
        return None
    if value < 1:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a positive whole number; got {value!r}.", value)
        return None
    return int(value)


def _parse_design(raw: Any, out: _Collector) -> PublishedDesign | None:
    d = _check_block(raw, "design", "design", out)
    missing = _unavailable(d, "design", "design", out)
    dtype = _choice(d["type"], tuple(t.value for t in DesignType), "design.type", out) if "type" in d else None
    visits = _strings(d["visits"], "design.visits", out) if "visits" in d else None
    if visits is not None and not visits:
        out.add(Rule.INVALID_VALUE, "design.visits", "`design.visits` must list at least one time point.")
        visits = None
    baseline = d.get("baseline")
    if baseline is not None and visits:
        if _known_name(baseline, visits, "design.baseline", "time point of `design.visits`",
                       Rule.UNKNOWN_VISIT, out) and visits[0] != baseline:
            out.add(Rule.INVALID_VALUE, "design.baseline",
                    f"the baseline {baseline!r} must come first in `design.visits`.", baseline)
    randomised = _positive_int(d.get("randomised"), "design.randomised", out)
    analysed = _positive_int(d.get("analysed"), "design.analysed", out)
    if randomised is not None and analysed is not None and analysed > randomised:
        out.add(Rule.INVALID_VALUE, "design.analysed",
                f"`design.analysed` ({analysed}) is larger than `design.randomised` ({randomised}).", analysed)
    alpha = None  # strings other than "unavailable" were reported and removed by _unavailable
    if "alpha" in d:
        alpha = float(d["alpha"])
        if not 0 < alpha < 1:
            out.add(Rule.INVALID_VALUE, "design.alpha",
                    f"`design.alpha` must be a number in (0, 1); got {d['alpha']!r}.", d["alpha"])
            alpha = None
    duration = None
    if "duration_weeks" in d:
        value = d["duration_weeks"]
        if not value > 0:
            out.add(Rule.INVALID_VALUE, "design.duration_weeks",
                    f"`design.duration_weeks` must be a positive number; got {value!r}.", value)
        else:
            duration = float(value)
    if dtype is None or visits is None or not {"control", "source"} <= set(d):
        return None
    return PublishedDesign(
        type=DesignType(dtype), control=d["control"], visits=visits, source=d["source"],
        randomised=randomised, analysed=analysed, baseline=baseline, duration_weeks=duration,
        alpha=alpha, software=d.get("software", ""), tests=d.get("tests", ""),
        blinding=d.get("blinding", ""), setting=d.get("setting", ""), population=d.get("population", ""),
        intervention=d.get("intervention", ""), note=d.get("note", ""), unavailable=missing,
        unavailable_reason=d.get("unavailable_reason", ""),
    )


def _parse_arms(raw: Any, design: PublishedDesign | None, out: _Collector) -> tuple[PublishedArm, ...]:
    if not isinstance(raw, dict):
        return ()  # reported by the top-level check
    arms = []
    for arm_id, body in raw.items():
        path = f"arms.{arm_id}"
        if not _SLUG.match(arm_id):
            out.add(Rule.INVALID_VALUE, path,
                    f"arm id {arm_id!r} must be a slug (letters, digits, _ or -).", arm_id)
        a = _check_block(body, "arm", path, out)
        missing = _unavailable(a, "arm", path, out)
        n_rand = _positive_int(a.get("n_randomised"), f"{path}.n_randomised", out)
        n_anal = _positive_int(a.get("n_analysed"), f"{path}.n_analysed", out)
        if n_rand is not None and n_anal is not None and n_anal > n_rand:
            out.add(Rule.INVALID_VALUE, f"{path}.n_analysed",
                    f"`{path}.n_analysed` ({n_anal}) is larger than `{path}.n_randomised` ({n_rand}).", n_anal)
        if "source" not in a:
            continue
        arms.append(PublishedArm(
            id=arm_id, label=a.get("label", arm_id), source=a["source"], description=a.get("description", ""),
            n_randomised=n_rand, n_analysed=n_anal, unavailable=missing,
            unavailable_reason=a.get("unavailable_reason", ""),
        ))
    if len(raw) < 2:
        out.add(Rule.INVALID_VALUE, "arms", "a trial needs at least two arms (`[arms.<id>]` tables).")
    if design is not None:
        ids = tuple(raw)
        _known_name(design.control, ids, "design.control", "arm", Rule.UNKNOWN_ARM, out)
        for key, total in (("n_randomised", design.randomised), ("n_analysed", design.analysed)):
            values = [getattr(a, key) for a in arms]
            if (design.type is DesignType.PARALLEL and total is not None and len(values) == len(ids)
                    and all(v is not None for v in values) and sum(values) != total):
                out.add(Rule.INVALID_VALUE, f"arms.*.{key}",
                        f"the arms' `{key}` add up to {sum(values)}, but the design says "
                        f"{'randomised' if key == 'n_randomised' else 'analysed'} = {total}.")
    return tuple(arms)


def _parse_scale(raw: dict[str, Any], path: str, out: _Collector) -> Scale:
    s = _check_block(raw, "scale", path, out)
    rng = None
    if "range" in s:
        r = s["range"]
        if (len(r) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in r)
                or not r[0] < r[1]):
            out.add(Rule.INVALID_VALUE, f"{path}.range",
                    f"`{path}.range` must be [low, high] numbers with low < high; got {r!r}.", r)
        else:
            rng = (float(r[0]), float(r[1]))
    items = s.get("items", 1)
    if items < 1:
        out.add(Rule.INVALID_VALUE, f"{path}.items", f"`{path}.items` must be a positive integer; got {items!r}.")
        items = 1
    return Scale(integer=s.get("integer", False), range=rng, items=items, unit=s.get("unit", ""))


class _Context:
    """What the checks of one table need to know about the trial."""

    def __init__(self, design: PublishedDesign | None, arms: tuple[PublishedArm, ...], arm_ids: tuple[str, ...]):
        self.design = design
        self.arms = {a.id: a for a in arms}
        self.arm_ids = arm_ids
        self.visits = design.visits if design is not None else ()


def _summary_common(s: dict[str, Any], block_path: str, decimals: int | None, dispersion: Dispersion | None,
                    ctx: _Context, out: _Collector) -> dict[str, Any] | None:
    """Checks shared by end-value, change and paired rows; returns the parsed fields or None."""
    ok = True
    if "arm" in s:
        ok &= _known_name(s["arm"], ctx.arm_ids, f"{block_path}.arm", "arm", Rule.UNKNOWN_ARM, out)
    if "time" in s and ctx.visits:
        ok &= _known_name(s["time"], ctx.visits, f"{block_path}.time", "time point of `design.visits`",
                          Rule.UNKNOWN_VISIT, out)
    n = s.get("n")
    if n is not None:
        if n < 1:
            out.add(Rule.INVALID_VALUE, f"{block_path}.n", f"`{block_path}.n` must be at least 1; got {n}.", n)
            ok = False
        else:
            arm = ctx.arms.get(s.get("arm", ""))
            limit, what = None, ""
            if arm is not None and arm.n_randomised is not None:
                limit, what = arm.n_randomised, f"`arms.{arm.id}.n_randomised`"
            elif ctx.design is not None and ctx.design.randomised is not None:
                limit, what = ctx.design.randomised, "`design.randomised`"
            if limit is not None and n > limit:
                out.add(Rule.INVALID_VALUE, f"{block_path}.n",
                        f"`{block_path}.n` = {n} is larger than the {limit} randomised ({what}).", n)
                ok = False
    mean, mean_dec = (None, None)
    if "mean" in s:
        mean, mean_dec = _number(s["mean"], f"{block_path}.mean", out)
        ok &= mean is not None
    has_sd, has_se = "sd" in s, "se" in s
    spread, spread_dec = None, None
    if has_sd and has_se:
        out.add(Rule.INVALID_VALUE, block_path,
                f"`{block_path}` gives both `sd` and `se`; give the one the table reports.")
        ok = False
    elif not has_sd and not has_se:
        out.add(Rule.MISSING_KEY, f"{block_path}.sd",
                f"`{block_path}` needs `sd` or `se` (the table's ± value).")
        ok = False
    else:
        key = "sd" if has_sd else "se"
        if dispersion is not None and key != dispersion.value:
            out.add(Rule.INVALID_VALUE, f"{block_path}.{key}",
                    f"`{block_path}` gives `{key}` but the table declares `dispersion = "
                    f"{dispersion.value!r}`.")
            ok = False
        spread, spread_dec = _number(s[key], f"{block_path}.{key}", out)
        if spread is not None and spread < 0:
            out.add(Rule.INVALID_VALUE, f"{block_path}.{key}",
                    f"`{block_path}.{key}` must not be negative; got {s[key]!r}.", s[key])
            ok = False
        ok &= spread is not None
    if not ok or n is None or mean is None or "arm" not in s or "time" not in s:
        return None
    return {"arm": s["arm"], "time": s["time"], "n": n, "mean": mean,
            "sd": spread if has_sd else None, "se": spread if has_se else None,
            "mean_decimals": mean_dec if mean_dec is not None else decimals,
            "dispersion_decimals": spread_dec if spread_dec is not None else decimals}


def _rows(raw: list[Any], kind: str, path: str, decimals: int | None, dispersion: Dispersion | None,
          divisor: str, ctx: _Context, out: _Collector) -> list[Any]:
    parsed: list[Any] = []
    seen: dict[tuple[str, ...], int] = {}
    for j, body in enumerate(raw):
        row_path = f"{path}.{kind}[{j}]"
        s = _check_block(body, "paired" if kind == "paired" else "summary", row_path, out)
        if kind == "paired" and "reference" in s:
            if _known_name(s["reference"], ctx.arm_ids, f"{row_path}.reference", "arm", Rule.UNKNOWN_ARM, out):
                if s.get("arm") == s["reference"]:
                    out.add(Rule.INVALID_VALUE, f"{row_path}.reference",
                            f"`{row_path}`: `arm` and `reference` must differ.")
        if kind == "change" and ctx.design is not None and ctx.design.baseline is not None \
                and s.get("time") == ctx.design.baseline:
            out.add(Rule.INVALID_VALUE, f"{row_path}.time",
                    f"`{row_path}.time` is the baseline; a change row names the visit the change runs to.")
            continue
        fields = _summary_common(s, row_path, decimals, dispersion, ctx, out)
        key = (s.get("arm", ""), s.get("reference", ""), s.get("time", ""))
        if key in seen and key[0] and key[2]:
            out.add(Rule.DUPLICATE_RECORD, row_path,
                    f"`{row_path}` repeats `{path}.{kind}[{seen[key]}]` ({', '.join(k for k in key if k)}).")
            continue
        seen[key] = j
        if fields is None:
            continue
        if kind == "paired":
            parsed.append(PairedSummary(reference=s["reference"], sd_divisor=divisor, **fields))
        else:
            parsed.append(ArmSummary(sd_divisor=divisor, **fields))
    return parsed


def _parse_table(raw: dict[str, Any], path: str, ctx: _Context, out: _Collector) -> PublishedTable | None:
    t = _check_block(raw, "table", path, out)
    dispersion = None
    if "dispersion" in t:
        chosen = _choice(t["dispersion"], tuple(x.value for x in Dispersion), f"{path}.dispersion", out)
        dispersion = Dispersion(chosen) if chosen else None
    divisor = _choice(t.get("sd_divisor", "n-1"), _SD_DIVISORS, f"{path}.sd_divisor", out) or "n-1"
    decimals = t.get("decimals")
    if decimals is not None and decimals < 0:
        out.add(Rule.INVALID_VALUE, f"{path}.decimals", f"`{path}.decimals` must be 0 or more; got {decimals}.")
        decimals = None
    rows = _rows(t.get("rows", []), "rows", path, decimals, dispersion, divisor, ctx, out)
    change = _rows(t.get("change", []), "change", path, decimals, dispersion, divisor, ctx, out)
    paired = _rows(t.get("paired", []), "paired", path, decimals, dispersion, divisor, ctx, out)
    design = ctx.design
    if design is not None and design.type is DesignType.PARALLEL and design.randomised is not None:
        for kind, summaries in (("rows", rows), ("change", change)):
            for time in dict.fromkeys(r.time for r in summaries):
                total = sum(r.n for r in summaries if r.time == time)
                if total > design.randomised:
                    out.add(Rule.INVALID_VALUE, f"{path}.{kind}",
                            f"the arms' n at {time!r} in `{path}.{kind}` add up to {total}, more than "
                            f"the {design.randomised} randomised (`design.randomised`).")
    if ctx.design is not None and paired and ctx.design.type is not DesignType.CROSSOVER:
        out.add(Rule.INVALID_VALUE, f"{path}.paired",
                f"`{path}.paired` (within-subject differences between arms) needs `design.type = 'crossover'`.")
    if change and ctx.design is not None and ctx.design.baseline is None:
        out.add(Rule.INVALID_VALUE, f"{path}.change",
                f"`{path}.change` needs a baseline: set `design.baseline`.")
    if not (rows or change or paired or t.get("comparisons")):
        out.add(Rule.MISSING_KEY, f"{path}.rows",
                f"`{path}` holds no numbers: give `rows`, `change`, `paired` or `comparisons` "
                f"(or write `table = {UNAVAILABLE!r}` in the outcome).")
    comparisons = []
    for j, body in enumerate(t.get("comparisons", [])):
        cpath = f"{path}.comparisons[{j}]"
        c = _check_block(body, "comparison", cpath, out)
        on = _choice(c.get("on", "end"), _COMPARISON_ON, f"{cpath}.on", out)
        ok = on is not None
        if "time" in c and ctx.visits:
            ok &= _known_name(c["time"], ctx.visits, f"{cpath}.time", "time point of `design.visits`",
                              Rule.UNKNOWN_VISIT, out)
        if "arm" in c:
            ok &= _known_name(c["arm"], ctx.arm_ids, f"{cpath}.arm", "arm", Rule.UNKNOWN_ARM, out)
        if on == "change" and ctx.design is not None and ctx.design.baseline is None:
            out.add(Rule.INVALID_VALUE, f"{cpath}.on", f"`{cpath}.on = 'change'` needs `design.baseline`.")
        if on == "paired" and ctx.design is not None and ctx.design.type is not DesignType.CROSSOVER:
            out.add(Rule.INVALID_VALUE, f"{cpath}.on",
                    f"`{cpath}.on = 'paired'` needs `design.type = 'crossover'`.")
        p = _p_value(c["p"], f"{cpath}.p", out) if "p" in c else None
        if ok and p is not None and "time" in c:
            comparisons.append(Comparison(time=c["time"], p=p, on=on or "end", arm=c.get("arm", ""),
                                          test=c.get("test", ""), source=c.get("source", "")))
    if "source" not in t:
        return None
    return PublishedTable(source=t["source"], rows=tuple(rows), change=tuple(change), paired=tuple(paired),
                          comparisons=tuple(comparisons), dispersion=dispersion, sd_divisor=divisor)


def _parse_outcome(raw: Any, index: int, ctx: _Context, out: _Collector) -> PublishedOutcome | None:
    path = f"outcomes[{index}]"
    o = _check_block(raw, "outcome", path, out)
    missing = _unavailable(o, "outcome", path, out)
    directions = tuple(x.value for x in Direction)
    direction = _choice(o["direction"], directions, f"{path}.direction", out) if "direction" in o else None
    expected = None
    if "expected" in o:
        expected = _choice(o["expected"], ("increase", "decrease"), f"{path}.expected", out)
        if not o.get("expected_source"):
            out.add(Rule.MISSING_KEY, f"{path}.expected_source",
                    f"`{path}.expected` is an a priori expectation, not a published fact: give its "
                    f"rationale in `{path}.expected_source`.")
    p = _p_value(o["p"], f"{path}.p", out) if "p" in o else None
    flags: list[PublishedFlag] = []
    if "flags" in o:
        names = _strings(o["flags"], f"{path}.flags", out) or ()
        allowed = tuple(f.value for f in PublishedFlag)
        for name in names:
            if _choice(name, allowed, f"{path}.flags", out):
                flags.append(PublishedFlag(name))
    scale = _parse_scale(o["scale"], f"{path}.scale", out) if "scale" in o else None
    # a string `table` other than "unavailable" was reported and removed by _unavailable
    table = _parse_table(o["table"], f"{path}.table", ctx, out) if "table" in o else None
    if direction is None or "id" not in o or "source" not in o:
        return None
    return PublishedOutcome(
        id=o["id"], label=o.get("label", o["id"]), direction=Direction(direction), source=o["source"], p=p,
        flags=tuple(flags), description=o.get("description", ""),
        expected=Direction(expected) if expected else None, expected_source=o.get("expected_source", ""),
        scale=scale, table=table, note=o.get("note", ""), unavailable=missing,
        unavailable_reason=o.get("unavailable_reason", ""),
    )


def _parse_context(raw: Any, index: int, outcome_ids: tuple[str, ...], out: _Collector) -> ContextResult | None:
    path = f"context[{index}]"
    c = _check_block(raw, "context", path, out)
    relates = _strings(c["relates_to"], f"{path}.relates_to", out) if "relates_to" in c else ()
    for name in relates or ():
        _known_name(name, outcome_ids, f"{path}.relates_to", "outcome id", Rule.UNKNOWN_ENDPOINT, out)
    p = _p_value(c["p"], f"{path}.p", out) if "p" in c else None
    est, lo, hi = c.get("estimate"), c.get("ci_low"), c.get("ci_high")
    if lo is not None and hi is not None and not lo <= hi:
        out.add(Rule.INVALID_VALUE, f"{path}.ci_low", f"`{path}.ci_low` ({lo}) is above `ci_high` ({hi}).")
    elif est is not None and lo is not None and hi is not None and not lo <= est <= hi:
        out.add(Rule.INVALID_VALUE, f"{path}.estimate",
                f"`{path}.estimate` ({est}) is outside its CI [{lo}, {hi}].")
    level = c.get("ci_level")
    if level is not None and not 0 < level < 1:
        out.add(Rule.INVALID_VALUE, f"{path}.ci_level", f"`{path}.ci_level` must be in (0, 1), e.g. 0.95; got {level}.")
    for key in ("n_participants", "n_trials"):
        if key in c and c[key] < 1:
            out.add(Rule.INVALID_VALUE, f"{path}.{key}", f"`{path}.{key}` must be a positive integer.")
    if not {"kind", "citation", "label", "source"} <= set(c):
        return None
    return ContextResult(
        kind=c["kind"], citation=c["citation"], label=c["label"], source=c["source"],
        relates_to=tuple(relates or ()), measure=c.get("measure", ""),
        estimate=None if est is None else float(est), ci_low=None if lo is None else float(lo),
        ci_high=None if hi is None else float(hi), ci_level=None if level is None else float(level), p=p,
        unit=c.get("unit", ""), n_participants=c.get("n_participants"), n_trials=c.get("n_trials"),
        note=c.get("note", ""),
    )


# ---------------------------------------------------------------------------------------------
# Public entry points


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
    out = _Collector(file)
    top = _check_block(dict(raw), "top", "", out)
    tr = _check_block(top.get("trial", {}), "trial", "trial", out)
    trial_id = tr.get("id", "")
    if trial_id and not _SLUG.match(trial_id):
        out.add(Rule.INVALID_VALUE, "trial.id",
                f"`trial.id` must be a slug (letters, digits, _ or -); got {trial_id!r}.", trial_id)
    citation = _parse_citation(top["citation"], out) if "citation" in top else None
    design = _parse_design(top["design"], out) if "design" in top else None
    arms_raw = top.get("arms", {})
    arms = _parse_arms(arms_raw, design, out) if "arms" in top else ()
    ctx = _Context(design, arms, tuple(arms_raw) if isinstance(arms_raw, dict) else ())

    outcomes: list[PublishedOutcome] = []
    raw_outcomes = top.get("outcomes", [])
    if "outcomes" in top and not raw_outcomes:
        out.add(Rule.INVALID_VALUE, "outcomes", "`outcomes` must hold at least one [[outcomes]] table.")
    for i, body in enumerate(raw_outcomes):
        outcome = _parse_outcome(body, i, ctx, out)
        if outcome is not None:
            outcomes.append(outcome)
    raw_ids = [b.get("id") for b in raw_outcomes if isinstance(b, dict) and isinstance(b.get("id"), str)]
    for dup in sorted({i for i in raw_ids if raw_ids.count(i) > 1}):
        out.add(Rule.INVALID_VALUE, "outcomes", f"outcome id {dup!r} is declared twice.", dup)
    for i, oid in enumerate(raw_ids):
        if not _SLUG.match(oid):
            out.add(Rule.INVALID_VALUE, f"outcomes[{i}].id",
                    f"`outcomes[{i}].id` must be a slug (letters, digits, _ or -); got {oid!r}.", oid)

    context = []
    for i, body in enumerate(top.get("context", [])):
        item = _parse_context(body, i, tuple(raw_ids), out)
        if item is not None:
            context.append(item)

    if out.problems:
        raise ValidationError(out.problems)
    assert citation is not None and design is not None  # guaranteed: no problem was found
    return PublishedTrial(id=trial_id, title=tr.get("title", trial_id), citation=citation, design=design,
                          arms=arms, outcomes=tuple(outcomes), context=tuple(context),
                          note=tr.get("note", ""), file=file)


def read_published(path: str | Path) -> PublishedTrial:
    """Read and check a published-results TOML file (format: docs/published-results.md).

    Raises
    ------
    ValidationError
        When the file is missing, is not TOML, or breaks any rule (all listed at once).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ValidationError([Problem(Rule.FILE_NOT_FOUND, str(path), "the published-results file does not exist.")])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError([Problem(Rule.SPEC_UNREADABLE, str(path), f"cannot read the file: {exc}.")])
    return parse_published(raw, file=str(path))
