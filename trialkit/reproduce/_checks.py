"""Argument checks shared by the reproduce tools, with one message template.

Every check raises a :class:`~trialkit.TrialkitError` (so a ``ValueError``) whose message reads
"`name` must be <what>; got <value>.". Two sets of the same checks differ in the error they raise
and in what they take for a number:

* :data:`TABLE` (the table-level tools) raises :class:`TableAuditError` and reads numbers with
  ``float()``, so that a value may be passed as printed (``"2.5"``);
* :data:`STRICT` (the abstract-level audit, the reconstruction) raises
  :class:`~trialkit.TrialkitError` and takes real numbers only.

A bool is never a number.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from trialkit._errors import TrialkitError

E = TypeVar("E", bound=Enum)

_INTERVAL = re.compile(r"^([\[(])\s*(\S+),\s*(\S+)\s*([\])])$")


class TableAuditError(TrialkitError):
    """A malformed input to a table-audit function (a ``ValueError``); the message names the argument."""


@dataclass(frozen=True)
class Checks:
    """The argument checks, raising ``error`` and reading numbers with ``float()`` when ``coerce``."""

    error: type[TrialkitError]
    coerce: bool

    def _float(self, value: object) -> float | None:
        if isinstance(value, bool) or not (self.coerce or isinstance(value, numbers.Real)):
            return None
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    def integer(self, value: object, name: str, minimum: int) -> int:
        """``value`` as an int >= ``minimum`` (anything with ``__index__``: int, numpy integers)."""
        message = f"`{name}` must be an integer >= {minimum}; got {value!r}."
        if isinstance(value, bool):
            raise self.error(message)
        try:
            out = operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            raise self.error(message) from None
        if out < minimum:
            raise self.error(message)
        return out

    def number(self, value: object, name: str) -> float:
        """``value`` as a finite float."""
        out = self._float(value)
        if out is None or not math.isfinite(out):
            raise self.error(f"`{name}` must be a finite number; got {value!r}.")
        return out

    def interval(self, value: object, name: str, interval: str, what: str = "a number") -> float:
        """``value`` as a float in ``interval``, written as the message shows it: ``"(0, 1]"``.

        The message reads "`alpha` must be a number in (0, 1); got 1.5." or, for an interval
        unbounded above such as ``"[0, inf)"``, "`sd` must be a standard deviation >= 0; got -1.".
        NaN is never inside.
        """
        match = _INTERVAL.match(interval)
        if match is None:  # pragma: no cover - a programming error, not a user's
            raise ValueError(f"not an interval: {interval!r}")
        left, low, high, right = match.group(1), float(match.group(2)), float(match.group(3)), match.group(4)
        out = self._float(value)
        inside = (
            out is not None
            and (low < out or (left == "[" and out == low))
            and (out < high or (right == "]" and out == high))
        )
        if inside:
            return out  # type: ignore[return-value]
        if out == math.inf == high:
            raise self.error(f"`{name}` must be a finite number; got {value!r}.")
        where = f"{'>=' if left == '[' else '>'} {match.group(2)}" if high == math.inf else f"in {interval}"
        raise self.error(f"`{name}` must be {what} {where}; got {value!r}.")

    def sd(self, value: object, name: str) -> float:
        """``value`` as a standard deviation: a finite number >= 0."""
        return self.interval(value, name, "[0, inf)", "a standard deviation")

    def ddof(self, value: object) -> int:
        """An SD's divisor ``n - ddof``: 0 (divisor n) or 1 (divisor n - 1)."""
        out = self.integer(value, "ddof", 0)
        if out > 1:
            raise self.error(f"`ddof` must be 0 (divisor n) or 1 (divisor n - 1); got {value!r}.")
        return out

    def member(self, value: object, name: str, registry: type[E]) -> E:
        """``value`` as a member of ``registry`` (an Enum), given as a member or by its value."""
        try:
            return registry(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in registry)
            raise self.error(f"`{name}` must be one of {allowed}; got {value!r}.") from None


#: the checks of the table-level tools (grim, sd_bounds, summary_tests, change_over_r, table_verdict)
TABLE = Checks(TableAuditError, coerce=True)
#: the checks of the abstract-level audit and the reconstruction
STRICT = Checks(TrialkitError, coerce=False)
