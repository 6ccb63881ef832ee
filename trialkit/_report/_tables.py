"""The report's tables as plain rows of display text, built from ``Results`` and the flow counts.

Each builder returns dicts of already formatted strings (numbers through :mod:`._format`) plus the
keys that tie a row back to the results table (``endpoint``, ``contrast``, ``analysis``), which the
template writes as ``data-*`` attributes. Text from the spec or data is left as it is here: the
template engine escapes it.
"""

from __future__ import annotations

import math
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
    p_phrase,
)
from trialkit._labels import population_label
from trialkit._report._counts_view import counts_at, rate_unit, subject_rates
from trialkit._report._names import (
    adjusted_for,
    arm_label,
    contrast_label,
    endpoint_heading,
    populations_text,
    visit_label,
)
from trialkit._report._rows import records
from trialkit._report._table1 import table1_view
from trialkit._report._table2 import table2_view
from trialkit._spec import Endpoint, PrimaryAnalysis
from trialkit._trial import Trial
from trialkit.analysis._analyze import primary_analysis
from trialkit.analysis._results import Results

__all__ = [
    "ANALYSIS_NAMES",
    "MODEL_NAMES",
    "Row",
    "Tables",
    "build_tables",
    "counts_at",
    "endpoint_decimals",
    "primary_model",
    "rate_unit",
    "responder_is_benefit",
    "subject_rates",
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
    "welch_followup": "Welch t-test on follow-up values",
    "student_followup": "Student t-test on follow-up values",
    "mann_whitney_followup": "Mann–Whitney on follow-up values (Hodges–Lehmann shift)",
    "van_elteren": "van Elteren stratified rank test (shift)",
    "logistic": "Logistic regression: conditional odds ratio",
    "standardised_rd": "Standardised risk difference (g-computation)",
    "standardised_rr": "Standardised risk ratio (g-computation)",
    "standardised_or": "Standardised odds ratio (g-computation)",
    "proportion": "Proportion with the event (Wilson CI)",
    "risk_difference": "Unadjusted risk difference (Newcombe CI)",
    "risk_ratio": "Unadjusted risk ratio",
    "odds_ratio": "Unadjusted odds ratio (Woolf CI)",
    "nnt": "Number needed to treat (unadjusted)",
    "cmh": "Cochran–Mantel–Haenszel: common odds ratio",
    "mh_risk_difference": "Mantel–Haenszel risk difference (stratified)",
    "negative_binomial": "Negative binomial: rate ratio",
    "poisson": "Poisson with robust SEs: rate ratio",
    "quasipoisson": "Quasi-Poisson: rate ratio",
    "rate": "Event rate (exact Poisson CI)",
    "smd": "Standardised difference (Table 1)",
    "responder_sweep": "Responder threshold sweep",
    "baseline_p": "Test of a baseline difference",
}
#: names that depend on the endpoint type or on the trial having a baseline visit
_NAMES_WITHOUT_BASELINE = {"hedges_g_ancova": "Hedges' g adjusted for covariates (ANCOVA)"}
_NAMES_FOR_COUNTS = {"mann_whitney_followup": "Mann–Whitney on rates (Hodges–Lehmann shift)"}
#: supportive analyses of the primary endpoint, in the order shown (after the model that is not primary)
SUPPORTIVE = (
    "welch_change",
    "student_change",
    "mann_whitney_change",
    "welch_followup",
    "student_followup",
    "mann_whitney_followup",
    "van_elteren",
    "hedges_g_ancova",
    "hedges_g",
    "logistic",
    "standardised_rr",
    "standardised_or",
    "risk_difference",
    "risk_ratio",
    "odds_ratio",
    "nnt",
    "cmh",
    "mh_risk_difference",
    "poisson",
    "quasipoisson",
)
#: the analyses whose estimate on a log-scale endpoint is a ratio (back-transformed difference of logs)
RATIO_ANALYSES = frozenset(
    {
        "ancova",
        "mmrm",
        "welch_change",
        "student_change",
        "mann_whitney_change",
        "welch_followup",
        "student_followup",
        "mann_whitney_followup",
        "van_elteren",
        "mi_mar",
        "mi_j2r",
        "mi_cr",
    }
)
#: ratio measures of binary and count endpoints (ratio in ``estimate``), and what each is a ratio of
RATIO_MEASURES = {
    "logistic": "odds ratio",
    "standardised_rr": "risk ratio",
    "standardised_or": "odds ratio",
    "risk_ratio": "risk ratio",
    "odds_ratio": "odds ratio",
    "cmh": "odds ratio",
    "negative_binomial": "rate ratio",
    "poisson": "rate ratio",
    "quasipoisson": "rate ratio",
}
#: differences of proportions, shown in percentage points
POINT_MEASURES = frozenset({"standardised_rd", "risk_difference", "mh_risk_difference"})
PERCENTAGE_POINTS = "percentage points"
#: the analyses that can be primary, and how the report names them
MODEL_NAMES = {
    "ancova": "ANCOVA",
    "mmrm": "MMRM",
    "standardised_rd": "logistic model, standardised",
    "negative_binomial": "negative binomial model",
}
EFFECT_DECIMALS = 2  # standardised effects, SMDs, ratios
POINTS_DECIMALS = 1  # risk differences in percentage points, percentages
LOG_SE_DECIMALS = 3  # the standard error of a log (of a geometric LS mean)
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
    """Every table of the report as display rows, and the words the summary and captions use.

    ``arms`` has one entry per arm: ``arm`` its name for readers (the spec's label), ``id`` the arm id,
    ``n`` randomised, ``control``. Rows that show a result carry its ids (``endpoint``, ``visit``,
    ``contrast``, ``population``) for ``data-*`` attributes and their labels (``contrast_label``,
    ``visit_label``, ``population_label``) for the reader.
    """

    arms: list[Row] = field(default_factory=list)
    table1: list[Row] = field(default_factory=list)
    table1_note: str = ""
    table1_has_smd: bool = False
    table2: list[Row] = field(default_factory=list)
    table2_note: str = ""
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
    not_applicable: list[Row] = field(default_factory=list)
    headline: list[Row] = field(default_factory=list)
    primary_arms: list[Row] = field(default_factory=list)
    secondary_arms: list[Row] = field(default_factory=list)
    secondary_supportive: list[Row] = field(default_factory=list)
    #: per-arm values (LS mean (SE), proportion or rate) of the secondary endpoints and of the MMRM's visits
    secondary_by_arm: list[Row] = field(default_factory=list)
    mmrm_by_arm: list[Row] = field(default_factory=list)
    #: words for the summary and the captions: labels of the primary visit, the contrasts, the multiplicity
    words: dict[str, str] = field(default_factory=dict)


