"""The missing-data pattern of a trial: per arm and visit, who was observed, who skipped a visit, who left."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import TrialkitError

__all__ = ["missing_pattern"]

_COLUMNS = ["arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone"]
_SHOWN = 5  # offending codes quoted in a message


def missing_pattern(
    values: npt.ArrayLike,
    arm: npt.ArrayLike,
    *,
    arms: tuple[str, ...],
    visits: tuple[str, ...],
) -> pd.DataFrame:
    """Count, per arm and post-baseline visit, the subjects observed, intermittently missing and gone.

    For subject i and visit j (in time order), with :math:`o_{ij}` true when the value is observed:

    - *observed*: :math:`o_{ij}`;
    - *intermittent*: not :math:`o_{ij}`, and :math:`o_{ik}` for some later visit k > j (the subject
      skipped the visit and came back);
    - *monotone*: not :math:`o_{ij}`, and no later visit observed (the subject left the study, or
      never came after baseline: a subject with no value at all is monotone missing at every visit).

    The three are exclusive, so ``n_observed + n_intermittent + n_monotone = n_subjects`` in every
    row. Inputs are not modified.

    Parameters
    ----------
    values : array_like (n, T) of real numbers
        The endpoint of n subjects at the T post-baseline visits, in time order; NaN where missing.
    arm : array_like (n,) of int
        Each subject's arm, as a position in ``arms`` (0 to ``len(arms) - 1``).
    arms : tuple of str
        Arm names, in the order the rows list them.
    visits : tuple of str
        Visit names: the columns of ``values``, in time order.

    Returns
    -------
    DataFrame
        Columns ``arm, visit, n_subjects, n_observed, n_intermittent, n_monotone`` (counts as int64),
        one row per arm and visit: arms in the order given, visits in time order within each arm.
        ``n_subjects`` counts the subjects of the arm among those given (0 for an arm with none).

    Raises
    ------
    TrialkitError
        ``values`` not a 2-D array of real numbers with ``len(visits)`` columns; ``arm`` not one
        integer code per row of ``values``, or a code outside 0 .. ``len(arms) - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1.0, np.nan, 3.0], [1.0, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    >>> missing_pattern(y, np.array([0, 1, 1]), arms=("placebo", "active"), visits=("w2", "w4", "w8"))
           arm visit  n_subjects  n_observed  n_intermittent  n_monotone
    0  placebo    w2           1           1               0           0
    1  placebo    w4           1           0               1           0
    2  placebo    w8           1           1               0           0
    3   active    w2           2           1               0           1
    4   active    w4           2           0               0           2
    5   active    w8           2           0               0           2
    """
    y = np.asarray(values)
    codes = np.asarray(arm)
    n_visits = len(visits)
    if y.ndim != 2 or y.shape[1] != n_visits:
        raise TrialkitError(
            f"`values` must be an array of shape (subjects, {n_visits}), one column per visit; got shape {y.shape}."
        )
    if y.dtype == np.bool_ or not (np.issubdtype(y.dtype, np.floating) or np.issubdtype(y.dtype, np.integer)):
        raise TrialkitError(f"`values` must be an array of real numbers (NaN where missing); got dtype {y.dtype}.")
    if codes.shape != (y.shape[0],):
        raise TrialkitError(
            f"`arm` must hold one code per row of `values` (shape ({y.shape[0]},)); got shape {codes.shape}."
        )
    if not np.issubdtype(codes.dtype, np.integer):
        raise TrialkitError(f"`arm` must be integer codes (positions in `arms`); got dtype {codes.dtype}.")
    outside = np.unique(codes[(codes < 0) | (codes >= len(arms))])
    if outside.size:
        shown = ", ".join(str(c) for c in outside[:_SHOWN]) + (", ..." if outside.size > _SHOWN else "")
        raise TrialkitError(f"`arm` must hold codes 0 to {len(arms) - 1} (positions in `arms` {arms!r}); got {shown}.")

    seen = ~np.isnan(y.astype(np.float64, copy=False))
    # observed at a later visit: "any" accumulated from the last visit backwards, shifted by one visit
    later = np.zeros_like(seen)
    later[:, :-1] = np.logical_or.accumulate(seen[:, ::-1], axis=1)[:, ::-1][:, 1:]
    member = (codes[None, :] == np.arange(len(arms))[:, None]).astype(np.int64)  # (arms, subjects)
    n_subjects = member.sum(axis=1)
    observed = member @ seen.astype(np.int64)  # (arms, visits)
    intermittent = member @ (~seen & later).astype(np.int64)
    return pd.DataFrame(
        {
            "arm": np.repeat(np.asarray(arms, dtype=object), n_visits),
            "visit": np.tile(np.asarray(visits, dtype=object), len(arms)),
            "n_subjects": np.repeat(n_subjects, n_visits),
            "n_observed": observed.ravel(),
            "n_intermittent": intermittent.ravel(),
            "n_monotone": (n_subjects[:, None] - observed - intermittent).ravel(),
        },
        columns=_COLUMNS,
    )
