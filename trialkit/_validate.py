"""Check laid-out records against the spec: every problem at once, each with its place and rule.

:func:`check_records` is pure: it takes the records a layout produced and returns problems; it
never drops, fixes or coerces a value. Missing values are not problems; they are counted by
:func:`missing_counts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from trialkit._errors import Problem, Rule, did_you_mean
from trialkit._spec import StudySpec
from trialkit._values import parse_numbers

__all__ = ["RecordCodes", "check_covariates", "check_records", "encode_records", "MIN_SUBJECTS_PER_ARM"]

#: an arm needs this many subjects before any comparison makes sense
MIN_SUBJECTS_PER_ARM = 2
_ROWS_SHOWN = 5


def _row_problems(records: pd.DataFrame, mask: np.ndarray, rule: Rule, column_of, message_of) -> list[Problem]:
    """One problem per offending record (vectorised selection, Python only for the offenders)."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return []
    out = []
    for rec in map(lambda d: SimpleNamespace(**d), records.iloc[idx].to_dict("records")):
        out.append(
            Problem(
                rule,
                rec._file,
                message_of(rec),
                row=int(rec._row),
                subject=None if pd.isna(rec.subject) else str(rec.subject),
                column=column_of(rec),
                value=_value(rec, rule),
            )
        )
    return out


def _value(rec, rule: Rule) -> str | None:
    v = {
        Rule.MISSING_SUBJECT: None,
        Rule.UNKNOWN_ARM: rec.arm,
        Rule.UNKNOWN_VISIT: rec.visit,
        Rule.UNKNOWN_ENDPOINT: rec._code if rec._code is not None else rec.endpoint,
    }.get(rule, rec.value)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return f"{v:g}" if isinstance(v, float) else str(v)


def _fmt(v: float) -> str:
    return "NA" if np.isnan(v) else f"{v:g}"


def _rows_text(rows: pd.DataFrame) -> str:
    places = [f"{f.rsplit('/', 1)[-1]} row {r}" for f, r in zip(rows["_file"], rows["_row"])]
    more = len(places) - _ROWS_SHOWN
    return ", ".join(places[:_ROWS_SHOWN]) + (f" and {more} more" if more > 0 else "")


def category_codes(values: pd.Series, categories) -> np.ndarray:
    """Position of each value in ``categories`` (-1 when missing or not listed), as int64."""
    cat = values.array if isinstance(values.dtype, pd.CategoricalDtype) else pd.Categorical(values)
    return cat.set_categories(list(categories)).codes.astype(np.int64)


def present_categories(values: pd.Series) -> pd.Index:
    """Distinct non-missing values, as text sorted by code point (vectorised: no Python loop)."""
    cat = values.array if isinstance(values.dtype, pd.CategoricalDtype) else pd.Categorical(values)
    codes = cat.codes
    used = np.bincount(codes[codes >= 0], minlength=len(cat.categories)) > 0
    return pd.Index(cat.categories[used].astype(str)).sort_values()


@dataclass(frozen=True)
class RecordCodes:
    """Integer codes of each record's subject, arm, visit and endpoint (-1: missing or unknown).

    Subjects are coded against their sorted names, arms against the declared levels (or the
    arms present, control first), visits and endpoints against the spec's order.
    """

    subjects: pd.Index
    arms: tuple[str, ...]
    subject: np.ndarray
    arm: np.ndarray
    visit: np.ndarray
    endpoint: np.ndarray


def encode_records(records: pd.DataFrame, spec: StudySpec) -> RecordCodes:
    """One pass over the records turning labels into codes (shared by checks and the tidy frame)."""
    subjects = present_categories(records["subject"])
    control = spec.arms.control
    arms = spec.arms.levels or (control,) + tuple(a for a in present_categories(records["arm"]) if a != control)
    return RecordCodes(
        subjects=subjects,
        arms=arms,
        subject=category_codes(records["subject"], subjects),
        arm=category_codes(records["arm"], arms),
        visit=category_codes(records["visit"], spec.visits.order),
        endpoint=category_codes(records["endpoint"], [e.id for e in spec.endpoints]),
    )