def endpoint_decimals(trial: Trial) -> dict[str, int]:
    """Choose decimals per endpoint from the spread of its baseline values (all values if no baseline)."""
    d = trial.data
    spec = trial.spec
    out: dict[str, int] = {}
    for ep in spec.endpoints:
        if ep.type == "count":  # rates per unit of exposure at the primary visit
            out[ep.id] = decimals_for(subject_rates(trial, ep, spec.visits.primary).to_numpy())
            continue
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
    """Return the primary model of continuous endpoints: ``"ancova"`` or ``"mmrm"`` (as analyze recorded it)."""
    return str(results.provenance.get("primary_analysis", "ancova"))


def primary_analysis_of(results: Results, ep: Endpoint) -> str:
    """Return the id of ``ep``'s primary analysis: ANCOVA / MMRM, standardised RD or negative binomial."""
    by_endpoint = dict(results.provenance.get("primary_analyses", {}))
    if ep.id in by_endpoint:
        return str(by_endpoint[ep.id])
    # results without the record (built by hand): the rule analyze follows
    return primary_analysis(ep, PrimaryAnalysis(primary_model(results))).value


def effect_name(ep: Endpoint, analysis: str = "ancova") -> str:
    """Name the primary effect measure of ``ep`` (its primary analysis is ``analysis``)."""
    if ep.type == "binary":
        return "standardised risk difference"
    if ep.type == "count":
        return "rate ratio"
    return "ratio of geometric LS means" if ep.scale == "log" else "difference in LS means"


