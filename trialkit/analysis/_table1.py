"""Baseline characteristics by arm (CONSORT "Table 1") and standardised differences at baseline.

No p-values: CONSORT 2010 (item 15) advises against testing baseline differences in a randomised
trial. Pure functions of a :class:`~trialkit.Trial`; no I/O, no formatting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._checks import check_bool, check_instance
from trialkit._errors import AnalysisError, TrialkitError
from trialkit._trial import Trial
from trialkit.analysis._distributions import chi2_upper_tail, f_upper_tail
from trialkit.analysis._magnitude import beyond_limits, magnitude_message
from trialkit.analysis._positions import positions
from trialkit.analysis._units import in_own_unit, own_unit

__all__ = [
    "BASELINE_P_COLUMNS",
    "baseline_summaries",
    "SMD_COLUMNS",
    "TABLE1_COLUMNS",
    "baseline_p_values",
    "baseline_table",
    "standardised_differences",
]

TABLE1_COLUMNS = (
    "variable",
    "label",
    "level",
    "arm",
    "n",
    "n_missing",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "count",
    "percent",
)
SMD_COLUMNS = ("variable", "contrast", "smd")


@dataclass(frozen=True)
class _Variable:
    """One baseline variable: its name, display label, values per subject and kind."""

    name: str
    label: str
    values: pd.Series  # aligned with trial.subjects
    categorical: bool


def _variables(trial: Trial) -> list[_Variable]:
    """Covariates in spec order, then each endpoint's baseline value in spec order."""
    spec, subjects = trial.spec, trial.subjects
    out: list[_Variable] = []
    for c in spec.analysis.covariates:
        if c not in subjects.columns:
            raise TrialkitError(f"covariate {c!r} is missing from the trial's subject frame.")
        categorical = c in spec.analysis.categorical
        values = subjects[c]
        if categorical:
            values = pd.Series([str(v) if pd.notna(v) else None for v in values], dtype=object)
        else:
            values = pd.to_numeric(values, errors="raise").astype("float64")
        out.append(_Variable(c, c, values.reset_index(drop=True), categorical))
    base = spec.visits.baseline
    if base is None:
        return out
    d = trial.data
    at_base = (d["visit"] == base).to_numpy()
    # the row of trial.subjects of each record's subject, and the position of its endpoint
    where = positions(d["subject"], pd.Index(subjects["subject"].astype(str)))[at_base]
    endpoint = positions(d["endpoint"], pd.Index([e.id for e in spec.endpoints]))[at_base]
    found = (where >= 0) & (endpoint >= 0)
    grid = np.full((len(subjects), len(spec.endpoints)), np.nan)
    grid[where[found], endpoint[found]] = d["value"].to_numpy(dtype="float64")[at_base][found]
    for k, e in enumerate(spec.endpoints):
        label = f"{e.label} ({e.unit})" if e.unit else e.label
        if e.type == "binary":
            # a binary baseline is a category: the event the spec names, or not
            event = "1" if e.success is None else str(e.success)
            text = np.where(grid[:, k] == 1, event, f"not {event}").astype(object)
            text[np.isnan(grid[:, k])] = None
            out.append(_Variable(e.id, label, pd.Series(text, dtype=object), True))
            continue
        out.append(_Variable(e.id, label, pd.Series(grid[:, k]), False))
    return out


def _arm_codes(trial: Trial) -> tuple[npt.NDArray[np.str_], tuple[str, ...]]:
    arm = trial.subjects["arm"]
    if isinstance(arm.dtype, pd.CategoricalDtype):  # a loaded trial's: no text conversion per subject
        return np.asarray(arm.cat.categories.astype(str), dtype=str)[arm.cat.codes.to_numpy()], trial.arms
    return arm.astype(str).to_numpy(dtype=str), trial.arms


def _levels(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values.dropna()})