def check_records(records: pd.DataFrame, spec: StudySpec, codes: RecordCodes | None = None) -> list[Problem]:
    """Every rule a record set can break, checked at once.

    Rules: missing_subject, unknown_arm, arm_conflict, arm_absent, too_few_subjects,
    unknown_visit, visit_absent, unknown_endpoint, duplicate_record, multiple_baseline,
    not_integer, out_of_range. (non_numeric is found while reading.) The checks work on integer
    codes of subject, arm, visit and endpoint, so a million records cost a few array passes;
    messages are built only for offending records.
    """
    codes = codes or encode_records(records, spec)
    problems: list[Problem] = []
    subjects, s = codes.subjects, codes.subject
    subj_missing = s < 0
    problems += _row_problems(
        records, subj_missing, Rule.MISSING_SUBJECT, lambda r: None, lambda r: "the record has no subject identifier."
    )
    levels, a = codes.arms, codes.arm
    unknown_arm = a < 0
    problems += _row_problems(
        records,
        unknown_arm,
        Rule.UNKNOWN_ARM,
        lambda r: spec.arms.column,
        lambda r: (
            f"arm {r.arm!r} is not declared{did_you_mean(str(r.arm), levels)}; declared arms: {', '.join(levels)}."
            if not pd.isna(r.arm)
            else "the record has no arm."
        ),
    )
    visits = spec.visits.order
    v = codes.visit
    unknown_visit = v < 0
    problems += _row_problems(
        records,
        unknown_visit,
        Rule.UNKNOWN_VISIT,
        lambda r: spec.data.visit or r._column,
        lambda r: (
            f"visit {r.visit!r} is not in `visits.order`{did_you_mean(str(r.visit), visits)}; "
            f"visits: {', '.join(visits)}."
            if not pd.isna(r.visit)
            else "the record has no visit."
        ),
    )
    ids = [e.id for e in spec.endpoints]
    e = codes.endpoint
    unknown_ep = e < 0
    file_codes = [ep.file_code for ep in spec.endpoints]
    problems += _row_problems(
        records,
        unknown_ep,
        Rule.UNKNOWN_ENDPOINT,
        lambda r: spec.data.endpoint,
        lambda r: (
            f"endpoint {r.endpoint!r} is not declared{did_you_mean(str(r.endpoint), file_codes)}; "
            f"declared: {', '.join(file_codes)}."
            if not pd.isna(r.endpoint)
            else "the record has no endpoint."
        ),
    )

    arm_problems, conflicted = _check_arms(records, s, a, subjects, levels, spec)
    problems += arm_problems
    # a subject in two arms (files) duplicates every record: report the cause once
    in_conflict = conflicted[np.maximum(s, 0)] if conflicted.any() else False
    keyed = ~(subj_missing | unknown_visit | unknown_ep | in_conflict)
    n_s, n_e, n_v = len(subjects), len(ids), len(visits)
    flat = (s * n_e + e) * n_v + v
    counts = np.bincount(flat[keyed], minlength=n_s * n_e * n_v)
    dup = keyed & (counts[np.where(keyed, flat, 0)] > 1)
    if dup.any():
        problems += _check_duplicates(records.loc[dup], spec)
    if keyed.any():
        per_visit = np.bincount(v[keyed], minlength=n_v)
        for k in np.flatnonzero(per_visit == 0):
            problems.append(
                Problem(
                    Rule.VISIT_ABSENT,
                    _files(records),
                    f"visit {visits[k]!r} is in `visits.order` but no record has it.",
                    column=spec.data.visit,
                    value=visits[k],
                )
            )
    problems += _check_values(records, e, spec)
    # a wide row yields one record per value column: report a row-level problem once
    return list(dict.fromkeys(problems))


def _files(records: pd.DataFrame) -> str:
    return ", ".join(pd.unique(records["_file"].astype(str)))


def _check_arms(
    records: pd.DataFrame, s: np.ndarray, a: np.ndarray, subjects, levels, spec: StudySpec
) -> tuple[list[Problem], np.ndarray]:
    """arm_conflict, arm_absent and too_few_subjects; also returns the conflicted-subject mask."""
    problems: list[Problem] = []
    n_s, n_a = len(subjects), len(levels)
    ok = (s >= 0) & (a >= 0)
    has_arm = np.bincount(s[ok] * n_a + a[ok], minlength=n_s * n_a).reshape(n_s, n_a) > 0
    conflicted = has_arm.sum(axis=1) > 1
    if conflicted.any():
        rows = records.loc[ok & conflicted[np.maximum(s, 0)]]
        for subject, part in rows.groupby(rows["subject"].astype(str), sort=True):
            first = part.drop_duplicates("arm")
            where = "; ".join(
                f"{arm!r} in {f.rsplit('/', 1)[-1]} row {r}"
                for arm, f, r in zip(first["arm"], first["_file"], first["_row"])
            )
            problems.append(
                Problem(
                    Rule.ARM_CONFLICT,
                    str(first["_file"].iloc[0]),
                    f"subject {subject!r} is recorded in more than one arm: {where}.",
                    row=int(first["_row"].iloc[0]),
                    subject=str(subject),
                    column=spec.arms.column,
                    value=", ".join(map(str, first["arm"])),
                )
            )
    per_arm = has_arm.sum(axis=0)
    for arm, n in zip(levels, per_arm):
        if n == 0 and ok.any():
            problems.append(
                Problem(
                    Rule.ARM_ABSENT,
                    _files(records),
                    f"arm {arm!r} is declared in the spec but no subject has it.",
                    column=spec.arms.column,
                    value=arm,
                )
            )
        elif 0 < n < MIN_SUBJECTS_PER_ARM:
            problems.append(
                Problem(
                    Rule.TOO_FEW_SUBJECTS,
                    _files(records),
                    f"arm {arm!r} has {n} subject; at least {MIN_SUBJECTS_PER_ARM} are needed.",
                    column=spec.arms.column,
                    value=arm,
                )
            )
    return problems, np.append(conflicted, False)