def favoured(ep: Endpoint, analysis: str, estimate: object, arm: str, control: str) -> str:
    """Say which arm the point estimate favours, by the endpoint's ``better`` direction ("" when undefined).

    ``arm`` and ``control`` are the names the sentence uses (the arms' labels).
    """
    try:
        value = float(estimate)  # type: ignore[arg-type]  # a results cell: float or NA
    except (TypeError, ValueError):
        return ""
    if math.isnan(value):
        return ""
    ratio = analysis in RATIO_MEASURES or _is_ratio(ep, analysis)
    null = 1.0 if ratio else 0.0
    if value == null:
        return "favours neither arm"
    higher_on_arm = value > null
    return f"favours {arm if higher_on_arm == (ep.better == 'higher') else control}"


def _measure(ep: Endpoint, analysis: str, decimals: int) -> tuple[str, int, float]:
    """Return what an estimate of ``analysis`` on ``ep`` is (its unit), the decimals and the scale factor shown."""
    if analysis in POINT_MEASURES:
        return PERCENTAGE_POINTS, 1, 100.0
    if analysis in RATIO_MEASURES:
        return RATIO_MEASURES[analysis], EFFECT_DECIMALS, 1.0
    if _is_ratio(ep, analysis):
        return "ratio", EFFECT_DECIMALS, 1.0
    if analysis.startswith("hedges_g"):
        return "SD units", EFFECT_DECIMALS, 1.0
    if analysis == "nnt":
        return "", 1, 1.0
    if ep.type == "count" and analysis in ("mann_whitney_followup", "rate"):
        return f"{ep.unit or 'events'} {rate_unit(ep)}".strip(), decimals, 1.0
    return ep.unit, decimals, 1.0


def analysis_name(ep: Endpoint, analysis: str, *, baseline: bool = True) -> str:
    """Name ``analysis`` for a reader, as it applies to ``ep`` (rates for counts, covariates without a baseline)."""
    if ep.type == "count" and analysis in _NAMES_FOR_COUNTS:
        return _NAMES_FOR_COUNTS[analysis]
    if not baseline and analysis in _NAMES_WITHOUT_BASELINE:
        return _NAMES_WITHOUT_BASELINE[analysis]
    return ANALYSIS_NAMES.get(analysis, analysis.replace("_", " "))


def _estimate_row(r: Row, ep: Endpoint, decimals: int, *, baseline: bool = True) -> Row:
    """Format the display cells of one results row (estimate, CI, p, adjusted p, n).

    Differences of proportions are shown in percentage points, ratios with 2 decimals, numbers
    needed to treat labelled benefit or harm by the endpoint's ``better``.
    """
    analysis = str(r["analysis"])
    measure, d, factor = _measure(ep, analysis, decimals)
    if analysis == "nnt":
        benefit = ep.better == "higher"  # a positive NNT: more events on the arm
        estimate = format_nnt(r["estimate"], positive_is_benefit=benefit)
        ci = format_nnt_ci(r["ci_low"], r["ci_high"], positive_is_benefit=benefit)
    else:
        estimate = format_number(_scaled(r["estimate"], factor), d)
        ci = format_ci(_scaled(r["ci_low"], factor), _scaled(r["ci_high"], factor), d)
    ratio = analysis in RATIO_MEASURES or _is_ratio(ep, analysis)
    # an LS mean of a log-scale endpoint is a geometric mean; its standard error is that of its logarithm
    log_se = ep.scale == "log" and analysis.endswith("_lsmean")
    return {
        "endpoint": r["endpoint"],
        "visit": r["visit"],
        "analysis": analysis,
        "contrast": r["contrast"],
        "population": r["population"],
        "label": ep.label,
        "unit": ep.unit,
        "type": ep.type,
        "scale": ep.scale,
        "name": analysis_name(ep, analysis, baseline=baseline),
        "measure": measure,
        # what follows the estimate in running text: the unit of a difference, nothing after a ratio
        "suffix": "" if ratio else measure,
        "estimate": estimate,
        "se": format_number(r["std_error"], LOG_SE_DECIMALS if log_se else d),
        "ci": ci,
        "p": format_p(r["p_value"]),
        "p_text": p_phrase(r["p_value"]),
        "p_adjusted_text": p_phrase(r["p_adjusted"]),
        "p_adjusted": format_p(r["p_adjusted"]),
        "n_treatment": format_count(r["n_treatment"]),
        "n_control": format_count(r["n_control"]),
        "decimals": d,
        "statistic": format_number(r["statistic"], 2),
        "df": format_number(r["df"], 0 if _whole(r["df"]) else 1),
    }


