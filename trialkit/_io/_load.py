"""``load``: spec file -> read every data file -> validate everything -> Trial."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from trialkit._errors import Problem, Rule, TrialkitError, ValidationError
from trialkit._io._layouts import read_layout
from trialkit._provenance import MANIFEST, read_manifest
from trialkit._spec import StudySpec, read_spec
from trialkit._trial import InputFile, Trial
from trialkit._validate import RecordCodes, check_covariates, check_records, encode_records


def sha256_of(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(spec: str | Path | StudySpec) -> Trial:
    """Read a trial: the study spec and every data file it names, all checked at once.

    Parameters
    ----------
    spec : path or StudySpec
        A study spec TOML file (see DESIGN.md), or an already parsed spec.

    Returns
    -------
    Trial

    Raises
    ------
    ValidationError
        Every problem with the spec or the data (file, row, subject, column, value and rule);
        nothing is loaded when there is any. Missing values are not problems.

    Examples
    --------
    >>> import trialkit as tk
    >>> trial = tk.load("data/synthetic/abbasi2012/study.toml")  # doctest: +SKIP
    """
    if not isinstance(spec, StudySpec):
        spec_path = Path(spec)
        spec = read_spec(spec_path)
        inputs = [InputFile(str(spec_path), sha256_of(spec_path))]
    else:
        inputs = [] if spec.source is None else [InputFile(str(spec.source), sha256_of(spec.source))]
    layout = read_layout(spec)
    problems = list(layout.problems)
    if layout.records.empty and not problems:
        raise AssertionError("a layout produced no records and no problem")  # pragma: no cover
    codes = encode_records(layout.records, spec)
    problems += check_records(layout.records, spec, codes)
    subjects, cov_problems = check_covariates(layout.covariates, spec)
    problems += cov_problems
    manifest = None
    if inputs:  # the spec's folder: a MANIFEST.json there says how the data beside it were made
        folder = Path(inputs[0].path).parent
        try:
            manifest = read_manifest(folder)
        except TrialkitError as exc:  # what the data are (seed, calibration) must not be guessed
            problems.append(Problem(Rule.UNREADABLE_FILE, str(folder / MANIFEST), str(exc)))
    if problems:
        raise ValidationError(problems)
    inputs += [InputFile(f, h) for f, h in layout.files]
    data, arm_of = tidy_frame(layout.records, codes, spec)
    subjects = arm_of.merge(subjects.astype({"subject": str}), on="subject", how="left")
    subjects = subjects[["subject", "arm", *spec.analysis.covariates]]
    subjects["subject"] = pd.Categorical(subjects["subject"], categories=data["subject"].cat.categories)
    return Trial(
        spec=spec, data=data, subjects=subjects.reset_index(drop=True), inputs=tuple(inputs), manifest=manifest
    )


def tidy_frame(records: pd.DataFrame, codes: RecordCodes, spec: StudySpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical tidy frame from valid records: the full subject x endpoint x visit grid.

    Rows are sorted by subject (as text), then endpoint and visit in spec order, so the same
    trial gives the same frame whatever file layout or format it came from.

    Returns
    -------
    (data, subjects)
        The tidy frame and a frame ``subject, arm`` (one row per subject, sorted).
    """
    subjects, levels = codes.subjects, list(codes.arms)
    endpoints, visits = [e.id for e in spec.endpoints], list(spec.visits.order)
    n_s, n_e, n_v = len(subjects), len(endpoints), len(visits)
    value = np.full(n_s * n_e * n_v, np.nan)
    value[(codes.subject * n_e + codes.endpoint) * n_v + codes.visit] = records["value"].to_numpy(dtype="float64")
    arm_by_subject = np.empty(n_s, dtype=np.int64)
    arm_by_subject[codes.subject] = codes.arm  # one arm per subject: validation has checked it
    grid_s = np.repeat(np.arange(n_s), n_e * n_v)
    grid_v = np.tile(np.arange(n_v), n_s * n_e)
    data = pd.DataFrame(
        {
            "subject": pd.Categorical.from_codes(grid_s, categories=subjects),
            "arm": pd.Categorical.from_codes(arm_by_subject[grid_s], categories=levels, ordered=True),
            "visit": pd.Categorical.from_codes(grid_v, categories=visits, ordered=True),
            "endpoint": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n_e), n_v), n_s), categories=endpoints, ordered=True
            ),
            "value": value,
            "visit_index": grid_v.astype("int64"),
        }
    )
    arm_of = pd.DataFrame(
        {
            "subject": subjects.to_numpy(dtype=object),
            "arm": pd.Categorical.from_codes(arm_by_subject, categories=levels, ordered=True),
        }
    )
    return data, arm_of
