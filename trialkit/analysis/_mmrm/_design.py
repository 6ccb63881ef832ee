"""The MMRM's data: checked columns, the fixed-effects design matrix and the subjects' blocks.

The design matrix is built column by column from validated names (treatment coding, the
control arm and the first visit as references) — never from a formula string — so that no
user text is parsed. Rows are grouped by *block*: subjects of one covariance group with the
same set of observed visits share one submatrix of Σ, so the likelihood works on stacked
arrays, one block at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import AnalysisError, TrialkitError, did_you_mean

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Block:
    """Subjects of one covariance group observed at the same visits.

    Attributes
    ----------
    group : int
        Index of the covariance group (0 unless Σ is separate per arm).
    visits : ndarray of int
        Indices of the observed visits, in visit order.
    x : ndarray, shape (n, len(visits), p)
        Design rows of each subject.
    y : ndarray, shape (n, len(visits))
        Responses.
    subjects : ndarray of int
        Subject indices (into :attr:`Design.subjects`).
    """

    group: int
    visits: IntArray
    x: Array
    y: Array
    subjects: IntArray


@dataclass(frozen=True)
class Design:
    """The analysed data of an MMRM, ready for the likelihood.

    Attributes
    ----------
    terms : tuple of str
        Names of the design columns (``"Intercept"``, ``"ARM=TRT"``, ``"ARM=TRT:VISIT=V2"``, ...).
    x : ndarray (N, p)
        Design matrix of the analysed rows.
    visits, arms : tuple of str
        Visit levels in order; arm levels with the control first.
    groups : tuple of str
        Covariance groups (``("all",)`` or the arms).
    blocks : tuple of Block
    between : ndarray of bool
        Whether each design column is constant within every subject (between-subject effect).
    """

    terms: tuple[str, ...]
    x: Array
    y: Array
    subject_codes: IntArray
    visit_codes: IntArray
    arm_codes: IntArray
    visits: tuple[str, ...]
    arms: tuple[str, ...]
    subjects: tuple[str, ...]
    groups: tuple[str, ...]
    blocks: tuple[Block, ...]
    lsmean_rows: Array
    lsmean_keys: tuple[tuple[str, str], ...]
    between: npt.NDArray[np.bool_]
    excluded_rows: int

    @property
    def n_observations(self) -> int:
        """Number of analysed responses."""
        return int(self.x.shape[0])

    @property
    def n_subjects(self) -> int:
        """Number of subjects with at least one analysed response."""
        return len(self.subjects)


def _require_columns(data: pd.DataFrame, names: Mapping[str, str | None]) -> None:
    columns = [str(c) for c in data.columns]
    missing = [
        f"`{arg}` names column {col!r}, which is not in the data{did_you_mean(col, columns)}"
        for arg, col in names.items()
        if col is not None and col not in data.columns
    ]
    if missing:
        raise TrialkitError("; ".join(missing) + f"; columns: {', '.join(columns)}.")


def _numeric(data: pd.DataFrame, column: str, role: str) -> Array:
    values = data[column]
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        converted = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & converted.isna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            raise TrialkitError(
                f"{role} column {column!r} must hold numbers; row {data.index[row]!r} holds {values.iloc[row]!r}."
            )
        values = converted
    out = np.asarray(values, dtype=np.float64)
    infinite = np.isinf(out)
    if infinite.any():
        row = infinite.nonzero()[0][0]
        raise TrialkitError(
            f"{role} column {column!r} must hold finite numbers; row {data.index[row]!r} holds {out[row]}."
        )
    return out


def _codes(values: npt.NDArray[np.str_], levels: list[str]) -> IntArray:
    """Position of each value in ``levels`` (every value is one of them)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    lookup = np.array([levels.index(u) for u in uniq.tolist()], dtype=np.intp)
    return np.asarray(lookup[inverse], dtype=np.intp)


