"""Table 2 as display rows: the observed values of every endpoint by arm and visit, and their change.

What a journal prints before any model: for each endpoint, visit and arm the number of subjects with a
value and its summary, and at each post-baseline visit the change from baseline of the subjects
observed at both. Continuous endpoints are summarised as their ``table1_summary`` says (mean (SD),
median [IQR] or geometric mean (geometric SD)); the change as mean (SD), median [IQR], or, on the
log scale, the ratio to baseline as a geometric mean ratio (geometric SD). Binary endpoints: subjects
with the event, n (%). Count endpoints: the rate, total events over total time at risk.
Nothing is imputed: every subject observed at the visit counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trialkit._format import MISSING, format_count, format_number
from trialkit._report._counts_view import counts_at, rate_unit
from trialkit._report._names import endpoint_heading, visit_label
from trialkit._report._table1 import GEOMETRIC_DECIMALS, SUMMARY_NAMES, summary_cell, summary_definitions
from trialkit._spec import Endpoint
from trialkit._trial import Trial

__all__ = ["change_summary", "table2_view"]

Row = dict[str, Any]


def change_summary(ep: Endpoint) -> str:
    """Return how the change from baseline of ``ep`` is summarised: ``ratio``, ``median`` or ``mean``.

    On the log scale (or with a geometric summary) the change is a ratio to baseline, summarised by its
    geometric mean; a median-summarised endpoint keeps the median; otherwise the mean change.
    """
    if ep.scale == "log" or ep.table1_summary == "geometric":
        return "ratio"
    return "median" if ep.table1_summary == "median" else "mean"


def _wide(trial: Trial, ep: Endpoint) -> pd.DataFrame:
    """Return one row per subject (arm first) and one column per visit of ``ep``'s values (NaN when missing)."""
    d = trial.data
    part = d.loc[(d["endpoint"] == ep.id).to_numpy(), ["subject", "visit", "value"]]
    values = part.assign(subject=part["subject"].astype(str), visit=part["visit"].astype(str)).pivot_table(
        index="subject", columns="visit", values="value", aggfunc="first", observed=True
    )
    subjects = trial.subjects
    out = pd.DataFrame({"arm": subjects["arm"].astype(str).to_numpy()}, index=subjects["subject"].astype(str))
    for v in trial.spec.visits.order:
        out[v] = values[v].reindex(out.index).to_numpy(dtype="float64") if v in values.columns else np.nan
    return out


def _continuous(trial: Trial, ep: Endpoint, decimals: int) -> list[Row]:
    spec = trial.spec
    wide = _wide(trial, ep)
    summary = ep.table1_summary
    rows: list[Row] = []
    for v in spec.visits.order:
        cells = []
        for a in trial.arms:
            x = wide.loc[(wide["arm"] == a).to_numpy(), v].dropna().to_numpy()
            cells.append({"arm": a, "n": format_count(x.size), "value": summary_cell(summary, x, decimals)})
        rows.append({"visit": v, "label": visit_label(spec, v), "measure": "value", "cells": cells})
        baseline = spec.visits.baseline
        if baseline is None or v == baseline:
            continue
        kind = change_summary(ep)
        cells = []
        for a in trial.arms:
            part = wide.loc[(wide["arm"] == a).to_numpy(), [baseline, v]].dropna()
            before, after = part[baseline].to_numpy(), part[v].to_numpy()
            if kind == "ratio":
                value = summary_cell("geometric", after / before, GEOMETRIC_DECIMALS) if part.size else MISSING
            else:
                value = summary_cell(kind, after - before, decimals)
            cells.append({"arm": a, "n": format_count(len(part)), "value": value})
        words = "Ratio to baseline" if kind == "ratio" else "Change from baseline"
        if kind == "ratio" and summary != "geometric":  # the heading names another summary: say the ratio's
            words += ", geometric mean (geometric SD)"
        rows.append({"visit": v, "label": words, "measure": "change", "cells": cells})
    return rows