def baseline_table(trial: Trial) -> pd.DataFrame:
    """Return the baseline characteristics by arm: summaries of numbers, counts and percents of categories.

    Parameters
    ----------
    trial : Trial
        A loaded trial.

    Returns
    -------
    DataFrame
        Columns :data:`TABLE1_COLUMNS`. Variables are the spec's covariates (in spec order)
        followed by every endpoint at the baseline visit (``variable`` = endpoint id, ``label``
        = "label (unit)"); arms in trial order (control first).

        - numeric variable: one row per arm with ``n`` (non-missing), ``n_missing``, ``mean``,
          ``sd`` (n - 1 denominator), ``median``, ``q1``, ``q3`` (R ``quantile`` type 7);
          ``level``, ``count`` and ``percent`` are empty.
        - categorical covariate (``analysis.categorical``): one row per level (sorted as text)
          per arm with ``n`` = non-missing in the arm, ``n_missing``, ``count`` and ``percent``
          = 100 count / n; the numeric summaries are empty.

        A summary that needs more values than the arm has (SD with n < 2, anything with n = 0)
        is empty; ``n`` says why. No p-values (CONSORT 2010, item 15).

    Raises
    ------
    TrialkitError
        ``trial`` not a Trial.

    Notes
    -----
    R reference: ``mean``, ``sd``, ``quantile(type = 7)`` and ``table`` by arm in
    tests/reference/analyses/<case>/expected_table1.csv (1e-10 relative).

    Examples
    --------
    >>> import trialkit as tk
    >>> t1 = baseline_table(tk.load(tk.datasets.study_spec("abbasi2012")))
    >>> t1.loc[t1["variable"] == "age", ["arm", "n", "mean"]].round(1).values.tolist()
    [['placebo', 23, 64.7], ['magnesium', 23, 65.2]]
    """
    check_instance(trial, "trial", Trial, "a Trial (from trialkit.load)")
    return _baseline_table(trial, _variables(trial))


def _baseline_table(trial: Trial, variables: list[_Variable]) -> pd.DataFrame:
    arm_of, arms = _arm_codes(trial)
    rows = []
    for var in variables:
        levels = _levels(var.values) if var.categorical else []
        for arm in arms:
            part = var.values[arm_of == arm]
            missing = part.isna().to_numpy()
            n, n_missing = int((~missing).sum()), int(missing.sum())
            common = {"variable": var.name, "label": var.label, "arm": arm, "n": n, "n_missing": n_missing}
            if var.categorical:
                present = part[~missing].astype(str)
                if not levels:  # no value in any arm: the counts still show it
                    rows.append(common)
                for level in levels:
                    count = int((present == level).sum())
                    rows.append(
                        {**common, "level": level, "count": count, "percent": 100.0 * count / n if n else math.nan}
                    )
                continue
            x = part[~missing].to_numpy(dtype="float64")
            # a value the arithmetic cannot carry has no mean or SD (analyze says which); order statistics stand
            moments = not beyond_limits(x).any()
            rows.append(
                {
                    **common,
                    "mean": float(x.mean()) if n and moments else math.nan,
                    "sd": float(x.std(ddof=1)) if n > 1 and moments else math.nan,
                    "median": float(np.median(x)) if n else math.nan,
                    "q1": float(np.quantile(x, 0.25)) if n else math.nan,
                    "q3": float(np.quantile(x, 0.75)) if n else math.nan,
                }
            )
    out = pd.DataFrame(rows, columns=list(TABLE1_COLUMNS))
    floats = ("mean", "sd", "median", "q1", "q3", "percent")
    return out.astype(
        {
            "variable": "str",
            "label": "str",
            "level": "str",
            "arm": "str",
            "n": "int64",
            "n_missing": "int64",
            "count": "Int64",
        }
        | {c: "float64" for c in floats}
    )


def _numeric_smd(x1: npt.NDArray[np.float64], x0: npt.NDArray[np.float64], name: str, contrast: str) -> float:
    # the standardised difference is the same in any unit and about any centre (1e15 + noise keeps its noise)
    centre, unit = own_unit(np.concatenate([x1, x0]))
    x1, x0 = (x1 - centre) / unit, (x0 - centre) / unit
    if x1.size < 2 or x0.size < 2:
        raise AnalysisError(
            f"{name!r}: the standardised difference for {contrast} needs at least 2 "
            f"non-missing values per arm; got {x1.size} and {x0.size}.",
            term=name,
        )
    v1, v0 = x1.var(ddof=1), x0.var(ddof=1)
    if v1 + v0 == 0:
        raise AnalysisError(
            f"{name!r} is constant in both arms of {contrast}: its standardised "
            "difference is undefined (zero pooled SD).",
            term=name,
        )
    return float((x1.mean() - x0.mean()) / math.sqrt((v1 + v0) / 2))


