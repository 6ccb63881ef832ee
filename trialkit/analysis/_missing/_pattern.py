"""The missing-data pattern of a trial: per arm and visit, who was observed, who skipped a visit, who left."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import TrialkitError

__all__ = ["missing_pattern"]


def missing_pattern(
    values: npt.NDArray[np.float64],
    arm: npt.NDArray[np.int64],
    *,
    arms: tuple[str, ...],
    visits: tuple[str, ...],
) -> pd.DataFrame:
    """Count, per arm and post-baseline visit, the subjects observed, intermittently missing and gone.

    Parameters
    ----------
    values : ndarray (n, T)
        The endpoint at the post-baseline visits, in time order; NaN where missing.
    arm : ndarray (n,) of int
        Each subject's arm, as a position in ``arms``.
    arms : tuple of str
        Arm names.
    visits : tuple of str
        Visit names (the columns of ``values``).

    Returns
    -------
    DataFrame
        Columns ``arm, visit, n_subjects, n_observed, n_intermittent, n_monotone``, arms in the
        order given, then visits. A missing value is *intermittent* when the subject has a value
        at a later visit, *monotone* when it has none (the subject left the study, or never came
        back); ``n_observed + n_intermittent + n_monotone = n_subjects``.

    Raises
    ------
    TrialkitError
        ``values`` not (n, T) with T = len(``visits``); ``arm`` not n codes in range.
    """
    if values.ndim != 2 or values.shape[1] != len(visits):
        raise TrialkitError(f"`values` must be an array of shape (subjects, {len(visits)}); got {values.shape}.")
    if arm.shape != (values.shape[0],) or (arm.size and (arm.min() < 0 or arm.max() >= len(arms))):
        raise TrialkitError(f"`arm` must hold one code in 0..{len(arms) - 1} per subject; got shape {arm.shape}.")
    seen = ~np.isnan(values)
    # a later visit observed: cumulative "any" from the right, shifted by one visit
    later = np.zeros_like(seen)
    later[:, :-1] = np.logical_or.accumulate(seen[:, ::-1], axis=1)[:, ::-1][:, 1:]
    rows = []
    for k, a in enumerate(arms):
        mine = arm == k
        for j, v in enumerate(visits):
            observed = int((seen[mine, j]).sum())
            intermittent = int((~seen[mine, j] & later[mine, j]).sum())
            n = int(mine.sum())
            rows.append(
                {
                    "arm": a,
                    "visit": v,
                    "n_subjects": n,
                    "n_observed": observed,
                    "n_intermittent": intermittent,
                    "n_monotone": n - observed - intermittent,
                }
            )
    return pd.DataFrame(rows, columns=["arm", "visit", "n_subjects", "n_observed", "n_intermittent", "n_monotone"])