def _binary(trial: Trial, ep: Endpoint) -> list[Row]:
    spec = trial.spec
    wide = _wide(trial, ep)
    rows: list[Row] = []
    for v in spec.visits.order:
        cells = []
        for a in trial.arms:
            x = wide.loc[(wide["arm"] == a).to_numpy(), v].dropna().to_numpy()
            events = int((x == 1).sum())
            value = f"{events} ({format_number(100 * events / x.size, 1)}%)" if x.size else MISSING
            cells.append({"arm": a, "n": format_count(x.size), "value": value})
        rows.append({"visit": v, "label": visit_label(spec, v), "measure": "value", "cells": cells})
    return rows


def _count(trial: Trial, ep: Endpoint, decimals: int) -> list[Row]:
    spec = trial.spec
    rows: list[Row] = []
    for v in spec.visits.order:
        at = counts_at(trial, ep, v)
        cells = []
        for a in trial.arms:
            part = at.loc[(at["arm"] == a).to_numpy() & at["value"].notna().to_numpy()]
            events, exposure = float(part["value"].sum()), float(part["exposure"].sum())
            if part.empty or not exposure > 0:
                value = MISSING
            else:
                time = format_number(exposure, 0 if exposure.is_integer() else 1)
                value = f"{format_number(events / exposure, decimals)} ({format_count(events)} / {time})"
            cells.append({"arm": a, "n": format_count(len(part)), "value": value})
        rows.append({"visit": v, "label": visit_label(spec, v), "measure": "value", "cells": cells})
    return rows


def _count_kind(ep: Endpoint) -> str:
    time = ep.exposure_unit or "time at risk"
    return f"rate {rate_unit(ep)} (events / {time})"


def table2_view(trial: Trial, dec: dict[str, int]) -> tuple[list[Row], str]:
    """Return Table 2 and its footnote: per endpoint its heading, what the cells show, and one row per visit.

    Each row has ``visit`` (id), ``label`` (the visit's label, or the change's), ``measure``
    (``value`` or ``change``) and one cell per arm with ``n`` and ``value``. Numbers in the endpoint's
    unit have its decimals ``dec`` (as in every table of the endpoint); geometric SDs and ratios 2.
    """
    out: list[Row] = []
    summaries: set[str] = set()
    types: set[str] = set()
    for ep in trial.spec.endpoints:
        types.add(ep.type)
        if ep.type == "binary":
            kind, rows = "n (%) with the event", _binary(trial, ep)
        elif ep.type == "count":
            kind, rows = _count_kind(ep), _count(trial, ep, dec[ep.id])
        else:
            kind = SUMMARY_NAMES.get(ep.table1_summary, ep.table1_summary)
            summaries.add(ep.table1_summary)
            if trial.spec.visits.baseline is not None:
                summaries.add(change_summary(ep))
            rows = _continuous(trial, ep, dec[ep.id])
        out.append({"endpoint": ep.id, "label": endpoint_heading(ep), "kind": kind, "rows": rows})
    return out, _note(trial, summaries, types)


def _note(trial: Trial, summaries: set[str], types: set[str]) -> str:
    """Say what Table 2 counts and how its cells read."""
    parts = ["Observed values: every randomised subject with a value at the visit; nothing imputed, not adjusted."]
    if trial.spec.visits.baseline is not None and "continuous" in types:
        parts.append("The change (or ratio) from baseline: subjects with a value at baseline and at the visit.")
    if "ratio" in summaries:
        parts.append(
            "Ratio to baseline: the geometric mean of each subject's visit value over its baseline value "
            "(1 is no change)."
        )
    if "count" in types:
        parts.append("Rate: total events over total time at risk of the subjects observed (events / time at risk).")
    definitions = summary_definitions(summaries)
    return " ".join(parts + ([definitions] if definitions else []))
