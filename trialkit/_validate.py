"""Check laid-out records against the spec: every problem at once, each with its place and rule.

A layout hands over :class:`Records` (one entry per subject x visit x endpoint value, as integer
codes into the texts read) and :class:`Covariates`; :func:`check_records` and
:func:`check_covariates` are pure: they return problems and never drop, fix or coerce a value.
The checks work on integer codes, so a million records cost a few array passes; Python objects
and messages are made only for offending records. Missing values are not problems.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import Problem, Rule, closest, near_miss
from trialkit._spec import DataFormat, StudySpec
from trialkit._values import Labels, Numbers

__all__ = [
    "MIN_SUBJECTS_PER_ARM",
    "Covariates",
    "RecordCodes",
    "Records",
    "Source",
    "check_covariates",
    "check_exposure",
    "check_records",
    "check_strata",
    "encode_records",
    "fold_duplicate_conflicts",
    "subject_columns",
]

#: an arm needs this many subjects before any comparison makes sense
MIN_SUBJECTS_PER_ARM = 2
_ROWS_SHOWN = 5

Codes = npt.NDArray[np.int32]
Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Source:
    """Where records came from: a file, and the column named in problems about their values."""

    file: str
    column: str | None


@dataclass(frozen=True)
class Records:
    """Laid-out records, one entry per subject x visit x endpoint value, with the place each came from.

    Attributes
    ----------
    subject, arm, visit : Labels
        Identifiers as read (stripped; blank is missing).
    endpoint : Labels
        Endpoint ids; a code the spec does not declare keeps its text as written.
    value : ndarray of float64
        NaN where missing (or not a number: such entries are problems already).
    row : ndarray of int64
        The row a user finds the entry at (see :class:`~trialkit.Problem`).
    source : ndarray of int32
        Position of each entry's file and column in ``sources``.
    sources : tuple of Source
    """

    subject: Labels
    arm: Labels
    visit: Labels
    endpoint: Labels
    value: npt.NDArray[np.float64]
    row: Rows
    source: Codes
    sources: tuple[Source, ...]

    def __len__(self) -> int:
        """Return the number of records."""
        return len(self.value)

    @classmethod
    def concat(cls, parts: Sequence[Records]) -> Records:
        """Return the records of ``parts`` one after the other."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.sources) for p in parts[:-1]])
        return cls(
            subject=Labels.concat([p.subject for p in parts]),
            arm=Labels.concat([p.arm for p in parts]),
            visit=Labels.concat([p.visit for p in parts]),
            endpoint=Labels.concat([p.endpoint for p in parts]),
            value=np.concatenate([p.value for p in parts]),
            row=np.concatenate([p.row for p in parts]),
            source=np.concatenate([p.source + np.int32(o) for p, o in zip(parts, offsets, strict=True)]),
            sources=tuple(s for p in parts for s in p.sources),
        )

    @classmethod
    def empty(cls) -> Records:
        """Return no records."""
        none = Labels(np.empty(0, np.int32), ())
        return cls(none, none, none, none, np.empty(0), np.empty(0, np.int64), np.empty(0, np.int32), ())

    def take(self, keep: Mask) -> Records:
        """Return the records where ``keep`` is True."""
        return Records(
            self.subject.take(keep),
            self.arm.take(keep),
            self.visit.take(keep),
            self.endpoint.take(keep),
            self.value[keep],
            self.row[keep],
            self.source[keep],
            self.sources,
        )

    def file(self, i: int) -> str:
        """Return the file record ``i`` came from."""
        return self.sources[int(self.source[i])].file

    def column(self, i: int) -> str | None:
        """Return the column named in problems about record ``i``'s value."""
        return self.sources[int(self.source[i])].column

    def files(self) -> str:
        """Return the files that hold at least one record, in order, joined by commas."""
        used = np.bincount(self.source, minlength=len(self.sources)) > 0
        return ", ".join(dict.fromkeys(s.file for s, u in zip(self.sources, used, strict=True) if u))


