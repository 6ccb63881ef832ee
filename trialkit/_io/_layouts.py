"""Lay out the files of a trial as records: one row per subject x visit x endpoint value.

Each layout (wide, long, ADaM BDS; one file or one file per arm) reads its files and returns the
same ``records`` frame plus a ``covariates`` frame, each row carrying the file, row and column it
came from so that validation can say where a problem is.

records columns: subject, arm, visit, endpoint, value, _file, _row, _column
covariates columns: subject, <covariates...>, _file, _row
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit._errors import Problem, Rule, closest
from trialkit._io._files import RawTable, read_table
from trialkit._spec import DataFormat, StudySpec, wide_column
from trialkit._values import parse_numbers

ADAM_ARM_COLUMNS = ("TRTP", "TRT01P")
ADAM_VISIT, ADAM_PARAM, ADAM_VALUE, ADAM_BASELINE_FLAG = "AVISIT", "PARAMCD", "AVAL", "ABLFL"
RECORD_COLUMNS = ("subject", "arm", "visit", "endpoint", "value", "_file", "_row", "_column")


@dataclass(frozen=True)
class Layout:
    """What was read: records, subject-level covariate rows and problems found while reading."""

    records: pd.DataFrame
    covariates: pd.DataFrame
    problems: tuple[Problem, ...]
    files: tuple[tuple[str, str], ...]  # (path, sha256 of the bytes parsed)


def _non_numeric(
    values_raw: pd.Series, bad: np.ndarray, table: RawTable, column: str, subjects: pd.Series
) -> list[Problem]:
    idx = np.flatnonzero(bad)
    raw = values_raw.to_numpy(dtype=object)
    subj = subjects.to_numpy(dtype=object)
    return [
        Problem(
            Rule.NON_NUMERIC,
            table.file,
            f"{raw[i]!r} is not a number; text is never read as missing — fix the "
            f"value or list its code in `data.missing`.",
            row=int(table.rows[i]),
            subject=_s(subj[i]),
            column=column,
            value=str(raw[i]),
        )
        for i in idx
    ]


def _s(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _covariate_frame(spec: StudySpec, table: RawTable, subjects: pd.Series) -> pd.DataFrame:
    cols = {"subject": subjects.array}
    for c in spec.analysis.covariates:
        cols[c] = table.frame[c].to_numpy(dtype=object)
    frame = pd.DataFrame(cols)
    frame["_file"] = table.file
    frame["_row"] = table.rows
    return frame


def _records(subject, arm, visit, endpoint, value, file, rows, column) -> pd.DataFrame:
    """Records frame; scalar arguments (one arm, visit, endpoint or column) are broadcast."""

    def col(x):
        # categoricals stay categoricals (cheap at a million rows); positions, not index labels
        return x.array if isinstance(x, pd.Series) else x

    return pd.DataFrame(
        {
            "subject": col(subject),
            "arm": col(arm),
            "visit": col(visit),
            "endpoint": col(endpoint),
            "value": np.asarray(value, dtype="float64"),
            "_file": file,
            "_row": np.asarray(rows, dtype="int64"),
            "_column": column,
        }
    )


def _wide_columns(spec: StudySpec) -> dict[tuple[str, str], str]:
    """(endpoint id, visit) -> column name, from the pattern or the explicit maps."""
    if spec.data.pattern is not None:
        return {(e.id, v): wide_column(spec.data.pattern, e.id, v) for e in spec.endpoints for v in spec.visits.order}
    return {(eid, v): col for eid, mapping in spec.data.columns.items() for v, col in mapping.items()}


def _read_wide(
    spec: StudySpec, path, arm: str | None, hashes: list
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    d = spec.data
    colmap = _wide_columns(spec)
    id_cols = [d.subject] + ([spec.arms.column] if arm is None else [])
    table, problems = read_table(
        path, d, required=id_cols + list(spec.analysis.covariates), text=id_cols, optional=list(colmap.values())
    )
    if table is None:
        return None, None, problems
    hashes.append((table.file, table.sha256))
    present = set(table.frame.columns)
    header = list(table.frame.columns)
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
    subjects = table.frame[d.subject]
    arms = table.frame[spec.arms.column] if arm is None else arm
    parts = []
    for (eid, visit), col in colmap.items():
        values, bad = parse_numbers(table.frame[col], decimal=d.decimal, missing=d.missing)
        if bad.any():
            problems += _non_numeric(table.frame[col], bad, table, col, subjects)
        parts.append(_records(subjects, arms, visit, eid, values, table.file, table.rows, col))
    return pd.concat(parts, ignore_index=True), _covariate_frame(spec, table, subjects), problems


def _near(name: str, header: list[str]) -> str:
    near = closest(name, header)
    return f" Closest existing: {', '.join(map(repr, near))}." if near else ""


def _read_long(
    spec: StudySpec, path, arm: str | None, hashes: list
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    d = spec.data
    adam = d.format is DataFormat.ADAM
    problems: list[Problem] = []
    if adam:
        visit_col, endpoint_col, value_col = d.visit or ADAM_VISIT, d.endpoint or ADAM_PARAM, d.value or ADAM_VALUE
        arm_col = spec.arms.column
        if arm_col is None and arm is None:
            arm_col = _adam_arm_column(path, spec)
    else:
        visit_col, endpoint_col, value_col = d.visit, d.endpoint, d.value
        arm_col = spec.arms.column if arm is None else None
    id_cols = [d.subject] + ([arm_col] if arm_col else []) + [visit_col] + ([endpoint_col] if endpoint_col else [])
    optional = [ADAM_BASELINE_FLAG] if adam else []
    table, problems = read_table(
        path,
        d,
        required=id_cols + [value_col] + list(spec.analysis.covariates),
        text=id_cols + optional,
        optional=optional,
    )
    if table is None:
        return None, None, problems
    hashes.append((table.file, table.sha256))
    f = table.frame
    subjects = f[d.subject]
    arms = f[arm_col] if arm_col else arm
    visits = f[visit_col]
    code_to_id = {e.file_code: e.id for e in spec.endpoints}
    if endpoint_col:
        codes = f[endpoint_col]
        endpoints = (
            codes.cat.rename_categories(lambda c: code_to_id.get(c, c))
            if _renames_cleanly(codes, code_to_id)
            else codes.astype(object).map(lambda c: code_to_id.get(c, c) if isinstance(c, str) else c)
        )
    else:
        codes = None
        endpoints = spec.endpoints[0].id
    values, bad = parse_numbers(f[value_col], decimal=d.decimal, missing=d.missing)
    keep = np.ones(len(f), dtype=bool)
    if adam:
        # BDS files hold many parameters; the spec names the ones to analyse
        keep &= codes.isin(list(code_to_id)).to_numpy()
        if ADAM_BASELINE_FLAG in f.columns and spec.visits.baseline is not None:
            baseline = spec.visits.baseline
            flag = f[ADAM_BASELINE_FLAG].isin(["Y", "y"]).to_numpy()
            at_baseline_visit = (visits == baseline).to_numpy()
            # ADaM: the flagged record is the baseline; other records of that visit are not analysed
            keep &= ~(at_baseline_visit & ~flag)
            if baseline not in visits.cat.categories:
                visits = visits.cat.add_categories([baseline])
            visits = visits.where(~flag, baseline)
    if bad.any():
        problems += _non_numeric(f[value_col], bad & keep, table, value_col, subjects)
    rec = _records(subjects, arms, visits, endpoints, values, table.file, table.rows, value_col)
    if endpoint_col is not None:
        rec["_column"] = endpoint_col if not adam else value_col
    rec["_code"] = codes.array if codes is not None else None
    if keep.all():
        return rec, _covariate_frame(spec, table, subjects), problems
    return rec.loc[keep].reset_index(drop=True), _covariate_frame(spec, table, subjects).loc[keep], problems


def _renames_cleanly(codes: pd.Series, code_to_id: dict[str, str]) -> bool:
    """Whether mapping codes to ids keeps category names unique (then renaming is enough)."""
    renamed = [code_to_id.get(c, c) for c in codes.cat.categories]
    return len(set(renamed)) == len(renamed)


def _adam_arm_column(path, spec: StudySpec) -> str:
    from trialkit._io._files import FORMATS, _read_header

    try:
        header = _read_header(path, FORMATS.get(path.suffix.lower(), ""), spec.data)
    except Exception:
        return ADAM_ARM_COLUMNS[0]  # read_table reports the unreadable file
    for c in ADAM_ARM_COLUMNS:
        if c in header:
            return c
    return ADAM_ARM_COLUMNS[0]


def read_layout(spec: StudySpec) -> Layout:
    """Read every data file of ``spec`` into records, covariate rows and reading problems."""
    reader = _read_wide if spec.data.format is DataFormat.WIDE else _read_long
    recs, covs, problems, files = [], [], [], []
    for arm, path in spec.data.sources:
        r, c, p = reader(spec, path, arm, files)
        problems += p
        if r is not None:
            recs.append(r)
            covs.append(c)
    if recs:
        records = pd.concat(recs, ignore_index=True)
        covariates = pd.concat(covs, ignore_index=True)
    else:
        records = pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
        covariates = pd.DataFrame(columns=["subject", *spec.analysis.covariates, "_file", "_row"])
    if "_code" not in records:
        records["_code"] = None
    return Layout(records, covariates, tuple(problems), tuple(files))
