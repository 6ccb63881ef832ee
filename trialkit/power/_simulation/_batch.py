"""What a simulated-analysis kernel receives and returns: a batch of replicate trials and its rejections.

A :class:`Batch` holds ``T`` replicate trials of one endpoint at one sample size, all arms
together (control first, then each arm, subjects of an arm contiguous), on the analysis scale:
the logs of a log-scale endpoint, 0/1 for a binary one, counts for a count endpoint. A kernel
analyses every replicate at once and returns an :class:`Outcome`: for each replicate and each
comparison of an arm with control, whether the test rejects at ``alpha`` (two-sided) and whether
the analysis could not be fitted at all (counted as not rejecting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Analysis", "Batch", "Kernel", "Outcome"]


@dataclass(frozen=True, eq=False)
class Batch:
    """``T`` replicate trials of one endpoint, every arm, every visit.

    Attributes
    ----------
    values : ndarray of float64, shape (T, N, V)
        Replicate x subject x visit, on the analysis scale. A value that is not observed holds an
        arbitrary finite number (never read: see ``observed``).
    observed : ndarray of bool, shape (1, N, V) or (T, N, V)
        Whether each value is observed; the first axis has length 1 when every replicate has the
        same pattern (a fixed number of dropouts per arm, the last subjects of the arm). Dropout is
        monotone: a subject observed at a visit is observed at every earlier visit, and every
        subject is observed at the first visit.
    arm : ndarray of intp, shape (N,)
        The arm of each subject: 0 for control, ``j`` for the ``j``-th other arm.
    sizes : tuple of int
        Subjects randomised per arm, control first; ``arm`` is ``sizes[0]`` zeros, then
        ``sizes[1]`` ones, and so on.
    baseline : int or None
        Index of the baseline visit (always 0 when there is one), None without a baseline visit.
    primary : int
        Index of the visit the treatment effect is tested at.
    exposure : ndarray of float64, shape (V,), or None
        Count endpoints: the time at risk of each visit (the offset of a rate model is its log);
        None: 1 per visit.
    count_baseline : str
        Count endpoints: how a rate model enters the baseline rate (baseline count / baseline
        exposure): "log", "log1p" or "raw", the study spec's ``count_baseline``.
    """

    values: npt.NDArray[np.float64]
    observed: npt.NDArray[np.bool_]
    arm: npt.NDArray[np.intp]
    sizes: tuple[int, ...]
    baseline: int | None
    primary: int
    exposure: npt.NDArray[np.float64] | None = None
    count_baseline: str = "log"

    @property
    def trials(self) -> int:
        """Return the number of replicate trials ``T``."""
        return int(self.values.shape[0])

    @property
    def comparisons(self) -> int:
        """Return the number of arms compared with control, ``k``."""
        return len(self.sizes) - 1

    def arm_slice(self, j: int) -> slice:
        """Return the subjects of arm ``j`` (0 = control) along the subject axis."""
        start = sum(self.sizes[:j])
        return slice(start, start + self.sizes[j])


@dataclass(frozen=True, eq=False)
class Outcome:
    """What a kernel found in each replicate, per comparison of an arm with control.

    Attributes
    ----------
    reject : ndarray of bool, shape (T, k)
        The two-sided test of arm ``j + 1`` against control rejects at ``alpha``.
    failed : ndarray of bool, shape (T, k)
        The analysis could not be fitted (too few observed subjects, a degenerate design, no
        finite estimate); such a replicate never rejects.
    """

    reject: npt.NDArray[np.bool_]
    failed: npt.NDArray[np.bool_]


#: kernel(batch, alpha) -> Outcome: one analysis of every replicate of the batch at once
Kernel = Callable[[Batch, float], Outcome]


@dataclass(frozen=True)
class Analysis:
    """One analysis a power simulation can run.

    Attributes
    ----------
    name : str
        The name users pass in ``analyses=`` and ``--analyses`` ("ancova", "t", ...).
    label : str
        Its name in words, for tables and figures.
    types : tuple of str
        The endpoint types it analyses ("continuous", "binary", "count").
    needs_baseline : bool
        Whether it uses the baseline visit (the design must then have one).
    kernel : Kernel
        The batched analysis.
    """

    name: str
    label: str
    types: tuple[str, ...]
    needs_baseline: bool
    kernel: Kernel
