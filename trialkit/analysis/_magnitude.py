"""Values whose magnitude the analyses' arithmetic cannot carry, found before any analysis runs.

A value above ``MAX_MAGNITUDE`` (1e75) has a fourth power — a variance squared, as Welch's and the
MMRM's degrees of freedom compute — past the largest double; a non-zero value below
``MIN_MAGNITUDE`` (1e-75) one that is subnormal or 0. Either way a variance, a standard error, a
degree of freedom or a p-value computed from it is infinite, zero or undefined: the analyses it
would feed are refused instead, with the variable, the value and the subject (and visit) named.
Values within the limits but far from unit scale are computed in a unit of their own
(:mod:`trialkit.analysis._units`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from trialkit._limits import MAX_MAGNITUDE, MIN_MAGNITUDE
from trialkit._spec import StudySpec
from trialkit.analysis._cells import Floats, Subjects

__all__ = ["beyond_limits", "extreme_baseline", "extreme_endpoints", "magnitude_message"]


def beyond_limits(values: Floats) -> npt.NDArray[np.bool_]:
    """Return which values the arithmetic cannot carry: infinite, > MAX_MAGNITUDE or non-zero < MIN_MAGNITUDE.

    Missing values (NaN) are not beyond the limits.

    Examples
    --------
    >>> beyond_limits(np.array([1.0, 0.0, np.nan, 1e150, -1e-300, np.inf])).tolist()
    [False, False, False, True, True, True]
    """
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        return (size > MAX_MAGNITUDE) | ((size > 0) & (size < MIN_MAGNITUDE))


def magnitude_message(what: str, values: Floats, where: Callable[[int], str]) -> str | None:
    """Return the message naming the first value of ``values`` beyond the limits and where it is, or None.

    ``where(i)`` says where value ``i`` is ("subject 'S001', visit 'week8'"); the message also counts the others.

    Examples
    --------
    >>> magnitude_message("endpoint 'pain'", np.array([1.0, 1e150]), lambda i: f"subject {'AB'[i]!r}")[:60]
    "endpoint 'pain' has the value 1e+150 (subject 'B'), beyond t"
    """
    bad = np.flatnonzero(beyond_limits(values))
    if bad.size == 0:
        return None
    first = int(bad[0])
    others = f" and {bad.size - 1} other value(s)" if bad.size > 1 else ""
    return (
        f"{what} has the value {float(values[first]):.6g} ({where(first)}){others}, beyond the magnitude "
        f"the analyses' arithmetic carries (non-zero values between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} "
        "in absolute value; docs/limits.md): correct the value or express the variable in another unit."
    )


def extreme_endpoints(spec: StudySpec, grid: Floats, subjects: Subjects, ids: Sequence[str]) -> Mapping[str, str]:
    """Return, per endpoint whose analyses must not run, the message that says which value stops them.

    An endpoint is stopped by one of its own values (any visit), by a value of a numeric covariate
    (every endpoint: the covariate enters its models) or by a value of its exposure column.
    ``grid`` is the subject x endpoint x visit array, ``ids`` the subject ids in its order.
    """
    order = spec.visits.order
    stopped: dict[str, str] = {}

    def subject(i: int) -> str:
        return f"subject {ids[i]!r}"

    def subject_visit(i: int) -> str:  # the grid flattened subject-major: subject i // visits, visit i % visits
        return f"subject {ids[i // len(order)]!r}, visit {order[i % len(order)]!r}"

    covariate = next(
        (m for c, x in subjects.numeric.items() if (m := magnitude_message(f"covariate {c!r}", x, subject))),
        None,
    )
    for k, ep in enumerate(spec.endpoints):
        own = magnitude_message(f"endpoint {ep.id!r}", np.ascontiguousarray(grid[:, k, :]).reshape(-1), subject_visit)
        exposure = None
        if ep.exposure_column is not None and ep.exposure_column in subjects.exposure:
            exposure = magnitude_message(
                f"exposure column {ep.exposure_column!r}", subjects.exposure[ep.exposure_column], subject
            )
        message = own or covariate or exposure
        if message is not None:
            stopped[ep.id] = message
    return stopped


def extreme_baseline(spec: StudySpec, grid: Floats, subjects: Subjects, ids: Sequence[str]) -> Mapping[str, str]:
    """Return, per numeric baseline variable of Table 1 with a value beyond the limits, the message naming it.

    The variables are the numeric covariates and each endpoint's baseline value (not binary ones: a category).
    """
    out: dict[str, str] = {}

    def subject(i: int) -> str:
        return f"subject {ids[i]!r}"

    for c, x in subjects.numeric.items():
        if (m := magnitude_message(f"baseline variable {c!r}", x, subject)) is not None:
            out[c] = m
    if spec.visits.baseline is None:
        return out
    b = spec.visits.order.index(spec.visits.baseline)
    for k, ep in enumerate(spec.endpoints):
        if ep.type == "binary":
            continue
        if (m := magnitude_message(f"baseline variable {ep.id!r}", grid[:, k, b], subject)) is not None:
            out[ep.id] = m
    return out