def _scaled(value: object, factor: float) -> object:
    """Return ``value`` times ``factor`` (missing stays missing)."""
    if factor == 1.0 or value is None or value is pd.NA:
        return value
    try:
        return float(value) * factor  # type: ignore[arg-type]  # a results cell: float or NA
    except (TypeError, ValueError):
        return value


def _whole(value: object) -> bool:
    try:
        return float(value).is_integer()  # type: ignore[arg-type]  # a results cell: float or NA
    except (TypeError, ValueError):
        return False


def _rows(t: pd.DataFrame, **equal: str) -> pd.DataFrame:
    sel = np.ones(len(t), bool)
    for k, v in equal.items():
        sel &= (t[k] == v).to_numpy()
    return t.loc[sel]


def _first(frame: pd.DataFrame) -> Row | None:
    """Return the first row of ``frame`` as a dict, or None when it is empty."""
    rows = records(frame.iloc[:1])
    return rows[0] if rows else None


#: the responder contrasts shown: id, name, unit, decimals and the factor shown (a risk difference in points)
RESPONDER_MEASURES = (
    ("responder_rd", "Risk difference", PERCENTAGE_POINTS, POINTS_DECIMALS, 100.0),
    ("responder_rr", "Risk ratio", "", EFFECT_DECIMALS, 1.0),
    ("responder_or", "Odds ratio", "", EFFECT_DECIMALS, 1.0),
    ("responder_nnt", "Number needed to treat", "", 0, 1.0),
)


def responder_rule(ep: Endpoint) -> str:
    """Describe the responder rule of ``ep`` (``change ≤ -8 points``); ``ep`` must define one."""
    th = ep.responder_change
    rate = " in rate" if ep.type == "count" else ""
    if th is None:
        pct = ep.responder_percent
        if pct is None:  # pragma: no cover - a programming error: callers pass responder endpoints only
            raise ValueError(f"endpoint {ep.id!r} has no responder rule")
        return f"percent change{rate} {'≤' if pct < 0 else '≥'} {format_number(pct)}%"
    unit = f"{ep.unit} {rate_unit(ep)}" if ep.type == "count" else ep.unit
    return f"change{rate} {'≤' if th < 0 else '≥'} {format_number(th)} {unit}".strip()


def responder_is_benefit(ep: Endpoint) -> bool:
    """Whether responding is the good outcome of ``ep``: the responder change points the way ``better`` does.

    Then a positive number needed to treat (more responders on the arm) is a benefit (NNTB); a
    responder rule pointing against ``better`` (a worsening threshold) makes it a harm (NNTH).
    """
    th = ep.responder_change if ep.responder_change is not None else ep.responder_percent
    return th is not None and (th < 0) == (ep.better == "lower")


def _responders(trial: Trial, results: Results) -> tuple[list[Row], list[Row]]:
    """Rates per arm (n/N, %, Wilson CI in %) and contrasts (RD, RR, OR, NNT) at the primary visit."""
    spec = trial.spec
    t = _rows(results.table, visit=spec.visits.primary, population="fas")
    rates: list[Row] = []
    contrasts: list[Row] = []
    for ep in spec.endpoints:
        if ep.responder_change is None and ep.responder_percent is None:
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
                    "percent": format_number(100 * float(r["estimate"]), POINTS_DECIMALS),
                    "ci": format_ci(100 * float(r["ci_low"]), 100 * float(r["ci_high"]), POINTS_DECIMALS),
                }
            )
        for a in trial.arms[1:]:
            contrast = f"{a} - {trial.control}"
            for kind, name, unit, d, factor in RESPONDER_MEASURES:
                r = _first(_rows(t, endpoint=ep.id, analysis=kind, contrast=contrast))
                if r is None:
                    continue
                if kind == "responder_nnt":  # Altman's labels: the interval of 1/RD may run through ∞
                    benefit = responder_is_benefit(ep)
                    estimate = format_nnt(r["estimate"], positive_is_benefit=benefit)
                    ci = format_nnt_ci(r["ci_low"], r["ci_high"], positive_is_benefit=benefit)
                else:
                    estimate = format_number(_scaled(r["estimate"], factor), d)
                    ci = format_ci(_scaled(r["ci_low"], factor), _scaled(r["ci_high"], factor), d)
                contrasts.append(
                    {
                        "endpoint": ep.id,
                        "label": ep.label,
                        "rule": rule,
                        "contrast": contrast,
                        "analysis": kind,
                        "name": name,
                        "measure": unit,
                        "estimate": estimate,
                        "ci": ci,
                        "p": format_p(r["p_value"]),
                    }
                )
    return rates, contrasts