def _categorical_smd(v1: pd.Series, v0: pd.Series, name: str, contrast: str) -> float:
    n1, n0 = len(v1), len(v0)
    if n1 == 0 or n0 == 0:
        raise AnalysisError(
            f"{name!r}: an arm of {contrast} has no non-missing value; the standardised difference is undefined.",
            term=name,
        )
    levels = _levels(pd.concat([v1, v0]))  # levels seen in the two arms compared
    if len(levels) < 2:
        raise AnalysisError(
            f"{name!r} takes one level ({levels[0]!r}) in both arms of {contrast}: "
            "its standardised difference is undefined.",
            term=name,
        )
    p1 = np.array([(v1 == lv).sum() / n1 for lv in levels])
    p0 = np.array([(v0 == lv).sum() / n0 for lv in levels])
    if not set(v1) & set(v0):
        raise AnalysisError(
            f"{name!r}: the arms of {contrast} share no level (complete separation); "
            "the standardised difference is infinite.",
            term=name,
        )
    if len(levels) == 2:
        a, b = p1[1], p0[1]
        return float((a - b) / math.sqrt((a * (1 - a) + b * (1 - b)) / 2))
    t, c = p1[1:], p0[1:]
    s = (np.diag(t) - np.outer(t, t) + np.diag(c) - np.outer(c, c)) / 2
    diff = t - c
    return float(math.sqrt(max(0.0, diff @ np.linalg.solve(s, diff))))


def standardised_differences(trial: Trial, *, strict: bool = False) -> pd.DataFrame:
    r"""Return the standardised differences at baseline of every non-control arm against control.

    Parameters
    ----------
    trial : Trial
        A loaded trial.
    strict : bool
        Raise on the first undefined difference instead of leaving its row out.

    Returns
    -------
    DataFrame
        ``variable, contrast, smd``: one row per variable (as in :func:`baseline_table`) per
        arm, ``contrast = "<arm> - <control>"``. Missing values are left out per variable. A
        difference that is undefined (below) has no row: never a NaN or a zero in its place.

    Raises
    ------
    TrialkitError
        ``trial`` not a Trial, or ``strict`` not a bool.
    AnalysisError
        With ``strict``, when a difference is undefined (``term`` = the variable): fewer than
        2 values in an arm or zero SD in both (numeric); no value in an arm, a single level, or
        arms with no level in common (categorical).

    Notes
    -----
    - numeric: :math:`(\bar x_1 - \bar x_0)/\sqrt{(s_1^2 + s_0^2)/2}` (sample SDs, n - 1);
    - categorical with two levels (sorted as text; the first is the reference):
      :math:`(p_1 - p_0)/\sqrt{(p_1(1-p_1) + p_0(1-p_0))/2}` with p the proportion at the
      second level (signed);
    - categorical with k > 2 levels: Yang & Dalton (2012, SAS Global Forum paper 335-2012)
      :math:`\sqrt{(T - C)^\top S^{-1} (T - C)}` with T, C the proportions at levels 2..k
      and :math:`S = (S_T + S_C)/2`, :math:`S_{jj} = p_j(1 - p_j)`,
      :math:`S_{jl} = -p_j p_l` (unsigned).

    Levels are those seen in the two arms compared, so a level present only in a third arm
    does not make S singular. R reference: the same formulas in
    tests/reference/analyses/make_reference.R, expected_smd.csv (1e-10 relative).

    Examples
    --------
    >>> import trialkit as tk
    >>> smd = standardised_differences(tk.load(tk.datasets.study_spec("abbasi2012")))
    >>> smd["contrast"].unique().tolist()
    ['magnesium - placebo']
    """
    check_instance(trial, "trial", Trial, "a Trial (from trialkit.load)")
    return _standardised_differences(trial, _variables(trial), check_bool(strict, "strict"))


def _standardised_differences(trial: Trial, variables: list[_Variable], strict: bool) -> pd.DataFrame:
    arm_of, arms = _arm_codes(trial)
    control = trial.control
    rows = []
    for var in variables:
        v0 = var.values[arm_of == control].dropna()
        for arm in arms:
            if arm == control:
                continue
            contrast = f"{arm} - {control}"
            v1 = var.values[arm_of == arm].dropna()
            try:
                if not var.categorical:
                    _refuse_extreme(var.values.to_numpy("float64"), var.name, trial)
                if var.categorical:
                    smd = _categorical_smd(v1.astype(str), v0.astype(str), var.name, contrast)
                else:
                    smd = _numeric_smd(v1.to_numpy("float64"), v0.to_numpy("float64"), var.name, contrast)
            except AnalysisError:
                if strict:
                    raise
                continue
            rows.append({"variable": var.name, "contrast": contrast, "smd": smd})
    out = pd.DataFrame(rows, columns=list(SMD_COLUMNS))
    return out.astype({"variable": "str", "contrast": "str", "smd": "float64"})


BASELINE_P_COLUMNS = ("variable", "test", "statistic", "df", "df_denominator", "p_value")


