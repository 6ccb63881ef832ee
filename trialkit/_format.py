"""How numbers are shown to readers: one function per kind of number, and nothing else rounds.

Every number in the report's tables and in the command line's printout goes through
:func:`format_number` (or :func:`format_p` / :func:`p_phrase`, which use it), so a test can check
each cell against the results table at the precision shown. Results themselves are never rounded.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MISSING",
    "decimals_for",
    "format_ci",
    "format_count",
    "format_nnt",
    "format_nnt_ci",
    "format_number",
    "format_p",
    "p_phrase",
    "parse_shown",
]

#: shown for a number that is not there (an analysis not defining it, a summary needing more values)
MISSING = "–"
#: smallest p-value shown as a number; smaller ones read "<0.001"
P_FLOOR = 0.001
#: the minus sign of typeset text (U+2212): a hyphen is shorter than a plus and reads as a dash
MINUS = "\u2212"


def _as_float(value: object) -> float | None:
    """Return ``value`` as a float, or None when it is missing (None, NaN, pandas NA) or not a number."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() refuses is not a number
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def format_number(value: object, decimals: int | None = None) -> str:
    """Show ``value`` with ``decimals`` digits after the point, or 4 significant digits when None.

    Missing values (None, NaN, pandas NA) read :data:`MISSING`. Negative numbers take the
    typographic minus :data:`MINUS` (U+2212), as journals print them; the numbers themselves stay in
    the results files, and :func:`parse_shown` reads a shown number back. ``-0.00`` is shown as ``0.00``.

    >>> format_number(-2.448742, 2)
    '−2.45'
    >>> format_number(-0.0004, 3)
    '0.000'
    >>> format_number(0.0512345)
    '0.05123'
    >>> format_number(float("nan"), 2)
    '–'
    """
    v = _as_float(value)
    if v is None:
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else f"{MINUS}∞"
    if decimals is None:
        text = f"{v:.4g}"
        if "e" in text:  # keep plain notation for readers: 12345.6 -> 12346, 0.00001234 -> 1.234e-05
            text = f"{v:.0f}" if abs(v) >= 1 else text
    else:
        text = f"{v:.{decimals}f}"
    if text.startswith("-"):
        text = text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def parse_shown(text: str) -> float:
    """Read back a number as :func:`format_number` shows it (typographic minus, ``∞``).

    >>> parse_shown("−2.45"), parse_shown("0.018")
    (-2.45, 0.018)
    """
    return float(text.strip().replace(MINUS, "-").replace("∞", "inf"))


def format_p(p: object) -> str:
    """Show a p-value with 3 decimals, or ``<0.001`` (the style of NEJM and the APA, one everywhere).

    >>> format_p(0.01772), format_p(0.00004), format_p(0.9996)
    ('0.018', '<0.001', '>0.999')
    """
    v = _as_float(p)
    if v is None:
        return MISSING
    if v > 1 - P_FLOOR:  # 0.9996 is not "1.000": no test gives certainty
        return f">{1 - P_FLOOR:.3f}"
    return f"<{P_FLOOR:.3f}" if v < P_FLOOR else format_number(v, 3)


def p_phrase(p: object) -> str:
    """Return a p-value as a phrase in running text: ``p = 0.018`` or ``p < 0.001`` (:func:`format_p`).

    >>> p_phrase(0.01772), p_phrase(0.00004), p_phrase(float("nan"))
    ('p = 0.018', 'p < 0.001', 'p = –')
    """
    text = format_p(p)
    return f"p {text[0]} {text[1:]}" if text[0] in "<>" else f"p = {text}"


def format_ci(low: object, high: object, decimals: int | None) -> str:
    """Show a confidence interval as ``low to high`` (a dash would read as a minus).

    >>> format_ci(-4.44819, -0.449294, 2)
    '−4.45 to −0.45'
    """
    if _as_float(low) is None and _as_float(high) is None:
        return MISSING
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


def _nnt_labels(positive_is_benefit: bool) -> tuple[str, str]:
    """Return the labels of a positive and of a negative number needed to treat."""
    return ("NNTB", "NNTH") if positive_is_benefit else ("NNTH", "NNTB")