def _levels(values: npt.NDArray[np.str_], column: str, order: Sequence[str] | None, reference: str | None) -> list[str]:
    present = [str(v) for v in np.unique(values).tolist()]
    if order is not None:
        order = [str(v) for v in order]
        extra = [v for v in present if v not in order]
        if extra:
            raise TrialkitError(
                f"column {column!r} holds {extra[0]!r}, which is not in the order given ({', '.join(order)})."
            )
        present = [v for v in order if v in present]
    if reference is not None:
        if reference not in present:
            raise TrialkitError(
                f"reference level {reference!r} of column {column!r} is not in the analysed data"
                f"{did_you_mean(reference, present)}; levels: {', '.join(present)}."
            )
        present = [reference] + [v for v in present if v != reference]
    return present


def build_design(
    data: pd.DataFrame,
    *,
    response: str,
    subject: str,
    visit: str,
    arm: str,
    control: str,
    covariates: Sequence[str],
    categorical: Sequence[str] | None,
    baseline: str | None,
    baseline_by_visit: bool,
    baseline_visit: str | None,
    group_by_arm: bool,
    visit_order: Sequence[str] | None,
    reference: Mapping[str, str],
) -> Design:
    """Check the columns and build the design and the subjects' blocks.

    Rows with a missing response, arm, visit, subject or covariate are left out (as SAS PROC
    MIXED leaves out incomplete observations); the count is kept in ``excluded_rows``.
    """
    roles = {"response": response, "subject": subject, "visit": visit, "arm": arm, "baseline": baseline}
    roles |= {f"covariates[{i}]": c for i, c in enumerate(covariates)}
    _require_columns(data, roles)
    used = [response, subject, visit, arm, *covariates] + ([baseline] if baseline else [])
    if len(set(used)) != len(used):
        twice = sorted({c for c in used if used.count(c) > 1})
        raise TrialkitError(f"column {twice[0]!r} is given in two roles; each column can play one part in the model.")
    if baseline is not None and baseline_visit is not None:
        raise TrialkitError(
            "`baseline` (a covariate column) and `baseline_visit` (baseline kept as a response) exclude each other."
        )
    categorical_set = (
        {c for c in covariates if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])}
        if categorical is None
        else set(categorical)
    )
    unknown = sorted(categorical_set - set(covariates))
    if unknown:
        raise TrialkitError(f"`categorical` names {unknown[0]!r}, which is not one of the covariates.")

    y_all = _numeric(data, response, "response")
    numeric = {c: _numeric(data, c, "covariate") for c in covariates if c not in categorical_set}
    if baseline is not None:
        numeric[baseline] = _numeric(data, baseline, "baseline")
    keep = ~np.isnan(y_all)
    for c in (subject, visit, arm, *categorical_set):
        keep &= data[c].notna().to_numpy()
    for values in numeric.values():
        keep &= ~np.isnan(values)
    _check_repeats(data, subject, visit)
    # the text columns of the analysed rows, as strings, taken once
    text = {c: data[c].to_numpy()[keep].astype(str) for c in {subject, visit, arm, *categorical_set}}
    excluded = int(len(data) - keep.sum())
    if not keep.any():
        raise AnalysisError(f"no row has a response in {response!r} and every model variable.", term=response)

    visits = _levels(text[visit], visit, visit_order, baseline_visit)
    if len(visits) < 2:
        raise AnalysisError(
            f"visit column {visit!r} has one level ({visits[0]!r}) among the analysed rows: "
            "a model for repeated measures needs two visits or more.",
            term=visit,
        )
    arms = _levels(text[arm], arm, None, None)
    if control not in arms:
        raise TrialkitError(
            f"`control` = {control!r} is not an arm in column {arm!r}{did_you_mean(control, arms)}; "
            f"arms: {', '.join(arms)}."
        )
    if len(arms) < 2:
        raise AnalysisError(f"arm column {arm!r} has one level ({arms[0]!r}) among the analysed rows.", term=arm)
    arms = [control] + [a for a in arms if a != control]

    subjects, subject_codes = np.unique(text[subject], return_inverse=True)
    visit_codes = _codes(text[visit], visits)
    arm_codes = _codes(text[arm], arms)
    _check_arms(subjects, subject_codes, arm_codes, arms, subject, arm)

    y = y_all[keep]
    n = len(y)
    columns: list[Array] = [np.ones(n)]
    terms = ["Intercept"]
    pairs = [(a, v) for v in range(len(visits)) for a in range(len(arms))]
    lsm: list[Array] = [np.ones(len(pairs))]
    a_of = np.array([a for a, _ in pairs])
    v_of = np.array([v for _, v in pairs])

    arm_dummy = {a: (arm_codes == a).astype(np.float64) for a in range(1, len(arms))}
    visit_dummy = {v: (visit_codes == v).astype(np.float64) for v in range(1, len(visits))}
    if baseline_visit is None:
        for a in range(1, len(arms)):
            columns.append(arm_dummy[a])
            terms.append(f"{arm}={arms[a]}")
            lsm.append((a_of == a).astype(np.float64))
    for v in range(1, len(visits)):
        columns.append(visit_dummy[v])
        terms.append(f"{visit}={visits[v]}")
        lsm.append((v_of == v).astype(np.float64))
    for a in range(1, len(arms)):
        for v in range(1, len(visits)):
            columns.append(arm_dummy[a] * visit_dummy[v])
            terms.append(f"{arm}={arms[a]}:{visit}={visits[v]}")
            lsm.append(((a_of == a) & (v_of == v)).astype(np.float64))
    for c in covariates:
        if c in categorical_set:
            levels = _levels(text[c], c, None, reference.get(c))
            if len(levels) < 2:
                raise AnalysisError(
                    f"covariate {c!r} is constant ({levels[0]!r}) among the analysed rows: it cannot be estimated.",
                    term=c,
                )
            labels = text[c]
            for level in levels[1:]:
                columns.append((labels == level).astype(np.float64))
                terms.append(f"{c}={level}")
                lsm.append(np.full(len(pairs), 1.0 / len(levels)))  # SAS: class covariates weighted equally
        else:
            values = numeric[c][keep]
            _check_varies(values, c)
            columns.append(values)
            terms.append(c)
            lsm.append(np.full(len(pairs), values.mean()))  # SAS: numeric covariates at their mean
    if baseline is not None:
        values = numeric[baseline][keep]
        _check_varies(values, baseline)
        columns.append(values)
        terms.append(baseline)
        lsm.append(np.full(len(pairs), values.mean()))
        if baseline_by_visit:
            for v in range(1, len(visits)):
                columns.append(values * visit_dummy[v])
                terms.append(f"{baseline}:{visit}={visits[v]}")
                lsm.append(values.mean() * (v_of == v))
    elif baseline_by_visit:
        raise TrialkitError("`baseline_by_visit=True` needs a `baseline` column.")

    x = np.column_stack(columns)
    _check_rank(x, terms, arm_codes, visit_codes, arms, visits, arm, visit)
    between = _between_columns(x, subject_codes)
    groups = tuple(arms) if group_by_arm else ("all",)
    group_codes = arm_codes if group_by_arm else np.zeros(n, dtype=np.intp)
    blocks = _blocks(x, y, subject_codes, visit_codes, group_codes)
    return Design(
        terms=tuple(terms),
        x=x,
        y=y,
        subject_codes=subject_codes,
        visit_codes=visit_codes,
        arm_codes=arm_codes,
        visits=tuple(visits),
        arms=tuple(arms),
        subjects=tuple(str(s) for s in subjects),
        groups=groups,
        blocks=blocks,
        lsmean_rows=np.column_stack(lsm),
        lsmean_keys=tuple((arms[a], visits[v]) for a, v in pairs),
        between=between,
        excluded_rows=excluded,
    )


