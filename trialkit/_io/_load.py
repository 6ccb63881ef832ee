"""``load``: spec file -> read every data file -> validate everything -> Trial."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._errors import Problem, Rule, TrialkitError, ValidationError
from trialkit._export import incomplete_set_problems
from trialkit._io._files import in_background
from trialkit._io._layouts import read_layout
from trialkit._io._reasons import add_reasons, reasons_by_subject
from trialkit._io._spec_problems import read_spec_for_data
from trialkit._provenance import MANIFEST, read_manifest, sha256_file
from trialkit._spec import StudySpec
from trialkit._texts import DATA_CONTROL, control_name, shown_text
from trialkit._trial import InputFile, Trial
from trialkit._validate import (
    Codes,
    Covariates,
    RecordCodes,
    Records,
    Rows,
    check_covariates,
    check_exposure,
    check_records,
    check_strata,
    encode_records,
    fold_duplicate_conflicts,
    subject_columns,
)
from trialkit._values import Labels

__all__ = ["load", "subject_frame", "tidy_frame"]


def load(spec: str | Path | StudySpec) -> Trial:
    """Read a trial: the study spec and every data file it names, all checked at once.

    Parameters
    ----------
    spec : str, Path or StudySpec
        A study spec TOML file (``docs/study-spec.md``), or an already parsed spec.

    Returns
    -------
    Trial
        The tidy frame (every subject x endpoint x visit, spec order), the subject frame, the
        SHA-256 of every input (the spec first, then each data file), and the warnings: what was
        read other than as written (blanks around an identifier, docs/study-spec.md).

    Raises
    ------
    ValidationError
        Every problem with the spec or the data (file, row, subject, column, value and rule);
        nothing is loaded when there is any. Missing values are not problems. A spec whose
        problems are all in descriptive keys (labels, descriptions, analysis options) does not
        stop its data being checked: both lists come together, the spec's first.

    Examples
    --------
    >>> import trialkit as tk
    >>> trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    >>> trial.arms
    ('placebo', 'magnesium')
    >>> trial.subjects["arm"].value_counts(sort=False).to_dict()
    {'placebo': 23, 'magnesium': 23}
    >>> trial.data.shape
    (920, 6)
    >>> [Path(i.path).name for i in trial.inputs]
    ['study.toml', 'magnesium.csv', 'placebo.csv']
    """
    spec_problems: tuple[Problem, ...] = ()
    if not isinstance(spec, StudySpec):
        spec_path = Path(spec)
        read, spec_problems = read_spec_for_data(spec_path)
        if read is None:
            raise ValidationError(spec_problems)
        spec = read
        inputs = [InputFile(str(spec_path), sha256_file(spec_path))]
    else:
        inputs = [] if spec.source is None else [InputFile(str(spec.source), sha256_file(spec.source))]
    layout = read_layout(spec)
    problems = [*spec_problems, *layout.problems]
    if not len(layout.records) and not problems:
        raise AssertionError("a layout produced no records and no problem")  # pragma: no cover
    codes = encode_records(layout.records, spec)
    # the grid is built while the records are checked (numpy releases the GIL); it is used only
    # when no problem is found, so it may assume that every code is known
    grid = in_background(tidy_frame, layout.records, codes, spec) if not problems and codes.valid else None
    problems += check_records(layout.records, spec, codes)
    covariates = None
    if layout.covariates is not None:
        covariates, covariate_problems = check_covariates(layout.covariates, spec)
        problems += covariate_problems
        explained = {(p.subject, p.column) for p in covariate_problems}
        problems += check_exposure(layout.records, codes, covariates, spec, explained)
        if spec.analysis.strata:
            problems += check_strata(layout.records, codes, covariates, spec)
    problems += _control_characters(layout.records, layout.covariates, spec)
    reasons, reason_problems = reasons_by_subject(layout.reasons, spec)
    problems += reason_problems
    manifest = None
    if inputs:  # the spec's folder: a MANIFEST.json there says how the data beside it were made
        folder = Path(inputs[0].path).parent
        try:
            manifest = read_manifest(folder)
        except TrialkitError as exc:  # what the data are (seed, calibration) must not be guessed
            problems.append(Problem(Rule.UNREADABLE_FILE, str(folder / MANIFEST), str(exc)))
        problems += incomplete_set_problems(folder)
    if problems:
        raise ValidationError(fold_duplicate_conflicts(problems), layout.warnings)
    data, arm_of = grid.result() if grid is not None else tidy_frame(layout.records, codes, spec)
    inputs += [InputFile(f, digest.result()) for f, digest in layout.files]
    subjects = add_reasons(subject_frame(data, arm_of, covariates, spec), reasons)
    return Trial(
        spec=spec, data=data, subjects=subjects, inputs=tuple(inputs), manifest=manifest, warnings=layout.warnings
    )


def _control_characters(records: Records, covariates: Covariates | None, spec: StudySpec) -> list[Problem]:
    """Return a ``control_character`` problem for each subject id, arm or category in the data holding one.

    These texts are shown by reports and tables; the spec's own texts are checked when it is read.
    A line break is allowed here (a quoted CSV value may span lines); tab likewise.
    One problem per distinct text, at its first entry. The texts are searched at once, joined by
    tabs (a tab is allowed), so that a clean file costs one regular-expression scan.
    """
    columns: list[tuple[str, Labels, Rows, str | None, Codes | None, tuple[str, ...]]] = [
        ("subject id", records.subject, records.row, spec.data.subject, records.source, ()),
        ("arm", records.arm, records.row, spec.arms.column, records.source, ()),
    ]
    if covariates is not None:
        for name, entries in covariates.columns.items():
            if isinstance(entries, Labels):
                columns.append(("category", entries, covariates.row, name, None, covariates.files))
    problems = []
    for what, labels, rows, column, source, files in columns:
        if DATA_CONTROL.search("\t".join(labels.texts)) is None:
            continue
        for k, text in enumerate(labels.texts):
            match = DATA_CONTROL.search(text)
            if match is None:
                continue
            found = match.group()
            at = int(np.flatnonzero(labels.codes == k)[0])
            if source is not None:
                file, subject = records.sources[int(source[at])].file, records.subject.text(at)
            else:
                assert covariates is not None  # categories come from the covariate entries
                file, subject = files[int(covariates.source[at])], covariates.subject.text(at)
            problems.append(
                Problem(
                    Rule.CONTROL_CHARACTER,
                    file,
                    f"the {what} '{shown_text(text)}' holds the control character {control_name(found)}; "
                    "identifiers and categories must be printable text (a tab or a line break is allowed).",
                    row=int(rows[at]),
                    subject=None if what == "subject id" or subject is None else shown_text(subject),
                    column=column,
                    value=shown_text(text),
                )
            )
    return problems


def _code_dtype(n_categories: int) -> type[np.signedinteger]:
    """Return the integer type pandas keeps a categorical's codes in (so that no copy is made)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


