"""Rounding conventions as exact intervals, and printed values as exact fractions.

A printed value stands for the true values that round to it: :func:`window` gives them as an
interval whose ends are included or not as the convention says (:class:`Rounding`). GRIM, GRIMMER
and the SD bounds reason on these intervals in rational arithmetic, so that a verdict never
depends on binary rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from trialkit._checks import check_integer
from trialkit._errors import TrialkitError
from trialkit.reproduce._codes import Code

#: a value as printed: a str keeps the printed digits exactly; a float is read through its shortest repr
Reported = float | int | str


class Rounding(Code):
    """Registry of rounding conventions a publication may have used (``meaning`` says where)."""

    HALF_UP = "half_up", "half up", "ties away from zero (SPSS, SAS, Excel ROUND, the school rule)"
    HALF_EVEN = (
        "half_even",
        "half even",
        "ties to the even digit (R round() and sprintf(), C printf on exact binary ties, Python round(), IEEE 754 "
        "default)",
    )


#: conventions tried when none is named: a value is consistent when any of them makes it so
ROUNDINGS: tuple[Rounding, ...] = (Rounding.HALF_UP, Rounding.HALF_EVEN)


def check_ddof(ddof: object) -> int:
    """Return an SD's ``ddof`` (divisor ``n - ddof``): 0 (divisor n, as Student 1908 printed) or 1 (n - 1)."""
    out = check_integer(ddof, "ddof", 0)
    if out > 1:
        raise TrialkitError(f"`ddof` must be 0 (divisor n) or 1 (divisor n - 1); got {ddof!r}.")
    return out


def as_roundings(rounding: Rounding | str | Sequence[Rounding | str]) -> tuple[Rounding, ...]:
    """Return the ``rounding`` argument as distinct conventions, in the order given."""
    items = [rounding] if isinstance(rounding, (str, Rounding)) else list(rounding)
    out = []
    for item in items:
        try:
            out.append(Rounding(item))
        except ValueError:
            allowed = ", ".join(repr(r.value) for r in Rounding)
            raise TrialkitError(f"`rounding` must be one or more of {allowed}; got {item!r}.") from None
    if not out:
        raise TrialkitError("`rounding` must name at least one convention; got an empty sequence.")
    return tuple(dict.fromkeys(out))


def reported(value: Reported, name: str, decimals: int, decimals_name: str) -> Fraction:
    """Return the printed value as an exact fraction; a str keeps the printed digits exactly."""
    if isinstance(value, bool):
        raise TrialkitError(f"`{name}` must be a number as printed; got {value!r}.")
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(repr(float(value)))
    except (InvalidOperation, TypeError, ValueError):
        raise TrialkitError(f"`{name}` must be a number as printed; got {value!r}.") from None
    if not d.is_finite():
        raise TrialkitError(f"`{name}` must be a finite number; got {value!r}.")
    try:
        exact = d == d.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:  # more digits than the decimal context holds
        exact = False
    if not exact:
        raise TrialkitError(
            f"`{name}` = {value!r} has more than {decimals} decimal places; pass the "
            f"value as printed and set `{decimals_name}` to the number of decimals printed."
        )
    return Fraction(d)


# --------------------------------------------------------------------------------------------
# rounding as exact intervals


@dataclass(frozen=True)
class Window:
    """The true values that print as a given value: an interval with explicit end closure."""

    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, x: Fraction) -> bool:
        """Whether ``x`` prints as the value."""
        above = x > self.low or (self.low_closed and x == self.low)
        below = x < self.high or (self.high_closed and x == self.high)
        return above and below


def window(value: Fraction, decimals: int, mode: Rounding) -> Window:
    """Return the true values that print as ``value`` (at ``decimals`` places) under ``mode``."""
    half = Fraction(1, 2 * 10**decimals)
    low, high = value - half, value + half
    if mode is Rounding.HALF_EVEN:
        even = (value * 10**decimals).numerator % 2 == 0  # value * 10^d is an integer
        return Window(low, high, even, even)
    if value > 0:  # half up = ties away from zero
        return Window(low, high, True, False)
    if value < 0:
        return Window(low, high, False, True)
    return Window(low, high, False, False)


def round_to(x: Fraction, decimals: int, mode: Rounding) -> Fraction:
    """Return ``x`` rounded to ``decimals`` places under ``mode``, exactly."""
    scaled = x * 10**decimals
    floor = math.floor(scaled)
    rest = scaled - floor
    if rest > Fraction(1, 2):
        floor += 1
    elif rest == Fraction(1, 2):
        if mode is Rounding.HALF_EVEN:
            floor += floor % 2
        elif x > 0:
            floor += 1
    return Fraction(floor, 10**decimals)


def printed(x: Fraction, decimals: int) -> str:
    """Return ``x`` as printed at ``decimals`` places (half up)."""
    q = round_to(x, decimals, Rounding.HALF_UP)
    return format(Decimal(q.numerator) / Decimal(q.denominator), f".{decimals}f")


def join_modes(modes: Sequence[Rounding]) -> str:
    """Return the conventions in words: ``"half up or half even"``."""
    return " or ".join(m.label for m in modes)