def _sweep(trial: Trial, results: Results) -> list[Row]:
    """Return the risk difference (percentage points) at each responder threshold of the sweep."""
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
                "unit": "" if ep is None else ("%" if ep.responder_change is None else ep.unit),
                "treatment": f"{format_count(r['responders_treatment'])}/{format_count(r['n_treatment'])}",
                "control": f"{format_count(r['responders_control'])}/{format_count(r['n_control'])}",
                "rd": format_number(_scaled(r["estimate"], 100.0), POINTS_DECIMALS),
                "ci": format_ci(_scaled(r["ci_low"], 100.0), _scaled(r["ci_high"], 100.0), POINTS_DECIMALS),
                "p": format_p(r["p_value"]),
            }
        )
    return rows


def _failures(trial: Trial, results: Results) -> tuple[list[Row], list[Row]]:
    """Return the analyses that could not run, and those that do not apply (skipped) grouped by reason.

    A skipped analysis is no failure: the trial has no baseline visit, or the endpoint is not of the type
    the analysis models. One group per reason lists the analyses and the endpoints it applies to.
    """
    endpoints = {e.id: e for e in trial.spec.endpoints}
    baseline = trial.spec.visits.baseline is not None
    failed: list[Row] = []
    groups: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for r in records(results.failures):
        ep = endpoints.get(str(r["endpoint"]))
        label = ep.label if ep is not None else str(r["endpoint"])
        name = analysis_name(ep, str(r["analysis"]), baseline=baseline) if ep is not None else None
        name = name or ANALYSIS_NAMES.get(str(r["analysis"]), str(r["analysis"]))
        message = str(r["message"])
        if ep is not None:  # a message names the endpoint by its id; the reader knows it by its label
            message = message.replace(repr(ep.id), ep.label)
        if str(r["term"]) == "skipped":
            reason = message.removeprefix("skipped: ")
            names, labels = groups.setdefault(reason, ({}, {}))
            names[name] = None
            labels[label] = None
            continue
        failed.append(
            {
                "endpoint": label,
                "visit": visit_label(trial.spec, str(r["visit"])),
                "analysis": name,
                "contrast": contrast_label(trial, str(r["contrast"])),
                "population": population_label(str(r["population"])),
                "term": r["term"],
                "message": message,
            }
        )
    skipped = [
        {"reason": reason[:1].upper() + reason[1:], "analyses": list(names), "endpoints": list(labels)}
        for reason, (names, labels) in groups.items()
    ]
    return failed, skipped


def _per_arm(trial: Trial, t: pd.DataFrame, ep: Endpoint, dec: int) -> list[Row]:
    """Return the per-arm summaries of a binary (proportion) or count (rate) endpoint at the primary visit."""
    rows: list[Row] = []
    kind = {"binary": "proportion", "count": "rate"}.get(ep.type)
    if kind is None:
        return rows
    for a in trial.arms:
        r = _first(_rows(t, endpoint=ep.id, analysis=kind, contrast=a))
        if r is None:
            continue
        n = int(r["n_treatment"])
        row = {"endpoint": ep.id, "label": ep.label, "analysis": kind, "contrast": a, "arm": a, "n": format_count(n)}
        if kind == "proportion":
            events = int(round(float(r["estimate"]) * n))
            row |= {
                "events": f"{events}/{n}",
                "estimate": format_number(100 * float(r["estimate"]), POINTS_DECIMALS),
                "ci": format_ci(100 * float(r["ci_low"]), 100 * float(r["ci_high"]), POINTS_DECIMALS),
                "measure": "%",
            }
        else:
            row |= {
                "events": format_count(n),
                "estimate": format_number(r["estimate"], dec),
                "ci": format_ci(r["ci_low"], r["ci_high"], dec),
                "measure": f"{ep.unit or 'events'} {rate_unit(ep)}".strip(),
            }
        rows.append(row)
    return rows


