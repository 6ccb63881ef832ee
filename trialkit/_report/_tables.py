"""The report's tables as plain rows of display text, built from ``Results`` and the flow counts.

Each builder returns dicts of already formatted strings (numbers through :mod:`._format`) plus the
keys that tie a row back to the results table (``endpoint``, ``contrast``, ``analysis``), which the
template writes as ``data-*`` attributes. Text from the spec or data is left as it is here: the
template engine escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trialkit._format import (
    MISSING,
    decimals_for,
    format_ci,
    format_count,
    format_nnt,
    format_nnt_ci,
    format_number,
    format_p,
)
from trialkit._report._rows import records
from trialkit._spec import Endpoint
from trialkit._trial import Trial
from trialkit.analysis._results import Results
from trialkit.reproduce import DATA_KINDS, Verdict
from trialkit.reproduce.audit import AuditFlag, TableFlag

__all__ = [
    "ANALYSIS_NAMES",
    "MODEL_NAMES",
    "Row",
    "Tables",
    "build_tables",
    "endpoint_decimals",
    "primary_model",
    "responder_is_benefit",
]

#: one display row of a table: formatted text cells plus the keys that tie it to the results table
Row = dict[str, Any]

#: how each analysis id is named in the report (registry; ids from docs/analyses.md)
ANALYSIS_NAMES = {
    "ancova": "ANCOVA: difference in LS means",
    "ancova_lsmean": "ANCOVA: LS mean",
    "mmrm": "MMRM: difference in LS means",
    "mmrm_lsmean": "MMRM: LS mean",
    "welch_change": "Welch t-test on change",
    "student_change": "Student t-test on change",
    "mann_whitney_change": "Mann–Whitney on change (Hodges–Lehmann shift)",
    "paired_within": "Paired t-test, change within arm",
    "wilcoxon_within": "Wilcoxon signed-rank, change within arm (pseudo-median)",
    "hedges_g": "Hedges' g of change",
    "hedges_g_ancova": "Hedges' g adjusted for baseline (ANCOVA)",
    "responder_rate": "Responder rate (Wilson CI)",
    "responder_rd": "Responder risk difference (Newcombe CI)",
    "responder_rr": "Responder risk ratio",
    "responder_or": "Responder odds ratio (Woolf CI)",
    "responder_nnt": "Number needed to treat",
    "mi_mar": "Multiple imputation under MAR",
    "mi_j2r": "Multiple imputation, jump to reference (J2R)",
    "mi_cr": "Multiple imputation, copy reference (CR)",
    "tipping_point": "Tipping point (shifted MAR imputation)",
}
#: supportive analyses of the primary endpoint, in the order shown (after the model that is not primary)
SUPPORTIVE = ("welch_change", "student_change", "mann_whitney_change", "hedges_g_ancova", "hedges_g")
#: the analyses whose estimate on a log-scale endpoint is a ratio (back-transformed difference of logs)
RATIO_ANALYSES = frozenset(
    {"ancova", "mmrm", "welch_change", "student_change", "mann_whitney_change", "mi_mar", "mi_j2r", "mi_cr"}
)
#: the models that can be primary, and how the report names them
MODEL_NAMES = {"ancova": "ANCOVA", "mmrm": "MMRM"}
EFFECT_DECIMALS = 2  # standardised effects, SMDs, ratios, risk differences
P_ADJUST_NAMES = {
    "holm": "Holm",
    "hochberg": "Hochberg",
    "bonferroni": "Bonferroni",
    "bh": "Benjamini–Hochberg",
    "fixed_sequence": "fixed sequence",
    "none": "none",
}


@dataclass
class Tables:
    """Every table of the report as display rows."""

    arms: list[Row] = field(default_factory=list)
    table1: list[Row] = field(default_factory=list)
    table1_has_smd: bool = False
    primary_lsmeans: list[Row] = field(default_factory=list)
    primary_differences: list[Row] = field(default_factory=list)
    primary_supportive: list[Row] = field(default_factory=list)
    primary_within: list[Row] = field(default_factory=list)
    secondary: list[Row] = field(default_factory=list)
    mmrm: list[Row] = field(default_factory=list)
    other_visits: list[Row] = field(default_factory=list)
    other_populations: list[Row] = field(default_factory=list)
    responder_rates: list[Row] = field(default_factory=list)
    responders: list[Row] = field(default_factory=list)
    sweep: list[Row] = field(default_factory=list)
    failures: list[Row] = field(default_factory=list)
    headline: list[Row] = field(default_factory=list)


def endpoint_decimals(trial: Trial) -> dict[str, int]:
    """Choose decimals per endpoint from the spread of its baseline values (all values if no baseline)."""
    d = trial.data
    spec = trial.spec
    out: dict[str, int] = {}
    for ep in spec.endpoints:
        sel = d["endpoint"] == ep.id
        if spec.visits.baseline is not None:
            sel &= d["visit"] == spec.visits.baseline
        values = d.loc[sel.to_numpy(), "value"].to_numpy(dtype="float64")
        if ep.scale == "log":
            values = np.log(values[values > 0])
            out[ep.id] = max(decimals_for(np.exp(values)), 1)
        else:
            out[ep.id] = decimals_for(values)
    return out


def _is_ratio(ep: Endpoint, analysis: str) -> bool:
    return ep.scale == "log" and analysis in RATIO_ANALYSES


def primary_model(results: Results) -> str:
    """Return the primary analysis of ``results``: ``"ancova"`` or ``"mmrm"`` (as analyze recorded it)."""
    return str(results.provenance.get("primary_analysis", "ancova"))


def effect_name(ep: Endpoint) -> str:
    """Name the contrast of LS means of ``ep``: a difference, or a ratio on the log scale."""
    return "ratio of geometric LS means" if ep.scale == "log" else "difference in LS means"


def _estimate_row(r: Row, ep: Endpoint, decimals: int) -> Row:
    """Format the display cells of one results row (estimate, CI, p, adjusted p, n)."""
    analysis = str(r["analysis"])
    ratio = _is_ratio(ep, analysis)
    standardised = analysis.startswith("hedges_g")
    d = EFFECT_DECIMALS if ratio or standardised else decimals
    return {
        "endpoint": r["endpoint"],
        "visit": r["visit"],
        "analysis": analysis,
        "contrast": r["contrast"],
        "population": r["population"],
        "label": ep.label,
        "unit": ep.unit,
        "name": ANALYSIS_NAMES.get(analysis, analysis),
        "measure": "ratio" if ratio else ("SD units" if standardised else ep.unit),
        "estimate": format_number(r["estimate"], d),
        "ci": format_ci(r["ci_low"], r["ci_high"], d),
        "p": format_p(r["p_value"]),
        "p_adjusted": format_p(r["p_adjusted"]),
        "n_treatment": format_count(r["n_treatment"]),
        "n_control": format_count(r["n_control"]),
        "decimals": d,
    }


def _rows(t: pd.DataFrame, **equal: str) -> pd.DataFrame:
    sel = np.ones(len(t), bool)
    for k, v in equal.items():
        sel &= (t[k] == v).to_numpy()
    return t.loc[sel]


def _first(frame: pd.DataFrame) -> Row | None:
    """Return the first row of ``frame`` as a dict, or None when it is empty."""
    rows = records(frame.iloc[:1])
    return rows[0] if rows else None


def _table1(trial: Trial, results: Results, dec: dict[str, int]) -> list[Row]:
    t1 = results.table1
    if t1.empty:
        return []
    smd = results.smd
    contrasts = [f"{a} - {trial.control}" for a in trial.arms[1:]]
    rows: list[Row] = []
    for variable_key, part in t1.groupby("variable", sort=False):
        variable = str(variable_key)
        label = str(part["label"].iloc[0])
        smd_cells = []
        for c in contrasts:
            hit = None if smd.empty else _first(smd.loc[(smd["variable"] == variable) & (smd["contrast"] == c)])
            smd_cells.append(MISSING if hit is None else format_number(hit["smd"], EFFECT_DECIMALS))
        by_arm = {a: part.loc[part["arm"] == a] for a in trial.arms}
        first = {a: _first(by_arm[a]) for a in trial.arms}
        missing = {a: 0 if (f := first[a]) is None else int(f["n_missing"]) for a in trial.arms}
        n_cells = ["0" if (f := first[a]) is None else format_count(f["n"]) for a in trial.arms]
        numeric = part["level"].isna().all() or (part["level"].astype(str) == "nan").all()
        if numeric:  # one decimal fewer than the endpoint tables (summaries, not estimates)
            d = dec.get(variable)
            if d is None and variable in trial.subjects.columns:
                d = decimals_for(pd.to_numeric(trial.subjects[variable], errors="coerce"))
            d = max(0, (2 if d is None else d) - 1)
            cells = []
            for a in trial.arms:
                summary = first[a]
                if summary is None:
                    cells.append(MISSING)
                    continue
                cells.append(f"{format_number(summary['mean'], d)} ({format_number(summary['sd'], d)})")
            rows.append(
                {
                    "variable": variable,
                    "label": label,
                    "kind": "mean (SD)",
                    "cells": cells,
                    "smd": smd_cells,
                    "level": False,
                    "n": n_cells,
                    "has_missing": any(missing.values()),
                }
            )
        else:
            rows.append(
                {
                    "variable": variable,
                    "label": label,
                    "kind": "n (%)",
                    "cells": ["" for _ in trial.arms],
                    "smd": smd_cells,
                    "level": False,
                    "n": n_cells,
                    "has_missing": any(missing.values()),
                }
            )
            levels = list(dict.fromkeys(part["level"].astype(str)))
            for level in levels:
                cells = []
                for a in trial.arms:
                    hit = _first(by_arm[a].loc[by_arm[a]["level"].astype(str) == level])
                    if hit is None:
                        cells.append(MISSING)
                        continue
                    cells.append(f"{format_count(hit['count'])} ({format_number(hit['percent'], 1)}%)")
                rows.append(
                    {
                        "variable": variable,
                        "label": level,
                        "kind": "",
                        "cells": cells,
                        "smd": ["" for _ in contrasts],
                        "level": True,
                        "n": [],
                        "has_missing": False,
                    }
                )
    return rows


RESPONDER_MEASURES = (
    ("responder_rd", "Risk difference", 2),
    ("responder_rr", "Risk ratio", 2),
    ("responder_or", "Odds ratio", 2),
    ("responder_nnt", "Number needed to treat", 1),
)


def responder_rule(ep: Endpoint) -> str:
    """Describe the responder rule of ``ep`` (``change ≤ -8 points``); ``ep`` must define one."""
    th = ep.responder_change
    if th is None:  # pragma: no cover - a programming error: callers pass responder endpoints only
        raise ValueError(f"endpoint {ep.id!r} has no responder rule")
    return f"change {'≤' if th < 0 else '≥'} {format_number(th)} {ep.unit}".strip()


def responder_is_benefit(ep: Endpoint) -> bool:
    """Whether responding is the good outcome of ``ep``: the responder change points the way ``better`` does.

    Then a positive number needed to treat (more responders on the arm) is a benefit (NNTB); a
    responder rule pointing against ``better`` (a worsening threshold) makes it a harm (NNTH).
    """
    return ep.responder_change is not None and (ep.responder_change < 0) == (ep.better == "lower")


def _responders(trial: Trial, results: Results) -> tuple[list[Row], list[Row]]:
    """Rates per arm (n/N, %, Wilson CI in %) and contrasts (RD, RR, OR, NNT) at the primary visit."""
    spec = trial.spec
    t = _rows(results.table, visit=spec.visits.primary, population="fas")
    rates: list[Row] = []
    contrasts: list[Row] = []
    for ep in spec.endpoints:
        if ep.responder_change is None:
            continue
        rule = responder_rule(ep)
        for a in trial.arms:
            r = _first(_rows(t, endpoint=ep.id, analysis="responder_rate", contrast=a))
            if r is None:
                continue
            n = int(r["n_treatment"])
            x = int(round(float(r["estimate"]) * n))
            rates.append(
                {
                    "endpoint": ep.id,
                    "label": ep.label,
                    "rule": rule,
                    "arm": a,
                    "contrast": a,
                    "responders": f"{x}/{n}",
                    "percent": format_number(100 * float(r["estimate"]), 1),
                    "ci": format_ci(100 * float(r["ci_low"]), 100 * float(r["ci_high"]), 1),
                }
            )
        for a in trial.arms[1:]:
            contrast = f"{a} - {trial.control}"
            for kind, name, d in RESPONDER_MEASURES:
                r = _first(_rows(t, endpoint=ep.id, analysis=kind, contrast=contrast))
                if r is None:
                    continue
                if kind == "responder_nnt":  # Altman's labels: the interval of 1/RD may run through ∞
                    benefit = responder_is_benefit(ep)
                    estimate = format_nnt(r["estimate"], d, positive_is_benefit=benefit)
                    ci = format_nnt_ci(r["ci_low"], r["ci_high"], d, positive_is_benefit=benefit)
                else:
                    estimate, ci = format_number(r["estimate"], d), format_ci(r["ci_low"], r["ci_high"], d)
                contrasts.append(
                    {
                        "endpoint": ep.id,
                        "label": ep.label,
                        "rule": rule,
                        "contrast": contrast,
                        "analysis": kind,
                        "name": name,
                        "estimate": estimate,
                        "ci": ci,
                        "p": format_p(r["p_value"]),
                    }
                )
    return rates, contrasts


def _sweep(trial: Trial, results: Results) -> list[Row]:
    sw = results.responder_sweep
    if sw.empty:
        return []
    labels = {e.id: e for e in trial.spec.endpoints}
    rd = sw.loc[sw["analysis"] == "responder_rd"]
    rows: list[Row] = []
    for r in records(rd):
        ep = labels.get(r["endpoint"])
        rows.append(
            {
                "endpoint": r["endpoint"],
                "label": ep.label if ep else r["endpoint"],
                "contrast": r["contrast"],
                "threshold": format_number(r["threshold"]),
                "unit": ep.unit if ep else "",
                "treatment": f"{format_count(r['responders_treatment'])}/{format_count(r['n_treatment'])}",
                "control": f"{format_count(r['responders_control'])}/{format_count(r['n_control'])}",
                "rd": format_number(r["estimate"], 2),
                "ci": format_ci(r["ci_low"], r["ci_high"], 2),
                "p": format_p(r["p_value"]),
            }
        )
    return rows


def _failures(trial: Trial, results: Results) -> list[Row]:
    labels = {e.id: e.label for e in trial.spec.endpoints}
    return [
        {
            "endpoint": labels.get(str(r["endpoint"]), r["endpoint"]),
            "visit": r["visit"],
            "analysis": ANALYSIS_NAMES.get(str(r["analysis"]), r["analysis"]),
            "contrast": r["contrast"],
            "population": r["population"],
            "term": r["term"],
            "message": r["message"],
        }
        for r in records(results.failures)
    ]


def build_tables(trial: Trial, results: Results, n_rand: dict[str, int]) -> Tables:
    """Every table of the report, formatted for display."""
    spec = trial.spec
    dec = endpoint_decimals(trial)
    t = results.table
    primary, visit = spec.primary_endpoint, spec.visits.primary
    out = Tables()
    out.arms = [{"arm": a, "n": n_rand[a], "control": a == trial.control} for a in trial.arms]
    out.table1 = _table1(trial, results, dec)
    out.table1_has_smd = not results.smd.empty

    fas = _rows(t, population="fas")
    at = _rows(fas, visit=visit)
    model = primary_model(results)
    other = "mmrm" if model == "ancova" else "ancova"
    for a in trial.arms:
        lsmean = _first(_rows(at, endpoint=primary.id, analysis=f"{model}_lsmean", contrast=a))
        if lsmean is not None:
            out.primary_lsmeans.append(_estimate_row(lsmean, primary, dec[primary.id]))
    for r in records(_rows(at, endpoint=primary.id, analysis=model)):
        row = _estimate_row(r, primary, dec[primary.id])
        row["statistic"] = format_number(r["statistic"], 2)
        row["df"] = format_number(r["df"], 0 if float(r["df"]).is_integer() else 1)
        out.primary_differences.append(row)
        out.headline.append(row)
    for kind in (other, *SUPPORTIVE):
        for r in records(_rows(at, endpoint=primary.id, analysis=kind)):
            out.primary_supportive.append(_estimate_row(r, primary, dec[primary.id]))
    for a in trial.arms:
        for r in records(_rows(at, endpoint=primary.id, analysis="paired_within", contrast=a)):
            row = _estimate_row(r, primary, dec[primary.id])
            if primary.scale == "log":
                row["estimate"] = format_number(r["estimate"], EFFECT_DECIMALS)
                row["ci"] = format_ci(r["ci_low"], r["ci_high"], EFFECT_DECIMALS)
                row["measure"] = "fold change"
            out.primary_within.append(row)

    family = _rows(fas, analysis=model)
    for ep in spec.endpoints:
        if ep.primary:
            continue
        for r in records(_rows(family, endpoint=ep.id, visit=visit)):
            out.secondary.append(_estimate_row(r, ep, dec[ep.id]))
    ancova = _rows(fas, analysis="ancova")
    for v in spec.visits.post_baseline:
        if v == visit:
            continue
        for ep in spec.endpoints:
            for r in records(_rows(ancova, endpoint=ep.id, visit=v)):
                out.other_visits.append(_estimate_row(r, ep, dec[ep.id]))
    mmrm = _rows(fas, analysis="mmrm")
    for ep in spec.endpoints:
        for v in spec.visits.post_baseline:
            for r in records(_rows(mmrm, endpoint=ep.id, visit=v)):
                out.mmrm.append(_estimate_row(r, ep, dec[ep.id]))
    others = t.loc[(t["population"] != "fas").to_numpy() & (t["analysis"] == model).to_numpy()]
    for ep in spec.endpoints:
        for r in records(_rows(others, endpoint=ep.id)):
            out.other_populations.append(_estimate_row(r, ep, dec[ep.id]))
    out.responder_rates, out.responders = _responders(trial, results)
    out.sweep = _sweep(trial, results)
    out.failures = _failures(trial, results)
    return out


#: the columns of ``trialkit.reproduce`` tables a reader needs, with their headers (``flags`` is
#: built from the ``flag_<code>`` columns)
REPRODUCTION_DISPLAY = {
    "outcome": "Outcome",
    "p_published": "Published p",
    "direction_published": "Direction",
    "table_p_value": "Table p",
    "p_recomputed": "Recomputed p",
    "p_ancova": "ANCOVA p",
    "survives_holm": "Holm",
    "survives_bh": "BH",
    "data": "Data",
    "verdict": "Verdict",
    "flags": "Flags",
}
#: the displayed columns that hold p-values, shown as every p in the report is (:func:`format_p`)
_P_COLUMNS = frozenset({"table_p_value", "p_recomputed", "p_ancova"})
#: the CSS class of a verdict row, by what the verdict says (``Verdict.agrees``)
_VERDICT_CLASS = {True: "good", False: "bad", None: "other"}


def reproduction_is_calibrated(table: pd.DataFrame) -> bool:
    """Whether any row of a reproduction table re-analysed data calibrated to the published p."""
    return "data" in table.columns and bool((table["data"].astype(str) == DATA_KINDS["calibrated"]).any())


def _flag_labels(table: pd.DataFrame) -> list[str]:
    """Return the labels of each row's raised flags (``flag_<code>`` columns of the reproduce registries)."""
    flags = [f for f in (*AuditFlag, *TableFlag) if f.column in table.columns]
    raised = table[[f.column for f in flags]].fillna(False).astype(bool).to_numpy()
    return ["; ".join(f.label for f, on in zip(flags, row, strict=True) if on) for row in raised]


