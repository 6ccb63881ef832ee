"""Check laid-out records against the spec: every problem at once, each with its place and rule.

:func:`check_records` is pure: it takes the records a layout produced and returns problems; it
never drops, fixes or coerces a value. Missing values are not problems; they are counted by
:func:`missing_counts`.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from trialkit._errors import Problem, Rule, did_you_mean
from trialkit.io._values import parse_numbers
from trialkit.spec import StudySpec

__all__ = ["check_records", "check_covariates", "MIN_SUBJECTS_PER_ARM"]

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
        out.append(Problem(rule, rec._file, message_of(rec), row=int(rec._row),
                           subject=None if pd.isna(rec.subject) else str(rec.subject),
                           column=column_of(rec), value=_value(rec, rule)))
    return out


def _value(rec, rule: Rule) -> str | None:
    v = {Rule.MISSING_SUBJECT: None, Rule.UNKNOWN_ARM: rec.arm, Rule.UNKNOWN_VISIT: rec.visit,
         Rule.UNKNOWN_ENDPOINT: rec._code if rec._code is not None else rec.endpoint}.get(rule, rec.value)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return f"{v:g}" if isinstance(v, float) else str(v)


def _fmt(v: float) -> str:
    return "NA" if np.isnan(v) else f"{v:g}"


def _rows_text(rows: pd.DataFrame) -> str:
    places = [f"{f.rsplit('/', 1)[-1]} row {r}" for f, r in zip(rows["_file"], rows["_row"])]
    more = len(places) - _ROWS_SHOWN
    return ", ".join(places[:_ROWS_SHOWN]) + (f" and {more} more" if more > 0 else "")


def check_records(records: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    """Every rule a record set can break, checked at once.

    Rules: missing_subject, unknown_arm, arm_conflict, arm_absent, too_few_subjects,
    unknown_visit, visit_absent, unknown_endpoint, duplicate_record, multiple_baseline,
    not_integer, out_of_range. (non_numeric is found while reading.)
    """
    problems: list[Problem] = []
    subj_missing = records["subject"].isna().to_numpy()
    problems += _row_problems(records, subj_missing, Rule.MISSING_SUBJECT, lambda r: None,
                              lambda r: "the record has no subject identifier.")
    levels = spec.arms.levels
    arm_values = records["arm"]
    if levels:
        unknown_arm = ~arm_values.isin(levels).to_numpy()
        problems += _row_problems(
            records, unknown_arm, Rule.UNKNOWN_ARM, lambda r: spec.arms.column,
            lambda r: (f"arm {r.arm!r} is not declared{did_you_mean(str(r.arm), levels)}; "
                       f"declared arms: {', '.join(levels)}." if not pd.isna(r.arm)
                       else "the record has no arm."))
    else:
        unknown_arm = arm_values.isna().to_numpy()
        problems += _row_problems(records, unknown_arm, Rule.UNKNOWN_ARM, lambda r: spec.arms.column,
                                  lambda r: "the record has no arm.")
    visits = spec.visits.order
    unknown_visit = ~records["visit"].isin(visits).to_numpy()
    problems += _row_problems(
        records, unknown_visit, Rule.UNKNOWN_VISIT, lambda r: spec.data.visit or r._column,
        lambda r: (f"visit {r.visit!r} is not in `visits.order`{did_you_mean(str(r.visit), visits)}; "
                   f"visits: {', '.join(visits)}." if not pd.isna(r.visit) else "the record has no visit."))
    ids = [e.id for e in spec.endpoints]
    unknown_ep = ~records["endpoint"].isin(ids).to_numpy()
    codes = [e.file_code for e in spec.endpoints]
    problems += _row_problems(
        records, unknown_ep, Rule.UNKNOWN_ENDPOINT, lambda r: spec.data.endpoint,
        lambda r: (f"endpoint {r.endpoint!r} is not declared{did_you_mean(str(r.endpoint), codes)}; "
                   f"declared: {', '.join(codes)}." if not pd.isna(r.endpoint) else "the record has no endpoint."))

    usable = ~(subj_missing | unknown_arm)
    arm_problems = _check_arms(records.loc[usable], spec)
    problems += arm_problems
    # a subject in two arms (files) duplicates every record: report the cause once
    conflicted = {p.subject for p in arm_problems if p.rule is Rule.ARM_CONFLICT}
    in_conflict = records["subject"].isin(conflicted).to_numpy() if conflicted else False
    keyed = records.loc[~(subj_missing | unknown_visit | unknown_ep | in_conflict)]
    problems += _check_duplicates(keyed, spec)
    if not keyed.empty:
        seen = set(keyed["visit"].unique())
        for v in visits:
            if v not in seen:
                problems.append(Problem(Rule.VISIT_ABSENT, _files(records),
                                        f"visit {v!r} is in `visits.order` but no record has it.",
                                        column=spec.data.visit, value=v))
    problems += _check_values(records.loc[~unknown_ep], spec)
    # a wide row yields one record per value column: report a row-level problem once
    return list(dict.fromkeys(problems))


def _files(records: pd.DataFrame) -> str:
    return ", ".join(pd.unique(records["_file"].astype(str)))


def _check_arms(records: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    problems: list[Problem] = []
    pairs = records[["subject", "arm"]].drop_duplicates()
    n_arms = pairs.groupby("subject", sort=True)["arm"].size()
    for subject in n_arms.index[n_arms.to_numpy() > 1]:
        rows = records.loc[records["subject"] == subject]
        first = rows.drop_duplicates("arm")
        where = "; ".join(f"{a!r} in {f.rsplit('/', 1)[-1]} row {r}"
                          for a, f, r in zip(first["arm"], first["_file"], first["_row"]))
        problems.append(Problem(Rule.ARM_CONFLICT, str(first["_file"].iloc[0]),
                                f"subject {subject!r} is recorded in more than one arm: {where}.",
                                row=int(first["_row"].iloc[0]), subject=str(subject),
                                column=spec.arms.column, value=", ".join(map(str, first["arm"]))))
    counts = pairs.groupby("arm", sort=False)["subject"].nunique()
    levels = spec.arms.levels or tuple(counts.index)
    for arm in levels:
        n = int(counts.get(arm, 0))
        if n == 0 and not records.empty:
            problems.append(Problem(Rule.ARM_ABSENT, _files(records),
                                    f"arm {arm!r} is declared in the spec but no subject has it.",
                                    column=spec.arms.column, value=arm))
        elif 0 < n < MIN_SUBJECTS_PER_ARM:
            problems.append(Problem(Rule.TOO_FEW_SUBJECTS, _files(records),
                                    f"arm {arm!r} has {n} subject; at least "
                                    f"{MIN_SUBJECTS_PER_ARM} are needed.", column=spec.arms.column, value=arm))
    return problems


def _check_duplicates(records: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    key = ["subject", "visit", "endpoint"]
    dup = records.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return []
    problems = []
    for (subject, visit, endpoint), rows in records.loc[dup].groupby(key, sort=True):
        is_base = visit == spec.visits.baseline
        rule = Rule.MULTIPLE_BASELINE if is_base else Rule.DUPLICATE_RECORD
        what = "baseline records" if is_base else "records"
        problems.append(Problem(
            rule, str(rows["_file"].iloc[0]),
            f"{len(rows)} {what} for endpoint {endpoint!r} at visit {visit!r}: {_rows_text(rows)}; "
            "keep exactly one.", row=int(rows["_row"].iloc[0]), subject=str(subject),
            column=str(rows["_column"].iloc[0]), value=", ".join(map(_fmt, rows["value"]))))
    return problems


def _check_values(records: pd.DataFrame, spec: StudySpec) -> list[Problem]:
    problems: list[Problem] = []
    endpoint = records["endpoint"].to_numpy(dtype=object)
    value = records["value"].to_numpy()
    for e in spec.endpoints:
        mine = endpoint == e.id
        if not mine.any():
            continue
        v = np.where(mine, value, np.nan)
        with np.errstate(invalid="ignore"):
            if e.range is not None:
                lo, hi = e.range
                out = (v < lo) | (v > hi)
                problems += _row_problems(
                    records, out, Rule.OUT_OF_RANGE, lambda r: r._column,
                    lambda r, e=e, lo=lo, hi=hi: f"{r.value:g} is outside the range of {e.id!r}, "
                                                 f"[{lo:g}, {hi:g}] {e.unit}".rstrip() + ".")
            if e.scale == "log":
                nonpos = v <= 0
                problems += _row_problems(
                    records, nonpos, Rule.OUT_OF_RANGE, lambda r: r._column,
                    lambda r, e=e: f"{r.value:g} is not positive, but {e.id!r} is analysed on the log scale.")
            if e.integer:
                frac = ~np.isnan(v) & (v != np.round(v))
                problems += _row_problems(
                    records, frac, Rule.NOT_INTEGER, lambda r: r._column,
                    lambda r, e=e: f"{r.value:g} is not a whole number, but {e.id!r} is an integer scale.")
    return problems


def check_covariates(covariates: pd.DataFrame, spec: StudySpec) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse subject-level covariates and check each is one value per subject.

    Numeric covariates (those not in ``analysis.categorical``) must be numbers; categorical ones
    are kept as text. Returns the frame ``subject, <covariates>`` (one row per subject) and the
    problems.
    """
    problems: list[Problem] = []
    frame = covariates.loc[covariates["subject"].notna()].copy()
    for c in spec.analysis.covariates:
        if c in spec.analysis.categorical:
            raw = frame[c]
            text = raw.map(lambda v: np.nan if v is None or (isinstance(v, float) and np.isnan(v))
                           else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()))
            frame[c] = text.where(~text.isin(spec.data.missing))
            continue
        values, bad = parse_numbers(frame[c], decimal=spec.data.decimal, missing=spec.data.missing)
        for i in np.flatnonzero(bad):
            problems.append(Problem(Rule.NON_NUMERIC, str(frame["_file"].iloc[i]),
                                    f"covariate {c!r} is numeric but holds {frame[c].iloc[i]!r}; "
                                    "list it in `analysis.categorical` if it is a category.",
                                    row=int(frame["_row"].iloc[i]), subject=str(frame["subject"].iloc[i]),
                                    column=c, value=str(frame[c].iloc[i])))
        frame[c] = values
    cols = ["subject", *spec.analysis.covariates]
    distinct = frame[cols].drop_duplicates()
    per_subject = distinct.groupby("subject", sort=True).size()
    for subject in per_subject.index[per_subject.to_numpy() > 1]:
        rows = frame.loc[frame["subject"] == subject]
        for c in spec.analysis.covariates:
            vals = pd.unique(rows[c])
            if len(vals) > 1:
                problems.append(Problem(Rule.COVARIATE_CONFLICT, str(rows["_file"].iloc[0]),
                                        f"covariate {c!r} differs between the subject's rows: "
                                        f"{', '.join(map(str, vals))} ({_rows_text(rows)}).",
                                        row=int(rows["_row"].iloc[0]), subject=str(subject), column=c,
                                        value=", ".join(map(str, vals))))
    out = distinct.drop_duplicates("subject").sort_values("subject").reset_index(drop=True)
    return out, problems
