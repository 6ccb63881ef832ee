"""Argument checks shared by the analysis functions, built on :mod:`trialkit._checks`.

Two kinds of error, kept apart: an argument that is malformed (NaN in a sample, alpha outside
(0, 1), an unknown method) is a :class:`~trialkit.TrialkitError`; a well-formed sample that cannot
support the analysis (too few values, no spread) is an :class:`~trialkit.AnalysisError` whose
``term`` names the argument, which :func:`~trialkit.analyze` records as a failure and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from trialkit._checks import check_number, check_sample
from trialkit._errors import AnalysisError, TrialkitError

__all__ = ["check_nonzero", "sample"]


def sample(values: Iterable[Any] | npt.ArrayLike, name: str, *, minimum: int = 1) -> npt.NDArray[np.float64]:
    """Return ``values`` as a float array; NaN is a TrialkitError, fewer than ``minimum`` an AnalysisError.

    Examples
    --------
    >>> sample([1.0], "x", minimum=2)
    Traceback (most recent call last):
    ...
    trialkit._errors.AnalysisError: `x` must hold at least 2 values; got 1.
    """
    try:
        return check_sample(values, name, minimum=minimum, too_few=AnalysisError)
    except AnalysisError as exc:
        raise AnalysisError(str(exc), term=name) from None


def check_nonzero(value: object, name: str, why: str) -> float:
    """Return ``value`` as a finite non-zero float; ``why`` says what its sign means."""
    out = check_number(value, name)
    if out == 0:
        raise TrialkitError(f"`{name}` must be a non-zero number ({why}); got {value!r}.")
    return out