@dataclass(frozen=True)
class Covariates:
    """Subject-level covariates as read: one entry per data row that carries them.

    Attributes
    ----------
    subject : Labels
    columns : dict of str to Labels or Numbers
        Categorical covariates as labels, numeric ones parsed as numbers.
    row : ndarray of int64
    source : ndarray of int32
        Position of each entry's file in ``files``.
    files : tuple of str
    """

    subject: Labels
    columns: dict[str, Labels | Numbers]
    row: Rows
    source: Codes
    files: tuple[str, ...]

    @classmethod
    def concat(cls, parts: Sequence[Covariates]) -> Covariates:
        """Return the entries of ``parts`` one after the other."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.files) for p in parts[:-1]])
        columns: dict[str, Labels | Numbers] = {}
        for name in parts[0].columns if parts else ():
            cols = [p.columns[name] for p in parts]
            if all(isinstance(c, Labels) for c in cols):
                columns[name] = Labels.concat([c for c in cols if isinstance(c, Labels)])
            else:
                numbers = [c for c in cols if isinstance(c, Numbers)]
                raws = [c.raw if c.raw is not None else c.values.astype(object) for c in numbers]
                bad = np.concatenate([c.bad for c in numbers])
                columns[name] = Numbers(np.concatenate([c.values for c in numbers]), bad, np.concatenate(raws))
        return cls(
            subject=Labels.concat([p.subject for p in parts]),
            columns=columns,
            row=np.concatenate([p.row for p in parts]),
            source=np.concatenate([p.source + np.int32(o) for p, o in zip(parts, offsets, strict=True)]),
            files=tuple(f for p in parts for f in p.files),
        )


@dataclass(frozen=True)
class RecordCodes:
    """Integer codes of each record's subject, arm, visit and endpoint (-1: missing or unknown).

    Subjects are coded against their sorted texts, arms against the declared levels (or the
    arms present, control first), visits and endpoints against the spec's order.

    Attributes
    ----------
    subjects, arms : tuple of str
        The texts the subject and arm codes point to.
    endpoints, visits : int
        The number of endpoints and of visits in the spec.
    subject, arm, visit, endpoint : ndarray of int32
        One code per record.
    """

    subjects: tuple[str, ...]
    arms: tuple[str, ...]
    endpoints: int
    visits: int
    subject: Codes
    arm: Codes
    visit: Codes
    endpoint: Codes

    @property
    def cells(self) -> int:
        """Return the number of subject x endpoint x visit cells."""
        return len(self.subjects) * self.endpoints * self.visits

    @cached_property
    def valid(self) -> bool:
        """Return whether every record's subject, arm, visit and endpoint is known (no code is -1)."""
        return not _any_negative(self.subject, self.arm, self.visit, self.endpoint)

    @property
    def subject_index(self) -> npt.NDArray[np.intp]:
        """Return the subject codes in numpy's index type (not kept: 8 bytes a record, while the data are loaded)."""
        return self.subject.astype(np.intp)

    @cached_property
    def cell(self) -> npt.NDArray[np.intp]:
        """Return each record's cell in the subject x endpoint x visit grid (meaningless where a code is -1)."""
        cell = self.subject_index
        cell *= self.endpoints
        cell += self.endpoint
        cell *= self.visits
        cell += self.visit
        return cell

    @cached_property
    def arm_of(self) -> Codes:
        """Return each subject's arm: the arm of its last record with a known arm (-1: none)."""
        arm_of = np.full(len(self.subjects), -1, dtype=np.int32)
        if not self.valid and _any_negative(self.subject, self.arm):
            known = (self.subject >= 0) & (self.arm >= 0)
            arm_of[self.subject_index[known]] = self.arm[known]
        else:
            arm_of[self.subject_index] = self.arm
        return arm_of


def subject_columns(spec: StudySpec) -> tuple[str, ...]:
    """Return the subject-level columns read beside the records: the covariates, then the exposure columns.

    A count endpoint's ``exposure_column`` (each subject's time at risk) is read like a numeric
    covariate and kept in the subject frame under its name in the file.
    """
    exposure = [e.exposure_column for e in spec.endpoints if e.type == "count" and e.exposure_column]
    return tuple(dict.fromkeys([*spec.analysis.covariates, *exposure]))


def _exposure_columns(spec: StudySpec) -> set[str]:
    return {e.exposure_column for e in spec.endpoints if e.type == "count" and e.exposure_column}


def _any_negative(*codes: Codes) -> bool:
    return any(len(c) and int(c.min()) < 0 for c in codes)


def _negative(codes: Codes) -> Mask | None:
    """Return where ``codes`` is -1 (missing or unknown); None when nowhere (one cheap pass)."""
    return codes < 0 if _any_negative(codes) else None


def encode_records(records: Records, spec: StudySpec) -> RecordCodes:
    """Code every record's subject, arm, visit and endpoint against the spec (shared by checks and the tidy frame).

    Parameters
    ----------
    records : Records
    spec : StudySpec

    Returns
    -------
    RecordCodes
    """
    subjects = records.subject.used()
    control = spec.arms.control
    arms = spec.arms.levels or (control, *(a for a in records.arm.used() if a != control))
    return RecordCodes(
        subjects=subjects,
        arms=tuple(arms),
        endpoints=len(spec.endpoints),
        visits=len(spec.visits.order),
        subject=records.subject.lookup(subjects),
        arm=records.arm.lookup(arms),
        visit=records.visit.lookup(spec.visits.order),
        endpoint=records.endpoint.lookup([e.id for e in spec.endpoints]),
    )


def _fmt(v: float) -> str:
    return "NA" if np.isnan(v) else f"{v:g}"


def _value_text(v: float) -> str | None:
    return None if np.isnan(v) else f"{v:g}"


