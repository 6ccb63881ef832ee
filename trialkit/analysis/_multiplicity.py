"""Multiplicity adjustment of a family of p-values, as R's ``p.adjust`` computes it.

Pure function of numbers; the family (which rows are adjusted together) is chosen by the caller
(docs/analyses.md, "Multiplicity").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from trialkit._checks import check_in, check_sample
from trialkit._errors import TrialkitError
from trialkit._spec import Multiplicity

__all__ = ["adjust_p"]


def _as_p(p_values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p = check_sample(p_values, "p_values", minimum=0)
    bad = np.flatnonzero((p < 0) | (p > 1))
    if bad.size:
        shown = ", ".join(f"{float(p[i])!r} at position {i}" for i in bad[:3])
        more = f" and {bad.size - 3} more" if bad.size > 3 else ""
        raise TrialkitError(f"`p_values` must hold numbers in [0, 1]; got {shown}{more}.")
    return p


def adjust_p(p_values: npt.ArrayLike, method: Multiplicity | str) -> npt.NDArray[np.float64]:
    r"""Return the adjusted p-values of one family, in the order given.

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p-values, each in [0, 1] (no NaN). For ``fixed_sequence`` the order is the
        testing order.
    method : Multiplicity
        ``holm``, ``hochberg``, ``bonferroni``, ``bh``, ``fixed_sequence`` or ``none`` (the
        value or its string).

    Returns
    -------
    ndarray
        Adjusted p-values (float64), same length and order as ``p_values``.

    Raises
    ------
    TrialkitError
        (a ``ValueError``) when a p-value is NaN or outside [0, 1], or ``method`` is unknown.

    Notes
    -----
    With m p-values, :math:`p_{(1)} \le \dots \le p_{(m)}` (ties in their given order):

    - ``bonferroni``: :math:`\min(1, m p_i)`;
    - ``holm`` (Holm 1979): :math:`\tilde p_{(i)} = \min(1, \max_{j \le i} (m - j + 1) p_{(j)})`;
    - ``hochberg`` (Hochberg 1988): :math:`\tilde p_{(i)} = \min(1, \min_{j \ge i} (m - j + 1) p_{(j)})`;
    - ``bh`` (Benjamini & Hochberg 1995): :math:`\tilde p_{(i)} = \min(1, \min_{j \ge i} (m / j) p_{(j)})`;
    - ``fixed_sequence``: :math:`\tilde p_i = \max_{j \le i} p_j` in the given order, so a
      hypothesis is rejected at level alpha only when it and all before it are;
    - ``none``: unchanged.

    The arithmetic follows R's ``p.adjust`` (e.g. ``(m / j) * p`` for BH), and matches it to
    1e-12 on the reference cases in tests/reference/multiplicity/. An empty family returns an
    empty array; a family of one is unchanged.

    Examples
    --------
    >>> adjust_p([0.01, 0.04, 0.03], "holm").tolist()
    [0.03, 0.06, 0.06]
    """
    p = _as_p(p_values)
    method = check_in(method, "method", Multiplicity)
    m = p.size
    if m <= 1 or method is Multiplicity.NONE:
        return p.copy()
    if method is Multiplicity.BONFERRONI:
        return np.minimum(1.0, m * p)
    if method is Multiplicity.FIXED_SEQUENCE:
        return np.maximum.accumulate(p)
    if method is Multiplicity.HOLM:
        order = np.argsort(p, kind="stable")
        i = np.arange(1, m + 1)
        adjusted = np.minimum(1.0, np.maximum.accumulate((m + 1 - i) * p[order]))
    else:  # step-up methods work from the largest p-value down
        order = np.argsort(-p, kind="stable")
        i = np.arange(m, 0, -1)
        if method is Multiplicity.HOCHBERG:
            scaled = (m + 1 - i) * p[order]
        elif method is Multiplicity.BH:
            scaled = (m / i) * p[order]
        else:  # pragma: no cover - every Multiplicity member is handled above
            raise TrialkitError(f"unhandled multiplicity method {method.value!r}.")
        adjusted = np.minimum(1.0, np.minimum.accumulate(scaled))
    out = np.empty(m)
    out[order] = adjusted
    return out
