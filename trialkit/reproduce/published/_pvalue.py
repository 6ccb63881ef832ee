"""Published p-values: one type, :class:`PValue`, and one parser, :meth:`PValue.parse`.

A p-value as printed is a number (``"0.002"``) or a bound (``"< 0.001"``); either way it stands
for an interval of true p-values: the values that round to the printed digits, or those the bound
allows. The published-results files, the abstract-level audit, the reconstruction targets and the
table-level verdict all read and compare p-values through this module.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: how a bound may be written -> its canonical form
_BOUNDS = {"=": "=", "<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">="}
_P_PATTERN = re.compile(r"^\s*(?:p\s*)?(<=|>=|≤|≥|<|>|=)?\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s*$", re.IGNORECASE)


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

    The interval of true p-values it stands for (:attr:`interval`, with the closure of its ends in
    :attr:`low_closed` and :attr:`high_closed`): ``"0.03"`` means [0.025, 0.035) (closed below,
    open above: half up; the ends have probability 0, so the convention changes no verdict);
    ``"< 0.001"`` (0, 0.001); ``"<= 0.05"`` (0, 0.05]; ``"> 0.05"`` (0.05, 1]; ``">= 0.05"``
    [0.05, 1]. A rounding interval that reaches 1 is closed there (``"1.00"`` is [0.995, 1]).
    """

    value: float
    bound: str = "="
    as_written: str = ""

    @property
    def is_bound(self) -> bool:
        """True when the publication gives only a bound (``"< 0.001"``), not a value."""
        return self.bound != "="

    def _rounding(self) -> tuple[Decimal, Decimal] | None:
        """Return the number as written and half a unit of its last digit, in decimal; None when unknown."""
        number = _P_PATTERN.match(self.as_written)
        if number is None:
            return None
        try:
            written = Decimal(number.group(2))
        except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
            return None
        return written, Decimal(5).scaleb(int(written.as_tuple().exponent) - 1)

    @property
    def half_unit(self) -> float | None:
        """Half a unit of the last written digit (0.0005 for ``"0.002"``); None when unknown."""
        rounding = self._rounding()
        return None if rounding is None else float(rounding[1])

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
        rounding = self._rounding()
        if rounding is None:  # pragma: no cover - parse() always stores a readable text
            return (self.value, self.value)
        written, half = rounding
        return (max(0.0, float(written - half)), min(1.0, float(written + half)))

    @property
    def low_closed(self) -> bool:
        """Whether the lower end of :attr:`interval` is a possible p (``"0.03"``, ``">= 0.05"``)."""
        return self.bound in ("=", ">=")

    @property
    def high_closed(self) -> bool:
        """Whether the upper end of :attr:`interval` is a possible p (``"<= 0.05"``, ``"> 0.05"``)."""
        if self.bound == "=":
            rounding = self._rounding()
            return rounding is not None and sum(rounding) > 1
        return self.bound != "<"

    @property
    def interval_text(self) -> str:
        """:attr:`interval` as text with the closure of its ends: ``"[0.025, 0.035)"``, ``"(0, 0.001)"``."""
        low, high = self.interval
        return f"{'[' if self.low_closed else '('}{low:.6g}, {high:.6g}{']' if self.high_closed else ')'}"

    def contains(self, p: float) -> bool:
        """Whether ``p`` prints as this p-value: inside its rounding interval, or as its bound allows."""
        low, high = self.interval
        above = p > low or (self.low_closed and p == low)
        below = p < high or (self.high_closed and p == high)
        return bool(above and below)

    def overlaps(self, p_min: float, p_max: float) -> bool:
        """Whether some p in [p_min, p_max] lies in :attr:`interval` (False when either is NaN)."""
        if not (math.isfinite(p_min) and math.isfinite(p_max)):
            return False
        low, high = self.interval
        above = p_max > low or (self.low_closed and p_max == low)
        below = p_min < high or (self.high_closed and p_min == high)
        return bool(above and below)

    @classmethod
    def parse(cls, written: str | int | float) -> PValue:
        """Read a p-value as published: ``"0.002"``, ``"< 0.001"``, ``"P = 0.06"``, ``0.37``.

        A float is read through its shortest repr, so ``0.030`` cannot be told from ``0.03``:
        pass a string to keep trailing zeros.

        Raises
        ------
        ValueError
            When the text is not a p-value or not in [0, 1] (the message says what to write).

        Examples
        --------
        >>> PValue.parse("< 0.001")
        PValue(value=0.001, bound='<', as_written='< 0.001')
        >>> PValue.parse("0.030").interval_text, PValue.parse(0.03).interval_text
        ('[0.0295, 0.0305)', '[0.025, 0.035)')
        """
        if isinstance(written, bool) or not isinstance(written, (str, int, float)):
            raise ValueError(f'must be a p-value as published, e.g. "0.002" or "< 0.001"; got {written!r}')
        text = written if isinstance(written, str) else repr(float(written) if isinstance(written, float) else written)
        match = _P_PATTERN.match(text)
        if match is None:
            raise ValueError(
                f'cannot read {text!r} as a p-value; write it as published, e.g. "0.002", '
                '"< 0.001" or "> 0.05" (a bound, not words such as \'NS\')'
            )
        try:
            value = float(match.group(2))
        except ValueError:
            raise ValueError(f'cannot read {text!r} as a p-value; write a number such as "0.002"') from None
        bound = _BOUNDS[match.group(1) or "="]
        if value < sys.float_info.min and re.search(r"[1-9]", match.group(2).lower().split("e")[0]):
            # 1e-400 reads as 0 and 1e-310 as a subnormal number that has lost its digits: neither is the
            # value written, and no audit can use a p that small (its t would not be a number either)
            raise ValueError(
                f"{text!r} is below the smallest p-value a double-precision number carries "
                f'({sys.float_info.min:.1e}); write it as the bound "< 1e-300", which the audit reads as it is'
            )
        if not (0.0 <= value <= 1.0) or not math.isfinite(value):
            raise ValueError(f"a p-value must be in [0, 1]; got {text!r}")
        if bound == "=" and value == 0.0:
            raise ValueError(
                f"a p-value cannot be exactly 0 (got {text!r}); software that prints "
                '"0.000" means p < 0.0005: write "< 0.0005"'
            )
        if bound in ("<", "<=") and value == 0.0:
            raise ValueError(f"a p-value cannot be below 0 (got {text!r})")
        if bound in (">", ">=") and value == 1.0:
            raise ValueError(f"a p-value cannot be above 1 (got {text!r})")
        return cls(value=value, bound=bound, as_written=text.strip())
