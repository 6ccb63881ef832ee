"""Checking decoded TOML documents against a schema, collecting every problem.

Shared by the study spec (:mod:`trialkit.spec`), the simulation design (:mod:`trialkit.simulate`) and
the published-results format (:mod:`trialkit.reproduce.published`). A schema maps each key of a table
to ``(accepted types, required)``; :func:`check_table` type-checks one table against it and the
other helpers check single values. Every problem goes to a :class:`ProblemCollector` with its dotted
key path in ``Problem.column``, so that all problems of a document are reported at once.

Each format keeps its own wording where the formats have always differed: those differences are
keyword arguments here (``phrases``, ``sort_keys``, ``got_value`` of :func:`check_table`, ``what``
and ``finite`` of :func:`interval`), never unified texts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from trialkit._errors import Problem, Rule, ValidationError, did_you_mean

__all__ = [
    "BOOL",
    "INT",
    "LIST",
    "NUM",
    "SLUG",
    "STR",
    "TABLE",
    "ProblemCollector",
    "Schema",
    "check_table",
    "choice",
    "interval",
    "is_number",
    "string_list",
    "type_name",
]

#: identifiers (study, arm, endpoint, outcome ids): a letter, then letters, digits, _ or -
SLUG = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

# accepted types of a key
STR = (str,)
NUM = (int, float)
INT = (int,)
BOOL = (bool,)
LIST = (list,)
TABLE = (dict,)

#: key -> (accepted types, required)
Schema = Mapping[str, tuple[tuple[type, ...], bool]]

_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


class ProblemCollector:
    """Accumulates problems so that all of them are reported at once.

    Each problem names ``file`` and, in ``Problem.column``, the key path it is about.
    """

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, rule: Rule, key: str, message: str, value: Any = None) -> None:
        shown = None if value is None else str(value)
        self.problems.append(Problem(rule, self.file, message, column=key, value=shown))

    def raise_if_any(self) -> None:
        """Raise one :class:`~trialkit.ValidationError` with every problem collected, if any."""
        if self.problems:
            raise ValidationError(self.problems)


def type_name(types: tuple[type, ...], phrases: Mapping[tuple[type, ...], str] | None = None) -> str:
    """Name ``types`` in a message.

    ``phrases[types]`` when given, else "a number" for :data:`NUM`, else the types' names joined by "or".
    """
    if phrases and types in phrases:
        return phrases[types]
    if types == NUM:
        return "a number"
    return " or ".join(_NAMES[t] for t in types)


def check_table(
    raw: Any,
    schema: Schema,
    path: str,
    out: ProblemCollector,
    *,
    phrases: Mapping[tuple[type, ...], str] | None = None,
    sort_keys: bool = True,
    got_value: bool = False,
) -> dict[str, Any]:
    """Type-check one table against ``schema``; returns only its known, well-typed keys.

    Reports a ``raw`` that is not a table, every unknown key (with the closest valid name and the
    list of valid keys), every wrongly typed value (``bool`` is never accepted as a number) and
    every required key that is absent. Key paths are ``path.key`` (just ``key`` when ``path`` is
    empty, for a document's top level).

    Keyword arguments keep each format's wording: ``phrases`` names type tuples in messages (see
    :func:`type_name`); ``sort_keys`` lists the valid keys sorted (else in schema order);
    ``got_value`` shows a non-table's value (and records it) instead of its type name.
    """
    if not isinstance(raw, dict):
        if got_value:
            out.add(Rule.WRONG_TYPE, path, f"`{path}` must be a table; got {raw!r}.", raw)
        else:
            out.add(Rule.WRONG_TYPE, path, f"`{path}` must be a table; got {type(raw).__name__}.")
        return {}
    good: dict[str, Any] = {}
    for key, value in raw.items():
        key_path = f"{path}.{key}" if path else key
        if key not in schema:
            valid = sorted(schema) if sort_keys else list(schema)
            out.add(
                Rule.UNKNOWN_KEY,
                key_path,
                f"unknown key `{key_path}`{did_you_mean(key, schema)}; valid keys: {', '.join(valid)}.",
            )
            continue
        types, _ = schema[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            out.add(
                Rule.WRONG_TYPE, key_path, f"`{key_path}` must be {type_name(types, phrases)}; got {value!r}.", value
            )
            continue
        good[key] = value
    for key, (_, required) in schema.items():
        if required and key not in raw:
            key_path = f"{path}.{key}" if path else key
            out.add(Rule.MISSING_KEY, key_path, f"required key `{key_path}` is missing.")
    return good


def choice(value: str, allowed: tuple[str, ...], key: str, out: ProblemCollector) -> str | None:
    """``value`` when it is one of ``allowed``; else None, with the problem (and the closest name)."""
    if value in allowed:
        return value
    out.add(
        Rule.INVALID_VALUE,
        key,
        f"`{key}` must be one of {', '.join(map(repr, allowed))}; got {value!r}{did_you_mean(value, allowed)}.",
        value,
    )
    return None


def string_list(value: list[Any], key: str, out: ProblemCollector) -> tuple[str, ...] | None:
    """Read an array of distinct strings as a tuple; None, with the problem, otherwise."""
    if not all(isinstance(v, str) for v in value):
        out.add(Rule.WRONG_TYPE, key, f"`{key}` must be an array of strings; got {value!r}.")
        return None
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        out.add(Rule.INVALID_VALUE, key, f"`{key}` lists {', '.join(map(repr, dupes))} twice.")
        return None
    return tuple(value)


def is_number(x: Any, *, finite: bool = True) -> bool:
    """Whether ``x`` is an int or float (not a bool), and finite unless ``finite`` is False."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and (not finite or math.isfinite(x))


def interval(
    value: list[Any],
    key: str,
    out: ProblemCollector,
    *,
    what: str = "[low, high] numbers with low < high",
    finite: bool = False,
) -> tuple[float, float] | None:
    """``[low, high]`` numbers with low < high as a float pair; None, with the problem, otherwise.

    ``finite`` also refuses infinite bounds; ``what`` is how the message describes the expected value.
    """
    if len(value) == 2 and all(is_number(x, finite=finite) for x in value) and value[0] < value[1]:
        return float(value[0]), float(value[1])
    out.add(Rule.INVALID_VALUE, key, f"`{key}` must be {what}; got {value!r}.", value)
    return None
