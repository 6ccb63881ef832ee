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


def _distinct(sorted_values: Floats) -> tuple[Floats, Ints]:
    """Return the distinct values of a sorted array and the multiplicity of each."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]))
    return sorted_values[starts], np.diff(np.append(starts, sorted_values.size)).astype(np.int64)


def _tie_sum(counts: Ints) -> int:
    """Return the sum of t³ − t over tie groups of sizes ``counts`` (exact, in integers)."""
    c = counts[counts > 1]
    return int(np.sum(c * c * c - c))


def _locate(values: Floats, counts: Ints, at_most: Ints, keys: Floats, index: Floats) -> tuple[Ints, Ints, Ints]:
    """Locate sorted ``keys`` among the distinct sorted ``values`` (multiplicities ``counts``).

    ``at_most`` is ``cumsum(counts)`` and ``index`` holds 0.0, 1.0, ... (at least as many as
    ``values``). Returns, per key, how many values are < it, and, for the keys equal to a
    value, their positions and that value's multiplicity.
    """
    less = np.zeros(keys.size, dtype=np.int64)
    if values.size == 0:
        return less, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = int(np.searchsorted(keys, values[0], side="left"))  # keys below every value: 0 below them
    rest = keys[start:]
    # interp gives k + f for values[k] <= key < values[k + 1], f in [0, 1]: f = (key - values[k]) /
    # gap can round up to 1 (never beyond), so the floor is k or k + 1, settled by one comparison
    guess = np.interp(rest, values, index[: values.size])
    if np.isfinite(guess).all():
        k = guess.astype(np.int64)
        found = values[k]
        over = np.flatnonzero(found > rest)
        if over.size:
            k[over] -= 1
            found[over] = values[k[over]]
    else:  # pragma: no cover - only with gaps between values below 1e-308
        k = np.searchsorted(values, rest, side="right") - 1
        found = values[k]
    hits = np.flatnonzero(found == rest)
    tied = counts[k[hits]]
    less[start:] = at_most[k]
    less[start + hits] -= tied
    return less, start + hits, tied


def _merge_collapsed(values: Floats, counts: Ints, ties: int) -> tuple[Floats, Ints, int]:
    """Merge neighbours that became equal after a shift, and update the tie term Σ(t³ − t).

    Distinct doubles that differ in their last bits (two changes with the same decimal value)
    can round to one double after the shift; then they are one tie group, as in R. Such pairs
    are few, so the merge works on them alone.
    """
    if values.size < 2:
        return values, counts, ties
    drop = np.flatnonzero(values[1:] == values[:-1]) + 1  # equal to their left neighbour
    if drop.size == 0:
        return values, counts, ties
    keep = np.ones(values.size, dtype=bool)
    keep[drop] = False
    merged = counts[keep]  # a copy
    into = drop - np.arange(drop.size) - 1  # position among the kept values of the group each joins
    run_start = np.concatenate([[True], np.diff(drop) != 1])  # first dropped index of each merged group
    first = (drop - 1)[run_start]  # the group's first (kept) index in ``values``
    np.add.at(merged, into, counts[drop])
    into = into[run_start]
    grown, members = merged[into], np.concatenate([counts[first], counts[drop]])
    ties += int(np.sum(grown**3 - grown)) - int(np.sum(members**3 - members))
    return values[keep], merged, ties


class RankSumShift:
    """Mann–Whitney count and pooled tie term of the samples ``x - d`` and ``y``, for any shift d.

    ``at(d)`` returns ``(u, ties)``: u = #{(i, j): x_i − d > y_j} + ½ #{x_i − d = y_j} (the
    rank sum of ``x - d`` in the pooled sample minus n_x(n_x + 1)/2, R's W), and
    ``ties`` = Σ(t³ − t) over the tie groups of the pooled sample. Results are cached by d.
    """

    def __init__(self, x: Floats, y: Floats) -> None:
        self.x_values, self.x_counts = _distinct(np.sort(x))
        self.y_values, self.y_counts = _distinct(np.sort(y))
        self.y_at_most = np.cumsum(self.y_counts)
        self.index = np.arange(self.y_values.size, dtype=np.float64)
        self.x_ties = _tie_sum(self.x_counts)
        self.y_ties = _tie_sum(self.y_counts)
        self._cache: dict[float, tuple[float, float]] = {}

    def at(self, d: float) -> tuple[float, float]:
        """Return (u, ties) for the shift ``d``."""
        cached = self._cache.get(d)
        if cached is not None:
            return cached
        a, counts, x_ties = _merge_collapsed(self.x_values - d, self.x_counts, self.x_ties)
        less, hits, nb = _locate(self.y_values, self.y_counts, self.y_at_most, a, self.index)
        na = counts[hits]
        u = float(np.dot(counts, less)) + 0.5 * float(np.dot(na, nb))
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
        self.index = np.arange(self.values.size, dtype=np.float64)
        self._cache: dict[float, tuple[int, float, float]] = {}

    def at(self, s: float) -> tuple[int, float, float]:
        """Return (n, v, ties) for the shift ``s``."""
        cached = self._cache.get(s)
        if cached is not None:
            return cached
        a, counts, all_ties = _merge_collapsed(self.values - s, self.counts, self.ties)
        k0 = int(np.searchsorted(a, 0.0, side="left"))
        k1 = int(np.searchsorted(a, 0.0, side="right"))
        zeros = int(counts[k0:k1].sum())  # at most one group: the values are distinct
        # |negative differences|, ascending (negation is exact: R's abs())
        neg_values, neg_counts = -a[:k0][::-1], counts[:k0][::-1]
        neg_at_most = np.cumsum(neg_counts)
        pos_values, pos_counts = a[k1:], counts[k1:]
        n_pos = int(pos_counts.sum())
        n = n_pos + (int(neg_at_most[-1]) if k0 else 0)
        less, hits, nb = _locate(neg_values, neg_counts, neg_at_most, pos_values, self.index)
        na = pos_counts[hits]
        # a positive difference's midrank: the positives below it, the negatives below it, and
        # half of those tied with it; over all positives the first part sums to n_pos(n_pos+1)/2
        v = n_pos * (n_pos + 1) / 2 + float(np.dot(pos_counts, less)) + 0.5 * float(np.dot(na, nb))
        ties = all_ties - (zeros**3 - zeros) + int(np.sum(3 * na * nb * (na + nb)))
        out = (n, v, float(ties))
        self._cache[s] = out
        return out
