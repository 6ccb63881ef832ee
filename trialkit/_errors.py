"""Error types and the registry of validation rules.

Every problem trialkit finds in a spec or in data is a :class:`Problem` with a rule code from
:class:`Rule`; all problems found in one pass travel together in one :class:`ValidationError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class Rule(StrEnum):
    """Registry of validation rules: code and one-line meaning (used in docs and messages)."""

    # spec rules
    SPEC_UNREADABLE = "spec_unreadable"
    UNKNOWN_KEY = "unknown_key"
    MISSING_KEY = "missing_key"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    # file rules
    FILE_NOT_FOUND = "file_not_found"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE_FILE = "unreadable_file"
    EMPTY_FILE = "empty_file"
    MISSING_COLUMN = "missing_column"
    PATTERN_UNMATCHED = "pattern_unmatched"
    NOT_A_FILE = "not_a_file"
    TOO_LARGE = "too_large"
    FORMULA_CELL = "formula_cell"
    # record rules
    MISSING_SUBJECT = "missing_subject"
    RAGGED_ROW = "ragged_row"
    DUPLICATE_RECORD = "duplicate_record"
    DUPLICATE_SUBJECT = "duplicate_subject"
    CASE_VARIANT = "case_variant"
    ARM_CONFLICT = "arm_conflict"
    UNKNOWN_ARM = "unknown_arm"
    ARM_ABSENT = "arm_absent"
    TOO_FEW_SUBJECTS = "too_few_subjects"
    UNKNOWN_VISIT = "unknown_visit"
    VISIT_ABSENT = "visit_absent"
    UNKNOWN_ENDPOINT = "unknown_endpoint"
    NON_NUMERIC = "non_numeric"
    NOT_INTEGER = "not_integer"
    OUT_OF_RANGE = "out_of_range"
    MULTIPLE_BASELINE = "multiple_baseline"
    COVARIATE_CONFLICT = "covariate_conflict"
    NOT_BINARY = "not_binary"
    MISSING_EXPOSURE = "missing_exposure"
    STRATUM_ONE_LEVEL = "stratum_one_level"
    STRATUM_ARM_ABSENT = "stratum_arm_absent"
    UNKNOWN_LEVEL = "unknown_level"
    CONTROL_CHARACTER = "control_character"
    EXTREME_VALUE = "extreme_value"
    # warnings: the input is read, and the reading is reported
    SURROUNDING_BLANKS = "surrounding_blanks"
    FLAG_CASE = "flag_case"

    @property
    def meaning(self) -> str:
        """Return the rule's one-line meaning."""
        return _MEANINGS[self]

    @property
    def is_warning(self) -> bool:
        """Return whether the rule is a warning (the input is read as the message says) rather than a problem."""
        return self in _WARNINGS