def reproduction_rows(table: pd.DataFrame) -> tuple[list[str], list[Row], dict[str, int]]:
    """Columns, display rows and verdict counts of a reproduction table (one row per outcome).

    A table with the columns of ``trialkit.reproduce`` is shown through
    :data:`REPRODUCTION_DISPLAY` (the full table is in reproduction.csv); any other table whole.
    Verdicts that are :class:`~trialkit.reproduce.Verdict` codes are shown by their label.
    """
    headers = None
    if set(REPRODUCTION_DISPLAY) - {"flags"} <= set(map(str, table.columns)):
        table = table.assign(flags=_flag_labels(table))[list(REPRODUCTION_DISPLAY)]
        headers = list(REPRODUCTION_DISPLAY.values())
    columns = [str(c) for c in table.columns]
    rows: list[Row] = []
    verdict_at = columns.index("verdict") if "verdict" in columns else None
    for rec in table.itertuples(index=False, name=None):
        cells = []
        for col, v in zip(columns, rec, strict=True):
            if isinstance(v, (bool, np.bool_)):
                text = "yes" if v else "no"
            elif isinstance(v, (int, np.integer)):
                text = str(int(v))
            elif col in _P_COLUMNS:
                text = format_p(v)
            elif isinstance(v, (float, np.floating)) or v is None or v is pd.NA:
                text = format_number(v)
            elif col == "verdict" and str(v) in set(Verdict):
                text = Verdict(str(v)).label
            else:
                text = str(v)
            cells.append({"text": text, "verdict": col == "verdict"})
        verdict = "" if verdict_at is None else str(rec[verdict_at])
        rows.append({"cells": cells, "status": _verdict_class(verdict)})
    counts: dict[str, int] = {}
    if "verdict" in columns:
        for v in table["verdict"].astype(str):
            label = Verdict(v).label if v in set(Verdict) else v
            counts[label] = counts.get(label, 0) + 1
    return headers or columns, rows, counts


def _verdict_class(verdict: str) -> str:
    """Return a CSS class from a fixed set (never the verdict text itself), by what the verdict says."""
    return _VERDICT_CLASS[Verdict(verdict).agrees] if verdict in set(Verdict) else "other"
