"""Rank statistics of a shifted sample, evaluated fast for the many shifts of a root search.

The normal-approximation interval and estimate of the Wilcoxon tests are roots, in the shift d,
of the standardised statistic of ``x - d`` (R ``wilcox.test``'s ``W(d)``). A root search
evaluates it some 40 times per test; ranking the pooled sample each time costs O(n log n). Here
the samples are sorted once and held as distinct values with their multiplicities, and each
evaluation locates the shifted values in the other sample with ``numpy.interp`` (whose search
starts from the previous answer, so a sorted batch is located in about linear time), then
corrects the located index exactly by comparison. The result is what ranking gives: ties are
exact equality of the doubles ``x - d`` as R computes them, and every count is an exact integer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["RankSumShift", "SignedRankShift"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _distinct(sorted_values: Floats, counts: Ints | None = None) -> tuple[Floats, Ints]:
    """Distinct values of a sorted array and the multiplicity of each (summing ``counts`` if given)."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    if counts is None:
        mult = np.diff(np.r_[starts, sorted_values.size]).astype(np.int64)
    else:
        mult = np.add.reduceat(counts, starts).astype(np.int64)
    return sorted_values[starts], mult


def _tie_sum(counts: Ints) -> int:
    """Sum of t³ − t over tie groups of sizes ``counts`` (exact, in integers)."""
    c = counts[counts > 1]
    return int(np.sum(c * c * c - c))


class _Table:
    """Distinct sorted values with multiplicities, for locating other values among them."""

    def __init__(self, values: Floats, counts: Ints) -> None:
        self.values = values
        self.counts = counts
        self.at_most = np.r_[0, np.cumsum(counts)]  # at_most[k + 1] = number of values <= values[k]
        self.index = np.arange(values.size, dtype=np.float64)

    def locate(self, keys: Floats) -> tuple[Ints, Ints]:
        """For sorted ``keys``: how many table values are < each key, and how many are equal to it."""
        m = self.values.size
        if m == 0:
            zeros = np.zeros(keys.size, dtype=np.int64)
            return zeros, zeros
        # interp returns k + fraction for values[k] <= key < values[k + 1]; rounding can lift it
        # to k + 1, so the floor is corrected by one comparison and then checked exactly
        k = np.interp(keys, self.values, self.index).astype(np.int64)
        k -= self.values[k] > keys
        below = k < 0
        kc = np.where(below, 0, k)
        nxt = np.minimum(k + 1, m - 1)
        wrong = (~below & (self.values[kc] > keys)) | ((k + 1 < m) & (self.values[nxt] <= keys))
        if wrong.any():  # pragma: no cover - interp's guess is never more than one off
            k[wrong] = np.searchsorted(self.values, keys[wrong], side="right") - 1
            below = k < 0
            kc = np.where(below, 0, k)
        equal = np.where(~below & (self.values[kc] == keys), self.counts[kc], 0)
        return self.at_most[k + 1] - equal, equal


def _merge_collapsed(values: Floats, counts: Ints) -> tuple[Floats, Ints]:
    """Merge neighbours that became equal (distinct values whose shifted doubles coincide)."""
    if values.size < 2 or bool(np.all(values[1:] > values[:-1])):
        return values, counts
    return _distinct(values, counts)


class RankSumShift:
    """Mann–Whitney count and pooled tie term of the samples ``x - d`` and ``y``, for any shift d.

    ``at(d)`` returns ``(u, ties)``: u = #{(i, j): x_i − d > y_j} + ½ #{x_i − d = y_j} (the
    rank sum of ``x - d`` in the pooled sample minus n_x(n_x + 1)/2, R's W), and
    ``ties`` = Σ(t³ − t) over the tie groups of the pooled sample. Results are cached by d.
    """

    def __init__(self, x: Floats, y: Floats) -> None:
        self.x_values, self.x_counts = _distinct(np.sort(x))
        self.y = _Table(*_distinct(np.sort(y)))
        self.x_ties = _tie_sum(self.x_counts)
        self.y_ties = _tie_sum(self.y.counts)
        self._cache: dict[float, tuple[float, float]] = {}

    def at(self, d: float) -> tuple[float, float]:
        """Return (u, ties) for the shift ``d``."""
        hit = self._cache.get(d)
        if hit is not None:
            return hit
        a, counts = _merge_collapsed(self.x_values - d, self.x_counts)
        x_ties = self.x_ties if counts is self.x_counts else _tie_sum(counts)
        less, equal = self.y.locate(a)
        u = float(np.dot(counts, less)) + 0.5 * float(np.dot(counts, equal))
        cross = equal > 0
        na, nb = counts[cross], equal[cross]
        ties = self.y_ties + x_ties + int(np.sum(3 * na * nb * (na + nb)))
        out = (u, float(ties))
        self._cache[d] = out
        return out


class SignedRankShift:
    """Signed-rank statistic of ``d - s`` (zero differences dropped), for any shift s.

    ``at(s)`` returns ``(n, v, ties)``: n = number of non-zero ``d - s``; v = sum of the
    (mid)ranks of |d − s| over the positive differences (R's V); ties = Σ(t³ − t) over the tie
    groups of |d − s|. Results are cached by s.
    """

    def __init__(self, d: Floats) -> None:
        self.values, self.counts = _distinct(np.sort(d))
        self.ties = _tie_sum(self.counts)
        self._cache: dict[float, tuple[int, float, float]] = {}

    def at(self, s: float) -> tuple[int, float, float]:
        """Return (n, v, ties) for the shift ``s``."""
        hit = self._cache.get(s)
        if hit is not None:
            return hit
        a, counts = _merge_collapsed(self.values - s, self.counts)
        all_ties = self.ties if counts is self.counts else _tie_sum(counts)
        k0 = int(np.searchsorted(a, 0.0, side="left"))
        k1 = int(np.searchsorted(a, 0.0, side="right"))
        zeros = int(counts[k0:k1].sum())  # at most one group: the values are distinct
        negative = _Table(-a[:k0][::-1], counts[:k0][::-1])  # |negative differences|, ascending
        pos_values, pos_counts = a[k1:], counts[k1:]
        n_pos = int(pos_counts.sum())
        n = n_pos + int(negative.counts.sum())
        less, equal = negative.locate(pos_values)
        # a positive difference's midrank: the positives below it, the negatives below it, and
        # half of those tied with it; over all positives the first part sums to n_pos(n_pos+1)/2
        v = n_pos * (n_pos + 1) / 2 + float(np.dot(pos_counts, less)) + 0.5 * float(np.dot(pos_counts, equal))
        cross = equal > 0
        na, nb = pos_counts[cross], equal[cross]
        ties = all_ties - (zeros**3 - zeros) + int(np.sum(3 * na * nb * (na + nb)))
        out = (n, v, float(ties))
        self._cache[s] = out
        return out