_MEANINGS: dict[Rule, str] = {
    Rule.SPEC_UNREADABLE: "the study spec is not valid TOML or cannot be read",
    Rule.UNKNOWN_KEY: "a key in the spec that trialkit does not know",
    Rule.MISSING_KEY: "a required key is absent from the spec",
    Rule.WRONG_TYPE: "a spec value has the wrong type",
    Rule.INVALID_VALUE: "a spec value is outside the allowed set or inconsistent with another key",
    Rule.FILE_NOT_FOUND: "a data file named in the spec does not exist",
    Rule.UNSUPPORTED_FORMAT: "a file format trialkit does not read (pickles are always refused)",
    Rule.UNREADABLE_FILE: "a file that cannot be parsed in its declared format",
    Rule.EMPTY_FILE: "a file with no data rows",
    Rule.MISSING_COLUMN: "a column the spec requires is absent from the file",
    Rule.PATTERN_UNMATCHED: "the wide-format column pattern matches no column for an endpoint",
    Rule.NOT_A_FILE: "an input path that is not a regular file (a folder, a device, a pipe, a symbolic-link loop)",
    Rule.TOO_LARGE: "an input over one of trialkit's documented size limits (docs/limits.md)",
    Rule.FORMULA_CELL: "a spreadsheet formula cell without a stored value, or an error cell (never read as missing)",
    Rule.MISSING_SUBJECT: "a record without a subject identifier",
    Rule.RAGGED_ROW: "a CSV line with more or fewer fields than the header",
    Rule.DUPLICATE_RECORD: "more than one record for the same subject, visit and endpoint",
    Rule.DUPLICATE_SUBJECT: "a subject on more than one row of a wide file (one row per subject)",
    Rule.CASE_VARIANT: "subject ids, arms or category values that differ only in letter case (compared as written)",
    Rule.ARM_CONFLICT: "a subject recorded in more than one arm",
    Rule.UNKNOWN_ARM: "an arm code not declared in the spec",
    Rule.ARM_ABSENT: "an arm declared in the spec with no subject in the data",
    Rule.TOO_FEW_SUBJECTS: "an arm with fewer than 2 subjects",
    Rule.UNKNOWN_VISIT: "a visit not listed in [visits].order",
    Rule.VISIT_ABSENT: "a visit listed in the spec with no record in the data",
    Rule.UNKNOWN_ENDPOINT: "an endpoint code not declared in the spec",
    Rule.NON_NUMERIC: "text in a numeric column (never coerced to missing)",
    Rule.NOT_INTEGER: "a non-integer value on an integer scale",
    Rule.OUT_OF_RANGE: "a value outside the endpoint's declared range",
    Rule.MULTIPLE_BASELINE: "more than one baseline record for a subject and endpoint",
    Rule.COVARIATE_CONFLICT: "a subject-level covariate that differs between a subject's rows",
    Rule.NOT_BINARY: "a value of a binary endpoint other than its success value and one other value",
    Rule.MISSING_EXPOSURE: "a subject with a count but no time at risk in the exposure column",
    Rule.STRATUM_ONE_LEVEL: "a randomisation stratum column with a single level",
    Rule.STRATUM_ARM_ABSENT: "a level of a randomisation stratum without a subject in every arm",
    Rule.UNKNOWN_LEVEL: "a value of a categorical covariate outside the levels the spec declares",
    Rule.CONTROL_CHARACTER: "a control character (such as NUL or an escape) in a name, label, title or unit",
    Rule.EXTREME_VALUE: "a number so large or small in magnitude that the arithmetic of an analysis would lose it",
    Rule.SURROUNDING_BLANKS: "warning: identifiers or labels written with blanks around them, read without",
    Rule.FLAG_CASE: "warning: a lowercase 'y' in the ADaM baseline flag ABLFL, read as 'Y'",
}
_WARNINGS = frozenset({Rule.SURROUNDING_BLANKS, Rule.FLAG_CASE})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec or with data, and where it is.

    ``row`` is the spreadsheet row number in the file (the header is row 1, the first record
    row 2); ``column`` is a column name for data problems and a dotted key path for spec problems.
    """

    rule: Rule
    file: str
    message: str
    row: int | None = None
    subject: str | None = None
    column: str | None = None
    value: str | None = None


PROBLEM_COLUMNS: tuple[str, ...] = ("rule", "file", "row", "subject", "column", "value", "message")


class TrialkitError(ValueError):
    """Base class for every error trialkit raises on bad input or bad options."""


class AnalysisError(TrialkitError):
    """An analysis that the data cannot support; names the term at fault.

    Raised inside one analysis and caught by :func:`trialkit.analyze`, which records it in
    ``Results.failures`` and goes on with the other analyses.
    """

    def __init__(self, message: str, *, term: str = "") -> None:
        super().__init__(message)
        self.term = term


def problem_table(problems: Sequence[Problem]) -> pd.DataFrame:
    """Return problems (or warnings) as a frame with columns rule, file, row, subject, column, value, message."""
    import pandas as pd  # here, not at the top: `trialkit` starts without pandas (Ctrl-C while it loads is caught)

    rows = [{f.name: getattr(p, f.name) for f in fields(Problem)} for p in problems]
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    frame["rule"] = [p.rule.value for p in problems]
    frame["row"] = frame["row"].astype("Int64")
    return frame


def describe(problem: Problem) -> str:
    """Return one line naming a problem's rule, place and message (as the command line prints it)."""
    p = problem
    place = [p.file] if p.file else []
    if p.row is not None:
        place.append(f"row {p.row}")
    if p.subject is not None:
        place.append(f"subject {p.subject!r}")
    if p.column is not None:
        place.append(f"column {p.column!r}")
    return f"[{p.rule.value}] {', '.join(place)}: {p.message}"


def _listed(items: Sequence[Problem], what: str, limit: int) -> list[str]:
    n = len(items)
    lines = [f"  {describe(p)}" for p in items[:limit]]
    if n > limit:
        lines.append(f"  ... and {n - limit} more {what}")
    return lines


class ValidationError(TrialkitError):
    """All problems found in a spec or its data, carried together.

    Attributes
    ----------
    problems : tuple of Problem
        Every problem found, in the order found: the spec's first, then the data's.
    warnings : tuple of Problem
        What was read other than as written (``Rule.is_warning``: blanks around an identifier,
        a lowercase ADaM flag), found while reading the data; they would not stop a load.
    """

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()):
        if not problems:
            raise ValueError("ValidationError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        super().__init__(self.summary())

    @property
    def table(self) -> pd.DataFrame:
        """The problems as a frame with columns rule, file, row, subject, column, value, message."""
        return problem_table(self.problems)

    def summary(self, limit: int = 20) -> str:
        """Human-readable list of the problems (the first ``limit`` and a count of the rest), then the warnings."""
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} found:"]
        lines += _listed(self.problems, "(see ValidationError.table)", limit)
        if self.warnings:
            k = len(self.warnings)
            lines.append(f"and {k} warning{'s' if k != 1 else ''}:")
            lines += _listed(self.warnings, "(see ValidationError.warnings)", limit)
        return "\n".join(lines)


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates that look like ``name`` (case-insensitive), best first."""
    pool = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a candidate is close to ``name``, else an empty string."""
    hits = closest(name, candidates)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(repr(h) for h in hits) + "?)"


def near_miss(name: str, candidates: Iterable[str]) -> str:
    """Say how ``name`` relates to the closest of ``candidates``, for a value in the data that is not one of them.

    A candidate equal to ``name`` but for letter case is named as such (identifiers are compared as
    written: "Placebo" is not the arm "placebo"); otherwise the closest candidate, if one is close.

    Examples
    --------
    >>> near_miss("Placebo", ["placebo", "magnesium"])
    " (it differs from 'placebo' only in letter case; values are compared as written)"
    >>> near_miss("femle", ["female", "male"])
    " (did you mean 'female'?)"
    """
    pool = [str(c) for c in candidates]
    folded = [c for c in pool if c.casefold() == name.casefold()]
    if folded:
        return f" (it differs from {folded[0]!r} only in letter case; values are compared as written)"
    best = closest(name, pool, n=1)
    return f" (did you mean {best[0]!r}?)" if best else ""
