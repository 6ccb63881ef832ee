"""The published-results schema as data, and the checks every block of a file goes through.

:data:`SCHEMAS` gives, per block, each key's accepted types and whether it is required;
:func:`check_block` type-checks a block against it. The other helpers read and check single values
(numbers as printed, p-values, choices, declared names). Every problem goes to a
:class:`Collector`, so that a file's problems are all reported at once.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from trialkit._errors import Problem, Rule, did_you_mean
from trialkit.reproduce._published_model import UNAVAILABLE
from trialkit.reproduce.pvalues import PValue

SLUG = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

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

SCHEMAS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
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
#: what a table's comparison compared (``comparisons[].on``)
COMPARISON_ON = ("end", "change", "paired")
#: a table's SD divisors (``sd_divisor``)
SD_DIVISORS = ("n-1", "n")


class Collector:
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


def check_block(raw: Any, block: str, path: str, out: Collector) -> dict[str, Any]:
    """Type-check one table against its schema; returns only the known, well-typed keys."""
    if not isinstance(raw, dict):
        out.add(Rule.WRONG_TYPE, path, f"`{path}` must be a table; got {type(raw).__name__}.")
        return {}
    schema = SCHEMAS[block]
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


def unavailable_keys(t: dict[str, Any], block: str, path: str, out: Collector) -> tuple[str, ...]:
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


def choice(value: str, allowed: tuple[str, ...], key: str, out: Collector) -> str | None:
    """``value`` when it is one of ``allowed``; else None, with the problem (and the closest name)."""
    if value in allowed:
        return value
    out.add(Rule.INVALID_VALUE, key, f"`{key}` must be one of {', '.join(map(repr, allowed))}; "
            f"got {value!r}{did_you_mean(value, allowed)}.", value)
    return None


def strings(value: list[Any], key: str, out: Collector) -> tuple[str, ...] | None:
    """An array of distinct strings as a tuple; None, with the problem, otherwise."""
    if not all(isinstance(v, str) for v in value):
        out.add(Rule.WRONG_TYPE, key, f"`{key}` must be an array of strings; got {value!r}.")
        return None
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` lists {', '.join(map(repr, dupes))} twice.")
        return None
    return tuple(value)


def read_number(value: Any, key: str, out: Collector) -> tuple[float | None, int | None]:
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


def read_p_value(value: Any, key: str, out: Collector) -> PValue | None:
    """A p-value as published (:meth:`PValue.parse`); None, with the parser's message, when it is not one."""
    try:
        return PValue.parse(value)
    except ValueError as exc:
        out.add(Rule.INVALID_VALUE, key, f"`{key}`: {exc}.", value)
        return None


def known_name(value: str, allowed: tuple[str, ...], key: str, what: str, rule: Rule, out: Collector) -> bool:
    """Whether ``value`` is a declared name (arm, visit, outcome); reports it under ``rule`` if not."""
    if value in allowed:
        return True
    out.add(rule, key, f"`{key}` = {value!r} is not a declared {what}{did_you_mean(value, allowed)}; "
            f"declared: {', '.join(allowed)}.", value)
    return False


def positive_int(value: Any, key: str, out: Collector) -> int | None:
    """A positive count (None when absent or not positive, with the problem)."""
    if value is None:
        return None
    if value < 1:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a positive whole number; got {value!r}.", value)
        return None
    return int(value)
