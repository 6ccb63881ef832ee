"""Turn a raw column into numbers without ever coercing text to missing."""

from __future__ import annotations

import numpy as np
import pandas as pd


def parse_numbers(
    column: pd.Series, *, decimal: str = ".", missing: tuple[str, ...] = ("", "NA", ".")
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column as float64.

    Parameters
    ----------
    column : Series
        Numbers, or text as read from a file.
    decimal : {".", ","}
        Decimal mark of text numbers. With ``","``, ``"1,5"`` is 1.5 and ``"1.5"`` is an error.
    missing : tuple of str
        Text codes that mean "no value" (compared after stripping blanks).

    Returns
    -------
    values : ndarray of float64
        NaN where the entry is missing or bad.
    bad : ndarray of bool
        True where the entry is present but is not a finite number (``"<5"``, ``"ND"``,
        ``"1,2"`` with a ``.`` decimal mark, ``"inf"``). These are errors, never missing values.
    """
    if pd.api.types.is_bool_dtype(column.dtype):
        values = np.full(len(column), np.nan)
        return values, column.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(values)
        values = np.where(bad, np.nan, values)
        return values, bad
    obj = column.astype(object)
    is_text = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    present = obj.notna().to_numpy()
    text = pd.Series(np.where(is_text, obj, ""), index=column.index, dtype=object).str.strip()
    is_missing_code = is_text & text.isin(set(missing)).to_numpy()
    # booleans and other objects (dates, times) from spreadsheets are not numbers
    other = (
        present
        & ~is_text
        & ~obj.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)).to_numpy(dtype=bool)
    )
    if decimal == ",":
        has_dot = text.str.contains(".", regex=False).to_numpy()
        text = text.str.replace(",", ".", regex=False)
    else:
        has_dot = np.zeros(len(text), dtype=bool)
    as_number = pd.to_numeric(text.where(is_text & ~is_missing_code), errors="coerce")
    numbers = pd.to_numeric(obj.where(present & ~is_text & ~other), errors="coerce")
    values = np.where(
        is_text,
        as_number.to_numpy(dtype="float64", na_value=np.nan),
        numbers.to_numpy(dtype="float64", na_value=np.nan),
    )
    bad = (is_text & ~is_missing_code & (np.isnan(values) | has_dot)) | other
    bad |= np.isinf(values)
    values = np.where(bad | is_missing_code, np.nan, values)
    return values.astype("float64"), bad
