"""Turn raw columns into typed arrays: numbers that never coerce text to missing, labels as integer codes.

One rule for text that should be a number, used by every reader: after stripping blanks, a
missing-value code is missing; anything else must be a plain decimal number (optional sign,
digits with at most one decimal mark, optional exponent) that a double holds: finite, and not
zero unless written as zero. ``"0x1A"``, ``"1_000"``, ``"inf"``, ``"nan"``, ``"<5"``, ``"1,2"``
(with a ``.`` decimal mark), ``"1e400"`` (too large) and ``"1e-400"`` (a non-zero number that
would read as 0) are not numbers. The fast CSV reader (:mod:`pyarrow`) is used only where it
reads exactly this, so a file is read to the same numbers whichever reader reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["NUMBER_PATTERN", "UNDERFLOW_PATTERN", "Labels", "Numbers", "parse_number_text", "parse_numbers", "text_of"]

#: the text a number may be written as (after stripping blanks; ``.`` stands for the decimal mark)
NUMBER_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: a non-zero digit before a negative exponent: a number in the grammar above that matches this and
#: reads as 0 was too small for a double (``1e-400``); reading it as 0 would read a value the file does not hold
UNDERFLOW_PATTERN = r"^[^eE]*[1-9][^eE]*[eE]-"

Codes = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Numbers:
    """A column parsed as numbers.

    Attributes
    ----------
    values : ndarray of float64
        NaN where the entry is missing or bad.
    bad : ndarray of bool
        True where the entry is present but is not a finite number (an error, never a missing value).
    raw : ndarray of object or None
        The entries as read, kept for the messages about bad ones; None when none is bad.
    """

    values: Floats
    bad: Mask
    raw: npt.NDArray[np.object_] | None = None

    def take(self, index: npt.NDArray[np.intp] | Mask) -> Numbers:
        """Return the entries at ``index`` (positions or a mask)."""
        raw = None if self.raw is None else self.raw[index]
        bad = self.bad[index]
        return Numbers(self.values[index], bad, raw if bad.any() else None)


def parse_number_text(text: Sequence[str | None] | npt.ArrayLike, *, decimal: str, missing: Iterable[str]) -> Numbers:
    """Parse text entries as float64 by the one rule for numbers written as text.

    Parameters
    ----------
    text : array-like of str or None
        Entries as read; None (or a missing float) is missing.
    decimal : {".", ","}
        The decimal mark. With ``","``, ``"1,5"`` is 1.5 and ``"1.5"`` is an error.
    missing : iterable of str
        Codes that mean "no value", compared after stripping blanks.

    Returns
    -------
    Numbers
        ``values`` (NaN where missing or bad) and ``bad`` (present but not a finite number).

    Examples
    --------
    >>> texts = ["1.5", " 2 ", "NA", "0x1A", "1e400", "1e-400", "0e-9", None]
    >>> parsed = parse_number_text(texts, decimal=".", missing=("NA",))
    >>> parsed.values.tolist(), parsed.bad.tolist()
    ([1.5, 2.0, nan, nan, nan, nan, 0.0, nan], [False, False, False, True, True, True, False, False])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(text, type=pa.string(), from_pandas=True)
    stripped = pc.utf8_trim_whitespace(array)
    codes = pa.array(list(missing), type=pa.string())
    is_missing = pc.or_(pc.is_null(array), pc.fill_null(pc.is_in(stripped, value_set=codes), False))
    candidate = stripped
    if decimal == ",":
        has_dot = pc.fill_null(pc.match_substring(stripped, "."), False)
        candidate = pc.replace_substring(stripped, ",", ".")
    else:
        has_dot = pa.scalar(False)
    well_formed = pc.and_(pc.fill_null(pc.match_substring_regex(candidate, NUMBER_PATTERN), False), pc.invert(has_dot))
    accepted = pc.and_(well_formed, pc.invert(is_missing))
    values = np.array(pc.cast(pc.if_else(accepted, candidate, None), pa.float64()).to_numpy(zero_copy_only=False))
    finite = np.isfinite(values)
    zero = values == 0
    if zero.any():  # a non-zero number too small for a double reads as 0: refused, like one too large
        underflow = pc.fill_null(pc.match_substring_regex(candidate, UNDERFLOW_PATTERN), False)
        finite &= ~(zero & np.asarray(underflow, dtype=bool))
    bad = ~np.asarray(is_missing, dtype=bool) & ~finite
    values[~finite] = np.nan
    return Numbers(values, bad, np.asarray(array.to_pandas(), dtype=object) if bad.any() else None)