def _check_varies(values: Array, column: str) -> None:
    if np.ptp(values) == 0:
        raise AnalysisError(
            f"covariate {column!r} is constant ({values[0]:g}) among the analysed rows: it cannot be estimated.",
            term=column,
        )


def _check_repeats(data: pd.DataFrame, subject: str, visit: str) -> None:
    """Refuse a subject with two rows at one visit (a response missing or not: the data are ambiguous)."""
    present = (data[subject].notna() & data[visit].notna()).to_numpy()
    s_codes, _ = pd.factorize(data[subject].to_numpy()[present])
    v_codes, v_levels = pd.factorize(data[visit].to_numpy()[present])
    if len(np.unique(s_codes.astype(np.int64) * max(len(v_levels), 1) + v_codes)) == len(s_codes):
        return  # the usual case, found without building text keys
    keys = data.loc[present, [subject, visit]].astype(str)
    repeated = keys[keys.duplicated(keep=False)]
    if repeated.empty:
        return
    counts = repeated.groupby([subject, visit], sort=True).size()
    shown = [
        f"subject {key[0]!r} has {n} rows at {visit} {key[1]!r}"
        for key, n in zip(counts.index[:10], counts.to_numpy()[:10], strict=True)
    ]
    more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
    raise AnalysisError("; ".join(shown) + more + ": each subject can have one row per visit.", term=subject)


