"""The published-results schema as data, and the checks every block of a file goes through.

:data:`SCHEMAS` gives, per block, each key's accepted types and whether it is required;
:func:`check_block` type-checks a block against it. The other helpers read and check single values
(numbers as printed, p-values, declared names). The machinery shared with the study spec and the
simulation design (problem collector, table check, choices, string lists) is :mod:`trialkit._schema`;
every problem goes to its collector, so that a file's problems are all reported at once.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from trialkit._errors import Rule, did_you_mean
from trialkit._schema import BOOL, INT, LIST, NUM, STR, TABLE, ProblemCollector, Schema, check_table
from trialkit.reproduce.published._model import UNAVAILABLE
from trialkit.reproduce.published._pvalue import PValue

# ---------------------------------------------------------------------------------------------
# The schema, as data: block -> key -> (accepted types, required)

_NUM_OR_STR = (int, float, str)
_INT_OR_STR = (int, str)
#: how messages name the types that the shared vocabulary does not
_PHRASES: dict[tuple[type, ...], str] = {_NUM_OR_STR: "a number (or a number written as a string)"}

SCHEMAS: dict[str, Schema] = {
    "top": {
        "trial": (TABLE, True),
        "citation": (TABLE, True),
        "design": (TABLE, True),
        "arms": (TABLE, True),
        "outcomes": (LIST, True),
        "context": (LIST, False),
    },
    "trial": {"id": (STR, True), "title": (STR, False), "note": (STR, False)},
    "citation": {
        "authors": (LIST, True),
        "title": (STR, True),
        "year": (INT, True),
        "source": (STR, True),
        "journal": (STR, False),
        "volume": (_INT_OR_STR, False),
        "issue": (_INT_OR_STR, False),
        "pages": (STR, False),
        "pmid": (STR, False),
        "pmcid": (STR, False),
        "doi": (STR, False),
        "registry": (STR, False),
        "license": (STR, False),
        "url": (STR, False),
    },
    "design": {
        "type": (STR, True),
        "control": (STR, True),
        "visits": (LIST, True),
        "source": (STR, True),
        "randomised": (_INT_OR_STR, False),
        "analysed": (_INT_OR_STR, False),
        "baseline": (STR, False),
        "duration_weeks": (_NUM_OR_STR, False),
        "alpha": (_NUM_OR_STR, False),
        "software": (STR, False),
        "tests": (STR, False),
        "blinding": (STR, False),
        "setting": (STR, False),
        "population": (STR, False),
        "intervention": (STR, False),
        "note": (STR, False),
        "unavailable_reason": (STR, False),
    },
    "arm": {
        "label": (STR, False),
        "source": (STR, True),
        "description": (STR, False),
        "n_randomised": (_INT_OR_STR, False),
        "n_analysed": (_INT_OR_STR, False),
        "unavailable_reason": (STR, False),
    },
    "outcome": {
        "id": (STR, True),
        "label": (STR, False),
        "direction": (STR, True),
        "source": (STR, True),
        "p": (_NUM_OR_STR, False),
        "flags": (LIST, False),
        "description": (STR, False),
        "expected": (STR, False),
        "expected_source": (STR, False),
        "scale": (TABLE, False),
        "table": ((dict, str), False),
        "note": (STR, False),
        "unavailable_reason": (STR, False),
    },
    "scale": {"integer": (BOOL, False), "range": (LIST, False), "items": (INT, False), "unit": (STR, False)},
    "table": {
        "source": (STR, True),
        "dispersion": (STR, False),
        "sd_divisor": (STR, False),
        "decimals": (INT, False),
        "rows": (LIST, False),
        "change": (LIST, False),
        "paired": (LIST, False),
        "comparisons": (LIST, False),
        "note": (STR, False),
    },
    "summary": {
        "arm": (STR, True),
        "time": (STR, True),
        "n": (INT, True),
        "mean": (_NUM_OR_STR, True),
        "sd": (_NUM_OR_STR, False),
        "se": (_NUM_OR_STR, False),
    },
    "paired": {
        "arm": (STR, True),
        "reference": (STR, True),
        "time": (STR, True),
        "n": (INT, True),
        "mean": (_NUM_OR_STR, True),
        "sd": (_NUM_OR_STR, False),
        "se": (_NUM_OR_STR, False),
    },
    "comparison": {
        "time": (STR, True),
        "p": (_NUM_OR_STR, True),
        "on": (STR, False),
        "arm": (STR, False),
        "test": (STR, False),
        "source": (STR, False),
    },
    "context": {
        "kind": (STR, True),
        "citation": (STR, True),
        "label": (STR, True),
        "source": (STR, True),
        "relates_to": (LIST, False),
        "measure": (STR, False),
        "estimate": (NUM, False),
        "ci_low": (NUM, False),
        "ci_high": (NUM, False),
        "ci_level": (NUM, False),
        "p": (_NUM_OR_STR, False),
        "unit": (STR, False),
        "n_participants": (INT, False),
        "n_trials": (INT, False),
        "note": (STR, False),
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


def check_block(raw: Any, block: str, path: str, out: ProblemCollector) -> dict[str, Any]:
    """Type-check one table against its block's schema; returns only the known, well-typed keys."""
    return check_table(raw, SCHEMAS[block], path, out, phrases=_PHRASES)


def unavailable_keys(t: dict[str, Any], block: str, path: str, out: ProblemCollector) -> tuple[str, ...]:
    """Keys of ``t`` written as "unavailable" (removed from ``t``); checks the reason is given."""
    marked = []
    for key, value in list(t.items()):
        if not isinstance(value, str) or key not in _MAY_BE_UNAVAILABLE.get(block, ()):
            continue
        if key == "p" and block == "outcome" and value != UNAVAILABLE:
            continue  # a p-value written as text, parsed later
        if value != UNAVAILABLE:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.{key}",
                f"`{path}.{key}` must be a number or {UNAVAILABLE!r}; got {value!r}.",
                value,
            )
        else:
            marked.append(key)
        del t[key]
    if marked and not t.get("unavailable_reason"):
        out.add(
            Rule.MISSING_KEY,
            f"{path}.unavailable_reason",
            f"`{path}` marks {', '.join(marked)} as {UNAVAILABLE!r}: say why in `{path}.unavailable_reason`.",
        )
    return tuple(marked)


def read_number(value: Any, key: str, out: ProblemCollector) -> tuple[float | None, int | None]:
    """Read a number written as a number or as a string; return (value, decimals written or None)."""
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


def read_p_value(value: Any, key: str, out: ProblemCollector) -> PValue | None:
    """Read a p-value as published (:meth:`PValue.parse`); None, with the parser's message, when it is not one."""
    try:
        return PValue.parse(value)
    except ValueError as exc:
        out.add(Rule.INVALID_VALUE, key, f"`{key}`: {exc}.", value)
        return None


def known_name(value: str, allowed: tuple[str, ...], key: str, what: str, rule: Rule, out: ProblemCollector) -> bool:
    """Whether ``value`` is a declared name (arm, visit, outcome); reports it under ``rule`` if not."""
    if value in allowed:
        return True
    out.add(
        rule,
        key,
        f"`{key}` = {value!r} is not a declared {what}{did_you_mean(value, allowed)}; declared: {', '.join(allowed)}.",
        value,
    )
    return False


def positive_int(value: Any, key: str, out: ProblemCollector) -> int | None:
    """Read a positive count (None when absent or not positive, with the problem)."""
    if value is None:
        return None
    if value < 1:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` must be a positive whole number; got {value!r}.", value)
        return None
    return int(value)