def parse_numbers(
    column: pd.Series | npt.ArrayLike, *, decimal: str = ".", missing: Iterable[str] = ("", "NA", ".")
) -> Numbers:
    """Parse a column as float64 without ever reading text as missing.

    Parameters
    ----------
    column : Series or array-like
        Numbers, text as read from a file (see :func:`parse_number_text`), or the cells of a
        spreadsheet (numbers, text, booleans, dates).
    decimal : {".", ","}
        Decimal mark of text numbers.
    missing : iterable of str
        Text codes that mean "no value" (compared after stripping blanks).

    Returns
    -------
    Numbers
        ``values`` (NaN where missing or bad) and ``bad``: True where the entry is present but is
        not a finite number (``"<5"``, ``"ND"``, ``"1,2"`` with a ``.`` decimal mark, ``"inf"``,
        a boolean or a date). These are errors, never missing values.

    Examples
    --------
    >>> parse_numbers(pd.Series([1.0, "2", "<5", True, None], dtype=object)).bad.tolist()
    [False, False, True, True, False]
    """
    series = column if isinstance(column, pd.Series) else pd.Series(np.asarray(column, dtype=object))
    raw = series.to_numpy(dtype=object)
    n = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        bad = np.asarray(series.notna(), dtype=bool)
        return Numbers(np.full(n, np.nan), bad, raw if bad.any() else None)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = np.array(series.to_numpy(dtype="float64", na_value=np.nan))
        bad = np.isinf(values)
        values[bad] = np.nan
        return Numbers(values, bad, raw if bad.any() else None)
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(series.dtype):
        return parse_number_text(series, decimal=decimal, missing=missing)
    is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=n)
    is_number = np.fromiter(
        (isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in raw),
        dtype=bool,
        count=n,
    )
    present = np.asarray(pd.notna(raw), dtype=bool)
    values = np.full(n, np.nan)
    bad = present & ~is_text & ~is_number  # booleans, dates and other objects from spreadsheets
    if is_text.any():
        parsed = parse_number_text(raw[is_text], decimal=decimal, missing=missing)
        values[is_text] = parsed.values
        bad[is_text] = parsed.bad
    numbers = is_number & present
    if numbers.any():
        values[numbers] = raw[numbers].astype(np.float64)
        infinite = numbers & np.isinf(values)
        bad |= infinite
        values[infinite] = np.nan
    return Numbers(values, bad, raw if bad.any() else None)


