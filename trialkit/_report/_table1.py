"""Table 1 as display rows: baseline characteristics by arm, each variable summarised as the spec says.

A numeric variable is shown as mean (SD), median [IQR] or geometric mean (geometric SD): an endpoint by
its ``table1_summary`` (geometric for log-scale endpoints unless the spec says otherwise), a covariate
by ``[covariates.NAME] summary``. Categories are counted n (%) in the order the spec declares them.
Labels, units and level labels come from the spec.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from trialkit._format import MISSING, decimals_for, format_count, format_number
from trialkit._labels import default_label
from trialkit._report._names import covariate_label, endpoint_heading
from trialkit._report._rows import records
from trialkit._trial import Trial
from trialkit.analysis._results import Results

__all__ = [
    "GEOMETRIC_DECIMALS",
    "SUMMARY_NAMES",
    "geometric_summary",
    "summary_cell",
    "summary_definitions",
    "table1_view",
]

#: how each summary (``summary`` of an endpoint or covariate) is named in a row and in the footnote
SUMMARY_NAMES = {
    "mean": "mean (SD)",
    "median": "median [IQR]",
    "geometric": "geometric mean (geometric SD)",
    "categories": "n (%)",
}
#: decimals of a geometric SD (a factor, like a ratio)
GEOMETRIC_DECIMALS = 2
SMD_DECIMALS = 2

Row = dict[str, Any]


def geometric_summary(values: npt.ArrayLike) -> tuple[float, float]:
    """Return the geometric mean exp(mean(log x)) and geometric SD exp(SD(log x), n − 1), NaN when undefined.

    Undefined with a value ≤ 0 (no logarithm) or no value; the geometric SD needs two values.

    >>> gm, gsd = geometric_summary([10.0, 100.0])
    >>> round(gm, 6), round(gsd, 4)
    (31.622777, 5.0946)
    """
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size == 0 or (x <= 0).any():
        return math.nan, math.nan
    logs = np.log(x)
    gsd = math.exp(float(logs.std(ddof=1))) if x.size > 1 else math.nan
    return math.exp(float(logs.mean())), gsd


def summary_cell(summary: str, values: npt.ArrayLike, decimals: int) -> str:
    """Show the values as ``summary`` says: ``mean (SD)``, ``median [Q1, Q3]`` or ``geometric mean (GSD)``.

    Quartiles are R's ``quantile`` type 7 (numpy's default), as in the results' Table 1.

    >>> summary_cell("mean", [1.0, 2.0, 4.0], 1), summary_cell("median", [1.0, 2.0, 4.0], 1)
    ('2.3 (1.5)', '2.0 [1.5, 3.0]')
    """
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size == 0:
        return MISSING
    if summary == "geometric":
        gm, gsd = geometric_summary(x)
        return f"{format_number(gm, decimals)} ({format_number(gsd, GEOMETRIC_DECIMALS)})"
    if summary == "median":
        q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        return f"{format_number(median, decimals)} [{format_number(q1, decimals)}, {format_number(q3, decimals)}]"
    sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
    return f"{format_number(float(x.mean()), decimals)} ({format_number(sd, decimals)})"


def _first(frame: pd.DataFrame) -> Row | None:
    rows = records(frame.iloc[:1])
    return rows[0] if rows else None


def _values(trial: Trial, variable: str) -> tuple[pd.Series, pd.Series]:
    """Return each subject's arm and baseline value of a Table 1 variable (a covariate or an endpoint)."""
    subjects = trial.subjects
    if variable in subjects.columns:
        return subjects["arm"].astype(str), pd.to_numeric(subjects[variable], errors="coerce")
    d = trial.data
    sel = (d["endpoint"] == variable).to_numpy()
    if trial.spec.visits.baseline is not None:
        sel = sel & (d["visit"] == trial.spec.visits.baseline).to_numpy()
    part = d.loc[sel]
    return part["arm"].astype(str), part["value"].astype("float64")