def baseline_p_values(trial: Trial) -> pd.DataFrame:
    """Return tests of baseline differences between arms, for when a reader asks for them.

    CONSORT (2010, item 15) advises against them: with randomisation every baseline difference
    is due to chance, so :func:`baseline_table` has none; this is the opt-in
    (``analysis.table1_p_values = true``).

    Numeric variables: one-way ANOVA F-test across arms (with two arms F = t², the Student
    t-test), R ``anova(lm(x ~ arm))``. Categorical variables: Pearson chi-square test of the arm ×
    level table without continuity correction, R ``chisq.test(table(arm, x), correct = FALSE)``.
    Missing values are left out per variable.

    Parameters
    ----------
    trial : Trial
        A loaded trial.

    Returns
    -------
    DataFrame
        ``variable, test, statistic, df, df_denominator, p_value`` (``df_denominator`` only for F).

    Raises
    ------
    TrialkitError
        ``trial`` not a Trial.
    AnalysisError
        A variable with fewer than 2 values in an arm, no spread, or a single level.

    Notes
    -----
    F = (SS_between/(k − 1)) / (SS_within/(n − k)); X² = Σ (O − E)²/E with E from the margins
    (arms with no value of the variable left out), df = (rows − 1)(columns − 1). R reference:
    tests/reference/analyses/baseline_p.R, expected_baseline_p.csv (1e-10 relative).

    Examples
    --------
    >>> import trialkit as tk
    >>> p = baseline_p_values(tk.load(tk.datasets.study_spec("abbasi2012")))
    >>> p[["variable", "test"]].iloc[:2].values.tolist()
    [['age', 'anova_f'], ['sex', 'chi_square']]
    """
    check_instance(trial, "trial", Trial, "a Trial (from trialkit.load)")
    arm, arms = _arm_codes(trial)
    rows = []
    for var in _variables(trial):
        present = var.values.notna().to_numpy()
        if var.categorical:
            levels = _levels(var.values)
            if len(levels) < 2:
                raise AnalysisError(f"{var.name!r} has a single level: no test of difference.", term=var.name)
            v = var.values.to_numpy(dtype=object)
            table = np.array([[np.sum(present & (arm == a) & (v == lv)) for lv in levels] for a in arms], float)
            table = table[table.sum(axis=1) > 0]
            table = table[:, table.sum(axis=0) > 0]
            expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
            chi2 = float(np.sum((table - expected) ** 2 / expected))
            df = (table.shape[0] - 1) * (table.shape[1] - 1)
            rows.append(
                {
                    "variable": var.name,
                    "test": "chi_square",
                    "statistic": chi2,
                    "df": float(df),
                    "df_denominator": math.nan,
                    "p_value": chi2_upper_tail(chi2, df),
                }
            )
        else:
            x = var.values.to_numpy(dtype="float64")
            _refuse_extreme(x, var.name, trial)
            x = in_own_unit(x)  # F is the same in any unit and about any centre
            groups = [x[present & (arm == a)] for a in arms]
            if any(len(g) < 2 for g in groups) or np.ptp(x[present]) == 0:
                raise AnalysisError(
                    f"{var.name!r}: fewer than 2 values in an arm or no spread; no test of difference.", term=var.name
                )
            n, k = sum(len(g) for g in groups), len(groups)
            grand = x[present].mean()
            between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
            within = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
            if within == 0:
                raise AnalysisError(
                    f"{var.name!r} has no spread within the arms: the F-test is undefined.", term=var.name
                )
            f = float((between / (k - 1)) / (within / (n - k)))
            rows.append(
                {
                    "variable": var.name,
                    "test": "anova_f",
                    "statistic": f,
                    "df": float(k - 1),
                    "df_denominator": float(n - k),
                    "p_value": f_upper_tail(f, k - 1, n - k),
                }
            )
    return pd.DataFrame(rows, columns=list(BASELINE_P_COLUMNS))


def _refuse_extreme(x: npt.NDArray[np.float64], name: str, trial: Trial) -> None:
    """Raise an AnalysisError naming the first value of variable ``name`` the arithmetic cannot carry, and its subject.

    ``x`` holds the variable's value of every subject, in the order of ``trial.subjects``.
    """
    ids = trial.subjects["subject"]
    message = magnitude_message(f"baseline variable {name!r}", x, lambda i: f"subject {str(ids.iloc[i])!r}")
    if message is not None:
        raise AnalysisError(message, term=name)


def baseline_summaries(trial: Trial) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return :func:`baseline_table` and :func:`standardised_differences` of a checked trial, sharing the work."""
    variables = _variables(trial)
    return _baseline_table(trial, variables), _standardised_differences(trial, variables, False)
