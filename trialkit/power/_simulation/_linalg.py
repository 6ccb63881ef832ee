"""Cholesky factors and solves of stacks of small symmetric matrices, one per replicate.

A loop over the ``p`` columns with vector operations over the stack: for the matrices of a
regression with a few terms this costs a fraction of LAPACK's per-matrix calls, and a matrix that
is singular for one replicate is flagged instead of stopping the others.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["RCOND", "cho_solve", "cholesky"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: smallest Cholesky pivot, relative to its diagonal entry, of a matrix treated as non-singular
RCOND = 1e-13


def cholesky(matrix: Floats) -> tuple[Floats, Bools]:
    """Return the lower Cholesky factors of symmetric matrices (T, p, p) and whether each is non-singular.

    A pivot (the squared length of a column's part orthogonal to the columns before it) at or below
    ``RCOND`` times its diagonal entry, or a non-finite matrix, marks the matrix singular; its
    factor is then meaningless but finite.

    Examples
    --------
    >>> low, regular = cholesky(np.array([[[4.0, 2.0], [2.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]]]))
    >>> low[0].tolist(), regular.tolist()
    ([[2.0, 0.0], [1.0, 1.0]], [True, False])
    """
    p = matrix.shape[1]
    regular: Bools = np.all(np.isfinite(matrix), axis=(1, 2))
    a = np.where(regular[:, None, None], matrix, np.eye(p))
    low = np.zeros_like(a)
    for j in range(p):
        pivot = a[:, j, j] - np.einsum("tk,tk->t", low[:, j, :j], low[:, j, :j])
        regular &= pivot > RCOND * a[:, j, j]
        low[:, j, j] = np.sqrt(np.where(regular, pivot, 1.0))
        for i in range(j + 1, p):
            low[:, i, j] = (a[:, i, j] - np.einsum("tk,tk->t", low[:, i, :j], low[:, j, :j])) / low[:, j, j]
    return low, regular


def cho_solve(low: Floats, rhs: Floats) -> Floats:
    """Solve ``L L' x = rhs`` for stacks of lower factors (T, p, p) and right-hand sides (T, p, q)."""
    p = low.shape[1]
    forward = np.empty_like(rhs)
    for i in range(p):
        forward[:, i] = (rhs[:, i] - np.einsum("tk,tkq->tq", low[:, i, :i], forward[:, :i])) / low[:, i, i, None]
    x = np.empty_like(rhs)
    for i in reversed(range(p)):
        x[:, i] = (forward[:, i] - np.einsum("tk,tkq->tq", low[:, i + 1 :, i], x[:, i + 1 :])) / low[:, i, i, None]
    return x
