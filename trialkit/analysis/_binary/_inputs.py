"""The binary analyses' inputs: frame columns to arrays, and the checks every entry point shares."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_sample
from trialkit._errors import AnalysisError, TrialkitError
from trialkit.analysis._ancova import _codes

__all__ = ["binary_outcome", "frame_codes", "frame_numbers", "require_columns", "same_length"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def binary_outcome(values: npt.ArrayLike, name: str) -> Floats:
    """Return ``values`` as a float array of 0.0 and 1.0; anything else names its first positions."""
    y = check_sample(values, name, minimum=1, too_few=AnalysisError)
    bad = np.flatnonzero((y != 0.0) & (y != 1.0))
    if bad.size:
        shown = ", ".join(f"{float(y[i])!r} at position {i}" for i in bad[:3])
        more = f" and {bad.size - 3} more" if bad.size > 3 else ""
        raise TrialkitError(f"`{name}` must hold only 0 and 1 (event = 1); got {shown}{more}.")
    return y


def same_length(n: int, arrays: Mapping[str, npt.NDArray[np.generic]]) -> None:
    """Raise a TrialkitError naming every array whose length is not ``n``."""
    wrong = [f"{name} has {a.shape[0]}" for name, a in arrays.items() if a.ndim != 1 or a.shape[0] != n]
    if wrong:
        first = next(name for name, a in arrays.items() if a.ndim != 1 or a.shape[0] != n)
        raise TrialkitError(f"`{first}` must hold one value per subject ({n}); got {'; '.join(wrong)}.")


def codes_within(codes: object, name: str, labels: tuple[str, ...]) -> Ints:
    """Return integer codes that index ``labels``; other values are a TrialkitError."""
    array = np.asarray(codes)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise TrialkitError(f"`{name}` must be a flat array of integer codes; got dtype {array.dtype}.")
    if array.size and (array.min() < 0 or array.max() >= len(labels)):
        raise TrialkitError(
            f"`{name}` must hold codes 0 to {len(labels) - 1}; got {int(array.min())} to {int(array.max())}."
        )
    return array.astype(np.int64, copy=False)


def require_columns(frame: pd.DataFrame, needed: list[str]) -> None:
    """Raise a TrialkitError unless ``frame`` has the distinct columns ``needed``."""
    missing = [c for c in needed if c not in frame.columns]
    if missing or len(set(needed)) != len(needed):
        raise TrialkitError(
            f"`frame` must have the distinct columns {', '.join(map(repr, needed))}; "
            f"got {', '.join(map(repr, map(str, frame.columns)))}."
        )


def frame_numbers(frame: pd.DataFrame, column: str) -> Floats:
    """Return a numeric column as floats; text or missing values are a TrialkitError naming the column."""
    try:
        values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise TrialkitError(f"`frame[{column!r}]` must hold numbers; got dtype {frame[column].dtype}.") from None
    return check_sample(values, f"frame[{column!r}]", minimum=0)


def frame_codes(frame: pd.DataFrame, column: str, labels: tuple[str, ...]) -> Ints:
    """Return a text column's values as positions in ``labels`` (undeclared or missing values: TrialkitError)."""
    return _codes(frame[column], f"frame[{column!r}]", labels)