def _patients(value: float) -> str:
    """Show a number of patients needed to treat: whole patients, rounded up (Altman 1998)."""
    return str(math.ceil(round(abs(value), 9)))  # round first: 1 / 0.25 computed as 4.000000000001 is 4


def format_nnt(value: object, *, positive_is_benefit: bool = True) -> str:
    """Show a number needed to treat in whole patients with its label: ``NNTB`` (benefit) or ``NNTH`` (harm).

    ``value`` is 1 / risk difference (arm - control); its magnitude is rounded up to the next
    whole patient, as Altman (1998, BMJ 317:1309) asks: 2.9 patients are 3. ``positive_is_benefit``
    says whether a positive one (more responders on the arm) is a benefit, as it is when responding
    is the good outcome.

    >>> format_nnt(2.924), format_nnt(-12.5), format_nnt(4.0)
    ('NNTB 3', 'NNTH 13', 'NNTB 4')
    """
    v = _as_float(value)
    if v is None:
        return MISSING
    if v == 0 or math.isinf(v):  # 1 / RD is never 0; an infinite one is RD = 0: no number of patients
        return "∞" if v != 0 else format_number(v, 0)
    positive, negative = _nnt_labels(positive_is_benefit)
    return f"{positive if v > 0 else negative} {_patients(v)}"


def format_nnt_ci(low: object, high: object, *, positive_is_benefit: bool = True) -> str:
    """Show the confidence interval of a number needed to treat, as Altman (1998) prints it, in whole patients.

    ``low`` and ``high`` are the reciprocals of the risk-difference limits, in increasing order.
    Both positive: ``NNTB low to high``; both negative: ``NNTH |high| to |low|``; opposite signs
    (the risk-difference interval spans 0): the plausible NNTs are everything *outside*
    (low, high), through infinity — ``NNTB high to ∞ to NNTH |low|``. The benefit side is named
    first. With ``positive_is_benefit`` false the labels of the two signs swap. Limits are rounded
    up to whole patients, like the estimate.

    >>> format_nnt_ci(1.775, 17.64)
    'NNTB 2 to 18'
    >>> format_nnt_ci(-20.0, -4.0)
    'NNTH 4 to 20'
    >>> format_nnt_ci(-10.0, 10 / 3)
    'NNTB 4 to ∞ to NNTH 10'
    >>> format_nnt_ci(-10.0, 10 / 3, positive_is_benefit=False)
    'NNTB 10 to ∞ to NNTH 4'
    """
    lo_, hi_ = _as_float(low), _as_float(high)
    if lo_ is None or hi_ is None:
        return format_ci(low, high, 0)
    lo, hi = lo_, hi_
    if lo > hi:
        lo, hi = hi, lo
    positive, negative = _nnt_labels(positive_is_benefit)
    if lo > 0:
        return f"{positive} {_patients(lo)} to {_patients(hi)}"
    if hi < 0:
        return f"{negative} {_patients(hi)} to {_patients(lo)}"
    if lo < 0 < hi:
        benefit, harm = (hi, lo) if positive_is_benefit else (lo, hi)
        return f"NNTB {_patients(benefit)} to ∞ to NNTH {_patients(harm)}"
    return format_ci(lo, hi, 0)  # a limit of exactly 0 is not a reciprocal: shown as it is


def format_count(value: object) -> str:
    """Show a count of subjects."""
    v = _as_float(value)
    return MISSING if v is None else str(int(v))


def decimals_for(values: npt.ArrayLike) -> int:
    """Choose the digits after the point for an endpoint from the spread of its values.

    Three significant digits of the standard deviation (an SD of 3.3 points gives 2 decimals,
    40 minutes 1, 0.07 mmol/L 3), clipped to 0–3. Falls back to 2 when the spread is unknown.

    >>> decimals_for([14.0, 17.0, 20.0]), decimals_for([300.0, 340.0, 380.0]), decimals_for([0.75, 0.82, 0.9])
    (2, 1, 3)
    """
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size < 2:
        return 2
    sd = float(x.std(ddof=1))
    if not sd > 0:
        return 2
    return int(min(3, max(0, 2 - math.floor(math.log10(sd)))))
