"""Subjects grouped by which visits they were observed at: the unit the conditional-normal algebra works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Group", "Groups", "as_slice", "group_by_pattern"]

Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]


def as_slice(ix: Indices) -> slice | Indices:
    """Return ``ix`` as a slice when it is a run of consecutive positions: indexing then gives a view, not a copy."""
    if ix.size and ix[-1] - ix[0] == ix.size - 1:
        return slice(int(ix[0]), int(ix[-1]) + 1)
    return ix


@dataclass(frozen=True)
class Group:
    """Subjects (rows) sharing one pattern: the visits observed and missing (column indices)."""

    rows: Indices
    observed: Indices
    missing: Indices

    @property
    def cells(self) -> tuple[slice | Indices, slice | Indices, slice | Indices]:
        """Return rows, observed and missing visits as slices where they are runs (monotone dropout, sorted rows)."""
        return as_slice(self.rows), as_slice(self.observed), as_slice(self.missing)


@dataclass(frozen=True)
class Groups:
    """Every pattern with a missing value, and the rows with and without one."""

    incomplete: tuple[Group, ...]
    complete_rows: Indices
    incomplete_rows: Indices


def group_by_pattern(y: Floats) -> Groups:
    """Group the rows of ``y`` (n, T; NaN = missing) by their pattern of observed visits, in a fixed order.

    Patterns are ordered by their bits (visit 0 the lowest), rows within a pattern by position,
    so the groups, and every random draw made over them, do not depend on anything but ``y``.
    """
    seen = ~np.isnan(y)
    t = y.shape[1]
    key = seen.astype(np.int64) @ (np.int64(1) << np.arange(t, dtype=np.int64))
    full = (1 << t) - 1
    groups = []
    for k in np.unique(key[key != full]):
        bits = (int(k) >> np.arange(t)) & 1
        groups.append(
            Group(
                rows=np.flatnonzero(key == k),
                observed=np.flatnonzero(bits == 1),
                missing=np.flatnonzero(bits == 0),
            )
        )
    return Groups(tuple(groups), np.flatnonzero(key == full), np.flatnonzero(key != full))
