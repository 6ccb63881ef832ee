"""Positions of a column's values among labels: the arm, subject and level codes the analyses use."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["positions"]


def positions(values: pd.Series, labels: pd.Index) -> npt.NDArray[np.int64]:
    """Return the position in ``labels`` of each value, compared as text; -1 when missing or absent.

    A categorical column (the trial's subject, arm, visit and endpoint columns) is looked up once
    per category, not once per row.
    """
    index = pd.Index(labels.astype(str).to_numpy(dtype=object))
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pd.Index(values.cat.categories.astype(str).to_numpy(dtype=object))
        lookup = np.append(index.get_indexer(categories), -1).astype(np.int64)
        return np.asarray(lookup[values.cat.codes.to_numpy()], dtype=np.int64)  # code -1 (missing) takes the -1
    found = index.get_indexer(pd.Index(values.astype(str).to_numpy(dtype=object))).astype(np.int64)
    return np.where(values.notna().to_numpy(), found, -1).astype(np.int64)