def _check_duplicates(records: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    """One problem per subject x visit x endpoint with more than one record (``records``: only those)."""
    problems = []
    key = [records[c].astype(str) for c in ("subject", "visit", "endpoint")]
    for (subject, visit, endpoint), rows in records.groupby(key, sort=True):
        is_base = visit == spec.visits.baseline
        rule = Rule.MULTIPLE_BASELINE if is_base else Rule.DUPLICATE_RECORD
        what = "baseline records" if is_base else "records"
        problems.append(
            Problem(
                rule,
                str(rows["_file"].iloc[0]),
                f"{len(rows)} {what} for endpoint {endpoint!r} at visit {visit!r}: {_rows_text(rows)}; "
                "keep exactly one.",
                row=int(rows["_row"].iloc[0]),
                subject=str(subject),
                column=str(rows["_column"].iloc[0]),
                value=", ".join(map(_fmt, rows["value"])),
            )
        )
    return problems


def _check_values(records: pd.DataFrame, e: np.ndarray, spec: StudySpec) -> list[Problem]:
    """out_of_range, not_integer and non-positive values on a log scale, in one pass per rule.

    Each endpoint's limits are looked up by the record's endpoint code (the extra last slot,
    reached by code -1, holds the limits of records whose endpoint is unknown: none apply).
    """
    eps = spec.endpoints
    lo = np.array([ep.range[0] if ep.range else -np.inf for ep in eps] + [-np.inf])[e]
    hi = np.array([ep.range[1] if ep.range else np.inf for ep in eps] + [np.inf])[e]
    is_log = np.array([ep.scale == "log" for ep in eps] + [False])[e]
    is_int = np.array([ep.integer for ep in eps] + [False])[e]
    value = records["value"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        out = (value < lo) | (value > hi)
        nonpositive = is_log & (value <= 0) & ~out
        fraction = is_int & ~np.isnan(value) & (value != np.round(value)) if is_int.any() else is_int

    def endpoint(r) -> tuple:
        ep = spec.endpoint(str(r.endpoint))
        return ep, ep.range or (-np.inf, np.inf)

    problems = _row_problems(
        records,
        out,
        Rule.OUT_OF_RANGE,
        lambda r: r._column,
        lambda r: (
            lambda ep, rng: (
                f"{r.value:g} is outside the range of {ep.id!r}, [{rng[0]:g}, {rng[1]:g}] {ep.unit}".rstrip() + "."
            )
        )(*endpoint(r)),
    )
    problems += _row_problems(
        records,
        nonpositive,
        Rule.OUT_OF_RANGE,
        lambda r: r._column,
        lambda r: f"{r.value:g} is not positive, but {str(r.endpoint)!r} is analysed on the log scale.",
    )
    problems += _row_problems(
        records,
        fraction,
        Rule.NOT_INTEGER,
        lambda r: r._column,
        lambda r: f"{r.value:g} is not a whole number, but {str(r.endpoint)!r} is an integer scale.",
    )
    return problems


def check_covariates(covariates: pd.DataFrame, spec: StudySpec) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse subject-level covariates and check each is one value per subject.

    Numeric covariates (those not in ``analysis.categorical``) must be numbers; categorical ones
    are kept as text. Returns the frame ``subject, <covariates>`` (one row per subject) and the
    problems.
    """
    if not spec.analysis.covariates:
        return pd.DataFrame({"subject": present_categories(covariates["subject"])}), []
    problems: list[Problem] = []
    frame = covariates.loc[covariates["subject"].notna()].copy()
    for c in spec.analysis.covariates:
        if c in spec.analysis.categorical:
            raw = frame[c]
            text = raw.map(
                lambda v: (
                    np.nan
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
                )
            )
            frame[c] = text.where(~text.isin(spec.data.missing))
            continue
        values, bad = parse_numbers(frame[c], decimal=spec.data.decimal, missing=spec.data.missing)
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    Rule.NON_NUMERIC,
                    str(frame["_file"].iloc[i]),
                    f"covariate {c!r} is numeric but holds {frame[c].iloc[i]!r}; "
                    "list it in `analysis.categorical` if it is a category.",
                    row=int(frame["_row"].iloc[i]),
                    subject=str(frame["subject"].iloc[i]),
                    column=c,
                    value=str(frame[c].iloc[i]),
                )
            )
        frame[c] = values
    cols = ["subject", *spec.analysis.covariates]
    distinct = frame[cols].drop_duplicates()
    per_subject = distinct.groupby("subject", sort=True).size()
    for subject in per_subject.index[per_subject.to_numpy() > 1]:
        rows = frame.loc[frame["subject"] == subject]
        for c in spec.analysis.covariates:
            vals = pd.unique(rows[c])
            if len(vals) > 1:
                problems.append(
                    Problem(
                        Rule.COVARIATE_CONFLICT,
                        str(rows["_file"].iloc[0]),
                        f"covariate {c!r} differs between the subject's rows: "
                        f"{', '.join(map(str, vals))} ({_rows_text(rows)}).",
                        row=int(rows["_row"].iloc[0]),
                        subject=str(subject),
                        column=c,
                        value=", ".join(map(str, vals)),
                    )
                )
    out = distinct.drop_duplicates("subject").sort_values("subject").reset_index(drop=True)
    return out, problems