def text_of(value: object) -> str | None:
    """Return an identifier's text as written: stripped, None when missing or blank.

    A whole number read as a float (``12.0`` from a spreadsheet or statistics file) is ``"12"``.

    Examples
    --------
    >>> text_of(" S001 "), text_of(12.0), text_of(""), text_of(float("nan"))
    ('S001', '12', None, None)
    """
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Labels:
    """A column of identifiers (subjects, arms, visits, endpoint codes) as integer codes into its texts.

    Attributes
    ----------
    codes : ndarray of int32
        Position of each entry's text in ``texts``; -1 where the entry is missing.
    texts : tuple of str
        The distinct texts, each stripped and non-empty.
    sorted_used : bool
        Whether ``texts`` are sorted by code point and each is some entry's text (then they are
        the labels' :meth:`used` texts without a pass over the entries).
    """

    codes: Codes
    texts: tuple[str, ...]
    sorted_used: bool = False

    def __len__(self) -> int:
        """Return the number of entries."""
        return len(self.codes)

    @classmethod
    def from_coded(cls, codes: npt.NDArray[np.integer], texts: Sequence[object]) -> Labels:
        """Return labels from codes into raw texts, which are cleaned (:func:`text_of`) and merged when equal.

        ``codes`` may be -1 for missing entries.
        """
        clean = [text_of(t) for t in texts]
        position: dict[str, int] = {}
        lookup = np.empty(len(clean) + 1, dtype=np.int32)
        for i, text in enumerate(clean):
            lookup[i] = -1 if text is None else position.setdefault(text, len(position))
        lookup[-1] = -1
        identity = len(position) == len(clean) and all(lookup[i] == i for i in range(len(clean)))
        if identity:
            return cls(codes.astype(np.int32, copy=False), tuple(position))
        return cls(np.take(lookup, codes).astype(np.int32, copy=False), tuple(position))

    @classmethod
    def from_values(cls, values: pd.Series | npt.ArrayLike) -> Labels:
        """Return labels from the entries of a column as read (text, numbers or missing)."""
        series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return cls.from_coded(np.asarray(codes), list(uniques))

    @classmethod
    def constant(cls, text: str, n: int) -> Labels:
        """Return ``n`` entries all equal to ``text``."""
        return cls(np.zeros(n, dtype=np.int32), (text,), sorted_used=n > 0)

    @classmethod
    def concat(cls, parts: Sequence[Labels]) -> Labels:
        """Return the entries of ``parts`` one after the other, with their texts united."""
        if len(parts) == 1:
            return parts[0]
        position: dict[str, int] = {}
        codes = []
        for part in parts:
            lookup = np.array([position.setdefault(t, len(position)) for t in part.texts] + [-1], dtype=np.int32)
            codes.append(lookup[part.codes])
        return cls(np.concatenate(codes) if codes else np.empty(0, np.int32), tuple(position))

    def take(self, index: npt.NDArray[np.intp] | Mask) -> Labels:
        """Return the entries at ``index`` (positions or a mask); the texts are kept."""
        return Labels(self.codes[index], self.texts)

    def tile(self, times: int) -> Labels:
        """Return the entries repeated ``times`` times one after the other."""
        return Labels(np.tile(self.codes, times), self.texts, self.sorted_used and times > 0)

    def rename(self, mapping: Mapping[str, str]) -> Labels:
        """Return the labels with each text replaced by ``mapping[text]`` (when listed), equal texts merged."""
        return Labels.from_coded(self.codes, [mapping.get(t, t) for t in self.texts])

    def replace(self, where: Mask, text: str) -> Labels:
        """Return the labels with the entries where ``where`` is True set to ``text``."""
        texts = self.texts if text in self.texts else (*self.texts, text)
        codes = self.codes.copy()
        codes[where] = texts.index(text)
        return Labels(codes, texts)

    def lookup(self, order: Sequence[str]) -> Codes:
        """Return each entry's position in ``order``; -1 when missing or not listed."""
        if tuple(order) == self.texts:
            return self.codes
        position = {t: i for i, t in enumerate(order)}
        table = np.array([position.get(t, -1) for t in self.texts] + [-1], dtype=np.int32)
        return np.take(table, self.codes)

    def text(self, i: int) -> str | None:
        """Return the text of entry ``i``; None when it is missing."""
        code = int(self.codes[i])
        return None if code < 0 else self.texts[code]

    def isin(self, texts: Iterable[str]) -> Mask:
        """Return whether each entry's text is one of ``texts`` (False when missing)."""
        wanted = set(texts)
        table = np.array([t in wanted for t in self.texts] + [False], dtype=bool)
        return np.take(table, self.codes)

    def used(self) -> tuple[str, ...]:
        """Return the texts that at least one entry has, sorted by code point."""
        if self.sorted_used:
            return self.texts
        present = np.zeros(len(self.texts) + 1, dtype=bool)
        present[self.codes] = True
        return tuple(sorted(t for t, p in zip(self.texts, present[:-1], strict=True) if p))
