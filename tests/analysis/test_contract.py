"""One contract over every public analysis function (as scikit-learn checks every estimator).

Every callable of ``trialkit.analysis.__all__`` is registered below with a valid call and the
kind of each of its parameters; the battery then replaces one argument at a time by bad values
and checks the error: a bad argument is a :class:`~trialkit.TrialkitError` (never an
``AnalysisError``) whose message follows the one template "`name` must be <what>; got <value>.",
naming the parameter; a well-formed sample too small for the analysis is an ``AnalysisError``
naming the parameter as its term. Every parameter is documented in the function's numpydoc
Parameters section, and the docstring has Returns, Raises and Notes. For :func:`trialkit.analyze`
also: canonical columns and dtypes, input frames not modified, byte-identical reruns.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trialkit as tk
from trialkit import analysis
from trialkit.analysis import COUNT_COLUMNS, FAILURE_COLUMNS, RESULT_COLUMNS, RESULT_DTYPES

TEMPLATE = re.compile(r"^`(?P<name>[^`]+)` must (be|hold|name) .+; got .+\.$", re.DOTALL)
X = [1.2, 2.5, 3.1, 4.8, 5.0]
Y = [0.5, 1.1, 2.2, 2.9]
FRAME = pd.DataFrame(
    {
        "arm": ["c", "c", "c", "c", "t", "t", "t", "t"],
        "y": [5.0, 6.0, 8.0, 7.5, 3.0, 4.0, 4.5, 5.5],
        "baseline": [6.0, 6.5, 8.0, 7.0, 5.0, 6.5, 6.0, 7.5],
        "age": [61.0, 70.0, 66.0, 64.0, 72.0, 68.0, 63.0, 65.0],
    }
)

# counts with exposure for the count models: overdispersed, events in both arms
COUNTS = pd.DataFrame(
    {
        "arm": ["c"] * 6 + ["t"] * 6,
        "y": [2, 9, 0, 14, 5, 7, 1, 3, 0, 6, 2, 11],
        "weeks": [4.0, 4.0, 2.0, 4.0, 3.0, 4.0, 4.0, 4.0, 2.0, 3.0, 4.0, 4.0],
        "age": [61.0, 70.0, 66.0, 64.0, 72.0, 68.0, 63.0, 65.0, 59.0, 71.0, 62.0, 67.0],
    }
)
COUNT_CALL = {"arms": ["c", "t"], "numeric": ["age"], "exposure": "weeks", "alpha": 0.05}
# a frame for van_elteren: two strata, both arms in each
STRATIFIED = FRAME.assign(stratum=["a", "b", "a", "b", "a", "b", "a", "b"])

# a wide frame for multiple_imputation: two post-baseline visits, one dropout per arm
WIDE = FRAME.rename(columns={"y": "week8"}).assign(
    week4=[5.5, 6.1, 8.2, 7.0, 4.0, 5.2, 5.1, 6.3], week8=[5.0, 6.0, np.nan, 7.5, 3.0, 4.0, 4.5, np.nan]
)
# binary outcomes: a logistic model (arm + baseline) and a CMH analysis over three strata
BINARY = pd.DataFrame(
    {
        "arm": ["c"] * 8 + ["t"] * 8,
        "y": [0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0],
        "baseline": [0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1],
        "centre": ["1", "1", "2", "2", "3", "3", "1", "2", "1", "1", "2", "2", "3", "3", "3", "2"],
    }
)
BINARY_ARM = np.repeat(np.array([0, 1]), 8)
BINARY_Y = BINARY["y"].to_numpy(dtype=float)
BINARY_CENTRE = BINARY["centre"].astype(int).to_numpy() - 1


@pytest.fixture(scope="module")
def trial() -> tk.Trial:
    return tk.load(tk.datasets.study_spec("abbasi2012"))


# A valid call of every public function: positional arguments and keywords.
VALID: dict[str, Callable[[tk.Trial], tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "adjust_p": lambda t: (([0.01, 0.04, 0.03], "holm"), {}),
    "analyze": lambda t: ((t,), {"analyses": ["welch_change", "ancova"], "sweep": False}),
    "ancova": lambda t: ((FRAME,), {"arms": ["c", "t"], "numeric": ["age"]}),
    "baseline_p_values": lambda t: ((t,), {}),
    "baseline_table": lambda t: ((t,), {}),
    "cmh": lambda t: (
        (BINARY,),
        {"outcome": "y", "arm": "arm", "arms": ["c", "t"], "stratum": "centre", "strata": ["1", "2", "3"]},
    ),
    "cmh_arrays": lambda t: (
        (BINARY_ARM, BINARY_Y, BINARY_CENTRE),
        {"arms": ("c", "t"), "strata": ("1", "2", "3"), "alpha": 0.05},
    ),
    "default_thresholds": lambda t: ((-6.0,), {"integer": True}),
    "event_rate": lambda t: (([3, 0, 5, 2], [2.0, 1.5, 2.0, 1.0]), {"arm": "a", "alpha": 0.05}),
    "dunnett": lambda t: ((analysis.ancova(FRAME, arms=["c", "t"]),), {}),
    "dunnett_p": lambda t: (([2.5, 1.2], [[1.0, 0.5], [0.5, 1.0]], 30.0), {}),
    "fisher_exact_p": lambda t: ((3, 1, 1, 3), {}),
    "hedges_correction": lambda t: ((41,), {}),
    "hedges_g": lambda t: ((2.0, 4.0, 20, 20), {"alpha": 0.05}),
    "logistic": lambda t: ((BINARY,), {"outcome": "y", "arm": "arm", "arms": ["c", "t"], "numeric": ["baseline"]}),
    "logistic_arrays": lambda t: (
        (BINARY_ARM, BINARY_Y, {"baseline": BINARY["baseline"].to_numpy(dtype=float)}, {}),
        {"arms": ("c", "t"), "levels": {}, "alpha": 0.05, "variance": "ge"},
    ),
    "mann_whitney": lambda t: ((X, Y), {"alpha": 0.05}),
    "mmrm": lambda t: (
        (pd.read_csv(tk.datasets.longitudinal("fev_data")),),
        {
            "response": "FEV1",
            "subject": "USUBJID",
            "visit": "AVISIT",
            "arm": "ARMCD",
            "control": "PBO",
            "covariates": ["SEX"],
            "covariance": "cs",
            "alpha": 0.05,
        },
    ),
    "multiple_imputation": lambda t: (
        (WIDE,),
        {
            "arms": ["c", "t"],
            "visits": ["week4", "week8"],
            "imputations": 3,
            "burn_in": 2,
            "deltas": [0.0, 1.0],
            "reference": "c",
            "primary": "week8",
            "alpha": 0.05,
        },
    ),
    "mcid_sweep": lambda t: ((X, Y, [1.0, 2.0]), {"arm": "a", "control": "c", "alpha": 0.05}),
    "negative_binomial": lambda t: ((COUNTS,), COUNT_CALL),
    "newcombe_difference_interval": lambda t: ((5, 10, 3, 12, 0.05), {}),
    "paired_t": lambda t: ((X,), {"alpha": 0.05}),
    "poisson": lambda t: ((COUNTS,), COUNT_CALL),
    "pool": lambda t: (([1.0, 1.2, 0.9], [0.04, 0.05, 0.04]), {"df_complete": 20, "alpha": 0.05}),
    "pooled_sd": lambda t: ((X, Y), {}),
    "quasipoisson": lambda t: ((COUNTS,), COUNT_CALL),
    "responder_estimates": lambda t: ((X, Y, 2.0), {"arm": "a", "control": "c", "alpha": 0.05}),
    "responder_rates": lambda t: ((X, 2.0), {"arm": "a", "alpha": 0.05}),
    "signed_rank": lambda t: ((X,), {"alpha": 0.05}),
    "standardised_differences": lambda t: ((t,), {"strict": False}),
    "t_inference": lambda t: ((2.0, 1.0, 10.0, 0.05), {}),
    "two_sample_t": lambda t: ((X, Y), {"equal_var": False, "alpha": 0.05}),
    "van_elteren": lambda t: ((STRATIFIED,), {"arms": ["c", "t"], "alpha": 0.05}),
    "van_elteren_arrays": lambda t: ((X, Y, [0, 0, 1, 1, 1], [0, 1, 0, 1]), {"alpha": 0.05, "strata": ["a", "b"]}),
    "wilson_interval": lambda t: ((5, 10, 0.05), {}),
}

SAMPLE, SAMPLE_MAY_BE_EMPTY = "sample", "sample (may be empty)"
# The kind of every parameter, by name; (function, name) where a name means two things.
KIND: dict[str, str] = {
    "alpha": "alpha",
    "x": SAMPLE,
    "y": SAMPLE,
    "d": SAMPLE,
    "change": SAMPLE,
    "change_treatment": SAMPLE,
    "change_control": SAMPLE,
    "p_values": SAMPLE_MAY_BE_EMPTY,
    "thresholds": SAMPLE_MAY_BE_EMPTY,
    "method": "registry",
    "multiplicity": "registry",
    "two_valued": "registry",
    "two_valued_covariates": "registry",
    "analyses": "registry collection",
    "populations": "registry collection",
    "equal_var": "bool",
    "log_scale": "bool",
    "strict": "bool",
    "integer": "bool",
    "sweep": "bool",
    "table1_p_values": "bool",
    "trial": "trial",
    "frame": "frame",
    "arms": "names",
    "numeric": "names",
    "categorical": "levels",
    "arm": "text",
    "control": "text",
    "threshold": "non-zero number",
    "difference": "number",
    "est": "number",
    "sd": "standard deviation",
    "se": "positive number",
    "df": "degrees of freedom",
    "n_treatment": "count >= 1",
    "n_control": "count >= 1",
    "n": "count >= 1",
    "n1": "count >= 1",
    "n0": "count >= 1",
    "x1": "count",
    "x0": "count",
    "a": "count",
    "b": "count",
    "c": "count",
}
KIND |= {
    "data": "frame",
    "response": "text",
    "subject": "text",
    "visit": "text",
    "baseline": "text",
    "baseline_visit": "text",
    "covariates": "names",
    "visit_order": "names",
    "reference": "levels",
    "covariance": "registry",
    "df_method": "registry",
    "reml": "bool",
    "empirical": "bool",
    "group_by_arm": "bool",
    "baseline_by_visit": "bool",
    "visits": "names",
    "primary": "text",
    "methods": "names",
    "imputations": "count >= 1",
    "burn_in": "count >= 1",
    "seed": "count",
    "deltas": "numbers",
    "estimates": SAMPLE,
    "variances": SAMPLE,
    "df_complete": "degrees of freedom",
    "outcome": "text",
    "exposure": "text",
    "variance": "registry",
    "stratum": "text",
    "strata": "names",
    "factors": "mapping",
    "levels": "levels",
    "statistics": SAMPLE_MAY_BE_EMPTY,
    "correlation": "correlation",
    "fit": "ancova fit",
    "stratum_x": "stratum codes",
    "stratum_y": "stratum codes",
}
KIND_IN = {
    ("fisher_exact_p", "d"): "count",
    ("wilson_interval", "x"): "count",
    ("mmrm", "categorical"): "names",
    ("multiple_imputation", "reference"): "text",
    ("event_rate", "exposure"): SAMPLE,
    ("logistic_arrays", "arm"): "codes",
    ("logistic_arrays", "numeric"): "mapping",
    ("cmh_arrays", "arm"): "codes",
    ("cmh_arrays", "stratum"): "codes",
    ("analyze", "progress"): "callback",
}

NAN = float("nan")
# bad values per kind: (value, expected error type, what the message must contain)
BAD: dict[str, list[tuple[Any, type[Exception], str]]] = {
    "alpha": [
        (1.5, tk.TrialkitError, "in (0, 1)"),
        (True, tk.TrialkitError, "in (0, 1)"),
        (0, tk.TrialkitError, "in (0, 1)"),
        (NAN, tk.TrialkitError, "in (0, 1)"),
        ("0.05", tk.TrialkitError, "in (0, 1)"),
    ],
    SAMPLE: [
        ([1.0, NAN, 3.0, 4.0], tk.TrialkitError, "got nan at position 1"),
        ([1.0, 2.0, math.inf, 4.0], tk.TrialkitError, "got inf at position 2"),
        ("1 2 3", tk.TrialkitError, "sequence of numbers"),
        ([[1.0, 2.0], [3.0, 4.0]], tk.TrialkitError, "flat sequence"),
        ([], tk.AnalysisError, "at least"),
    ],
    SAMPLE_MAY_BE_EMPTY: [
        ([0.01, NAN], tk.TrialkitError, "got nan at position 1"),
        ("0.01", tk.TrialkitError, "sequence of numbers"),
    ],
    "registry": [("nonsense", tk.TrialkitError, "one of")],
    "registry collection": [
        (["nonsense"], tk.TrialkitError, "one of"),
        ("ancova", tk.TrialkitError, "collection"),
        ([], tk.TrialkitError, "at least one"),
    ],
    "bool": [(1, tk.TrialkitError, "True or False"), ("yes", tk.TrialkitError, "True or False")],
    "trial": [("study.toml", tk.TrialkitError, "a Trial")],
    "frame": [({"arm": ["c"]}, tk.TrialkitError, "a DataFrame")],
    "names": [("c", tk.TrialkitError, "sequence"), ([1, 2], tk.TrialkitError, "sequence")],
    "levels": [(["age"], tk.TrialkitError, "mapping")],
    "mapping": [(["age"], tk.TrialkitError, "mapping"), ("age", tk.TrialkitError, "mapping")],
    "codes": [("c", tk.TrialkitError, "integer codes"), ([0.5, 1.5], tk.TrialkitError, "integer codes")],
    "text": [(3, tk.TrialkitError, "text")],
    "non-zero number": [
        (0, tk.TrialkitError, "non-zero"),
        (NAN, tk.TrialkitError, "finite"),
        ("2", tk.TrialkitError, "finite"),
    ],
    "correlation": [
        ([[1.0, 0.5, 0.2]], tk.TrialkitError, "square"),
        ([[1.0, 1.5], [1.5, 1.0]], tk.TrialkitError, "positive definite"),
        ([[1.0, NAN], [NAN, 1.0]], tk.TrialkitError, "finite"),
        ([[2.0, 0.5], [0.5, 2.0]], tk.TrialkitError, "unit diagonal"),
    ],
    "ancova fit": [("fit", tk.TrialkitError, "AncovaFit")],
    "callback": [("MMRM", tk.TrialkitError, "a function")],
    "stratum codes": [([0, 1, 0.5, 1, 0], tk.TrialkitError, "integer"), ("a", tk.TrialkitError, "integer")],
    "numbers": [("0 1", tk.TrialkitError, "sequence"), ([0.0, NAN], tk.TrialkitError, "finite")],
    "number": [(NAN, tk.TrialkitError, "finite"), (True, tk.TrialkitError, "finite")],
    "standard deviation": [(-1.0, tk.TrialkitError, ">= 0"), (NAN, tk.TrialkitError, ">= 0")],
    "positive number": [(0.0, tk.TrialkitError, "> 0"), (-1.0, tk.TrialkitError, "> 0")],
    "degrees of freedom": [(0, tk.TrialkitError, ">"), ("10", tk.TrialkitError, ">")],
    "count >= 1": [(0, tk.TrialkitError, "integer"), (2.5, tk.TrialkitError, "integer")],
    "count": [
        (-1, tk.TrialkitError, "integer"),
        (2.5, tk.TrialkitError, "integer"),
        (True, tk.TrialkitError, "integer"),
    ],
}


def _public_functions() -> dict[str, Callable[..., Any]]:
    """Return every public analysis function: the building blocks of trialkit.analysis, and tk.analyze."""
    blocks = {name: getattr(analysis, name) for name in analysis.__all__ if inspect.isfunction(getattr(analysis, name))}
    return {**blocks, "analyze": tk.analyze}


def _kind(function: str, parameter: str) -> str:
    return KIND_IN.get((function, parameter), KIND.get(parameter, "unregistered"))


def _cases() -> list[tuple[str, str, Any, type[Exception], str]]:
    out = []
    for name, fn in _public_functions().items():
        for parameter in inspect.signature(fn).parameters:
            for value, error, text in BAD.get(_kind(name, parameter), []):
                out.append((name, parameter, value, error, text))
    return out


def test_every_public_function_and_parameter_is_registered() -> None:
    functions = _public_functions()
    assert set(functions) == set(VALID), "register every public function (and only those) in VALID"
    unregistered = [
        (name, p)
        for name, fn in functions.items()
        for p in inspect.signature(fn).parameters
        if _kind(name, p) not in BAD
    ]
    assert not unregistered, f"parameters without a kind: {unregistered}"


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_valid_call_runs(trial, name) -> None:
    args, kwargs = VALID[name](trial)
    _public_functions()[name](*args, **kwargs)


@pytest.mark.parametrize(
    ("name", "parameter", "value", "error", "text"),
    _cases(),
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_bad_arguments_are_rejected_with_the_template(trial, name, parameter, value, error, text) -> None:
    fn = _public_functions()[name]
    args, kwargs = VALID[name](trial)
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.arguments[parameter] = value
    with pytest.raises(error) as caught:
        fn(*bound.args, **bound.kwargs)
    message = str(caught.value)
    if error is tk.TrialkitError:
        assert not isinstance(caught.value, tk.AnalysisError), f"{name}({parameter}=...): a bad argument, not data"
    else:
        assert caught.value.term == parameter  # type: ignore[attr-defined]
    match = TEMPLATE.match(message)
    assert match, f"{name}({parameter}={value!r}): {message!r} does not follow the template"
    assert match["name"] == parameter, message
    assert text in message, message


def _documented_parameters(doc: str) -> tuple[set[str], set[str]]:
    """Names in the numpydoc Parameters section, and the section titles present."""
    lines = doc.splitlines()
    sections = {lines[i - 1].strip() for i, line in enumerate(lines) if i and set(line.strip()) == {"-"}}
    names: set[str] = set()
    inside = False
    for i, line in enumerate(lines):
        if line.strip() == "Parameters" and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            inside = True
            continue
        if inside and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            break
        if inside and re.match(r"^[A-Za-z_][A-Za-z_0-9, ]*( :|$)", line):
            names |= {n.strip() for n in line.split(":")[0].split(",")}
    return names, sections


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_parameter_is_documented(name) -> None:
    fn = _public_functions()[name]
    documented, sections = _documented_parameters(inspect.getdoc(fn) or "")
    assert set(inspect.signature(fn).parameters) <= documented, f"{name}: undocumented parameters"
    assert {"Parameters", "Returns", "Raises", "Notes"} <= sections, f"{name}: sections {sections}"


# --------------------------------------------------------------------------------------------
# analyze


@pytest.fixture(scope="module")
def analysed(trial) -> tk.Results:
    return tk.analyze(trial)


def test_analyze_tables_have_the_canonical_columns_and_dtypes(trial, analysed) -> None:
    for table in (analysed.table, tk.analyze(trial, analyses=["responder_nnt"], sweep=False).table):
        assert tuple(table.columns) == RESULT_COLUMNS
        assert {c: str(t) for c, t in table.dtypes.items()} == dict(RESULT_DTYPES)
    assert tuple(analysed.failures.columns) == FAILURE_COLUMNS
    assert (analysed.failures.dtypes.astype(str) == "str").all()
    assert tuple(analysed.counts.columns) == COUNT_COLUMNS


def test_analyze_does_not_modify_the_trial(trial) -> None:
    data, subjects = trial.data.copy(deep=True), trial.subjects.copy(deep=True)
    tk.analyze(trial, populations=["fas", "completers"], table1_p_values=True)
    pd.testing.assert_frame_equal(trial.data, data, check_exact=True)
    pd.testing.assert_frame_equal(trial.subjects, subjects, check_exact=True)


def test_analyze_reruns_are_byte_identical(trial, analysed) -> None:
    again = tk.analyze(trial)
    for field in ("table", "failures", "table1", "smd", "responder_sweep", "counts", "baseline_p"):
        first, second = getattr(analysed, field), getattr(again, field)
        assert first.to_csv(index=False).encode() == second.to_csv(index=False).encode(), field


def test_analyze_p_values_are_probabilities_and_intervals_ordered(analysed) -> None:
    t = analysed.table
    p = t["p_value"].dropna()
    assert ((p >= 0) & (p <= 1)).all()
    ordered = t.dropna(subset=["ci_low", "ci_high"])
    assert (ordered["ci_low"] <= ordered["ci_high"]).all()
    assert np.isfinite(t["estimate"]).all()