def _supportive(t: pd.DataFrame, ep: Endpoint, dec: int, first: str | None, *, baseline: bool) -> list[Row]:
    """Return the supportive analyses of ``ep`` in ``t`` (one visit): ``first`` (another model), then the others."""
    rows: list[Row] = []
    for kind in (first, *SUPPORTIVE) if first is not None else SUPPORTIVE:
        for r in records(_rows(t, endpoint=ep.id, analysis=kind)):
            rows.append(_estimate_row(r, ep, dec, baseline=baseline))
    return rows


def _arm_value(trial: Trial, t: pd.DataFrame, ep: Endpoint, kind: str, arm: str, dec: int) -> str:
    """Show one arm's value beside a contrast: LS mean (SE) of the model, n/N (%) with the event, or the rate.

    ``t`` holds one visit's rows; ``kind`` is the endpoint's analysis there (ANCOVA, MMRM, standardised
    RD, negative binomial). A geometric LS mean (log-scale endpoint) has the SE of its logarithm.
    """
    if ep.type == "binary":
        r = _first(_rows(t, endpoint=ep.id, analysis="proportion", contrast=arm))
        if r is None:
            return MISSING
        n = int(r["n_treatment"])
        events = int(round(float(r["estimate"]) * n))
        return f"{events}/{n} ({format_number(100 * float(r['estimate']), POINTS_DECIMALS)}%)"
    if ep.type == "count":
        r = _first(_rows(t, endpoint=ep.id, analysis="rate", contrast=arm))
        return MISSING if r is None else format_number(r["estimate"], dec)
    r = _first(_rows(t, endpoint=ep.id, analysis=f"{kind}_lsmean", contrast=arm))
    if r is None:
        return MISSING
    row = _estimate_row(r, ep, dec)
    return f"{row['estimate']} ({row['se']})"


def _by_arm(trial: Trial, t: pd.DataFrame, ep: Endpoint, kind: str, visit: str, dec: int) -> Row:
    """Return one endpoint's per-arm values at ``visit`` (``t``: that visit's rows), one cell per arm."""
    cells = [{"arm": a, "value": _arm_value(trial, t, ep, kind, a, dec)} for a in trial.arms]
    return {"endpoint": ep.id, "label": ep.label, "visit": visit, "type": ep.type, "cells": cells}


def mcid_sentence(ep: Endpoint, analysis: str, r: Row, *, level: str, arm: str, decimals: int) -> str:
    """Compare the estimate of ``arm`` against control with the endpoint's minimal clinically important difference.

    ``mcid`` is a size in the endpoint's unit (percentage points for a binary endpoint's risk
    difference) in the direction ``better`` says. Said: whether the estimated benefit reaches it, and
    whether the confidence interval includes it. Nothing for a ratio, which a difference cannot be
    compared with, or without an ``mcid``. ``r`` is the results row, ``arm`` the treated arm's label and
    ``decimals`` those of the estimate as the table shows it.
    """
    if ep.mcid is None or analysis in RATIO_MEASURES or _is_ratio(ep, analysis):
        return ""
    factor = 100.0 if analysis in POINT_MEASURES else 1.0
    unit = PERCENTAGE_POINTS if analysis in POINT_MEASURES else ep.unit
    try:
        estimate, low, high = (float(r[k]) * factor for k in ("estimate", "ci_low", "ci_high"))
    except (TypeError, ValueError):
        return ""
    if math.isnan(estimate):
        return ""
    sign = -1.0 if ep.better == "lower" else 1.0  # a benefit is a positive number
    benefit = sign * estimate
    reach = max(sign * low, sign * high)  # the largest benefit the interval allows
    least = min(sign * low, sign * high)
    size = f"{format_number(ep.mcid)} {unit}".strip()
    name = f"the minimal clinically important difference (MCID) of {size}"
    shown = f"{format_number(abs(estimate), decimals)} {unit}".strip()
    if benefit <= 0:
        text = f"The estimate shows no benefit of {arm}, against {name}"
    elif benefit >= ep.mcid:
        text = f"The estimated benefit of {arm}, {shown}, is at least {name}"
    else:
        text = f"The estimated benefit of {arm}, {shown}, is smaller than {name}"
    if least >= ep.mcid:
        ci = f"the whole {level} CI lies beyond it"
    elif reach >= ep.mcid:
        ci = f"the {level} CI includes it"
    else:
        ci = f"the {level} CI excludes it"
    return f"{text}; {ci}."