def _check_arms(
    subjects: npt.NDArray[Any], subject_codes: IntArray, arm_codes: IntArray, arms: list[str], subject: str, arm: str
) -> None:
    """Each subject in one arm; every subject in two named at once (up to ten)."""
    problems: list[str] = []
    order = np.lexsort((arm_codes, subject_codes))
    s, a = subject_codes[order], arm_codes[order]
    conflict = np.unique(s[1:][(s[1:] == s[:-1]) & (a[1:] != a[:-1])])
    for code in conflict[:10]:
        found = sorted({arms[i] for i in arm_codes[subject_codes == code]})
        problems.append(
            f"subject {str(subjects[code])!r} is in more than one arm in column {arm!r} ({', '.join(found)})"
        )
    if problems:
        raise AnalysisError("; ".join(problems) + f" (column {subject!r}).", term=subject)


def _check_rank(
    x: Array,
    terms: list[str],
    arm_codes: IntArray,
    visit_codes: IntArray,
    arms: list[str],
    visits: list[str],
    arm: str,
    visit: str,
) -> None:
    """Name the empty arm x visit cells, or the aliased columns, of a rank-deficient design."""
    counts = np.zeros((len(arms), len(visits)), dtype=np.intp)
    np.add.at(counts, (arm_codes, visit_codes), 1)
    empty = [f"{arm} {arms[a]!r} at {visit} {visits[v]!r}" for a, v in zip(*np.nonzero(counts == 0), strict=True)]
    if empty:
        raise AnalysisError("no response in " + "; ".join(empty) + ": the arm x visit means cannot be estimated.")
    r = np.linalg.qr(x, mode="r")
    diag = np.abs(np.diag(r))
    tol = diag.max() * max(x.shape) * np.finfo(float).eps
    aliased = [terms[j] for j in np.nonzero(diag <= tol)[0]]
    if aliased:
        raise AnalysisError(
            f"the fixed-effects design is singular: {', '.join(aliased)} is a combination of the columns before it.",
            term=aliased[0],
        )


def _between_columns(x: Array, subject_codes: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each column is constant within every subject."""
    order = np.argsort(subject_codes, kind="stable")
    xs, s = x[order], subject_codes[order]
    same = s[1:] == s[:-1]
    return np.asarray(np.all(xs[1:][same] == xs[:-1][same], axis=0), dtype=bool)


def _blocks(
    x: Array, y: Array, subject_codes: IntArray, visit_codes: IntArray, group_codes: IntArray
) -> tuple[Block, ...]:
    """Group the subjects by covariance group and set of observed visits (a handful of patterns)."""
    order = np.lexsort((visit_codes, subject_codes))
    s = subject_codes[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    n_subjects, k = len(starts), int(visit_codes.max()) + 1
    seen = np.zeros((n_subjects, k), dtype=np.int64)
    seen[s, visit_codes[order]] = 1
    keys = np.column_stack([group_codes[order[starts]], seen])
    patterns, which = np.unique(keys, axis=0, return_inverse=True)
    out = []
    for p, pattern in enumerate(patterns):
        members = np.flatnonzero(which.ravel() == p)
        visits = np.flatnonzero(pattern[1:])
        idx = order[starts[members][:, None] + np.arange(len(visits))[None, :]]  # (n, k_b), visits in order
        out.append(Block(group=int(pattern[0]), visits=visits, x=x[idx], y=y[idx], subjects=s[starts[members]]))
    return tuple(out)
