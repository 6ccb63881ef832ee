"""Argument checks at the public boundary, with one message template.

Every public function checks its arguments with these helpers before any work, and every failed
check raises a :class:`~trialkit.TrialkitError` (a ``ValueError``) whose message reads

    `name` must be <what>; got <value>.

so that a user sees the argument at fault, what it must be, and what was passed. ``error`` selects
a subclass where a caller documents one. A bool is never a number; NaN is never inside an interval.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from trialkit._errors import TrialkitError

__all__ = [
    "check_alpha",
    "check_bool",
    "check_counts",
    "check_in",
    "check_instance",
    "check_integer",
    "check_interval",
    "check_names",
    "check_number",
    "check_positive_sample",
    "check_sample",
    "check_sd",
]

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

_INTERVAL = re.compile(r"^([\[(])\s*(\S+),\s*(\S+)\s*([\])])$")


def _real(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool, not text), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def check_number(value: object, name: str, *, error: type[TrialkitError] = TrialkitError) -> float:
    """Return ``value`` as a finite float.

    Examples
    --------
    >>> check_number(2, "shift")
    2.0
    >>> check_number(float("nan"), "shift")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `shift` must be a finite number; got nan.
    """
    out = _real(value)
    if out is None or not math.isfinite(out):
        raise error(f"`{name}` must be a finite number; got {value!r}.")
    return out


def check_interval(
    value: object, name: str, interval: str, what: str = "a number", *, error: type[TrialkitError] = TrialkitError
) -> float:
    """Return ``value`` as a float in ``interval``, written as the message shows it (``"(0, 1]"``).

    An interval unbounded above (``"[0, inf)"``) reads as a bound: "`sd` must be a standard
    deviation >= 0; got -1.".

    Examples
    --------
    >>> check_interval(0.5, "level", "(0, 1)")
    0.5
    >>> check_interval(-1, "sd", "[0, inf)", "a standard deviation")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `sd` must be a standard deviation >= 0; got -1.
    """
    match = _INTERVAL.match(interval)
    if match is None:  # pragma: no cover - a programming error, not a user's
        raise ValueError(f"not an interval: {interval!r}")
    left, low, high, right = match.group(1), float(match.group(2)), float(match.group(3)), match.group(4)
    out = _real(value)
    if out is not None:
        above = low < out or (left == "[" and out == low)
        below = out < high or (right == "]" and out == high)
        if above and below:
            return out
        if out == math.inf == high:
            raise error(f"`{name}` must be a finite number; got {value!r}.")
    where = f"{'>=' if left == '[' else '>'} {match.group(2)}" if high == math.inf else f"in {interval}"
    raise error(f"`{name}` must be {what} {where}; got {value!r}.")


def check_alpha(value: object, name: str = "alpha", *, error: type[TrialkitError] = TrialkitError) -> float:
    """Return a significance level (1 - confidence level) as a float in (0, 1).

    Examples
    --------
    >>> check_alpha(1.5)
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `alpha` must be a number in (0, 1); got 1.5.
    """
    return check_interval(value, name, "(0, 1)", error=error)


def check_sd(value: object, name: str, *, error: type[TrialkitError] = TrialkitError) -> float:
    """Return a standard deviation: a finite float >= 0."""
    return check_interval(value, name, "[0, inf)", "a standard deviation", error=error)


def check_integer(value: object, name: str, minimum: int, *, error: type[TrialkitError] = TrialkitError) -> int:
    """Return ``value`` as an int >= ``minimum`` (anything with ``__index__``: int, numpy integers).

    Examples
    --------
    >>> check_integer(3.0, "n", 1)
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `n` must be an integer >= 1; got 3.0.
    """
    message = f"`{name}` must be an integer >= {minimum}; got {value!r}."
    if isinstance(value, bool):
        raise error(message)
    try:
        out = operator.index(value)  # type: ignore[arg-type]  # anything without __index__ raises TypeError
    except TypeError:
        raise error(message) from None
    if out < minimum:
        raise error(message)
    return int(out)


def check_bool(value: object, name: str, *, error: type[TrialkitError] = TrialkitError) -> bool:
    """Return ``value`` when it is a bool (numpy's included); 0 and 1 are not bools."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise error(f"`{name}` must be True or False; got {value!r}.")


def check_names(
    values: object, name: str, minimum: int = 0, *, error: type[TrialkitError] = TrialkitError
) -> tuple[str, ...]:
    """Return ``values`` as a tuple of at least ``minimum`` distinct strings (column names, levels).

    Examples
    --------
    >>> check_names(["RACE", "SEX"], "covariates")
    ('RACE', 'SEX')
    >>> check_names("RACE", "covariates")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `covariates` must be a sequence of distinct names; got 'RACE'.
    """
    what = f"a sequence of at least {minimum} distinct names" if minimum else "a sequence of distinct names"
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise error(f"`{name}` must be {what}; got {values!r}.")
    out = tuple(values)
    if len(out) < minimum or len(set(out)) != len(out) or not all(isinstance(v, str) for v in out):
        raise error(f"`{name}` must be {what}; got {values!r}.")
    return out


def check_in(value: object, name: str, registry: type[E], *, error: type[TrialkitError] = TrialkitError) -> E:
    """Return ``value`` as a member of ``registry`` (an Enum), given as a member or by its value.

    Examples
    --------
    >>> from enum import Enum
    >>> class Side(Enum):
    ...     LOWER = "lower"
    ...     HIGHER = "higher"
    >>> check_in("lower", "better", Side)
    <Side.LOWER: 'lower'>
    >>> check_in("up", "better", Side)
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `better` must be one of 'lower', 'higher'; got 'up'.
    """
    try:
        return registry(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in registry)
        raise error(f"`{name}` must be one of {allowed}; got {value!r}.") from None


def check_instance(
    value: object,
    name: str,
    kind: type[T] | tuple[type[T], ...],
    what: str,
    *,
    error: type[TrialkitError] = TrialkitError,
) -> T:
    """Return ``value`` when it is an instance of ``kind`` (a bool only where ``bool`` is asked for).

    ``what`` names the kind in the message; a simple value is shown as it is, anything else by its
    type.

    Examples
    --------
    >>> check_instance(3, "arm", str, "a string")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `arm` must be a string; got 3.
    >>> check_instance([1], "trial", str, "a trialkit.Trial")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `trial` must be a trialkit.Trial; got list.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return value
    shown = repr(value) if isinstance(value, str | int | float | bool | type(None)) else type(value).__name__
    raise error(f"`{name}` must be {what}; got {shown}.")


def _shown(values: npt.NDArray[np.float64], bad: npt.NDArray[np.intp]) -> str:
    shown = ", ".join(f"{float(values[i])!r} at position {i}" for i in bad[:3])
    return shown + (f" and {bad.size - 3} more" if bad.size > 3 else "")


def check_sample(
    values: Iterable[Any] | npt.ArrayLike,
    name: str,
    *,
    minimum: int = 1,
    error: type[TrialkitError] = TrialkitError,
    too_few: type[TrialkitError] | None = None,
    what: str = "value",
) -> npt.NDArray[np.float64]:
    """Return ``values`` as a 1-d float64 array of finite numbers with at least ``minimum`` of them.

    Missing values are the caller's to remove: a NaN is an error naming its position, never
    dropped here. ``too_few`` is the error for a sample that is well formed but too small (an
    analysis the data cannot support, e.g. :class:`~trialkit.AnalysisError`); default ``error``.

    Examples
    --------
    >>> check_sample([1, 2.5], "x").tolist()
    [1.0, 2.5]
    >>> check_sample([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `x` must hold finite numbers (remove missing values first); got nan at position 1.
    >>> check_sample([], "x", minimum=2)
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `x` must hold at least 2 values; got 0.
    """
    if isinstance(values, str | bytes):
        raise error(f"`{name}` must be a sequence of numbers; got {values!r}.")
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise error(f"`{name}` must be a sequence of numbers; got {values!r}.") from None
    if array.ndim != 1:
        raise error(f"`{name}` must be a flat sequence of numbers; got an array of shape {array.shape}.")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise error(f"`{name}` must hold finite numbers (remove missing values first); got {_shown(array, bad)}.")
    if array.size < minimum:
        plural = what if minimum == 1 else f"{what}s"
        raise (too_few or error)(f"`{name}` must hold at least {minimum} {plural}; got {array.size}.")
    return array


def check_counts(
    values: Iterable[Any] | npt.ArrayLike, name: str, *, minimum: int = 1, error: type[TrialkitError] = TrialkitError
) -> npt.NDArray[np.float64]:
    """Return ``values`` as a float64 array of counts: finite, non-negative whole numbers.

    Examples
    --------
    >>> check_counts([0, 3, 2], "y").tolist()
    [0.0, 3.0, 2.0]
    >>> check_counts([1, 2.5], "y")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `y` must hold counts (non-negative integers); got 2.5 at position 1.
    """
    array = check_sample(values, name, minimum=minimum, error=error)
    bad = np.flatnonzero((array < 0) | (array != np.floor(array)))
    if bad.size:
        raise error(f"`{name}` must hold counts (non-negative integers); got {_shown(array, bad)}.")
    return array


def check_positive_sample(
    values: Iterable[Any] | npt.ArrayLike, name: str, *, minimum: int = 1, error: type[TrialkitError] = TrialkitError
) -> npt.NDArray[np.float64]:
    """Return ``values`` as a float64 array of finite numbers > 0 (exposure times, lengths).

    Examples
    --------
    >>> check_positive_sample([2.0, 0.0], "exposure")
    Traceback (most recent call last):
    ...
    trialkit._errors.TrialkitError: `exposure` must hold positive numbers; got 0.0 at position 1.
    """
    array = check_sample(values, name, minimum=minimum, error=error)
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        raise error(f"`{name}` must hold positive numbers; got {_shown(array, bad)}.")
    return array