def _words(trial: Trial, results: Results) -> dict[str, str]:
    """Return the labels and phrases the summary and the captions use instead of ids and codes."""
    spec = trial.spec
    contrasts = [contrast_label(trial, f"{a} - {trial.control}") for a in trial.arms[1:]]
    method = str(results.provenance.get("multiplicity", spec.analysis.multiplicity.value))
    method_name = P_ADJUST_NAMES.get(method, method)
    dunnett = bool(results.provenance.get("dunnett")) and len(trial.arms) > 2
    secondary = any(not e.primary for e in spec.endpoints)
    if dunnett:
        multiplicity = "Dunnett across the arms" + (
            f", then {method_name} over the secondary endpoints" if method != "none" and secondary else ""
        )
        adjusted_by = "Dunnett" + (f", {method_name}" if method != "none" else "")
    else:
        multiplicity = "none" if method == "none" else f"{method_name} over the secondary endpoints"
        if not secondary:
            multiplicity = "none (one endpoint)"
        adjusted_by = method_name
    baseline = spec.visits.baseline
    primary = spec.primary_endpoint
    populations = [str(p) for p in results.provenance.get("populations", [p.value for p in spec.analysis.populations])]
    return {
        "primary_visit": visit_label(spec, spec.visits.primary),
        "visits": ", ".join(visit_label(spec, v) for v in spec.visits.order),
        "baseline": "" if baseline is None else visit_label(spec, baseline),
        "contrast_text": contrasts[0] if len(contrasts) == 1 else f"each arm against {arm_label(spec, trial.control)}",
        "control": arm_label(spec, trial.control),
        "multiplicity": multiplicity,
        "method": method_name,
        "adjusted_by": adjusted_by,
        "populations": populations_text(populations),
        "populations_heading": "population" if len(populations) == 1 else "populations",
        "adjusted": adjusted_for(trial),
        "primary": endpoint_heading(primary),
        "mcid": "" if primary.mcid is None else f"{format_number(primary.mcid)} {primary.unit}".strip(),
    }


def _label_rows(trial: Trial, rows: list[Row]) -> None:
    """Add to each row the labels of its ids: ``contrast_label``, ``arm_label``, ``visit_label``, ``population_label``.

    The by-arm cells of a row (``cells``) get ``arm_label``.
    """
    spec = trial.spec
    for r in rows:
        if "contrast" in r:
            r["contrast_label"] = contrast_label(trial, str(r["contrast"]))
        if "arm" in r:
            r["arm_label"] = arm_label(spec, str(r["arm"]))
        if "visit" in r:
            r["visit_label"] = visit_label(spec, str(r["visit"]))
        if "population" in r:
            r["population_label"] = population_label(str(r["population"]))
        for cell in r.get("cells", []) if isinstance(r.get("cells"), list) else []:
            if isinstance(cell, dict) and "arm" in cell:
                cell["arm_label"] = arm_label(spec, str(cell["arm"]))