def _base(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _rows_text(places: Sequence[tuple[str, int]]) -> str:
    """Name (file, row) places as "a.csv rows 3 and 25; b.csv row 4", the first few and a count of the rest."""
    shown: dict[str, list[str]] = {}
    for f, r in places[:_ROWS_SHOWN]:
        shown.setdefault(_base(f), []).append(str(r))
    parts = []
    for name, rows in shown.items():
        listed = rows[0] if len(rows) == 1 else f"{', '.join(rows[:-1])} and {rows[-1]}"
        parts.append(f"{name} row{'s' if len(rows) > 1 else ''} {listed}")
    more = len(places) - _ROWS_SHOWN
    return "; ".join(parts) + (f" and {more} more" if more > 0 else "")


def _per_record(
    records: Records,
    mask: Mask,
    rule: Rule,
    column_of: Callable[[int], str | None],
    value_of: Callable[[int], str | None],
    message_of: Callable[[int], str],
) -> list[Problem]:
    """One problem per offending record (vectorised selection; Python only for the offenders)."""
    return [
        Problem(
            rule,
            records.file(i),
            message_of(i),
            row=int(records.row[i]),
            subject=records.subject.text(i),
            column=column_of(i),
            value=value_of(i),
        )
        for i in np.flatnonzero(mask).tolist()
    ]


def check_records(records: Records, spec: StudySpec, codes: RecordCodes | None = None) -> list[Problem]:
    """Check every rule a record set can break, at once.

    Rules: missing_subject, unknown_arm, case_variant, arm_conflict, arm_absent,
    too_few_subjects, unknown_visit, visit_absent, unknown_endpoint, duplicate_subject (wide
    data), duplicate_record and multiple_baseline (long data; one problem per subject),
    not_integer, out_of_range (a negative count, and a zero baseline count whose logarithm a
    count endpoint's models would take, are out of range). (non_numeric and not_binary are
    found while reading.)

    Parameters
    ----------
    records : Records
    spec : StudySpec
    codes : RecordCodes, optional
        The records coded against the spec (:func:`encode_records`), when already computed.

    Returns
    -------
    list of Problem
        In rule order, each rule's problems in record order; a problem met in several records
        of one row (a wide row yields one record per value column) is listed once.
    """
    codes = codes or encode_records(records, spec)
    problems: list[Problem] = []
    s, v, e = codes.subject, codes.visit, codes.endpoint
    if codes.valid:  # the usual case: every subject, arm, visit and endpoint is known
        subj_missing = unknown_arm = unknown_visit = unknown_ep = None
    else:
        subj_missing, unknown_arm = _negative(s), _negative(codes.arm)
        unknown_visit, unknown_ep = _negative(v), _negative(e)
    levels, visits = codes.arms, spec.visits.order
    file_codes = [ep.file_code for ep in spec.endpoints]
    if subj_missing is not None:
        problems += _per_record(
            records,
            subj_missing,
            Rule.MISSING_SUBJECT,
            lambda i: None,
            lambda i: None,
            lambda i: "the record has no subject identifier.",
        )
    if unknown_arm is not None:

        def arm_message(i: int) -> str:
            arm = records.arm.text(i)
            if arm is None:
                return "the record has no arm."
            return f"arm {arm!r} is not declared{near_miss(arm, levels)}; declared arms: {', '.join(levels)}."

        problems += _per_record(
            records, unknown_arm, Rule.UNKNOWN_ARM, lambda i: spec.arms.column, records.arm.text, arm_message
        )
    if unknown_visit is not None:

        def visit_message(i: int) -> str:
            visit = records.visit.text(i)
            if visit is None:
                return "the record has no visit."
            return f"visit {visit!r} is not in `visits.order`{near_miss(visit, visits)}; visits: {', '.join(visits)}."

        problems += _per_record(
            records,
            unknown_visit,
            Rule.UNKNOWN_VISIT,
            lambda i: spec.data.visit or records.column(i),
            records.visit.text,
            visit_message,
        )
    if unknown_ep is not None:

        def endpoint_message(i: int) -> str:
            code = records.endpoint.text(i)
            if code is None:
                return "the record has no endpoint."
            return f"endpoint {code!r} is not declared{near_miss(code, file_codes)}; declared: {', '.join(file_codes)}."

        problems += _per_record(
            records,
            unknown_ep,
            Rule.UNKNOWN_ENDPOINT,
            lambda i: spec.data.endpoint,
            records.endpoint.text,
            endpoint_message,
        )

    problems += _case_variants(records, codes.subject, codes.subjects, spec.data.subject, "subject ids")
    explained: set[str] = set()
    if not spec.arms.levels:  # arms read from the data (a declared arm's variants are unknown arms)
        variants = _case_variants(records, codes.arm, codes.arms, spec.arms.column, "arms")
        problems += variants
        # an arm written two ways is one problem: its parts are not also arms with too few subjects
        explained = {arm for p in variants for arm in str(p.value).split(", ")}
    arm_problems, conflicted = _check_arms(records, codes, spec, explained)
    problems += arm_problems
    # a record is keyed when its subject, visit and endpoint are known; a subject in two arms
    # (files) duplicates every record: its cause is reported once, as the conflict
    unkeyed = [m for m in (subj_missing, unknown_visit, unknown_ep) if m is not None]
    if conflicted.any():
        unkeyed.append(conflicted[np.maximum(s, 0)])
    keyed = ~np.logical_or.reduce(unkeyed) if unkeyed else None
    if keyed is None:  # the usual case: fewer cells filled than records means a duplicate
        n_keyed = len(s)
        seen = np.zeros(codes.cells, dtype=bool)
        seen[codes.cell] = True
        filled = int(np.count_nonzero(seen))
        duplicated = filled < n_keyed
    else:
        n_keyed = int(np.count_nonzero(keyed))
        filled = int(np.count_nonzero(np.bincount(codes.cell[keyed], minlength=codes.cells)))
        duplicated = filled < n_keyed
    if duplicated:
        counts = np.bincount(codes.cell if keyed is None else codes.cell[keyed], minlength=codes.cells)
        dup = counts[codes.cell if keyed is None else np.where(keyed, codes.cell, 0)] > 1
        problems += _check_duplicates(records, dup if keyed is None else dup & keyed, spec)
    if n_keyed and filled < codes.cells:  # every cell filled: every visit has a record
        per_visit = np.bincount(v if keyed is None else v[keyed], minlength=len(visits))
        for k in np.flatnonzero(per_visit == 0).tolist():
            problems.append(
                Problem(
                    Rule.VISIT_ABSENT,
                    records.files(),
                    f"visit {visits[k]!r} is in `visits.order` but no record has it.",
                    column=spec.data.visit,
                    value=visits[k],
                )
            )
    problems += _check_values(records, e, v, spec)
    # a wide row yields one record per value column: report a row-level problem once
    return list(dict.fromkeys(problems))


def _check_arms(
    records: Records, codes: RecordCodes, spec: StudySpec, explained: Collection[str] = ()
) -> tuple[list[Problem], Mask]:
    """Check arm_conflict, arm_absent and too_few_subjects; also return the conflicted-subject mask."""
    problems: list[Problem] = []
    s, a, levels = codes.subject, codes.arm, codes.arms
    n_s, n_a = len(codes.subjects), len(levels)
    known = None if codes.valid or not _any_negative(s, a) else (s >= 0) & (a >= 0)
    s_ok, a_ok = (s, a) if known is None else (s[known], a[known])
    arm_of = codes.arm_of
    index = codes.subject_index if known is None else codes.subject_index[known]
    if np.array_equal(np.take(arm_of, index), a_ok):  # one arm per subject (the usual case): no subject x arm table
        conflicted = np.zeros(n_s, dtype=bool)
        per_arm = np.bincount(arm_of[arm_of >= 0], minlength=n_a)
    else:
        has_arm = np.bincount(s_ok * n_a + a_ok, minlength=n_s * n_a).reshape(n_s, n_a) > 0
        conflicted = has_arm.sum(axis=1) > 1
        per_arm = has_arm.sum(axis=0)
        in_conflict = conflicted[np.maximum(s, 0)]
        problems += _arm_conflicts(records, codes, in_conflict if known is None else in_conflict & known, spec)
    files = records.files() if (per_arm < MIN_SUBJECTS_PER_ARM).any() else ""
    for arm, n in zip(levels, per_arm.tolist(), strict=True):
        if n == 0 and len(s_ok):
            hint = _absent_arm_hint(arm, [t for t in records.arm.used() if t not in levels])
            problems.append(
                Problem(
                    Rule.ARM_ABSENT,
                    files,
                    f"arm {arm!r} is declared in the spec but no subject has it{hint}.",
                    column=spec.arms.column,
                    value=arm,
                )
            )
        elif 0 < n < MIN_SUBJECTS_PER_ARM and arm not in explained:
            problems.append(
                Problem(
                    Rule.TOO_FEW_SUBJECTS,
                    files,
                    f"arm {arm!r} has {n} subject; at least {MIN_SUBJECTS_PER_ARM} are needed.",
                    column=spec.arms.column,
                    value=arm,
                )
            )
    return problems, np.append(conflicted, False)


def _absent_arm_hint(arm: str, held: Sequence[str]) -> str:
    """Name an undeclared arm in the data that looks like the declared ``arm`` no subject has."""
    same = [t for t in held if t.casefold() == arm.casefold()]
    if same:
        return f"; the data hold {same[0]!r}, which differs from it only in letter case (arms are compared as written)"
    near = closest(arm, held, n=1)
    return f"; is {near[0]!r} in the data meant to be {arm!r}?" if near else ""


def _arm_conflicts(records: Records, codes: RecordCodes, in_conflict: Mask, spec: StudySpec) -> list[Problem]:
    """One arm_conflict per subject recorded in several arms, naming the first record of each arm."""
    first: dict[int, dict[int, int]] = {}  # subject code -> arm code -> first record
    for i in np.flatnonzero(in_conflict).tolist():
        first.setdefault(int(codes.subject[i]), {}).setdefault(int(codes.arm[i]), i)
    problems = []
    for subject_code in sorted(first, key=lambda k: codes.subjects[k]):
        places = list(first[subject_code].values())
        subject, arms = codes.subjects[subject_code], [str(records.arm.text(i)) for i in places]
        where = "; ".join(
            f"{arm!r} in {_base(records.file(i))} row {records.row[i]}" for arm, i in zip(arms, places, strict=True)
        )
        problems.append(
            Problem(
                Rule.ARM_CONFLICT,
                records.file(places[0]),
                f"subject {subject!r} is recorded in more than one arm: {where}.",
                row=int(records.row[places[0]]),
                subject=subject,
                column=spec.arms.column,
                value=", ".join(arms),
            )
        )
    return problems


def _check_duplicates(records: Records, dup: Mask, spec: StudySpec) -> list[Problem]:
    """One problem per subject with more than one record for some visit and endpoint (``dup``: those records).

    Wide data hold one row per subject: a subject on several rows is a duplicate_subject problem
    naming the rows. In long data each subject's duplicated cells (endpoint at visit) are listed with
    their rows and values: multiple_baseline when they are all at the baseline visit, else
    duplicate_record.
    """
    by_subject: dict[str, dict[tuple[str, str], list[int]]] = {}
    for i in np.flatnonzero(dup).tolist():
        cells = by_subject.setdefault(str(records.subject.text(i)), {})
        cells.setdefault((str(records.endpoint.text(i)), str(records.visit.text(i))), []).append(i)
    wide = spec.data.format is DataFormat.WIDE
    problems = []
    for subject, cells in sorted(by_subject.items()):
        first = min(i for places in cells.values() for i in places)
        places = sorted({(records.file(i), int(records.row[i])) for rows in cells.values() for i in rows})
        if wide:
            problems.append(
                Problem(
                    Rule.DUPLICATE_SUBJECT,
                    records.file(first),
                    f"subject {subject!r} is on {len(places)} rows ({_rows_text(places)}); a wide file holds one "
                    "row per subject: keep one.",
                    row=int(records.row[first]),
                    subject=subject,
                    column=spec.data.subject,
                    value=subject,
                )
            )
            continue
        baseline_only = all(visit == spec.visits.baseline for _, visit in cells)
        listed = sorted(cells.items(), key=lambda item: item[1][0])

        def cell(endpoint: str, visit: str, rows: list[int]) -> str:
            where = _rows_text([(records.file(i), int(records.row[i])) for i in rows])
            return (
                f"{endpoint!r} at {visit!r} ({where}; values {', '.join(_fmt(float(records.value[i])) for i in rows)})"
            )

        what = "baseline records" if baseline_only else "records"
        if len(listed) == 1:
            (endpoint, visit), rows = listed[0]
            message = f"subject {subject!r} has {len(rows)} {what} for {cell(endpoint, visit, rows)}; keep exactly one."
        else:
            shown = "; ".join(cell(endpoint, visit, rows) for (endpoint, visit), rows in listed[:_ROWS_SHOWN])
            more = len(listed) - _ROWS_SHOWN
            message = (
                f"subject {subject!r} has more than one of its {what} for {len(listed)} endpoint and visit pairs: "
                f"{shown}{f'; and {more} more' if more > 0 else ''}. Keep exactly one record per subject, "
                "endpoint and visit."
            )
        head = listed[0][1]
        problems.append(
            Problem(
                Rule.MULTIPLE_BASELINE if baseline_only else Rule.DUPLICATE_RECORD,
                records.file(first),
                message,
                row=int(records.row[head[0]]),
                subject=subject,
                column=str(records.column(head[0])),
                value=", ".join(_fmt(float(records.value[i])) for i in head),
            )
        )
    return problems


def fold_duplicate_conflicts(problems: Sequence[Problem]) -> list[Problem]:
    """Fold the covariate conflicts of a subject on several rows of a wide file into its duplicate_subject problem.

    A repeated row whose covariates differ is one mistake: its one problem says which covariates differ.
    """
    duplicated = {(p.file, p.subject): k for k, p in enumerate(problems) if p.rule is Rule.DUPLICATE_SUBJECT}
    if not duplicated:
        return list(problems)
    out = list(problems)
    folded: dict[int, list[Problem]] = {}
    for p in problems:
        k = duplicated.get((p.file, p.subject))
        if p.rule is Rule.COVARIATE_CONFLICT and k is not None:
            folded.setdefault(k, []).append(p)
    for k, conflicts in folded.items():
        differ = "; ".join(f"{c.column!r} ({c.value})" for c in conflicts)
        message = out[k].message.replace("; a wide file holds", f"; the rows differ in {differ}; a wide file holds")
        out[k] = replace(out[k], message=message)
    dropped = {id(p) for conflicts in folded.values() for p in conflicts}
    return [p for p in out if id(p) not in dropped]


def _case_variants(
    records: Records, codes: Codes, texts: Sequence[str], column: str | None, what: str
) -> list[Problem]:
    """One case_variant problem per group of texts equal but for letter case ("s01" and "S01").

    Identifiers are compared as written, so such texts would be different subjects (arms): most
    likely one of them is mistyped. ``codes`` are the records' positions in ``texts``.
    """
    folded = [t.casefold() for t in texts]
    if len(set(folded)) == len(folded):
        return []
    groups: dict[str, list[int]] = {}
    for k, f in enumerate(folded):
        groups.setdefault(f, []).append(k)
    problems = []
    for members in groups.values():
        present = [k for k in members if (codes == k).any()]
        if len(present) < 2:
            continue
        first = sorted(int(np.flatnonzero(codes == k)[0]) for k in present)  # in the order the data hold them
        present = [int(codes[i]) for i in first]
        shown = " and ".join(repr(texts[k]) for k in present)
        where = _rows_text([(records.file(i), int(records.row[i])) for i in first])
        problems.append(
            Problem(
                Rule.CASE_VARIANT,
                records.file(first[0]),
                f"{what} {shown} differ only in letter case (first at {where}); they are compared as written, "
                "so they would count as different: write them one way.",
                row=int(records.row[first[0]]),
                subject=records.subject.text(first[0]),
                column=column,
                value=", ".join(texts[k] for k in present),
            )
        )
    return problems


def _check_values(records: Records, e: Codes, v: Codes, spec: StudySpec) -> list[Problem]:
    """Check out_of_range, not_integer and non-positive values on a log scale, in one pass per rule.

    A count is a whole number >= 0; under ``count_baseline = "log"`` a baseline count of 0 is out
    of range (its logarithm enters the models).

    Each endpoint's limits are looked up by the record's endpoint code (the extra last slot,
    reached by code -1, holds the limits of records whose endpoint is unknown: none apply). The
    smallest and largest values are compared first: most data sets break no limit, and then no
    per-record lookup is needed.
    """
    eps = spec.endpoints
    value = records.value
    if not len(value):
        return []
    low = np.array([ep.range[0] if ep.range else -np.inf for ep in eps] + [-np.inf])
    high = np.array([ep.range[1] if ep.range else np.inf for ep in eps] + [np.inf])
    is_log = np.array([ep.scale == "log" for ep in eps] + [False])
    is_count = np.array([ep.type == "count" for ep in eps] + [False])
    is_int = np.array([ep.integer for ep in eps] + [False]) | is_count
    log_base = np.array([ep.type == "count" and ep.count_baseline == "log" for ep in eps] + [False])
    smallest, largest = float(np.fmin.reduce(value)), float(np.fmax.reduce(value))  # NaN only when all are
    none = np.zeros(len(value), dtype=bool)
    with np.errstate(invalid="ignore"):
        out = (value < low[e]) | (value > high[e]) if smallest < low.max() or largest > high.min() else none
        nonpositive = is_log[e] & (value <= 0) & ~out if is_log.any() and smallest <= 0 else none
        negative = is_count[e] & (value < 0) & ~out if is_count.any() and smallest < 0 else none
        baseline = spec.visits.baseline
        if log_base.any() and baseline is not None and smallest <= 0:
            zero_base = log_base[e] & (v == spec.visits.order.index(baseline)) & (value == 0) & ~out
        else:
            zero_base = none
        if is_int.any():
            fraction = value != np.round(value)
            fraction &= ~np.isnan(value)
            fraction = is_int[e] & fraction if fraction.any() else none
        else:
            fraction = none

    def value_of(i: int) -> str | None:
        return _value_text(float(value[i]))

    def endpoint_id(i: int) -> str:
        return str(records.endpoint.text(i))

    def outside(i: int) -> str:
        ep = spec.endpoint(endpoint_id(i))
        lo, hi = ep.range or (-np.inf, np.inf)
        return f"{value[i]:g} is outside the range of {ep.id!r}, [{lo:g}, {hi:g}] {ep.unit}".rstrip() + "."

    def whole(i: int) -> str:
        kind = "a count" if spec.endpoint(endpoint_id(i)).type == "count" else "an integer scale"
        return f"{value[i]:g} is not a whole number, but {endpoint_id(i)!r} is {kind}."

    problems = _per_record(records, out, Rule.OUT_OF_RANGE, records.column, value_of, outside)
    problems += _per_record(
        records,
        negative,
        Rule.OUT_OF_RANGE,
        records.column,
        value_of,
        lambda i: f"{value[i]:g} is negative, but {endpoint_id(i)!r} is a count (a whole number >= 0).",
    )
    problems += _per_record(
        records,
        zero_base,
        Rule.OUT_OF_RANGE,
        records.column,
        value_of,
        lambda i: (
            f"the baseline count of {endpoint_id(i)!r} is 0, and its models take the log of the baseline count "
            '(`count_baseline = "log"`, the default); set `count_baseline = "log1p"` (log of count + 1) or '
            '`"raw"` (the count itself) in the endpoint.'
        ),
    )
    problems += _per_record(
        records,
        nonpositive,
        Rule.OUT_OF_RANGE,
        records.column,
        value_of,
        lambda i: f"{value[i]:g} is not positive, but {endpoint_id(i)!r} is analysed on the log scale.",
    )
    problems += _per_record(
        records,
        fraction,
        Rule.NOT_INTEGER,
        records.column,
        value_of,
        whole,
    )
    return problems


def check_covariates(covariates: Covariates, spec: StudySpec) -> tuple[pd.DataFrame, list[Problem]]:
    """Check that each numeric covariate is a number and each covariate is one value per subject.

    The exposure columns of count endpoints (:func:`subject_columns`) are checked as numeric
    covariates, and each subject's time at risk must be > 0.

    Parameters
    ----------
    covariates : Covariates
        The covariate entries of every data row (numeric ones already parsed).
    spec : StudySpec
        ``analysis.covariates`` and ``analysis.categorical`` say which covariates there are and
        which are categories (kept as text; a missing-value code is missing).

    Returns
    -------
    subjects : DataFrame
        ``subject, <covariates and exposure columns...>``, one row per subject, sorted by subject.
    problems : list of Problem
        non_numeric (a numeric covariate holding text), out_of_range (a time at risk <= 0),
        unknown_level (a categorical covariate's value outside the levels its
        ``[covariates.NAME]`` table declares), case_variant (values of a categorical covariate
        without declared levels that differ only in letter case) and covariate_conflict.
    """
    names = list(subject_columns(spec))
    exposure = _exposure_columns(spec)
    has_subject = covariates.subject.codes >= 0
    where = np.flatnonzero(has_subject)
    subject = np.array(covariates.subject.texts + (None,), dtype=object)[covariates.subject.codes[where]]
    frame = pd.DataFrame({"subject": subject})
    problems: list[Problem] = []
    missing = set(spec.data.missing)
    for c in names:
        column = covariates.columns[c]
        if isinstance(column, Labels):
            texts = np.array([np.nan if t in missing else t for t in column.texts] + [np.nan], dtype=object)
            frame[c] = pd.Series(texts[column.codes[where]], dtype=object)
            levels = spec.covariate(c).levels
            if levels is not None:
                problems += _unknown_levels(covariates, c, column, levels, missing, where, subject)
            else:
                problems += _category_case_variants(covariates, c, column, missing, where, subject)
            continue
        for k in np.flatnonzero(column.bad[where]).tolist():
            i = int(where[k])
            raw = column.raw[i] if column.raw is not None else column.values[i]
            problems.append(
                Problem(
                    Rule.NON_NUMERIC,
                    covariates.files[int(covariates.source[i])],
                    f"exposure column {c!r} holds {raw!r}; it must hold each subject's time at risk, a number > 0."
                    if c in exposure
                    else f"covariate {c!r} is numeric but holds {raw!r}; "
                    "list it in `analysis.categorical` if it is a category.",
                    row=int(covariates.row[i]),
                    subject=str(subject[k]),
                    column=c,
                    value=str(raw),
                )
            )
        frame[c] = column.values[where]
        if c in exposure:
            problems += _nonpositive_exposure(covariates, c, column.values, where, subject)
    distinct = frame.drop_duplicates()
    per_subject = distinct.groupby("subject", sort=True).size()
    for name in per_subject.index[per_subject.to_numpy() > 1]:
        in_rows = np.flatnonzero((frame["subject"] == name).to_numpy())
        places = [(covariates.files[int(covariates.source[where[k]])], int(covariates.row[where[k]])) for k in in_rows]
        for c in names:
            values = pd.unique(frame[c].to_numpy()[in_rows])
            if len(values) > 1:
                shown = ", ".join(map(str, values))
                problems.append(
                    Problem(
                        Rule.COVARIATE_CONFLICT,
                        places[0][0],
                        f"covariate {c!r} differs between the subject's rows: {shown} ({_rows_text(places)}).",
                        row=places[0][1],
                        subject=str(name),
                        column=c,
                        value=shown,
                    )
                )
    out = distinct.drop_duplicates("subject").sort_values("subject").reset_index(drop=True)
    return out, problems


def _unknown_levels(
    covariates: Covariates,
    column: str,
    labels: Labels,
    levels: Sequence[str],
    missing: Collection[str],
    where: npt.NDArray[np.intp],
    subject: npt.NDArray[np.object_],
) -> list[Problem]:
    """One unknown_level problem per subject whose value of ``column`` is not a declared level (at its first such row).

    Values are compared as read: blanks around them removed (a warning says so), letter case as
    written ("Female" is not the level "female"); a missing-value code is missing, not a problem.
    """
    allowed = set(levels)
    outside = np.array([t not in allowed and t not in missing for t in labels.texts] + [False])
    bad = outside[labels.codes[where]]
    if not bad.any():
        return []
    problems, seen = [], set()
    for k in np.flatnonzero(bad).tolist():
        if subject[k] in seen:
            continue
        seen.add(subject[k])
        i = int(where[k])
        value = str(labels.text(i))
        problems.append(
            Problem(
                Rule.UNKNOWN_LEVEL,
                covariates.files[int(covariates.source[i])],
                f"{value!r} is not a level of {column!r}{near_miss(value, levels)}; the spec declares "
                f"{', '.join(map(repr, levels))} (`covariates.{column}.levels`).",
                row=int(covariates.row[i]),
                subject=str(subject[k]),
                column=column,
                value=value,
            )
        )
    return problems


def _category_case_variants(
    covariates: Covariates,
    column: str,
    labels: Labels,
    missing: Collection[str],
    where: npt.NDArray[np.intp],
    subject: npt.NDArray[np.object_],
) -> list[Problem]:
    """One case_variant problem per group of a category's values equal but for letter case ("male", "Male")."""
    texts = labels.texts
    folded = [t.casefold() for t in texts]
    if len(set(folded)) == len(folded):
        return []
    used = np.zeros(len(texts) + 1, dtype=bool)
    used[labels.codes[where]] = True
    groups: dict[str, list[int]] = {}
    for k, f in enumerate(folded):
        if used[k] and texts[k] not in missing:
            groups.setdefault(f, []).append(k)
    problems = []
    for members in groups.values():
        if len(members) < 2:
            continue
        firsts = sorted(int(np.flatnonzero(labels.codes[where] == k)[0]) for k in members)
        members = [int(labels.codes[where[j]]) for j in firsts]  # in the order the data hold them
        places = [(covariates.files[int(covariates.source[where[j]])], int(covariates.row[where[j]])) for j in firsts]
        shown = " and ".join(repr(texts[k]) for k in members)
        problems.append(
            Problem(
                Rule.CASE_VARIANT,
                places[0][0],
                f"values {shown} of {column!r} differ only in letter case (first at {_rows_text(places)}); they are "
                "compared as written, so they would be different categories: write them one way, or declare the "
                f"levels in `[covariates.{column}] levels`.",
                row=places[0][1],
                subject=str(subject[firsts[0]]),
                column=column,
                value=", ".join(texts[k] for k in members),
            )
        )
    return problems


def _nonpositive_exposure(
    covariates: Covariates,
    column: str,
    values: npt.NDArray[np.float64],
    where: npt.NDArray[np.intp],
    subject: npt.NDArray[np.object_],
) -> list[Problem]:
    """One out_of_range problem per subject whose time at risk is <= 0 (at its first such row)."""
    with np.errstate(invalid="ignore"):
        bad = values[where] <= 0
    problems, seen = [], set()
    for k in np.flatnonzero(bad).tolist():
        if subject[k] in seen:
            continue
        seen.add(subject[k])
        i = int(where[k])
        problems.append(
            Problem(
                Rule.OUT_OF_RANGE,
                covariates.files[int(covariates.source[i])],
                f"the time at risk in exposure column {column!r} is {values[i]:g}; it must be > 0 "
                "(a rate is events per time at risk).",
                row=int(covariates.row[i]),
                subject=str(subject[k]),
                column=column,
                value=f"{values[i]:g}",
            )
        )
    return problems


def _by_subject(subjects: pd.DataFrame, codes: RecordCodes, column: str) -> npt.NDArray[np.object_]:
    """Return ``column`` of the subject frame in the order of the subject codes (NaN where absent)."""
    indexed = subjects.set_index("subject")[column]
    return np.asarray(indexed.reindex(list(codes.subjects)).to_numpy(), dtype=object)


def check_exposure(
    records: Records,
    codes: RecordCodes,
    subjects: pd.DataFrame,
    spec: StudySpec,
    explained: Collection[tuple[str | None, str | None]] = (),
) -> list[Problem]:
    """Check that every subject with a count of an endpoint with an exposure column has a time at risk.

    Parameters
    ----------
    records : Records
    codes : RecordCodes
        The records coded against the spec.
    subjects : DataFrame
        ``subject`` and the subject-level columns (:func:`check_covariates`).
    spec : StudySpec
    explained : collection of (subject, column)
        Subjects whose exposure is missing because it is wrong (text, a conflict between rows):
        those problems are reported already.

    Returns
    -------
    list of Problem
        missing_exposure: one per subject and exposure column, at the subject's first count.
    """
    problems: list[Problem] = []
    seen: set[tuple[str | None, str | None]] = set(explained)
    for k, ep in enumerate(spec.endpoints):
        column = ep.exposure_column
        if ep.type != "count" or column is None or column not in subjects:
            continue
        exposure = _by_subject(subjects, codes, column).astype(np.float64)
        counted = (codes.endpoint == k) & (codes.subject >= 0) & ~np.isnan(records.value)
        lacking = counted & np.isnan(exposure[np.maximum(codes.subject, 0)])
        for i in np.flatnonzero(lacking).tolist():
            subject = codes.subjects[int(codes.subject[i])]
            if (subject, column) in seen:
                continue
            seen.add((subject, column))
            problems.append(
                Problem(
                    Rule.MISSING_EXPOSURE,
                    records.file(i),
                    f"the subject has counts of {ep.id!r} but no time at risk in exposure column {column!r}; "
                    "a rate needs both.",
                    row=int(records.row[i]),
                    subject=subject,
                    column=column,
                )
            )
    return problems


def check_strata(records: Records, codes: RecordCodes, subjects: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    """Check that each randomisation stratum has two levels or more, and every arm in each level.

    Parameters
    ----------
    records : Records
    codes : RecordCodes
        The records coded against the spec (each subject's arm: ``codes.arm_of``).
    subjects : DataFrame
        ``subject`` and the subject-level columns, the strata among them (:func:`check_covariates`).
    spec : StudySpec

    Returns
    -------
    list of Problem
        stratum_one_level (a column with fewer than two levels) and stratum_arm_absent (a level
        without a subject of some arm that has subjects), naming the column, the level and the
        arms present.
    """
    problems: list[Problem] = []
    arm_of = codes.arm_of
    arms_with_subjects = sorted(set(arm_of[arm_of >= 0].tolist()))
    files = records.files()
    for column in spec.analysis.strata:
        if column not in subjects:
            continue
        level_of = _by_subject(subjects, codes, column)
        known = (arm_of >= 0) & pd.notna(level_of)
        declared = spec.covariate(column).levels
        if declared is not None:  # a value outside the declared levels is an unknown_level problem already
            known &= np.isin(level_of.astype(str), declared)
        levels = sorted({str(x) for x in level_of[known]})
        if len(levels) < 2:
            held = f"one level, {levels[0]!r}," if levels else "no level"
            problems.append(
                Problem(
                    Rule.STRATUM_ONE_LEVEL,
                    files,
                    f"stratum {column!r} has {held} for every subject; a stratified analysis needs two levels "
                    "or more (remove it from `analysis.strata` if the trial was not stratified by it).",
                    column=column,
                    value=levels[0] if levels else None,
                )
            )
            continue
        text = np.array([str(x) for x in level_of], dtype=object)
        for level in levels:
            present = sorted(set(arm_of[known & (text == level)].tolist()))
            if present != arms_with_subjects:
                absent = [codes.arms[a] for a in arms_with_subjects if a not in present]
                there = ", ".join(codes.arms[a] for a in present)
                problems.append(
                    Problem(
                        Rule.STRATUM_ARM_ABSENT,
                        files,
                        f"stratum {column!r} level {level!r} has subjects in {there} "
                        f"only, none in {', '.join(absent)}; a stratified comparison needs every arm in every level "
                        "(merge the level with another).",
                        column=column,
                        value=level,
                    )
                )
    return problems