def table1_view(trial: Trial, results: Results, dec: dict[str, int]) -> tuple[list[Row], str]:
    """Return Table 1's rows and its footnote sentence naming the summary of each row.

    Endpoints take their decimals from ``dec`` (as in every other table of the endpoint); a numeric
    covariate one decimal fewer than :func:`~trialkit._format.decimals_for` gives its values (a
    description, not an estimate). Percentages have 1 decimal, SMDs 2.
    """
    t1 = results.table1
    if t1.empty:
        return [], ""
    spec = trial.spec
    endpoints = {e.id: e for e in spec.endpoints}
    smd = results.smd
    contrasts = [f"{a} - {trial.control}" for a in trial.arms[1:]]
    rows: list[Row] = []
    uses: dict[str, list[str]] = {}
    for variable_key, part in t1.groupby("variable", sort=False):
        variable = str(variable_key)
        ep = endpoints.get(variable)
        covariate = spec.covariate(variable)
        label = endpoint_heading(ep) if ep is not None else covariate_label(spec, variable)
        smd_cells = []
        for c in contrasts:
            hit = None if smd.empty else _first(smd.loc[(smd["variable"] == variable) & (smd["contrast"] == c)])
            smd_cells.append(MISSING if hit is None else format_number(hit["smd"], SMD_DECIMALS))
        by_arm = {a: part.loc[part["arm"] == a] for a in trial.arms}
        first = {a: _first(by_arm[a]) for a in trial.arms}
        missing = {a: 0 if (f := first[a]) is None else int(f["n_missing"]) for a in trial.arms}
        n_cells = ["0" if (f := first[a]) is None else format_count(f["n"]) for a in trial.arms]
        common = {"variable": variable, "smd": smd_cells, "n": n_cells, "has_missing": any(missing.values())}
        numeric = part["level"].isna().all() or (part["level"].astype(str) == "nan").all()
        if numeric:
            summary = ep.table1_summary if ep is not None else covariate.summary
            arm_of, values = _values(trial, variable)
            if ep is not None and variable in dec:
                d = dec[variable]
            else:
                d = max(0, decimals_for(values.to_numpy()) - 1)
            cells = [summary_cell(summary, values.loc[(arm_of == a).to_numpy()].to_numpy(), d) for a in trial.arms]
            kind = SUMMARY_NAMES.get(summary, summary)
            rows.append({**common, "label": label, "kind": kind, "cells": cells, "level": False, "summary": summary})
            uses.setdefault(summary, []).append(label)
            continue
        rows.append(
            {**common, "label": label, "kind": SUMMARY_NAMES["categories"], "cells": ["" for _ in trial.arms]}
            | {"level": False, "summary": "categories"}
        )
        uses.setdefault("categories", []).append(label)
        observed = list(dict.fromkeys(part["level"].astype(str)))
        declared = list(covariate.levels or ()) if ep is None else []
        levels = declared + [v for v in observed if v not in declared]
        for level in levels:
            cells = []
            for a in trial.arms:
                hit = _first(by_arm[a].loc[by_arm[a]["level"].astype(str) == level])
                if hit is None and first[a] is not None and level in declared:  # declared, never observed: none
                    cells.append(f"0 ({format_number(0.0, 1)}%)")
                elif hit is None:
                    cells.append(MISSING)
                else:
                    cells.append(f"{format_count(hit['count'])} ({format_number(hit['percent'], 1)}%)")
            name = covariate.level_label(level) if ep is None else default_label(level)
            rows.append(
                {
                    "variable": variable,
                    "label": name,
                    "kind": "",
                    "cells": cells,
                    "smd": ["" for _ in contrasts],
                    "level": True,
                    "n": [],
                    "has_missing": False,
                    "summary": "",
                }
            )
    return rows, " ".join(filter(None, [_footnote(uses), summary_definitions(set(uses))]))


def _footnote(uses: dict[str, list[str]]) -> str:
    """Say which summary each row uses: the rows of the less usual summaries by name, then the rest.

    >>> _footnote({"mean": ["Age"], "geometric": ["Serum renin (pg/mL)"], "categories": ["Sex"]})
    'Geometric mean (geometric SD): Serum renin (pg/mL). Mean (SD): the other numeric rows. Categories: n (%).'
    """
    parts = []
    for summary in ("median", "geometric"):
        if uses.get(summary):
            name = SUMMARY_NAMES[summary]
            parts.append(f"{name[:1].upper()}{name[1:]}: {'; '.join(uses[summary])}.")
    if uses.get("mean"):
        parts.append("Mean (SD): " + ("the other numeric rows." if parts else "every numeric row."))
    if uses.get("categories"):
        parts.append("Categories: n (%).")
    return " ".join(parts)


def summary_definitions(summaries: set[str]) -> str:
    """Define the less common summaries a table uses: the IQR and the geometric SD.

    >>> summary_definitions({"mean", "median"})
    'IQR: interquartile range [first quartile, third quartile].'
    """
    parts = []
    if "median" in summaries:
        parts.append("IQR: interquartile range [first quartile, third quartile].")
    if summaries & {"geometric", "ratio"}:
        parts.append(
            "Geometric SD: a factor; for log-normal values about two thirds lie between the geometric mean "
            "divided by it and multiplied by it."
        )
    return " ".join(parts)
