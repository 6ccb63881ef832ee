"""Each subject's reason for discontinuing, read beside the records from an optional column.

The column is the spec's ``data.discontinuation_reason`` (then every data file must have it), else
a column literally called ``discontinuation_reason`` when the files have one (then every file must
have it, or none). A reason belongs to the subject: on every row of a subject in long data it is
the same text. An empty entry, or one of the ``data.missing`` codes, means that the subject did not
discontinue. The trial keeps the reasons as the column :data:`SUBJECT_COLUMN` of ``Trial.subjects``
(text; ``""`` for a subject who did not discontinue); without a reason column the subject frame
has no such column, and a report says the reasons were not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import Problem, Rule
from trialkit._io._files import RawTable
from trialkit._spec import StudySpec
from trialkit._trial import DISCONTINUATION_REASON
from trialkit._values import Labels

__all__ = [
    "DEFAULT_COLUMN",
    "SUBJECT_COLUMN",
    "ReasonEntries",
    "add_reasons",
    "read_reasons",
    "reason_columns",
    "reasons_by_subject",
]

#: the reason column looked for when the spec names none
DEFAULT_COLUMN = "discontinuation_reason"
#: the column of ``Trial.subjects`` holding the reasons, whatever the data file calls it
SUBJECT_COLUMN = DISCONTINUATION_REASON


@dataclass(frozen=True)
class ReasonEntries:
    """The reason entries of one data file: one per data row, beside the row's subject.

    Attributes
    ----------
    file : str
    column : str
        The reason column looked for.
    subject : Labels
    reason : Labels or None
        None when the file has no reason column.
    rows : ndarray of int64
        Each entry's row as a user finds it (for problems).
    """

    file: str
    column: str
    subject: Labels
    reason: Labels | None
    rows: npt.NDArray[np.int64]


def reason_columns(spec: StudySpec) -> tuple[list[str], list[str]]:
    """Return the reason column as ``(required, optional)`` columns of a data file.

    Required when the spec names it; otherwise the default column is optional, unless it is a
    covariate (which is read as one, not as a reason).
    """
    named = spec.data.discontinuation_reason
    if named is not None:
        return [named], []
    if DEFAULT_COLUMN in spec.analysis.covariates:
        return [], []
    return [], [DEFAULT_COLUMN]


def read_reasons(table: RawTable, subjects: Labels, spec: StudySpec) -> ReasonEntries | None:
    """Return the reason entries of a file as read (``subjects``: its subject column); None: none looked for."""
    required, optional = reason_columns(spec)
    if not required and not optional:
        return None
    column = (required or optional)[0]
    return ReasonEntries(table.file, column, subjects, table.labels.get(column), np.asarray(table.rows, dtype=np.int64))


def reasons_by_subject(
    entries: Sequence[ReasonEntries], spec: StudySpec
) -> tuple[dict[str, str] | None, list[Problem]]:
    """Return each subject's reason (``""``: did not discontinue), or None when no file has a reason column.

    Problems: ``missing_column`` for a file without the column when another file has it (the
    default column; a column the spec names is required by the reader already), and
    ``covariate_conflict`` for a subject whose rows hold different reasons.
    """
    present = [e for e in entries if e.reason is not None]
    if not present:
        return None, []
    problems = [
        Problem(
            Rule.MISSING_COLUMN,
            e.file,
            f"column {e.column!r} (each subject's reason for discontinuing) is in {present[0].file} but not in "
            "this file; give it in every data file or in none.",
            column=e.column,
        )
        for e in entries
        if e.reason is None
    ]
    missing = set(spec.data.missing)
    frames = []
    for e in present:
        assert e.reason is not None  # narrowed by `present`
        texts = np.array([*("" if t in missing else t for t in e.reason.texts), ""], dtype=object)
        names = np.array([*e.subject.texts, ""], dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "subject": names[e.subject.codes],
                    "reason": texts[e.reason.codes],
                    "file": e.file,
                    "row": e.rows,
                }
            )
        )
    every = pd.concat(frames, ignore_index=True)
    every = every.loc[every["subject"] != ""]  # a row without a subject is reported by the record checks
    distinct = every.drop_duplicates(["subject", "reason"])
    counts = distinct.groupby("subject", sort=True).size()
    for name in counts.index[counts.to_numpy() > 1]:
        rows = every.loc[every["subject"] == name]
        shown = ", ".join(repr(r) if r else "(empty)" for r in pd.unique(rows["reason"]))
        first = rows.iloc[0]
        problems.append(
            Problem(
                Rule.COVARIATE_CONFLICT,
                str(first["file"]),
                f"the reason for discontinuing ({present[0].column!r}) differs between the subject's rows: "
                f"{shown} (rows {', '.join(map(str, rows['row'].tolist()[:10]))}); a reason belongs to the subject.",
                row=int(first["row"]),
                subject=str(name),
                column=present[0].column,
                value=shown,
            )
        )
    first_reason = distinct.drop_duplicates("subject")
    return dict(zip(first_reason["subject"], first_reason["reason"], strict=True)), problems


def add_reasons(subjects: pd.DataFrame, reasons: dict[str, str] | None) -> pd.DataFrame:
    """Return the subject frame with the column :data:`SUBJECT_COLUMN` (``""``: did not discontinue), if any."""
    if reasons is None:
        return subjects
    column = subjects["subject"].astype(str).map(reasons).fillna("").astype(object)
    return subjects.assign(**{SUBJECT_COLUMN: column.to_numpy()})