def _categorical(codes: npt.NDArray[np.integer], categories: Sequence[str], *, ordered: bool) -> pd.Categorical:
    import pyarrow as pa

    # categories as an Arrow-backed "str" index: pandas then checks that 25,000 subjects are
    # distinct in Arrow, without making a Python object of each text first
    text = pd.array(pa.array(categories, type=pa.string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    dtype = pd.CategoricalDtype(pd.Index(text), ordered=ordered)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def tidy_frame(records: Records, codes: RecordCodes, spec: StudySpec) -> tuple[pd.DataFrame, npt.NDArray[np.int32]]:
    """Build the canonical tidy frame from valid records: the full subject x endpoint x visit grid.

    Rows are sorted by subject (as text), then endpoint and visit in spec order, so the same
    trial gives the same frame whatever file layout or format it came from. Each record's value
    lands in its cell by its integer codes; cells without a record are NaN.

    Parameters
    ----------
    records : Records
        Records that passed :func:`~trialkit._validate.check_records`.
    codes : RecordCodes
        The records coded against the spec.
    spec : StudySpec

    Returns
    -------
    data : DataFrame
        ``subject, arm, visit, endpoint, value, visit_index`` (see :class:`~trialkit.Trial`).
    arm_of : ndarray of int32
        Each subject's arm, as a position in ``codes.arms`` (validation has checked there is one).
    """
    n_s, n_e, n_v = len(codes.subjects), len(spec.endpoints), len(spec.visits.order)
    cells = n_e * n_v
    value = np.full(codes.cells, np.nan)  # a cell without a record is NaN
    value[codes.cell] = records.value
    arm_of = codes.arm_of
    subject_codes = np.repeat(np.arange(n_s, dtype=_code_dtype(n_s)), cells)
    visit_codes = np.tile(np.arange(n_v, dtype=_code_dtype(n_v)), n_s * n_e)
    endpoint_codes = np.tile(np.repeat(np.arange(n_e, dtype=_code_dtype(n_e)), n_v), n_s)
    arms = list(codes.arms)
    data = pd.DataFrame(
        {
            "subject": _categorical(subject_codes, codes.subjects, ordered=False),
            "arm": _categorical(np.repeat(arm_of.astype(_code_dtype(len(arms))), cells), arms, ordered=True),
            "visit": _categorical(visit_codes, spec.visits.order, ordered=True),
            "endpoint": _categorical(endpoint_codes, [e.id for e in spec.endpoints], ordered=True),
            "value": value,
            "visit_index": visit_codes.astype(np.int64),
        },
        copy=False,
    )
    return data, arm_of


def subject_frame(
    data: pd.DataFrame, arm_of: npt.NDArray[np.int32], covariates: pd.DataFrame | None, spec: StudySpec
) -> pd.DataFrame:
    """Build the subject-level frame: ``subject, arm``, the spec's covariates and exposure columns, one row per subject.

    Parameters
    ----------
    data : DataFrame
        The tidy frame (its subject and arm categories are reused).
    arm_of : ndarray of int32
        Each subject's arm (position in the arm categories).
    covariates : DataFrame or None
        ``subject, <covariates and exposure columns...>`` from :func:`~trialkit._validate.check_covariates`.
    spec : StudySpec

    Returns
    -------
    DataFrame
        Sorted by subject; a subject without a covariate row has NaN covariates.
    """
    # the tidy frame's categories are reused (building 25,000 categories again costs a hash of each)
    subject_dtype = cast(pd.CategoricalDtype, data["subject"].dtype)
    arm_dtype = cast(pd.CategoricalDtype, data["arm"].dtype)
    n_s = len(subject_dtype.categories)
    frame = pd.DataFrame(
        {
            "subject": pd.Categorical.from_codes(np.arange(n_s), dtype=subject_dtype, validate=False),
            "arm": pd.Categorical.from_codes(arm_of, dtype=arm_dtype, validate=False),
        }
    )
    names = subject_columns(spec)
    if covariates is not None and names:
        by_subject = covariates.set_index("subject").reindex(list(subject_dtype.categories))
        for c in names:
            frame[c] = by_subject[c].to_numpy()
            if by_subject[c].dtype != frame[c].dtype:
                frame[c] = frame[c].astype(by_subject[c].dtype)
    return frame
