"""Lay out the files of a trial as records: one entry per subject x visit x endpoint value.

Each layout (wide, long, ADaM BDS; one file or one file per arm) reads its files and returns the
same :class:`~trialkit._validate.Records` plus the subject-level
:class:`~trialkit._validate.Covariates`, each entry carrying the file, row and column it came
from so that validation can say where a problem is.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from trialkit._errors import Problem, Rule, closest
from trialkit._input import check_input
from trialkit._io._files import FORMATS, RawTable, read_header, read_table
from trialkit._io._reasons import ReasonEntries, read_reasons, reason_columns
from trialkit._io._warnings import flag_case_warning, padded_warnings
from trialkit._spec import DataFormat, Endpoint, StudySpec, wide_column
from trialkit._validate import Covariates, Records, Source, subject_columns
from trialkit._values import Labels, Numbers, parse_number_text

__all__ = ["ADAM_ARM_COLUMNS", "Layout", "read_layout"]

ADAM_ARM_COLUMNS = ("TRTP", "TRT01P")
ADAM_VISIT, ADAM_PARAM, ADAM_VALUE, ADAM_BASELINE_FLAG = "AVISIT", "PARAMCD", "AVAL", "ABLFL"

_Read = tuple[Records | None, Covariates | None, list[Problem]]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Layout:
    """What was read: records, subject-level covariate entries and problems found while reading.

    Attributes
    ----------
    records : Records
    covariates : Covariates or None
        None when the spec names no covariate.
    problems : tuple of Problem
    warnings : tuple of Problem
        What was read other than as written (``Rule.is_warning``), never silently.
    files : tuple of (str, Future of str)
        ``(path, SHA-256 of the bytes parsed)`` of each data file read; the hashes are computed
        in the background while the records are checked.
    reasons : tuple of ReasonEntries
        Each file's reasons for discontinuing (:mod:`trialkit._io._reasons`).
    """

    records: Records
    covariates: Covariates | None
    problems: tuple[Problem, ...]
    files: tuple[tuple[str, Future[str]], ...]
    warnings: tuple[Problem, ...] = ()
    reasons: tuple[ReasonEntries, ...] = ()


def _non_numeric(table: RawTable, column: str, bad: np.ndarray, subjects: Labels) -> list[Problem]:
    raw = table.numbers[column].raw
    assert raw is not None  # a bad entry keeps its text as read
    return [
        Problem(
            Rule.NON_NUMERIC,
            table.file,
            f"{raw[i]!r} is not a number; text is never read as missing — fix the "
            f"value or list its code in `data.missing`.",
            row=int(table.rows[i]),
            subject=subjects.text(i),
            column=column,
            value=str(raw[i]),
        )
        for i in np.flatnonzero(bad).tolist()
    ]


@dataclass
class _OtherValues:
    """The values besides the success value of each binary endpoint, over every file read.

    ``seen[endpoint][value] = [entries, text as first read]``; ``chosen[endpoint]`` is the
    non-event value when it is decided over every file (several files that differ).
    """

    chosen: dict[str, object] = field(default_factory=dict)
    seen: dict[str, dict[object, list[Any]]] = field(default_factory=dict)

    def most_frequent(self) -> dict[str, object]:
        """Return the most frequent other value of each endpoint seen with more than one (ties: by text)."""
        return {
            eid: min(values, key=lambda x: (-values[x][0], str(x)))
            for eid, values in self.seen.items()
            if len(values) > 1
        }


def _binary(
    table: RawTable,
    column: str,
    subjects: Labels,
    endpoint: Endpoint,
    spec: StudySpec,
    others_seen: _OtherValues,
    rows: Mask | None = None,
) -> tuple[Floats, list[Problem]]:
    """Read a binary endpoint's values from a column read as text: 1.0 for the success value, 0.0 for the other.

    ``rows`` are the entries that belong to the endpoint (None: all). Missing-value codes are
    NaN. The success value is ``endpoint.success`` (None: the number 1), compared as a number
    when it is one (``"1"``, ``"1.0"`` and a spreadsheet's 1 are all 1) and as text otherwise.
    With the default success the other value must be the number 0; with a declared one, the most
    frequent other value is the non-event (over every file: ``others_seen.chosen``, else over
    this one, whose other values are added to ``others_seen.seen``) and every entry holding yet
    another value is a not_binary problem (file, row, subject, column, value). Each distinct text
    is worked on once.

    Returns
    -------
    values : ndarray of float64
        1.0, 0.0 or NaN for every entry (NaN outside ``rows`` and where a value is not binary).
    problems : list of Problem
    """
    labels = table.labels[column]
    texts = labels.texts
    success = 1.0 if endpoint.success is None else endpoint.success
    missing = {m.strip() for m in spec.data.missing}
    if isinstance(success, str):
        keys: list[object] = list(texts)
    else:
        parsed = parse_number_text(list(texts), decimal=spec.data.decimal, missing=spec.data.missing)
        keys = [t if np.isnan(x) else float(x) for t, x in zip(texts, parsed.values.tolist(), strict=True)]
    in_rows = labels.codes if rows is None else labels.codes[rows]
    used = np.bincount(in_rows[in_rows >= 0], minlength=len(texts))
    value = np.full(len(texts) + 1, np.nan)  # the last slot: missing entries (code -1)
    # the success value in other letters ("Yes" for "yes") is a mistyped success, never the non-event
    success_case = [isinstance(success, str) and t != success and t.casefold() == success.casefold() for t in texts]
    others: dict[object, int] = {}
    for k, (text, key) in enumerate(zip(texts, keys, strict=True)):
        if text in missing or success_case[k]:
            continue
        if key == success:
            value[k] = 1.0
        elif used[k]:
            others[key] = others.get(key, 0) + int(used[k])
    first_text = {key: text for text, key in reversed(list(zip(texts, keys, strict=True)))}
    seen = others_seen.seen.setdefault(endpoint.id, {})
    for key, n in others.items():
        seen.setdefault(key, [0, first_text[key]])[0] += n
    if endpoint.success is None:
        kept: object = 0.0
    elif endpoint.id in others_seen.chosen:
        kept = others_seen.chosen[endpoint.id]
        first_text.setdefault(kept, str(seen[kept][1]) if kept in seen else str(kept))
    else:  # the non-event: the most frequent other value (ties: the first in text order)
        kept = min(others, key=lambda x: (-others[x], str(x))) if others else None
    extra = [first_text[key] for key in others if key != kept]
    for k, key in enumerate(keys):
        if key == kept and texts[k] not in missing:
            value[k] = 0.0
    values = np.take(value, labels.codes)
    if rows is not None:
        values[~rows] = np.nan
    bad_text = np.array(
        [t not in missing and keys[k] != success and keys[k] != kept for k, t in enumerate(texts)] + [False]
    )
    bad = np.take(bad_text, labels.codes)
    if rows is not None:
        bad &= rows
    if not bad.any():
        return values, []
    if endpoint.success is None:
        what = (
            f"is not a value of binary endpoint {endpoint.id!r}, which takes 1 (success) and 0; if the data "
            "code the event otherwise, name its value in the endpoint's `success`."
        )
    else:
        shown = repr(success) if isinstance(success, str) else format(success, "g")
        what = (
            f"is a third value of binary endpoint {endpoint.id!r}, whose values are {shown} (success) and "
            f"{first_text[kept]!r} (the most frequent other value)"
        )
        what += f"; the column also holds {', '.join(map(repr, extra))}." if len(extra) > 1 else "."

    def message(text: str) -> str:
        if isinstance(success, str) and text != success and text.casefold() == success.casefold():
            return (
                f"{text!r} differs from the success value {success!r} of binary endpoint {endpoint.id!r} only in "
                f"letter case; values are compared as written (write it as {success!r})."
            )
        other = str(first_text.get(kept, ""))
        if kept is not None and text.casefold() == other.casefold():
            return f"{text!r} {what[:-1]} (it differs from {other!r} only in letter case)."
        return f"{text!r} {what}"

    return values, [
        Problem(
            Rule.NOT_BINARY,
            table.file,
            message(texts[int(labels.codes[i])]),
            row=int(table.rows[i]),
            subject=subjects.text(i),
            column=column,
            value=texts[int(labels.codes[i])],
        )
        for i in np.flatnonzero(bad).tolist()
    ]


def _covariates(spec: StudySpec, table: RawTable, subjects: Labels) -> Covariates | None:
    names = subject_columns(spec)
    if not names:
        return None
    columns: dict[str, Labels | Numbers] = {
        c: table.labels[c] if c in table.labels else table.numbers[c] for c in names
    }
    return Covariates(subjects, columns, table.rows, np.zeros(len(table), dtype=np.int32), (table.file,))


def _take_covariates(covariates: Covariates | None, keep: np.ndarray) -> Covariates | None:
    if covariates is None:
        return None
    columns: dict[str, Labels | Numbers] = {c: v.take(keep) for c, v in covariates.columns.items()}
    return Covariates(
        covariates.subject.take(keep), columns, covariates.row[keep], covariates.source[keep], covariates.files
    )


def _binary_endpoints(spec: StudySpec) -> dict[str, Endpoint]:
    return {e.id: e for e in spec.endpoints if e.type == "binary"}


def _covariate_text_columns(spec: StudySpec) -> list[str]:
    return [c for c in spec.analysis.covariates if c in spec.analysis.categorical]


def _wide_columns(spec: StudySpec) -> dict[tuple[str, str], str]:
    """(endpoint id, visit) -> column name, from the pattern or the explicit maps."""
    if spec.data.pattern is not None:
        return {(e.id, v): wide_column(spec.data.pattern, e.id, v) for e in spec.endpoints for v in spec.visits.order}
    return {(eid, v): col for eid, mapping in spec.data.columns.items() for v, col in mapping.items()}


def _near(name: str, header: list[str]) -> str:
    near = closest(name, header)
    return f" Closest existing: {', '.join(map(repr, near))}." if near else ""


def _read_wide(
    spec: StudySpec,
    path: Path,
    arm: str | None,
    hashes: list[tuple[str, Future[str]]],
    others: _OtherValues,
    warnings: list[Problem],
    reasons: list[ReasonEntries],
) -> _Read:
    d = spec.data
    colmap = _wide_columns(spec)
    binary = _binary_endpoints(spec)
    id_cols = [d.subject] + ([spec.arms.column] if arm is None and spec.arms.column else [])
    binary_cols = [c for (eid, _), c in colmap.items() if eid in binary]
    reason_required, reason_optional = reason_columns(spec)
    table, problems = read_table(
        path,
        d,
        required=id_cols + list(subject_columns(spec)) + reason_required,
        text=id_cols + _covariate_text_columns(spec) + binary_cols + reason_required + reason_optional,
        optional=list(colmap.values()) + reason_optional,
        wide=True,  # each value becomes a record: a bound of its own (docs/limits.md)
    )
    if table is None:
        return None, None, problems
    hashes.append((table.file, table.sha256))
    present = set(table.columns)
    header = list(table.columns)
    # report value columns the pattern promised but the file lacks, by endpoint
    for e in spec.endpoints:
        wanted = [(v, c) for (eid, v), c in colmap.items() if eid == e.id]
        if not wanted:
            continue
        absent = [(v, c) for v, c in wanted if c not in present]
        if len(absent) == len(wanted) and spec.data.pattern is not None:
            problems.append(
                Problem(
                    Rule.PATTERN_UNMATCHED,
                    str(path),
                    f"`data.pattern` {spec.data.pattern!r} matches no column for endpoint {e.id!r} "
                    f"(expected e.g. {wanted[0][1]!r}).",
                    column=wanted[0][1],
                )
            )
        else:
            for v, c in absent:
                problems.append(
                    Problem(
                        Rule.MISSING_COLUMN,
                        str(path),
                        f"column {c!r} (endpoint {e.id!r} at visit {v!r}) is not in the file." + _near(c, header),
                        column=c,
                    )
                )
    if problems:
        return None, None, problems
    n, parts = len(table), list(colmap.items())
    subjects = table.labels[d.subject]
    _keep_reasons(reasons, read_reasons(table, subjects, spec))
    arms = table.labels[spec.arms.column] if arm is None and spec.arms.column else Labels.constant(str(arm), n)
    values: dict[str, Floats] = {}
    for (eid, _), col in parts:
        if eid in binary:
            values[col], found = _binary(table, col, subjects, binary[eid], spec, others)
            problems += found
            continue
        numbers = table.numbers[col]
        values[col] = numbers.values
        if numbers.bad.any():
            problems += _non_numeric(table, col, numbers.bad, subjects)
    visits = tuple(dict.fromkeys(v for (_, v), _ in parts))
    endpoints = tuple(dict.fromkeys(eid for (eid, _), _ in parts))
    # one block of records per value column, in the order of the column map
    records = Records(
        subject=subjects.tile(len(parts)),
        arm=arms.tile(len(parts)),
        visit=Labels(np.repeat(np.array([visits.index(v) for (_, v), _ in parts], dtype=np.int32), n), visits),
        endpoint=Labels(np.repeat(np.array([endpoints.index(e) for (e, _), _ in parts], dtype=np.int32), n), endpoints),
        value=np.concatenate([values[col] for _, col in parts]) if parts else np.empty(0),
        row=np.tile(table.rows, len(parts)),
        source=np.repeat(np.arange(len(parts), dtype=np.int32), n),
        sources=tuple(Source(table.file, col) for _, col in parts),
    )
    warnings += padded_warnings(table, table.labels, subjects)
    return records, _covariates(spec, table, subjects), problems + list(table.ragged)


def _read_long(
    spec: StudySpec,
    path: Path,
    arm: str | None,
    hashes: list[tuple[str, Future[str]]],
    others: _OtherValues,
    warnings: list[Problem],
    reasons: list[ReasonEntries],
) -> _Read:
    d = spec.data
    adam = d.format is DataFormat.ADAM
    arm_col: str | None
    endpoint_col: str | None
    if adam:
        visit_col, endpoint_col, value_col = d.visit or ADAM_VISIT, d.endpoint or ADAM_PARAM, d.value or ADAM_VALUE
        arm_col = spec.arms.column
        if arm_col is None and arm is None:
            arm_col = _adam_arm_column(path, spec)
    else:
        visit_col, endpoint_col, value_col = str(d.visit), d.endpoint, str(d.value)
        arm_col = spec.arms.column if arm is None else None
    id_cols = [d.subject] + ([arm_col] if arm_col else []) + [visit_col] + ([endpoint_col] if endpoint_col else [])
    optional = [ADAM_BASELINE_FLAG] if adam else []
    binary = _binary_endpoints(spec)
    reason_required, reason_optional = reason_columns(spec)
    table, problems = read_table(
        path,
        d,
        required=id_cols + [value_col] + list(subject_columns(spec)) + reason_required,
        text=id_cols + optional + _covariate_text_columns(spec) + reason_required + reason_optional,
        optional=optional + reason_optional,
        both=[value_col] if binary else [],  # a binary endpoint's values may be text
    )
    if table is None:
        return None, None, problems
    hashes.append((table.file, table.sha256))
    n = len(table)
    subjects = table.labels[d.subject]
    _keep_reasons(reasons, read_reasons(table, subjects, spec))
    arms = table.labels[arm_col] if arm_col else Labels.constant(str(arm), n)
    visits = table.labels[visit_col]
    code_to_id = {e.file_code: e.id for e in spec.endpoints}
    if endpoint_col:
        codes = table.labels[endpoint_col]
        endpoints = codes.rename(code_to_id)
    else:
        codes, endpoints = None, Labels.constant(spec.endpoints[0].id, n)
    numbers = table.numbers[value_col]
    keep = None
    if adam and codes is not None:
        # BDS files hold many parameters; the spec names the ones to analyse
        keep = codes.isin(code_to_id)
        baseline = spec.visits.baseline
        if ADAM_BASELINE_FLAG in table.labels and baseline is not None:
            flag = table.labels[ADAM_BASELINE_FLAG].isin(["Y", "y"])
            warnings += flag_case_warning(table, ADAM_BASELINE_FLAG, subjects, keep)
            # ADaM: the flagged record is the baseline; other records of that visit are not analysed
            keep &= ~(visits.isin([baseline]) & ~flag)
            visits = visits.replace(flag, baseline)
    values, bad = numbers.values, numbers.bad
    if binary:
        values, bad = values.copy(), bad.copy()
        for eid, endpoint in binary.items():
            rows = endpoints.isin([eid]) if keep is None else endpoints.isin([eid]) & keep
            if rows.any():
                mapped, found = _binary(table, value_col, subjects, endpoint, spec, others, rows)
                values[rows], bad[rows] = mapped[rows], False
                problems += found
    if bad.any():
        problems += _non_numeric(table, value_col, bad if keep is None else bad & keep, subjects)
    column = endpoint_col if endpoint_col is not None and not adam else value_col
    records = Records(
        subject=subjects,
        arm=arms,
        visit=visits,
        endpoint=endpoints,
        value=values,
        row=table.rows,
        source=np.zeros(n, dtype=np.int32),
        sources=(Source(table.file, column),),
    )
    covariates = _covariates(spec, table, subjects)
    # blanks around a text: in every identifier column, and in the value column where it holds a binary label
    warnings += padded_warnings(table, [c for c in table.labels if c != value_col], subjects, keep)
    if binary and value_col in table.padded:
        labelled = endpoints.isin(binary) if keep is None else endpoints.isin(binary) & keep
        warnings += padded_warnings(table, [value_col], subjects, labelled)
    problems += table.ragged
    if keep is None or keep.all():
        return records, covariates, problems
    return records.take(keep), _take_covariates(covariates, keep), problems


def _keep_reasons(reasons: list[ReasonEntries], entries: ReasonEntries | None) -> None:
    if entries is not None:
        reasons.append(entries)


def _adam_arm_column(path: Path, spec: StudySpec) -> str:
    if check_input(path, "data file") is not None:
        return ADAM_ARM_COLUMNS[0]  # read_table reports the path (a FIFO is never opened to wait for a writer)
    try:
        header = read_header(path, FORMATS.get(path.suffix.lower(), ""), spec.data)
    except Exception:
        return ADAM_ARM_COLUMNS[0]  # read_table reports the unreadable file
    for c in ADAM_ARM_COLUMNS:
        if c in header:
            return c
    return ADAM_ARM_COLUMNS[0]


def read_layout(spec: StudySpec) -> Layout:
    """Read every data file of ``spec`` into records, covariate entries and reading problems.

    Parameters
    ----------
    spec : StudySpec

    Returns
    -------
    Layout
    """
    reader = _read_wide if spec.data.format is DataFormat.WIDE else _read_long
    records: list[Records] = []
    covariates: list[Covariates] = []
    problems: list[Problem] = []
    files: list[tuple[str, Future[str]]] = []
    warnings: list[Problem] = []
    others = _OtherValues()
    reasons: list[ReasonEntries] = []
    read = [reader(spec, path, arm, files, others, warnings, reasons) for arm, path in spec.data.sources]
    chosen = others.most_frequent()
    if len(spec.data.sources) > 1 and chosen:
        # a binary endpoint's files hold different other values: its non-event is the most frequent
        # over all of them, and the files are read again to name every entry holding another value
        files, warnings, reasons = [], [], []
        again = _OtherValues(chosen, others.seen)
        read = [reader(spec, path, arm, files, again, warnings, reasons) for arm, path in spec.data.sources]
    for r, c, p in read:
        problems += p
        if r is not None:
            records.append(r)
        if c is not None:
            covariates.append(c)
    return Layout(
        records=Records.concat(records) if records else Records.empty(),
        covariates=Covariates.concat(covariates) if covariates else None,
        problems=tuple(problems),
        files=tuple(files),
        warnings=tuple(warnings),
        reasons=tuple(reasons),
    )
