"""Warnings about what a reader read other than as written: nothing is changed silently.

Identifiers and labels (subject ids, arms, visits, endpoint codes, category values, a binary
endpoint's labels) are compared with the spec as written, with one exception: blanks around a
text are removed first (``"placebo "`` is the arm ``"placebo"``), as no two ids differ only by them
and fixed-width exports pad every value. Each column where that happened gets one
``surrounding_blanks`` warning naming its first entry and how many there are. Letter case is never
folded (``"Placebo"`` is not ``"placebo"``: that is a problem, see :mod:`trialkit._validate`); the one
exception, ADaM's baseline flag ``ABLFL``, whose lowercase ``"y"`` is read as ``"Y"``, is a
``flag_case`` warning.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from trialkit._errors import Problem, Rule
from trialkit._io._files import RawTable
from trialkit._values import Labels

__all__ = ["flag_case_warning", "padded_warnings", "rows_text"]

Mask = npt.NDArray[np.bool_]
#: rows named in a warning before "and N more"
_SHOWN = 5


def rows_text(rows: npt.NDArray[np.int64], shown: int = _SHOWN) -> str:
    """Name rows as "rows 3, 5 and 9", the first ``shown`` of them and a count of the rest.

    Examples
    --------
    >>> import numpy as np
    >>> rows_text(np.array([3])), rows_text(np.array([3, 5, 9])), rows_text(np.arange(2, 10), shown=3)
    ('row 3', 'rows 3, 5 and 9', 'rows 2, 3, 4 and 5 more')
    """
    listed = [str(r) for r in rows[:shown].tolist()]
    more = len(rows) - len(listed)
    if more:
        return f"rows {', '.join(listed)} and {more} more"
    if len(listed) == 1:
        return f"row {listed[0]}"
    return f"rows {', '.join(listed[:-1])} and {listed[-1]}"


def padded_warnings(
    table: RawTable, columns: Iterable[str], subjects: Labels, rows: Mask | None = None
) -> list[Problem]:
    """Return one ``surrounding_blanks`` warning per column of ``table`` with entries written with blanks around them.

    Parameters
    ----------
    table : RawTable
        The file as read (``table.padded``: the entries concerned).
    columns : iterable of str
        The text columns to look at.
    subjects : Labels
        Each entry's subject, named in the warning.
    rows : ndarray of bool, optional
        The entries that count (the others are not analysed); None: all.

    Returns
    -------
    list of Problem
        Each at the column's first padded entry: its row, subject and text as written.
    """
    warnings: list[Problem] = []
    for column in columns:
        padded = table.padded.get(column)
        if padded is None:
            continue
        where = padded.code >= 0
        if rows is not None:
            where &= rows
        hits = np.flatnonzero(where)
        if not len(hits):
            continue
        first = int(hits[0])
        written = padded.written[int(padded.code[first])]
        message = f"{written!r} is written with blanks around it and read as {written.strip()!r}"
        if len(hits) > 1:
            message += f"; {len(hits)} entries of the column are ({rows_text(table.rows[hits])})"
        warnings.append(
            Problem(
                Rule.SURROUNDING_BLANKS,
                table.file,
                message + ". Blanks around an identifier or label are removed before it is compared with the spec "
                "and with the other entries; remove them from the file to keep the data as they are read.",
                row=int(table.rows[first]),
                subject=subjects.text(first),
                column=column,
                value=written,
            )
        )
    return warnings


def flag_case_warning(table: RawTable, column: str, subjects: Labels, rows: Mask | None = None) -> list[Problem]:
    """Return a ``flag_case`` warning when the ADaM flag ``column`` holds a lowercase ``"y"`` (read as ``"Y"``)."""
    lower = table.labels[column].isin(["y"])
    if rows is not None:
        lower &= rows
    hits = np.flatnonzero(lower)
    if not len(hits):
        return []
    first = int(hits[0])
    return [
        Problem(
            Rule.FLAG_CASE,
            table.file,
            f"{column} holds a lowercase 'y' in {len(hits)} record{'s' if len(hits) != 1 else ''} "
            f"({rows_text(table.rows[hits])}), read as 'Y' (the record is the baseline); ADaM flags are 'Y' or blank.",
            row=int(table.rows[first]),
            subject=subjects.text(first),
            column=column,
            value="y",
        )
    ]