def build_tables(trial: Trial, results: Results, n_rand: dict[str, int]) -> Tables:
    """Every table of the report, formatted for display.

    Each endpoint is shown by its own primary analysis (:func:`primary_analysis_of`): the ANCOVA or MMRM
    of a continuous endpoint, the standardised risk difference of a binary one, the negative binomial
    rate ratio of a count. Every number of an endpoint in its unit has the same decimals
    (:func:`endpoint_decimals`) in every table.
    """
    spec = trial.spec
    dec = endpoint_decimals(trial)
    baseline = spec.visits.baseline is not None
    level = f"{100 * (1 - results.alpha):g}%"
    t = results.table
    primary, visit = spec.primary_endpoint, spec.visits.primary
    out = Tables()
    out.arms = [{"arm": arm_label(spec, a), "id": a, "n": n_rand[a], "control": a == trial.control} for a in trial.arms]
    out.table1, out.table1_note = table1_view(trial, results, dec)
    out.table1_has_smd = not results.smd.empty
    out.table2, out.table2_note = table2_view(trial, dec)
    out.words = _words(trial, results)

    fas = _rows(t, population="fas")
    at = _rows(fas, visit=visit)
    model = primary_analysis_of(results, primary)
    for a in trial.arms:
        lsmean = _first(_rows(at, endpoint=primary.id, analysis=f"{model}_lsmean", contrast=a))
        if lsmean is not None:
            out.primary_lsmeans.append(_estimate_row(lsmean, primary, dec[primary.id]))
    out.primary_arms = _per_arm(trial, at, primary, dec[primary.id])
    for r in records(_rows(at, endpoint=primary.id, analysis=model)):
        row = _estimate_row(r, primary, dec[primary.id], baseline=baseline)
        arm = arm_label(spec, str(r["contrast"]).removesuffix(f" - {trial.control}"))
        row["favours"] = favoured(primary, model, r["estimate"], arm, arm_label(spec, trial.control))
        row["mcid"] = mcid_sentence(primary, model, r, level=level, arm=arm, decimals=int(row["decimals"]))
        out.primary_differences.append(row)
        out.headline.append(row)
    if primary.type == "continuous":
        other = "mmrm" if model == "ancova" else "ancova"
        out.primary_supportive = _supportive(at, primary, dec[primary.id], other, baseline=baseline)
    else:
        out.primary_supportive = _supportive(at, primary, dec[primary.id], None, baseline=baseline)
    for a in trial.arms:
        for r in records(_rows(at, endpoint=primary.id, analysis="paired_within", contrast=a)):
            row = _estimate_row(r, primary, dec[primary.id])
            if primary.scale == "log":
                row["estimate"] = format_number(r["estimate"], EFFECT_DECIMALS)
                row["ci"] = format_ci(r["ci_low"], r["ci_high"], EFFECT_DECIMALS)
                row["measure"] = "fold change"
            out.primary_within.append(row)

    kind_of = {e.id: primary_analysis_of(results, e) for e in spec.endpoints}
    for ep in spec.endpoints:
        if ep.primary:
            continue
        by_arm = _by_arm(trial, at, ep, kind_of[ep.id], visit, dec[ep.id])
        out.secondary_by_arm.append(by_arm)
        for r in records(_rows(at, endpoint=ep.id, analysis=kind_of[ep.id])):
            out.secondary.append(_estimate_row(r, ep, dec[ep.id], baseline=baseline) | {"by_arm": by_arm["cells"]})
        if ep.type != "continuous":
            out.secondary_arms += _per_arm(trial, at, ep, dec[ep.id])
            out.secondary_supportive += _supportive(at, ep, dec[ep.id], None, baseline=baseline)
    for v in spec.visits.post_baseline:
        if v == visit:
            continue
        for ep in spec.endpoints:
            # the MMRM has its own section: at the other visits a continuous endpoint shows its ANCOVA
            kind = "ancova" if ep.type == "continuous" else kind_of[ep.id]
            for r in records(_rows(fas, endpoint=ep.id, visit=v, analysis=kind)):
                out.other_visits.append(_estimate_row(r, ep, dec[ep.id], baseline=baseline))
    mmrm = _rows(fas, analysis="mmrm")
    for ep in spec.endpoints:
        for v in spec.visits.post_baseline:
            rows = records(_rows(mmrm, endpoint=ep.id, visit=v))
            if not rows:
                continue
            by_arm = _by_arm(trial, _rows(fas, visit=v), ep, "mmrm", v, dec[ep.id])
            out.mmrm_by_arm.append(by_arm)
            out.mmrm += [_estimate_row(r, ep, dec[ep.id]) | {"by_arm": by_arm["cells"]} for r in rows]
    others = t.loc[(t["population"] != "fas").to_numpy()]
    for ep in spec.endpoints:
        for r in records(_rows(others, endpoint=ep.id, analysis=kind_of[ep.id])):
            out.other_populations.append(_estimate_row(r, ep, dec[ep.id], baseline=baseline))
    out.responder_rates, out.responders = _responders(trial, results)
    out.sweep = _sweep(trial, results)
    out.failures, out.not_applicable = _failures(trial, results)
    for rows in (
        out.primary_lsmeans,
        out.primary_differences,
        out.primary_supportive,
        out.primary_within,
        out.primary_arms,
        out.secondary,
        out.secondary_arms,
        out.secondary_supportive,
        out.secondary_by_arm,
        out.mmrm,
        out.mmrm_by_arm,
        out.other_visits,
        out.other_populations,
        out.responder_rates,
        out.responders,
        out.sweep,
    ):
        _label_rows(trial, rows)  # the by-arm cells of the secondary and MMRM rows are those of *_by_arm
    return out
